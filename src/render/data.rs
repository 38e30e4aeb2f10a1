//! Machine-readable outputs: the explorer's search index and the open data
//! downloads (`case-studies.json`, `case-studies.csv`, `outcomes.csv`).
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

use rayon::prelude::*;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde::Serialize;

use crate::index::Site;

/// The data files as the preview server last wrote them, with where each
/// case study's row sits in them and the key it was made under: after a
/// front-matter edit, each file is one new row and 9,999 copied ones.
///
/// Rows are looked for first at the same place as last time, so an edit
/// that moves no case study reads the old file front to back instead of
/// looking each row up (at 10,000 case studies the lookups, each a miss in
/// the processor's cache, cost more than copying the bytes).
#[derive(Default)]
pub struct RowCache(Mutex<[Slot; 4]>);

/// One file's rows, and the buffer of the rows before them: the next
/// rebuild writes into it, already grown to size, instead of growing a new
/// one (which cost more than the copying).
#[derive(Default)]
struct Slot {
    kept: Option<Kept>,
    spare: Vec<u8>,
}

impl RowCache {
    /// Forgets every row: after a change to what every row shows.
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    }

    /// The file's rows from the last rebuild, and an empty buffer to write
    /// the new ones into.
    fn take(&self, file: File) -> (Option<Kept>, Vec<u8>) {
        let mut files = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut files[file as usize];
        let mut spare = std::mem::take(&mut slot.spare);
        spare.clear();
        (slot.kept.take(), spare)
    }

    fn put(&self, file: File, kept: Kept, spare: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner())[file as usize] = Slot {
            kept: Some(kept),
            spare,
        };
    }

    /// How many rows are kept, over all four files.
    #[cfg(test)]
    fn rows(&self) -> usize {
        let files = self.0.lock().unwrap();
        files
            .iter()
            .filter_map(|s| s.kept.as_ref())
            .map(|k| k.keys.len())
            .sum()
    }
}

/// The largest buffer kept spare for a data file's next rebuild.
const SPARE_LIMIT: usize = 32 * 1024 * 1024;

/// One data file as last written: its bytes, and each row's key and span.
#[derive(Default)]
struct Kept {
    bytes: Vec<u8>,
    keys: Vec<u64>,
    spans: Vec<(usize, usize)>,
}

/// Where the rows of the data files come from: made afresh (a build), or,
/// in the preview server, from the [`RowCache`] when their key is there.
#[derive(Clone, Copy, Default)]
pub(crate) struct Rows<'a> {
    /// The cache, and each page's key: everything its rows show.
    cache: Option<(&'a RowCache, &'a [u64])>,
}

/// Which file a row belongs to.
#[derive(Clone, Copy)]
enum File {
    Index,
    Json,
    Csv,
    OutcomesCsv,
}

impl<'a> Rows<'a> {
    pub(crate) fn cached(cache: &'a RowCache, keys: &'a [u64]) -> Rows<'a> {
        Rows {
            cache: Some((cache, keys)),
        }
    }

    /// A writer of `file` into `out`.
    fn writer<'w>(&self, file: File, out: &'w mut dyn Write) -> RowWriter<'w>
    where
        'a: 'w,
    {
        RowWriter {
            out,
            keep: self.cache.map(|(cache, keys)| {
                let (old, mut bytes) = cache.take(file);
                let size = old.as_ref().map_or(0, |o| o.bytes.len());
                bytes.reserve(size + size / 8);
                Keeping {
                    cache,
                    file,
                    keys,
                    old,
                    by_key: OnceLock::new(),
                    new: Kept {
                        bytes,
                        ..Kept::default()
                    },
                }
            }),
        }
    }
}

/// Writes one data file: straight to its output in a build (no copy kept:
/// at 100,000 case studies the files run to tens of MB), and in the
/// preview server into a copy kept for the next rebuild, written out whole
/// at the end.
struct RowWriter<'w> {
    out: &'w mut dyn Write,
    keep: Option<Keeping<'w>>,
}

struct Keeping<'w> {
    cache: &'w RowCache,
    file: File,
    keys: &'w [u64],
    old: Option<Kept>,
    /// The old rows by key, made the first time a row is not where it was.
    by_key: OnceLock<HashMap<u64, usize, super::IdHash>>,
    new: Kept,
}

impl Keeping<'_> {
    /// Where in the old file the row kept for the `n`th row, under `key`,
    /// is.
    fn find(&self, n: usize, key: u64) -> Option<(usize, usize)> {
        let old = self.old.as_ref()?;
        let m = if old.keys.get(n) == Some(&key) {
            n
        } else {
            *self
                .by_key
                .get_or_init(|| old.keys.iter().enumerate().map(|(m, &k)| (k, m)).collect())
                .get(&key)?
        };
        Some(old.spans[m])
    }
}

