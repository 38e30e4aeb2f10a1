//! The open data downloads: `/case-studies.json`, `/case-studies.csv` and
//! `/outcomes.csv`.
//!
//! They are written by code, not templates: their formats are contracts with
//! the explorer script and with readers' spreadsheets, which a theme should
//! not be able to break.
//!
//! The CSV files are RFC 4180 (CRLF line ends, quotes doubled), start with a
//! UTF-8 byte-order mark so that Excel reads accents right, and guard
//! against formula injection in every locale: a text cell that a
//! spreadsheet would run as a formula (`=`, `+`, `-`, `@`, their full-width
//! forms, tab or carriage return first, after any white space) gets an
//! apostrophe in front, and so does every part of a cell after a `,`, `;`,
//! tab or line break, which a spreadsheet set to that separator, or a
//! careless import, would read as a cell of its own. Every cell holding a
//! separator, quote, line break or outer white space is quoted.

use std::io::Write;

use serde::Serialize;

use super::rows::{File, Rows};
use crate::index::Site;

/// A metric's name and unit as one URL-safe word: the explorer's `outcome`
/// filter and the id of its section on /outcomes/.
pub fn metric_slug(m: &crate::index::outcomes::Metric) -> String {
    match &m.unit {
        Some(u) => crate::content::slug::slugify(&format!("{} {u}", m.name)),
        None => crate::content::slug::slugify(&m.name),
    }
}

/// For each page, the indices (into `Site::outcomes`) of the metrics it
/// reports, ascending: one table for the whole site, read by page index
/// (a map of 10,000 small lists cost more to build and drop than the
/// search index's cached rows cost to copy).
pub(super) struct MetricIndex {
    /// Page `p`'s metrics are `metrics[start[p]..start[p + 1]]`.
    start: Vec<usize>,
    metrics: Vec<usize>,
}

impl MetricIndex {
    pub(super) fn new(site: &Site) -> MetricIndex {
        let mut start = vec![0; site.pages.len() + 1];
        for metric in &site.outcomes {
            for &p in &metric.figure.pages {
                start[p + 1] += 1;
            }
        }
        for p in 0..site.pages.len() {
            start[p + 1] += start[p];
        }
        let mut next = start.clone();
        let mut metrics = vec![0; start[site.pages.len()]];
        // Metrics are visited in order, and a page is in a metric's pages
        // once: each page's slice comes out ascending.
        for (m, metric) in site.outcomes.iter().enumerate() {
            for &p in &metric.figure.pages {
                metrics[next[p]] = m;
                next[p] += 1;
            }
        }
        MetricIndex { start, metrics }
    }

    pub(super) fn of(&self, p: usize) -> &[usize] {
        &self.metrics[self.start[p]..self.start[p + 1]]
    }
}

#[derive(Serialize)]
struct OutcomeRow<'a> {
    metric: &'a str,
    #[serde(serialize_with = "whole_as_integer")]
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

/// `/case-studies.json`: every published case study, newest first, with
/// its front matter, absolute URL and outcomes. Pretty-printed, two spaces
/// an indent, as `serde_json::to_writer_pretty` writes it, row by row.
pub(crate) fn case_studies_json(
    site: &Site,
    rows: Rows,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let c = &site.config;
    let json = |v: &str| serde_json::to_string(v).map_err(std::io::Error::other);
    let mut w = rows.writer(File::Json, out);
    w.raw(
        format!(
            "{{\n  \"title\": {},\n  \"url\": {},\n  \"case_studies\": ",
            json(&c.title)?,
            json(&c.permalink(""))?
        )
        .as_bytes(),
    )?;
    if site.case_studies.is_empty() {
        w.raw(b"[]")?;
    }
    for (n, &i) in site.case_studies.iter().enumerate() {
        w.raw(if n == 0 { b"[\n" } else { b",\n" })?;
        let key = w.key(i, &[]);
        w.row(key, |out| {
            out.write_all(b"    ")?;
            // A row on its own, each of its lines moved in two levels.
            serde_json::to_writer_pretty(Indent(out), &Row { site, i })
                .map_err(std::io::Error::other)
        })?;
    }
    if !site.case_studies.is_empty() {
        w.raw(b"\n  ]")?;
    }
    w.raw(b"\n}\n")?;
    w.finish()
}

