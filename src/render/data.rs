//! Machine-readable outputs: the explorer's search index and the open data
//! downloads (`case-studies.json`, `case-studies.csv`, `outcomes.csv`).
//!
//! They are written by code, not templates: their formats are contracts with
//! the explorer script and with readers' spreadsheets, which a theme should
//! not be able to break.
//!
//! The CSV files are RFC 4180 (CRLF line ends, fields with commas, quotes or
//! line breaks quoted, quotes doubled), start with a UTF-8 byte-order mark so
//! that Excel reads accents right, and guard against formula injection: a
//! text cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
//! tab or carriage return first) gets a leading apostrophe.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::index::Site;

/// How many of a body's most frequent words go into the search index: enough
/// to find a case study by what its text is about, few enough that 10,000
/// case studies stay well under 2 MB gzipped.
const INDEX_KEYWORDS: usize = 24;

/// The explorer's index: `/search-index.json`.
///
/// ```json
/// { "version": 1,
///   "facets": [ { "name": "sector", "title": "Sectors", "singular": "Sector",
///                 "terms": [ ["Health", "health"], ... ] }, ... ],
///   "docs": [ [ "case-studies/x/", "Title", "2024-12-10", "Summary",
///               [[0], [3, 4], ...],  // per facet: indices into its terms
///               "keywords of the body" ] ] }
/// ```
///
/// URLs are relative to the site's base path, so the file is the same
/// wherever the site is served. The last facet, `outcome`, holds the outcome
/// metrics each case study reports.
pub fn search_index(site: &Site) -> Vec<u8> {
    let mut facets: Vec<Value> = site
        .taxonomies
        .iter()
        .map(|t| {
            json!({
                "name": t.config.name,
                "title": t.config.title,
                "singular": t.config.singular,
                "terms": t.terms.iter().map(|term| json!([term.name, term.slug])).collect::<Vec<_>>(),
            })
        })
        .collect();
    let metric_of = metric_index(site);
    facets.push(json!({
        "name": "outcome",
        "title": "Outcomes reported",
        "singular": "Outcome",
        "terms": site.outcomes.iter().map(|m| {
            let (_, label) = super::values::total_display(&m.name, m.unit.as_deref(), 0.0);
            json!([label, metric_slug(m)])
        }).collect::<Vec<_>>(),
    }));
    let docs: Vec<Value> = site
        .case_studies
        .iter()
        .map(|&i| {
            let p = &site.pages[i];
            let mut terms: Vec<Value> = site.page_terms[i].iter().map(|ts| json!(ts)).collect();
            let mut metrics: Vec<usize> = metric_of.get(&i).cloned().unwrap_or_default();
            metrics.sort_unstable();
            metrics.dedup();
            terms.push(json!(metrics));
            let keywords: Vec<&str> = p
                .body
                .keywords
                .iter()
                .take(INDEX_KEYWORDS)
                .map(|(w, _)| w.as_str())
                .collect();
            json!([
                p.path,
                p.title,
                p.date.map(|d| d.iso_date()).unwrap_or_default(),
                p.summary,
                terms,
                keywords.join(" "),
            ])
        })
        .collect();
    let index = json!({ "version": 1, "facets": facets, "docs": docs });
    serde_json::to_vec(&index).unwrap_or_default()
}

/// A metric's name and unit as one URL-safe word: the explorer's `outcome`
/// filter and the id of its section on /outcomes/.
pub fn metric_slug(m: &crate::index::outcomes::Metric) -> String {
    match &m.unit {
        Some(u) => crate::content::slug::slugify(&format!("{} {u}", m.name)),
        None => crate::content::slug::slugify(&m.name),
    }
}

/// For each case study, the indices (into `Site::outcomes`) of the metrics
/// it reports.
fn metric_index(site: &Site) -> std::collections::HashMap<usize, Vec<usize>> {
    let mut out: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (m, metric) in site.outcomes.iter().enumerate() {
        for &p in &metric.figure.pages {
            out.entry(p).or_default().push(m);
        }
    }
    out
}

#[derive(Serialize)]
struct OutcomeRow<'a> {
    metric: &'a str,
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'a str>,
}

/// `/case-studies.json`: every published case study, newest first, with
/// its front matter, absolute URL and outcomes.
pub fn case_studies_json(site: &Site) -> Vec<u8> {
    let c = &site.config;
    let rows: Vec<Value> = site
        .case_studies
        .iter()
        .map(|&i| {
            let p = &site.pages[i];
            let mut row = Map::new();
            row.insert("title".into(), json!(p.title));
            row.insert("url".into(), json!(c.permalink(&p.path)));
            row.insert("slug".into(), json!(p.slug));
            row.insert("date".into(), json!(p.date.map(|d| d.iso_date())));
            row.insert("updated".into(), json!(p.updated.map(|d| d.iso_date())));
            for (t, tax) in site.taxonomies.iter().enumerate() {
                let names: Vec<&str> = site.page_terms[i][t]
                    .iter()
                    .map(|&ti| tax.terms[ti].name.as_str())
                    .collect();
                row.insert(tax.config.name.clone(), json!(names));
            }
            row.insert(
                "report".into(),
                json!(site.report_of[i].map(|r| site.pages[r].slug.as_str())),
            );
            row.insert("summary".into(), json!(p.summary));
            row.insert("authors".into(), json!(p.authors));
            let outcomes: Vec<OutcomeRow> = p
                .outcomes
                .iter()
                .map(|o| OutcomeRow {
                    metric: &o.metric,
                    value: o.value,
                    unit: o.unit.as_deref(),
                })
                .collect();
            row.insert("outcomes".into(), json!(outcomes));
            Value::Object(row)
        })
        .collect();
    let mut out = serde_json::to_vec_pretty(&json!({
        "title": c.title,
        "url": c.permalink(""),
        "case_studies": rows,
    }))
    .unwrap_or_default();
    out.push(b'\n');
    out
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

/// A text value as a CSV field: guarded against formula injection, then
/// quoted if it must be.
pub fn csv_field(s: &str) -> String {
    let guarded;
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        guarded = format!("'{s}");
        guarded.as_str()
    } else {
        s
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A number as a CSV field: plain digits a spreadsheet reads as a number.
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
pub fn case_studies_csv(site: &Site) -> Vec<u8> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["report".into(), "summary".into(), "outcomes".into()]);
    record(&mut out, &h);
    for &i in &site.case_studies {
        let p = &site.pages[i];
        let mut row = case_study_fields(site, i);
        row.push(
            site.report_of[i]
                .map(|r| site.pages[r].slug.clone())
                .unwrap_or_default(),
        );
        row.push(p.summary.clone());
        row.push(p.outcomes.len().to_string());
        record(&mut out, &row);
    }
    out.into_bytes()
}

/// `/outcomes.csv`: one row per outcome of every case study, with the case
/// study's columns repeated, ready for a pivot table.
pub fn outcomes_csv(site: &Site) -> Vec<u8> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["metric".into(), "value".into(), "unit".into()]);
    record(&mut out, &h);
    for &i in &site.case_studies {
        let p = &site.pages[i];
        if p.outcomes.is_empty() {
            continue;
        }
        let fields = case_study_fields(site, i);
        for o in &p.outcomes {
            let mut row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            row.push(csv_field(&o.metric));
            row.push(csv_number(o.value));
            row.push(csv_field(o.unit.as_deref().unwrap_or("")));
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(csv_number(1200.0), "1200");
        assert_eq!(csv_number(3.5), "3.5");
        assert_eq!(csv_number(-2.0), "-2");
    }
}
