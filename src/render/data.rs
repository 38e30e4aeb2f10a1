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

use rayon::prelude::*;
use std::io::Write;

use serde::Serialize;

use crate::index::Site;

/// How many of a body's most frequent words go into the search index: enough
/// to find a case study by what its text is about, few enough that 10,000
/// case studies stay well under 2 MB gzipped.
pub(crate) const INDEX_KEYWORDS: usize = 24;

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
pub fn search_index(site: &Site, out: &mut dyn Write) -> std::io::Result<()> {
    // Serialized straight from borrowed data: at 10,000 case studies a
    // `serde_json::Value` tree of the index would cost ten times its size.
    #[derive(Serialize)]
    struct Facet<'a> {
        name: &'a str,
        title: &'a str,
        singular: &'a str,
        terms: Vec<(&'a str, &'a str)>,
    }
    #[derive(Serialize)]
    struct Index<'a> {
        version: u32,
        facets: Vec<Facet<'a>>,
        docs: Vec<Doc<'a>>,
    }
    type Doc<'a> = (&'a str, &'a str, String, &'a str, Vec<&'a [usize]>, String);

    let metric_labels: Vec<(String, String)> = site
        .outcomes
        .iter()
        .map(|m| {
            let (_, label) = super::values::total_display(&m.name, m.unit.as_deref(), 0.0);
            (label, metric_slug(m))
        })
        .collect();
    let mut facets: Vec<Facet> = site
        .taxonomies
        .iter()
        .map(|t| Facet {
            name: &t.config.name,
            title: &t.config.title,
            singular: &t.config.singular,
            terms: t
                .terms
                .iter()
                .map(|term| (term.name.as_str(), term.slug.as_str()))
                .collect(),
        })
        .collect();
    facets.push(Facet {
        name: "outcome",
        title: "Outcomes reported",
        singular: "Outcome",
        terms: metric_labels
            .iter()
            .map(|(l, s)| (l.as_str(), s.as_str()))
            .collect(),
    });
    let metric_of = metric_index(site);
    // In parallel: counting the words of 10,000 pages is most of this job,
    // which would otherwise run on one core.
    let docs: Vec<Doc> = site
        .case_studies
        .par_iter()
        .map(|&i| {
            let p = &site.pages[i];
            let mut terms: Vec<&[usize]> = site.page_terms[i].iter().map(Vec::as_slice).collect();
            terms.push(metric_of.get(&i).map_or(&[][..], Vec::as_slice));
            let mut keywords = String::new();
            p.body.with_keywords(|k| {
                for (w, _) in k.iter().take(INDEX_KEYWORDS) {
                    if !keywords.is_empty() {
                        keywords.push(' ');
                    }
                    keywords.push_str(w);
                }
            });
            (
                p.path.as_str(),
                p.title.as_str(),
                p.date.map(|d| d.iso_date()).unwrap_or_default(),
                p.summary.as_str(),
                terms,
                keywords,
            )
        })
        .collect();
    serde_json::to_writer(
        out,
        &Index {
            version: 1,
            facets,
            docs,
        },
    )
    .map_err(std::io::Error::other)
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
    // Metrics are visited in order, and a page is in a metric's pages once.
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
pub fn case_studies_json(site: &Site, out: &mut dyn Write) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct File<'a> {
        title: &'a str,
        url: String,
        case_studies: Vec<Row<'a>>,
    }
    let c = &site.config;
    let file = File {
        title: &c.title,
        url: c.permalink(""),
        case_studies: site.case_studies.iter().map(|&i| Row { site, i }).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &file).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
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
pub fn case_studies_csv(site: &Site, w: &mut dyn Write) -> std::io::Result<()> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["report".into(), "summary".into(), "outcomes".into()]);
    record(&mut out, &h);
    for &i in &site.case_studies {
        // Row by row: at 100,000 case studies the whole file is 30 MB.
        w.write_all(out.as_bytes())?;
        out.clear();
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
    w.write_all(out.as_bytes())
}

/// `/outcomes.csv`: one row per outcome of every case study, with the case
/// study's columns repeated, ready for a pivot table.
pub fn outcomes_csv(site: &Site, w: &mut dyn Write) -> std::io::Result<()> {
    let mut out = String::from(BOM);
    let mut h = header(site);
    h.extend(["metric".into(), "value".into(), "unit".into()]);
    record(&mut out, &h);
    for &i in &site.case_studies {
        w.write_all(out.as_bytes())?;
        out.clear();
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
    w.write_all(out.as_bytes())
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