/// Indents every line after the first by four spaces. JSON strings hold no
/// raw line breaks, so every one it sees is serde_json's own.
struct Indent<'w>(&'w mut dyn Write);

impl Write for Indent<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut lines = bytes.split(|&b| b == b'\n');
        if let Some(first) = lines.next() {
            self.0.write_all(first)?;
        }
        for line in lines {
            self.0.write_all(b"\n    ")?;
            self.0.write_all(line)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// One case study in `case-studies.json`, its keys in a fixed order (the
/// taxonomies in site.toml's order), serialized without copying.
struct Row<'a> {
    site: &'a Site,
    i: usize,
}

impl Serialize for Row<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (site, i) = (self.site, self.i);
        let p = &site.pages[i];
        let c = &site.config;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("title", &p.title)?;
        m.serialize_entry("url", &c.permalink(&p.path))?;
        m.serialize_entry("slug", &p.slug)?;
        m.serialize_entry("date", &p.date.map(|d| d.iso_date()))?;
        m.serialize_entry("updated", &p.updated.map(|d| d.iso_date()))?;
        for (t, tax) in site.taxonomies.iter().enumerate() {
            let names: Vec<&str> = site.page_terms[i][t]
                .iter()
                .map(|&ti| tax.terms[ti].name.as_str())
                .collect();
            m.serialize_entry(&tax.config.name, &names)?;
        }
        m.serialize_entry(
            "report",
            &site.report_of[i].map(|r| site.pages[r].slug.as_str()),
        )?;
        m.serialize_entry("summary", &p.summary)?;
        m.serialize_entry("authors", &p.authors)?;
        let outcomes: Vec<OutcomeRow> = p
            .outcomes
            .iter()
            .map(|o| OutcomeRow {
                metric: &o.metric,
                value: o.value,
                unit: o.unit.as_deref(),
            })
            .collect();
        m.serialize_entry("outcomes", &outcomes)?;
        m.end()
    }
}

/// Writes one CSV record.
fn record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(f.as_ref()));
    }
    out.push_str("\r\n");
}

/// Whether a spreadsheet reads a cell starting with `c` as a formula.
fn starts_formula(c: char) -> bool {
    matches!(
        c,
        '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{ff1d}' | '\u{ff0b}' | '\u{ff0d}' | '\u{ff20}'
    )
}

/// A text value as a CSV field: guarded against formula injection at its
/// start and after every separator, then quoted if it must be.
pub fn csv_field(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // At the start of what some reader may take for a cell, before its
    // first character that is not white space.
    let mut at_start = true;
    for c in s.chars() {
        if at_start {
            if starts_formula(c) {
                out.push('\'');
                at_start = false;
            } else if !c.is_whitespace() {
                at_start = false;
            }
        }
        out.push(c);
        if matches!(c, ',' | ';' | '\t' | '\n' | '\r') {
            at_start = true;
        }
    }
    let quote = out.contains([',', ';', '\t', '"', '\r', '\n'])
        || out.starts_with(char::is_whitespace)
        || out.ends_with(char::is_whitespace);
    if quote {
        format!("\"{}\"", out.replace('"', "\"\""))
    } else {
        out
    }
}

/// A number as a CSV field: plain digits a spreadsheet reads as a number.
/// A whole number as a JSON integer (`14`, not `14.0`): what a reader of
/// the data expects for a count, and what a spreadsheet or a typed loader
/// takes as one. Values are at most 10^15 either way, exact as integers.
fn whole_as_integer<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        s.serialize_i64(*v as i64)
    } else {
        s.serialize_f64(*v)
    }
}

fn csv_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

const BOM: &str = "\u{feff}";

/// The columns every CSV row starts with, for case study `i`.
fn case_study_fields(site: &Site, i: usize) -> Vec<String> {
    let p = &site.pages[i];
    let mut row = vec![
        p.title.clone(),
        site.config.permalink(&p.path),
        p.date.map(|d| d.iso_date()).unwrap_or_default(),
    ];
    for (t, tax) in site.taxonomies.iter().enumerate() {
        let names: Vec<&str> = site.page_terms[i][t]
            .iter()
            .map(|&ti| tax.terms[ti].name.as_str())
            .collect();
        row.push(names.join("; "));
    }
    row
}

