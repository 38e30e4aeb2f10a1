//! What each output read while it rendered, so the preview server rewrites
//! exactly the outputs an edit reaches — derived from rendering, not listed
//! by hand.
//!
//! The renderer's helpers (a page's value, a card, a page of a list, a
//! term's totals...) each record a [`Read`] as they look at the site; the
//! template a job renders adds the fields of `site` and `taxonomy` its
//! source names (found by [`TemplateReads`]). The preview keeps every
//! output's reads and, after an edit, asks [`ReadValues`] for their values
//! again: an output is rewritten when any of them differs. Reads name pages
//! and terms by stable ids (hashes of the source file and of taxonomy and
//! slug), so a record stays meaningful when pages come and go. A read may
//! cover more than the output used — a rebuild may do too much, never too
//! little.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{IdHash, PageHashes, SiteValues};
use crate::index::Site;

/// A page, by a hash of its source file's path under `content/`.
pub type Pid = u64;
/// A term, by a hash of its taxonomy's name and its slug.
pub type Tid = u64;

/// The stable id of page `rel`.
pub fn pid(rel: &str) -> Pid {
    let mut h = DefaultHasher::new();
    ("page", rel).hash(&mut h);
    h.finish()
}

/// The stable id of the term `slug` of taxonomy `tax`.
pub fn tid(tax: &str, slug: &str) -> Tid {
    let mut h = DefaultHasher::new();
    ("term", tax, slug).hash(&mut h);
    h.finish()
}

/// A list of pages a listing shows part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum List {
    CaseStudies,
    Reports,
    /// A term's case studies.
    Term(Tid),
}

/// One thing an output read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Read {
    /// The configuration, the templates and the theme's asset URLs.
    Theme,
    /// One field of the `site` value templates see (by its index in
    /// [`SiteValues`]); `u16::MAX` for all of it.
    SiteField(u16),
    /// One field of a taxonomy's value; `u16::MAX` for all of it.
    TaxField(u16, u16),
    /// Everything in a page's source file.
    Source(Pid),
    /// What the page's card shows (see [`PageHashes::card`]).
    Card(Pid),
    /// The names and URLs of the page's terms.
    TermNames(Pid),
    /// Which case studies a report holds.
    Members(Pid),
    /// A page's related case studies and the terms they share.
    Related(Pid),
    /// The report a case study belongs to.
    ReportOf(Pid),
    /// The pages at `start..start + len` of a list, and its length.
    Slice(List, u32, u32),
    /// A term's name and URL.
    TermName(Tid),
    /// What a term's outcome totals show: its case studies' figures,
    /// titles, URLs and terms.
    TermOutcomes(Tid),
    /// A listing's `_index.md`, by folder (`""` for the home page).
    Section(&'static str),
    /// Every case study's front matter and report: the open-data files,
    /// the outcomes page.
    AllData,
    /// Every case study's indexed words.
    AllKeywords,
    /// Every page's place and date, and every term's pages: the sitemap.
    AllPlaces,
    /// The entries of the site-wide feed.
    SiteFeedItems,
}

thread_local! {
    /// The reads of the job rendering on this thread, while recording.
    static READS: RefCell<Option<Vec<Read>>> = const { RefCell::new(None) };
}

/// How many threads are recording: while none is, [`record`] costs one
/// load (a build records nothing; it was 3% of one).
static RECORDING: AtomicUsize = AtomicUsize::new(0);

/// Whether any thread is recording.
pub fn on() -> bool {
    RECORDING.load(Ordering::Relaxed) > 0
}

/// Notes that the job rendering on this thread read `r()`.
pub fn record(r: impl FnOnce() -> Read) {
    if RECORDING.load(Ordering::Relaxed) == 0 {
        return;
    }
    READS.with(|reads| {
        if let Some(v) = reads.borrow_mut().as_mut() {
            v.push(r());
        }
    });
}

/// Runs `f`, returning what it recorded with [`record`] on this thread,
/// sorted and without repeats.
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Vec<Read>) {
    let outer = READS.with(|r| r.borrow_mut().replace(Vec::new()));
    RECORDING.fetch_add(1, Ordering::Relaxed);
    let out = f();
    RECORDING.fetch_sub(1, Ordering::Relaxed);
    let mut reads = READS
        .with(|r| std::mem::replace(&mut *r.borrow_mut(), outer))
        .unwrap_or_default();
    reads.sort_unstable();
    reads.dedup();
    (out, reads)
}

