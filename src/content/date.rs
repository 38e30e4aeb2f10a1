//! Dates as writers type them in front matter (`2024-12-10`, or with a time:
//! `2024-12-10T09:30:00Z`, `2024-12-10 09:30`), checked to be real calendar
//! dates, and the few formats the site needs (ISO for data, RFC 3339 for
//! feeds and sitemaps, "10 December 2024" for readers).
//!
//! YAML parsers disagree on whether `2024-12-10` is a string or a timestamp;
//! serde_yaml hands us a string, and we parse it here, so `2024-13-45` can be
//! reported as the writer's mistake rather than passed through.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    /// Seconds since midnight, local to `offset`; 0 when no time was given.
    pub seconds: u32,
    /// Minutes east of UTC; `None` when the writer gave no zone (taken as UTC).
    pub offset_minutes: Option<i16>,
    pub has_time: bool,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and
    /// `HH:MM[:SS[.fraction]]` and a zone (`Z` or `±HH:MM`).
    pub fn parse(input: &str) -> Result<Date, String> {
        let s = input.trim();
        let bad_shape =
            || format!("\"{s}\" is not a date; write it as YYYY-MM-DD, for example 2024-12-10");
        if s.len() < 10 || !s.is_char_boundary(10) {
            return Err(bad_shape());
        }
        let (date, rest) = s.split_at(10);
        let mut parts = date.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_shape());
        };
        let (Some(year), Some(month), Some(day)) = (digits(y, 4), digits(m, 2), digits(d, 2))
        else {
            return Err(bad_shape());
        };
        let (year, month, day) = (year as i32, month as u8, day as u8);
        if !(1..=12).contains(&month) {
            return Err(format!(
                "\"{s}\" has month {month}; months run from 01 to 12"
            ));
        }
        let dim = days_in_month(year, month);
        if day == 0 || day > dim {
            return Err(format!(
                "\"{s}\" is not a real date: {} {year} has {dim} days",
                MONTHS[month as usize - 1]
            ));
        }
        let mut out = Date {
            year,
            month,
            day,
            seconds: 0,
            offset_minutes: None,
            has_time: false,
        };
        if rest.is_empty() {
            return Ok(out);
        }
        let bad_time = || {
            format!(
                "\"{s}\" has a time that cannot be read; write it as 2024-12-10T09:30:00Z or leave the time out"
            )
        };
        let rest = rest
            .strip_prefix('T')
            .or_else(|| rest.strip_prefix('t'))
            .or_else(|| rest.strip_prefix(' '))
            .ok_or_else(bad_time)?
            .trim_start();
        // Split the zone off the end.
        let (time, zone) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
            (t.trim_end(), Some(0i16))
        } else if let Some(pos) = rest.rfind(['+', '-']) {
            let (t, z) = rest.split_at(pos);
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let z = &z[1..];
            let (zh, zm) = match z.split_once(':') {
                Some((h, m)) => (digits(h, 2), digits(m, 2)),
                None if z.len() == 4 => (digits(&z[..2], 2), digits(&z[2..], 2)),
                None => (digits(z, 2), Some(0)),
            };
            let (Some(zh), Some(zm)) = (zh, zm) else {
                return Err(bad_time());
            };
            if zh > 23 || zm > 59 {
                return Err(bad_time());
            }
            (t.trim_end(), Some(sign * (zh as i16 * 60 + zm as i16)))
        } else {
            (rest, None)
        };
        let mut hms = time.split(':');
        let h = hms.next().and_then(|h| digits(h, 2)).ok_or_else(bad_time)?;
        let m = hms.next().and_then(|m| digits(m, 2)).ok_or_else(bad_time)?;
        let sec = match hms.next() {
            None => 0,
            Some(sf) => {
                let whole = sf.split('.').next().unwrap_or("");
                if let Some(frac) = sf.split_once('.').map(|x| x.1)
                    && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(bad_time());
                }
                digits(whole, 2).ok_or_else(bad_time)?
            }
        };
        if hms.next().is_some() || h > 23 || m > 59 || sec > 60 {
            return Err(bad_time());
        }
        out.seconds = h * 3600 + m * 60 + sec.min(59);
        out.offset_minutes = zone;
        out.has_time = true;
        Ok(out)
    }

    /// `2024-12-10`.
    pub fn iso_date(&self) -> String {
        let mut out = String::with_capacity(25);
        self.push_iso_date(&mut out);
        out
    }

    // Digits pushed by hand: feeds, sitemaps and every card print dates,
    // and `format!` took a thousand instructions for each one.
    fn push_iso_date(&self, out: &mut String) {
        if (0..=9999).contains(&self.year) {
            let y = self.year as u32;
            push2(out, y / 100);
            push2(out, y % 100);
        } else {
            out.push_str(&format!("{:04}", self.year));
        }
        out.push('-');
        push2(out, u32::from(self.month));
        out.push('-');
        push2(out, u32::from(self.day));
    }

    /// RFC 3339, as Atom and sitemaps want: `2024-12-10T00:00:00Z`, or with the
    /// writer's offset when one was given.
    pub fn rfc3339(&self) -> String {
        let mut out = String::with_capacity(25);
        self.push_iso_date(&mut out);
        out.push('T');
        push2(&mut out, self.seconds / 3600);
        out.push(':');
        push2(&mut out, self.seconds / 60 % 60);
        out.push(':');
        push2(&mut out, self.seconds % 60);
        match self.offset_minutes {
            None | Some(0) => out.push('Z'),
            Some(o) => {
                out.push(if o < 0 { '-' } else { '+' });
                let o = u32::from(o.unsigned_abs());
                push2(&mut out, o / 60);
                out.push(':');
                push2(&mut out, o % 60);
            }
        }
        out
    }

    /// "10 December 2024".
    pub fn human(&self) -> String {
        let mut out = String::with_capacity(20);
        if self.day >= 10 {
            out.push(char::from(b'0' + self.day / 10));
        }
        out.push(char::from(b'0' + self.day % 10));
        out.push(' ');
        out.push_str(MONTHS[self.month as usize - 1]);
        out.push(' ');
        if (1000..=9999).contains(&self.year) {
            let y = self.year as u32;
            push2(&mut out, y / 100);
            push2(&mut out, y % 100);
        } else {
            out.push_str(&self.year.to_string());
        }
        out
    }

    /// Seconds since 1970-01-01T00:00:00Z, for ordering dates given in
    /// different zones.
    pub fn timestamp(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        days * 86_400 + i64::from(self.seconds) - i64::from(self.offset_minutes.unwrap_or(0)) * 60
    }

    /// Today's date in UTC: from `SOURCE_DATE_EPOCH` (seconds since 1970,
    /// the reproducible-builds convention) when it is set, else from the
    /// system clock.
    pub fn today() -> Date {
        let secs = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            });
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        Date {
            year,
            month,
            day,
            seconds: 0,
            offset_minutes: None,
            has_time: false,
        }
    }
}