fn header(site: &Site) -> Vec<String> {
    let mut h = vec!["title".to_string(), "url".into(), "date".into()];
    h.extend(site.taxonomies.iter().map(|t| t.config.name.clone()));
    h
}

/// `/case-studies.csv`: one row per case study. Several terms in one
/// taxonomy are joined with "; ". Outcomes are in `outcomes.csv`, one row
/// per outcome, because case studies report different metrics: one column
/// per metric would leave most cells empty.
pub(crate) fn case_studies_csv(site: &Site, rows: Rows, w: &mut dyn Write) -> std::io::Result<()> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["report".into(), "summary".into(), "outcomes".into()]);
    record(&mut out, &h);
    let mut w = rows.writer(File::Csv, w);
    w.raw(out.as_bytes())?;
    // Row by row: at 100,000 case studies the whole file is 30 MB.
    for &i in &site.case_studies {
        let key = w.key(i, &[]);
        w.row(key, |w| {
            let p = &site.pages[i];
            let mut row = case_study_fields(site, i);
            row.push(
                site.report_of[i]
                    .map(|r| site.pages[r].slug.clone())
                    .unwrap_or_default(),
            );
            row.push(p.summary.clone());
            row.push(p.outcomes.len().to_string());
            let mut out = String::new();
            record(&mut out, &row);
            w.write_all(out.as_bytes())
        })?;
    }
    w.finish()
}