/// Names of a value's fields; None for the whole value.
type Fields = Option<BTreeSet<String>>;

/// Which fields of `site` and `taxonomy` each template names, with the
/// templates it extends and includes and every template that defines
/// components (a component may be called from anywhere).
#[derive(Debug, Default)]
pub struct TemplateReads {
    /// By template name: fields of `site`, and of `taxonomy` (None: the
    /// whole value).
    by_template: HashMap<String, (Fields, Fields)>,
}

impl TemplateReads {
    pub fn new<'a>(templates: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let sources: HashMap<&str, &str> = templates.clone().into_iter().collect();
        let components: Vec<&str> = sources
            .iter()
            .filter(|(_, s)| s.contains("component "))
            .map(|(n, _)| *n)
            .collect();
        let mut by_template = HashMap::new();
        for (name, _) in templates {
            // The template, what it extends and includes, and components.
            let mut seen: BTreeSet<&str> = components.iter().copied().collect();
            let mut todo = vec![name];
            while let Some(t) = todo.pop() {
                if !seen.insert(t) && t != name {
                    continue;
                }
                if let Some(src) = sources.get(t) {
                    for used in named_templates(src) {
                        if let Some((&n, _)) = sources.get_key_value(used)
                            && !seen.contains(n)
                        {
                            todo.push(n);
                        }
                    }
                }
            }
            let srcs: Vec<&str> = seen
                .iter()
                .filter_map(|t| sources.get(t).copied())
                .collect();
            by_template.insert(
                name.to_string(),
                (fields_named(&srcs, "site"), fields_named(&srcs, "taxonomy")),
            );
        }
        TemplateReads { by_template }
    }

    /// The fields of `site` and of `taxonomy` that `template` may read.
    pub fn of(&self, template: &str) -> (Option<&BTreeSet<String>>, Option<&BTreeSet<String>>) {
        match self.by_template.get(template) {
            Some((s, t)) => (s.as_ref(), t.as_ref()),
            None => (None, None),
        }
    }
}

/// The templates `src` names in `extends`, `include` and `import` tags.
fn named_templates(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for tag in src.split("{%").skip(1) {
        let tag = tag.trim_start_matches(['-', ' ', '\n', '\t']);
        let Some(rest) = ["extends", "include", "import"]
            .iter()
            .find_map(|k| tag.strip_prefix(k))
        else {
            continue;
        };
        let rest = rest.trim_start();
        for quote in ['"', '\''] {
            if let Some(r) = rest.strip_prefix(quote)
                && let Some(end) = r.find(quote)
            {
                out.push(&r[..end]);
            }
        }
    }
    out
}

/// The code in a template: what is inside `{{ }}` and `{% %}`, not the
/// text around it or comments.
fn code(src: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(at) = rest.find(['{']) {
        let after = &rest[at + 1..];
        let close = match after.as_bytes().first() {
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            Some(b'#') => "#}",
            _ => {
                rest = after;
                continue;
            }
        };
        let body = &after[1..];
        let end = body.find(close).unwrap_or(body.len());
        if close != "#}" {
            out.push(&body[..end]);
        }
        rest = &body[(end + close.len()).min(body.len())..];
    }
    out
}

/// The fields of variable `var` that `sources` name as `var.field`; None
/// when one of them uses `var` any other way (passes it whole, indexes it
/// with brackets) or dumps the whole context.
fn fields_named(sources: &[&str], var: &str) -> Option<BTreeSet<String>> {
    let mut fields = BTreeSet::new();
    for src in sources.iter().flat_map(|s| code(s)) {
        if src.contains("__tera_context") {
            return None;
        }
        let bytes = src.as_bytes();
        let mut from = 0;
        while let Some(at) = src[from..].find(var) {
            let start = from + at;
            let end = start + var.len();
            from = end;
            let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            // Part of a longer name, or a field of something else.
            if start > 0 && (ident(bytes[start - 1]) || bytes[start - 1] == b'.') {
                continue;
            }
            if end < bytes.len() && ident(bytes[end]) {
                continue;
            }
            let rest = &src[end..];
            let field = rest.strip_prefix('.')?;
            let name: String = field
                .bytes()
                .take_while(|&b| ident(b))
                .map(char::from)
                .collect();
            if name.is_empty() {
                return None;
            }
            fields.insert(name);
        }
    }
    Some(fields)
}

