//! Consent records: who agreed to be shown, until when, and where.
//!
//! A photo of a person, or a story that quotes one, is published only with
//! their consent, and consent can expire or be withdrawn ("consent is not
//! forever"). A record in front matter reads
//!
//! ```yaml
//! image_consent: { given: 2025-03-01, expires: 2027-03-01, scope: [web, print] }
//! ```
//!
//! and [`Consent::status`] says what it means on a given day. What is left
//! out because of it is decided by the pipeline (`content::parse` for
//! stories, [`crate::images`] for photos); this module only reads and judges.

use serde_yaml::Value;

use super::date::Date;

/// Where a consent lets a photo or story appear. An empty scope means
/// everywhere.
pub const SCOPES: &[&str] = &["web", "print", "social"];

/// One consent record, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consent {
    /// Whose it is, when a story records one per person (`name:`).
    pub name: Option<String>,
    /// When it was given.
    pub given: Option<Date>,
    /// When it ends: the last day it holds.
    pub expires: Option<Date>,
    /// Where it holds (`web`, `print`, `social`); empty for everywhere.
    pub scope: Vec<String>,
    /// The person took it back.
    pub withdrawn: bool,
    /// The line and column of the record, 1-based.
    pub line: usize,
    pub column: usize,
}

/// What a consent record means on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It holds, and does not end within the warning period.
    Valid,
    /// It holds, and ends on the given date, `days` from today.
    EndsSoon { on: Date, days: i64 },
    /// It ended on the given date.
    Expired { on: Date },
    /// The person withdrew it.
    Withdrawn,
    /// Its scope leaves out the web.
    NotForWeb,
}

impl Status {
    /// Whether what it covers may be published on the site.
    pub fn publishable(self) -> bool {
        matches!(self, Status::Valid | Status::EndsSoon { .. })
    }

    /// Why what it covers is left out, in words ("its consent expired on
    /// 1 March 2026"); `None` when it is not.
    pub fn reason(self) -> Option<String> {
        match self {
            Status::Valid | Status::EndsSoon { .. } => None,
            Status::Expired { on } => Some(format!("its consent expired on {}", on.human())),
            Status::Withdrawn => Some("its consent was withdrawn".into()),
            Status::NotForWeb => Some("its consent's scope does not include the web".into()),
        }
    }
}

impl Consent {
    /// What the record means on `today`, warning `warn_days` ahead of its end.
    pub fn status(&self, today: &Date, warn_days: u32) -> Status {
        if self.withdrawn {
            return Status::Withdrawn;
        }
        if let Some(on) = self.expires {
            let days = today.days_until(&on);
            if days < 0 {
                return Status::Expired { on };
            }
            if !self.allows("web") {
                return Status::NotForWeb;
            }
            if days <= i64::from(warn_days) {
                return Status::EndsSoon { on, days };
            }
        }
        if !self.allows("web") {
            return Status::NotForWeb;
        }
        Status::Valid
    }

    /// Whether the scope includes `what` (`web`, `print`, `social`).
    pub fn allows(&self, what: &str) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|s| s == what)
    }

    /// Reads a record from its YAML value. Problems come back as messages
    /// (with the key they are about), and whatever could be read is kept.
    pub fn read(value: &Value) -> (Option<Consent>, Vec<(String, String)>) {
        let mut problems = Vec::new();
        let Value::Mapping(map) = value else {
            problems.push((
                String::new(),
                "must be a record such as `{ given: 2025-03-01, expires: 2027-03-01, scope: [web] }`".into(),
            ));
            return (None, problems);
        };
        let mut c = Consent::default();
        for (k, v) in map {
            let key = k.as_str().unwrap_or("");
            let text = match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            };
            match key {
                "given" | "expires" => match text.as_deref().map(Date::parse) {
                    Some(Ok(d)) => {
                        if key == "given" {
                            c.given = Some(d);
                        } else {
                            c.expires = Some(d);
                        }
                    }
                    Some(Err(m)) => problems.push((key.into(), m)),
                    None => problems.push((key.into(), "must be a date such as 2027-03-01".into())),
                },
                "scope" => {
                    let items: Vec<String> = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Sequence(list) => list
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for item in &items {
                        let item = item.trim().to_lowercase();
                        if SCOPES.contains(&item.as_str()) {
                            c.scope.push(item);
                        } else {
                            problems.push((
                                "scope".into(),
                                format!("`{item}` is not a scope casebook knows; use web, print or social"),
                            ));
                        }
                    }
                }
                "name" => match v {
                    Value::String(s) if !s.trim().is_empty() => c.name = Some(s.trim().to_string()),
                    _ => problems.push(("name".into(), "must be the person's name, as text".into())),
                },
                "withdrawn" => match v {
                    Value::Bool(b) => c.withdrawn = *b,
                    _ => problems.push(("withdrawn".into(), "must be true or false".into())),
                },
                other => problems.push((
                    other.into(),
                    format!("`{other}` is not part of a consent record; it has name, given, expires, scope and withdrawn"),
                )),
            }
        }
        (Some(c), problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn a_consent_ends_after_its_last_day_and_warns_before() {
        let c = Consent {
            expires: Some(d("2026-03-01")),
            ..Consent::default()
        };
        assert_eq!(c.status(&d("2025-01-01"), 60), Status::Valid);
        assert_eq!(
            c.status(&d("2026-01-30"), 60),
            Status::EndsSoon {
                on: d("2026-03-01"),
                days: 30
            }
        );
        assert!(c.status(&d("2026-03-01"), 60).publishable());
        assert_eq!(
            c.status(&d("2026-03-02"), 60),
            Status::Expired {
                on: d("2026-03-01")
            }
        );
        let withdrawn = Consent {
            withdrawn: true,
            ..c.clone()
        };
        assert_eq!(withdrawn.status(&d("2025-01-01"), 60), Status::Withdrawn);
        let print_only = Consent {
            scope: vec!["print".into()],
            ..Consent::default()
        };
        assert_eq!(print_only.status(&d("2025-01-01"), 60), Status::NotForWeb);
    }
}