/// `/outcomes.csv`: one row per outcome of every case study, with the case
/// study's columns repeated, ready for a pivot table.
pub(crate) fn outcomes_csv(site: &Site, rows: Rows, w: &mut dyn Write) -> std::io::Result<()> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["metric".into(), "value".into(), "unit".into()]);
    record(&mut out, &h);
    let mut w = rows.writer(File::OutcomesCsv, w);
    w.raw(out.as_bytes())?;
    // Every case study has a row here, empty without outcomes: a row kept
    // from the last rebuild is then copied without reading the page.
    for &i in &site.case_studies {
        let key = w.key(i, &[]);
        w.row(key, |w| {
            let p = &site.pages[i];
            if p.outcomes.is_empty() {
                return Ok(());
            }
            let fields = case_study_fields(site, i);
            let mut out = String::new();
            for o in &p.outcomes {
                let mut row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                row.push(csv_field(&o.metric));
                row.push(csv_number(o.value));
                row.push(csv_field(o.unit.as_deref().unwrap_or("")));
                out.push_str(&row.join(","));
                out.push_str("\r\n");
            }
            w.write_all(out.as_bytes())
        })?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::explorer::search_index;
    use crate::render::rows::RowCache;

    fn site(files: &[(&str, &str)]) -> Site {
        crate::index::test_site("title = \"Field \\\"notes\\\"\"\n", files).with_discovery()
    }

    const A: &str = "---\ntitle: \"Water, \\\"clean\\\"\"\ndate: 2024-03-01\nngo: Aqua\nsector: Water\nprogram: P\ntags: [wells, \"=1+1\"]\nsummary: \"Two\\nlines\"\noutcomes:\n  - metric: wells dug\n    value: 12\n  - metric: people served\n    value: 3400.5\n    unit: people\n---\nWells and water and wells again.\n";
    const B: &str = "---\ntitle: Schools\ndate: 2023-01-01\nngo: Learn\nsector: Education\nprogram: P\nsummary: S\n---\nText.\n";

    type Writer = fn(&Site, Rows, &mut dyn Write) -> std::io::Result<()>;

    fn file(site: &Site, rows: Rows, f: Writer) -> String {
        let mut out = Vec::new();
        f(site, rows, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The JSON written row by row is what serde_json writes for the whole.
    #[test]
    fn case_studies_json_is_serde_jsons_pretty_form() {
        #[derive(Serialize)]
        struct Whole<'a> {
            title: &'a str,
            url: String,
            case_studies: Vec<Row<'a>>,
        }
        for files in [
            &[("case-studies/a.md", A), ("case-studies/b.md", B)][..],
            &[("case-studies/a.md", A)][..],
            &[("about.md", "---\ntitle: About\n---\nHi.\n")][..],
        ] {
            let site = site(files);
            let whole = Whole {
                title: &site.config.title,
                url: site.config.permalink(""),
                case_studies: site
                    .case_studies
                    .iter()
                    .map(|&i| Row { site: &site, i })
                    .collect(),
            };
            let expected = serde_json::to_string_pretty(&whole).unwrap() + "\n";
            assert_eq!(file(&site, Rows::default(), case_studies_json), expected);
            serde_json::from_str::<serde_json::Value>(&expected).unwrap();
        }
    }

    /// Rows from the cache make the same files as rows made afresh, pass
    /// after pass, and after a page's key changes.
    #[test]
    fn cached_rows_make_the_same_files() {
        let site = site(&[("case-studies/a.md", A), ("case-studies/b.md", B)]);
        let writers: [Writer; 4] = [
            search_index,
            case_studies_json,
            case_studies_csv,
            outcomes_csv,
        ];
        let fresh: Vec<String> = writers
            .iter()
            .map(|&f| file(&site, Rows::default(), f))
            .collect();
        let cache = RowCache::default();
        let mut keys = vec![1, 2];
        for pass in 0..3 {
            if pass == 2 {
                keys[0] = 3;
            }
            for (f, expected) in writers.iter().zip(&fresh) {
                assert_eq!(&file(&site, Rows::cached(&cache, &keys), *f), expected);
            }
            // Two rows in each file (B's row of outcomes.csv is empty).
            assert_eq!(cache.rows(), 8, "pass {pass}");
        }
    }

    /// A row is copied when its key was written before, wherever it was;
    /// only rows under new keys are made.
    #[test]
    fn rows_are_copied_by_key_and_made_only_when_new() {
        let cache = RowCache::default();
        let write = |keys: &[u64]| {
            let mut out = Vec::new();
            let mut made = Vec::new();
            let mut w = Rows::cached(&cache, keys).writer(File::Csv, &mut out);
            w.raw(b"head;").unwrap();
            for (i, &k) in keys.iter().enumerate() {
                let key = w.key(i, &[]);
                w.row(key, |out| {
                    made.push(k);
                    write!(out, "row {k}|")
                })
                .unwrap();
            }
            w.finish().unwrap();
            (String::from_utf8(out).unwrap(), made)
        };
        assert_eq!(
            write(&[1, 2, 3]),
            ("head;row 1|row 2|row 3|".into(), vec![1, 2, 3])
        );
        assert_eq!(
            write(&[1, 2, 3]),
            ("head;row 1|row 2|row 3|".into(), vec![])
        );
        // Moved: found by key, not by place.
        assert_eq!(
            write(&[3, 1, 2]),
            ("head;row 3|row 1|row 2|".into(), vec![])
        );
        // One new, one gone, one added.
        assert_eq!(
            write(&[3, 4, 2, 5]),
            ("head;row 3|row 4|row 2|row 5|".into(), vec![4, 5])
        );
        // What was written last is what is kept: 1 is gone now.
        assert_eq!(write(&[1]), ("head;row 1|".into(), vec![1]));
        // Another file's rows are its own.
        let mut out = Vec::new();
        let mut w = Rows::cached(&cache, &[1]).writer(File::Json, &mut out);
        assert!(!w.has(0, 1));
        w.raw(b"").unwrap();
        w.finish().unwrap();
        cache.clear();
        assert_eq!(write(&[1]), ("head;row 1|".into(), vec![1]));
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_field("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        // A leading space does not hide a formula; a separator starts a
        // new cell for some reader, in any locale.
        assert_eq!(csv_field("  =1+1"), "\"  '=1+1\"");
        assert_eq!(
            csv_field("a;=cmd|' /C calc'!A0"),
            "\"a;'=cmd|' /C calc'!A0\""
        );
        assert_eq!(csv_field("Costs fell, -2+3"), "\"Costs fell, '-2+3\"");
        assert_eq!(csv_field("tab\t@x"), "\"tab\t'@x\"");
        assert_eq!(csv_field("line\n+x"), "\"line\n'+x\"");
        assert_eq!(csv_field("\u{ff1d}1+1"), "'\u{ff1d}1+1");
        assert_eq!(csv_field("Health; Education"), "\"Health; Education\"");
        assert_eq!(csv_field("x "), "\"x \"");
        assert_eq!(csv_number(1200.0), "1200");
        assert_eq!(csv_number(3.5), "3.5");
        assert_eq!(csv_number(-2.0), "-2");
    }
}