impl Date {
    /// Whole days from `self` to `later` (negative when `later` is earlier),
    /// by calendar date.
    pub fn days_until(&self, later: &Date) -> i64 {
        days_from_civil(later.year, later.month, later.day)
            - days_from_civil(self.year, self.month, self.day)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.has_time {
            f.write_str(&self.rfc3339())
        } else {
            f.write_str(&self.iso_date())
        }
    }
}

/// `n` (below 100) as two digits.
fn push2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

// Howard Hinnant's algorithms for the proleptic Gregorian calendar.
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((y + i64::from(m <= 2)) as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dates() {
        let d = Date::parse("2024-12-10").unwrap();
        assert_eq!(d.iso_date(), "2024-12-10");
        assert_eq!(d.rfc3339(), "2024-12-10T00:00:00Z");
        assert_eq!(d.human(), "10 December 2024");
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2023-02-29").is_err());
    }

    #[test]
    fn impossible_dates_are_errors() {
        let e = Date::parse("2024-13-45").unwrap_err();
        assert!(e.contains("month 13"), "{e}");
        assert!(Date::parse("2024-04-31").unwrap_err().contains("30 days"));
        assert!(Date::parse("10/12/2024").is_err());
        assert!(Date::parse("2024-1-5").is_err());
        assert!(Date::parse("").is_err());
        assert!(Date::parse("2024-12-1é").is_err());
    }

    #[test]
    fn dates_with_times() {
        let d = Date::parse("2024-12-10T09:30:00Z").unwrap();
        assert_eq!(d.rfc3339(), "2024-12-10T09:30:00Z");
        let d = Date::parse("2024-12-10 09:30").unwrap();
        assert_eq!(d.rfc3339(), "2024-12-10T09:30:00Z");
        let d = Date::parse("2024-12-10T09:30:15.25+05:30").unwrap();
        assert_eq!(d.rfc3339(), "2024-12-10T09:30:15+05:30");
        assert_eq!(
            d.timestamp(),
            Date::parse("2024-12-10T04:00:15Z").unwrap().timestamp()
        );
        let d = Date::parse("0999-01-02T23:59:59-03:45").unwrap();
        assert_eq!(d.rfc3339(), "0999-01-02T23:59:59-03:45");
        assert_eq!(d.to_string(), "0999-01-02T23:59:59-03:45");
        assert_eq!(d.iso_date(), "0999-01-02");
        assert_eq!(d.human(), "2 January 999");
        let d = Date::parse("2024-12-10T00:00:00+00:00").unwrap();
        assert_eq!(d.rfc3339(), "2024-12-10T00:00:00Z");
        assert!(Date::parse("2024-12-10T25:00").is_err());
        assert!(Date::parse("2024-12-10Tnoon").is_err());
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1000, 0, 1, 19_000, 20_000, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