impl RowWriter<'_> {
    /// Bytes between rows.
    fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.keep {
            Some(k) => {
                k.new.bytes.extend_from_slice(bytes);
                Ok(())
            }
            None => self.out.write_all(bytes),
        }
    }

    /// The key of case study `i`'s row; `extra` is what the row shows
    /// beyond the page's key.
    fn key(&self, i: usize, extra: &[usize]) -> u64 {
        let Some(k) = &self.keep else { return 0 };
        if extra.is_empty() {
            return k.keys[i];
        }
        let mut h = DefaultHasher::new();
        (k.keys[i], extra).hash(&mut h);
        h.finish()
    }

    /// Whether the `n`th row can be copied from the last rebuild (the
    /// search index makes the others in parallel before writing any).
    fn has(&self, n: usize, key: u64) -> bool {
        self.keep.as_ref().is_some_and(|k| k.find(n, key).is_some())
    }

    /// The next row, under `key`: copied from the last rebuild if it is
    /// there, else made by `make`.
    fn row(
        &mut self,
        key: u64,
        make: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(k) = &mut self.keep else {
            return make(self.out);
        };
        let n = k.new.keys.len();
        let start = k.new.bytes.len();
        match k.find(n, key) {
            Some((s, e)) => {
                let old = k.old.as_ref().expect("found in the old rows");
                k.new.bytes.extend_from_slice(&old.bytes[s..e]);
            }
            None => make(&mut k.new.bytes)?,
        }
        k.new.keys.push(key);
        k.new.spans.push((start, k.new.bytes.len()));
        Ok(())
    }

    /// Writes what is kept and keeps it for the next rebuild.
    fn finish(self) -> std::io::Result<()> {
        if let Some(k) = self.keep {
            self.out.write_all(&k.new.bytes)?;
            // A second copy of a file this size is worth keeping; of the
            // 90 MB `case-studies.json` of 100,000 case studies, it is not.
            let spare = k
                .old
                .map(|o| o.bytes)
                .filter(|b| b.capacity() <= SPARE_LIMIT)
                .unwrap_or_default();
            k.cache.put(k.file, k.new, spare);
        }
        Ok(())
    }
}

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
pub(crate) fn search_index(site: &Site, rows: Rows, out: &mut dyn Write) -> std::io::Result<()> {
    // Serialized straight from borrowed data: at 10,000 case studies a
    // `serde_json::Value` tree of the index would cost ten times its size.
    #[derive(Serialize)]
    struct Facet<'a> {
        name: &'a str,
        title: &'a str,
        singular: &'a str,
        terms: Vec<(&'a str, &'a str)>,
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
    let metric_of = MetricIndex::new(site);
    let mut w = rows.writer(File::Index, out);
    // `{"version":1,"facets":[...],"docs":[...]}`, as serde_json writes a
    // struct of those three fields.
    let mut head = br#"{"version":1,"facets":"#.to_vec();
    serde_json::to_writer(&mut head, &facets).map_err(std::io::Error::other)?;
    head.extend_from_slice(br#","docs":["#);
    w.raw(&head)?;
    let keys: Vec<u64> = site
        .case_studies
        .iter()
        .map(|&i| w.key(i, metric_of.of(i)))
        .collect();
    let wanted: Vec<bool> = keys
        .iter()
        .enumerate()
        .map(|(n, &k)| !w.has(n, k))
        .collect();
    // In parallel: counting the words of 10,000 pages is most of this job,
    // which would otherwise run on one core.
    let made: Vec<Option<Vec<u8>>> = site
        .case_studies
        .par_iter()
        .zip(&wanted)
        .map(|(&i, &wanted)| {
            if !wanted {
                return Ok(None);
            }
            let p = &site.pages[i];
            let metrics = metric_of.of(i);
            let mut terms: Vec<&[usize]> = site.page_terms[i].iter().map(Vec::as_slice).collect();
            terms.push(metrics);
            let mut keywords = String::new();
            p.body.with_keywords(|k| {
                for (w, _) in k.iter().take(INDEX_KEYWORDS) {
                    if !keywords.is_empty() {
                        keywords.push(' ');
                    }
                    keywords.push_str(w);
                }
            });
            let doc: Doc = (
                p.path.as_str(),
                p.title.as_str(),
                p.date.map(|d| d.iso_date()).unwrap_or_default(),
                p.summary.as_str(),
                terms,
                keywords,
            );
            let mut row = Vec::new();
            serde_json::to_writer(&mut row, &doc).map_err(std::io::Error::other)?;
            Ok(Some(row))
        })
        .collect::<std::io::Result<_>>()?;
    for (n, (key, made)) in keys.into_iter().zip(made).enumerate() {
        if n > 0 {
            w.raw(b",")?;
        }
        w.row(key, |out| match made {
            Some(row) => out.write_all(&row),
            None => unreachable!("a row not kept from the last rebuild was made above"),
        })?;
    }
    w.raw(b"]}")?;
    w.finish()
}

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
struct MetricIndex {
    /// Page `p`'s metrics are `metrics[start[p]..start[p + 1]]`.
    start: Vec<usize>,
    metrics: Vec<usize>,
}

impl MetricIndex {
    fn new(site: &Site) -> MetricIndex {
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

    fn of(&self, p: usize) -> &[usize] {
        &self.metrics[self.start[p]..self.start[p + 1]]
    }
}

#[derive(Serialize)]
struct OutcomeRow<'a> {
    metric: &'a str,
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