/// The values of reads against one state of the site: what the preview
/// compares with the values it saw when it last wrote each output.
pub struct ReadValues<'a> {
    site: &'a Site,
    hashes: &'a [PageHashes],
    values: &'a SiteValues,
    pages: HashMap<Pid, usize, IdHash>,
    terms: HashMap<Tid, (usize, usize), IdHash>,
    /// Each page's id and each term's, made once: a slice of a long list
    /// or a card's members hash many of them.
    pids: Vec<Pid>,
    tids: Vec<Vec<Tid>>,
    all_data: OnceLock<u64>,
    all_keywords: OnceLock<u64>,
    all_places: OnceLock<u64>,
    site_feed: OnceLock<u64>,
    term_outcomes: Vec<Vec<OnceLock<u64>>>,
    /// Each term's name and address, hashed once: many pages read them.
    term_names: Vec<Vec<OnceLock<u64>>>,
}

/// A fast hasher (FxHash's mix) for [`ReadValues::fingerprint`].
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(n.into());
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(n.into());
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
}

/// The value of a read of something that is not there.
const GONE: u64 = 0x9e37_79b9_7f4a_7c15;

fn hash_of(v: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    v.hash(&mut h);
    h.finish()
}

impl<'a> ReadValues<'a> {
    pub fn new(site: &'a Site, hashes: &'a [PageHashes], values: &'a SiteValues) -> Self {
        let pids: Vec<Pid> = site.pages.iter().map(|p| pid(&p.rel)).collect();
        let tids: Vec<Vec<Tid>> = site
            .taxonomies
            .iter()
            .map(|tax| {
                tax.terms
                    .iter()
                    .map(|term| tid(&tax.config.name, &term.slug))
                    .collect()
            })
            .collect();
        ReadValues {
            site,
            hashes,
            values,
            pages: pids.iter().enumerate().map(|(i, &p)| (p, i)).collect(),
            terms: tids
                .iter()
                .enumerate()
                .flat_map(|(t, ids)| ids.iter().enumerate().map(move |(ti, &id)| (id, (t, ti))))
                .collect(),
            pids,
            tids,
            all_data: OnceLock::new(),
            all_keywords: OnceLock::new(),
            all_places: OnceLock::new(),
            site_feed: OnceLock::new(),
            term_outcomes: site
                .taxonomies
                .iter()
                .map(|t| t.terms.iter().map(|_| OnceLock::new()).collect())
                .collect(),
            term_names: site
                .taxonomies
                .iter()
                .map(|t| t.terms.iter().map(|_| OnceLock::new()).collect())
                .collect(),
        }
    }

    fn pid_of(&self, i: usize) -> Pid {
        self.pids[i]
    }

    fn pids(&self, items: &[usize]) -> u64 {
        let mut h = DefaultHasher::new();
        for &i in items {
            self.pid_of(i).hash(&mut h);
        }
        h.finish()
    }

    /// The hash of everything `reads` saw. Only ever compared with an
    /// earlier fingerprint of the same output, so a multiply-and-rotate mix
    /// is enough: SipHash here was most of a preview rebuild's time, over
    /// the hundreds of thousands of reads of a 10,000-page site.
    pub fn fingerprint(&self, reads: &[Read]) -> u64 {
        let mut h = Mix(0);
        for r in reads {
            (r, self.value(r)).hash(&mut h);
        }
        h.finish()
    }

    /// What `r` sees now.
    pub fn value(&self, r: &Read) -> u64 {
        let site = self.site;
        let v = self.values;
        let page = |p: &Pid| self.pages.get(p).copied();
        let term = |t: &Tid| self.terms.get(t).copied();
        match r {
            Read::Theme => v.theme_hash,
            Read::SiteField(f) => v.site_field_hash(*f),
            Read::TaxField(t, f) => v.tax_field_hash(*t, *f),
            Read::Source(p) => page(p).map_or(GONE, |i| self.hashes[i].source),
            Read::Card(p) => page(p).map_or(GONE, |i| self.hashes[i].card),
            Read::TermNames(p) => page(p).map_or(GONE, |i| v.page_term_hashes[i]),
            Read::Members(p) => page(p).map_or(GONE, |i| self.pids(&site.members[i])),
            Read::Related(p) => page(p).map_or(GONE, |i| {
                let mut h = DefaultHasher::new();
                for r in &site.related[i] {
                    self.pid_of(r.page).hash(&mut h);
                    for &(t, ti) in &r.shared {
                        self.tids[t][ti].hash(&mut h);
                    }
                }
                h.finish()
            }),
            Read::ReportOf(p) => {
                page(p).map_or(GONE, |i| site.report_of[i].map_or(GONE, |r| self.pid_of(r)))
            }
            Read::Slice(list, start, len) => {
                let items: Option<&[usize]> = match list {
                    List::CaseStudies => Some(&site.case_studies),
                    List::Reports => Some(&site.reports),
                    List::Term(t) => term(t).map(|(t, ti)| &site.taxonomies[t].terms[ti].pages[..]),
                };
                items.map_or(GONE, |items| {
                    let from = (*start as usize).min(items.len());
                    let to = from.saturating_add(*len as usize).min(items.len());
                    hash_of((items.len(), self.pids(&items[from..to])))
                })
            }
            Read::TermName(t) => term(t).map_or(GONE, |(t, ti)| {
                *self.term_names[t][ti].get_or_init(|| {
                    let tax = &site.taxonomies[t];
                    hash_of((
                        &tax.terms[ti].name,
                        site.config.url(&tax.term_path(&tax.terms[ti])),
                    ))
                })
            }),
            Read::TermOutcomes(t) => term(t).map_or(GONE, |(t, ti)| {
                *self.term_outcomes[t][ti].get_or_init(|| {
                    let mut h = DefaultHasher::new();
                    for &i in &site.taxonomies[t].terms[ti].pages {
                        self.hashes[i].outcomes.hash(&mut h);
                        v.page_term_hashes[i].hash(&mut h);
                    }
                    h.finish()
                })
            }),
            Read::Section(name) => {
                let at = if name.is_empty() {
                    site.home
                } else {
                    site.sections.get(*name).copied()
                };
                at.map_or(GONE, |i| self.hashes[i].source)
            }
            Read::AllData => *self.all_data.get_or_init(|| {
                let mut h = DefaultHasher::new();
                for &i in &site.case_studies {
                    self.hashes[i].data.hash(&mut h);
                    v.page_term_hashes[i].hash(&mut h);
                    site.report_of[i].map(|r| &site.pages[r].slug).hash(&mut h);
                }
                h.finish()
            }),
            Read::AllKeywords => *self.all_keywords.get_or_init(|| {
                let mut h = DefaultHasher::new();
                for &i in &site.case_studies {
                    self.hashes[i].keywords.hash(&mut h);
                }
                h.finish()
            }),
            Read::AllPlaces => *self.all_places.get_or_init(|| {
                let mut h = DefaultHasher::new();
                for ph in self.hashes {
                    ph.place.hash(&mut h);
                }
                for (i, p) in site.pages.iter().enumerate() {
                    (p.kind, self.pid_of(i)).hash(&mut h);
                }
                for tax in &site.taxonomies {
                    for term in &tax.terms {
                        term.slug.hash(&mut h);
                        self.pids(&term.pages).hash(&mut h);
                    }
                }
                h.finish()
            }),
            Read::SiteFeedItems => *self
                .site_feed
                .get_or_init(|| self.pids(&super::feeds::site_feed_items(site))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> Option<BTreeSet<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn fields_are_found_and_anything_else_reads_everything() {
        assert_eq!(
            fields_named(&["{{ site.title }} {{ site.nav | length }}"], "site"),
            set(&["nav", "title"])
        );
        // Other names that contain it are not it.
        assert_eq!(
            fields_named(&["{{ website.x }} {{ page.site.y }} {{ site_x }}"], "site"),
            set(&[])
        );
        assert_eq!(fields_named(&["{{ show(s=site) }}"], "site"), None);
        assert_eq!(fields_named(&["{{ site['title'] }}"], "site"), None);
        assert_eq!(fields_named(&["{{ __tera_context }}"], "site"), None);
        // Text and comments are not code.
        assert_eq!(
            fields_named(&["<p class=\"site-x\">{# site #}{% if site.a %}"], "site"),
            set(&["a"])
        );
    }

    #[test]
    fn a_template_reads_what_it_extends_and_includes() {
        let reads = TemplateReads::new([
            ("base.html", "{{ site.title }}{% block b %}{% endblock b %}"),
            (
                "page.html",
                "{% extends \"base.html\" %}{% include 'part.html' %}",
            ),
            ("part.html", "{{ site.nav }}"),
            (
                "components.html",
                "{% component c() %}{{ site.pages }}{% endcomponent c %}",
            ),
            ("other.html", "{{ site.counts }}"),
        ]);
        let (site, tax) = reads.of("page.html");
        assert_eq!(site.cloned(), set(&["nav", "pages", "title"]));
        assert_eq!(tax.cloned(), set(&[]));
    }
}
