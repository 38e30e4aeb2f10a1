//! The `render` stage: turns the indexed [`Site`] into output files.
//!
//! It first makes a plan — one [`Job`] per output file, cheap to compute —
//! then a [`Renderer`] (templates compiled once, per-page card data built
//! once) renders any job to bytes. Jobs are independent, so the write stage
//! runs them in parallel and streams each to its file; no stage holds the
//! whole site's HTML in memory.

pub mod data;
pub mod paths;
pub mod publish;
pub mod reads;
pub mod theme;
pub mod values;

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use tera::{Context, Tera, Value};

use crate::content::{Kind, Page};
use crate::diagnostic::Diagnostic;
use crate::index::Site;
use crate::index::outcomes::{Combine, Metric};
use reads::{List, Read, pid, record, tid};
pub use theme::Theme;
pub use values::format_number;
use values::*;

/// Fingerprints of one page, worked out once when the preview server
/// parses it, so that after an edit it can tell which output files the edit
/// reaches by comparing a few numbers per page instead of hashing the
/// whole site again. Each part covers what one kind of output shows of the
/// page; a body edit changes `source` and perhaps `keywords`, and leaves
/// every listing the page's card sits in alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PageHashes {
    /// Everything: the page's source file (its path and text) and its
    /// rendered body.
    pub source: u64,
    /// What its card and its related-case-study entry show.
    pub card: u64,
    /// What totals show of it: its outcomes and, since a small figure
    /// lists the case studies behind it, its title and URL.
    pub outcomes: u64,
    /// What the open data files and /outcomes/ show of it: front matter.
    pub data: u64,
    /// Where the sitemap puts it and when it says it changed.
    pub place: u64,
    /// What the search index holds of its body.
    pub keywords: u64,
}

impl PageHashes {
    /// The fingerprints of `page`, whose source file hashes to `source`.
    pub fn of(page: &Page, source: u64) -> PageHashes {
        let finish = |f: &dyn Fn(&mut DefaultHasher)| {
            let mut h = DefaultHasher::new();
            f(&mut h);
            h.finish()
        };
        let outcomes = finish(&|h| {
            for o in &page.outcomes {
                (&o.metric, &o.unit, o.value.to_bits()).hash(h);
            }
            // A page without outcomes is behind no figure.
            if !page.outcomes.is_empty() {
                (&page.title, &page.path).hash(h);
            }
        });
        PageHashes {
            // The body as rendered, not only its text: an `@/` link in it
            // resolves to where another page is now.
            source: finish(&|h| (source, &page.body.html).hash(h)),
            card: finish(&|h| {
                (page.kind, &page.title, &page.path, page.date, &page.summary).hash(h);
                page.terms.hash(h);
                page.outcomes
                    .first()
                    .map(|o| (&o.metric, &o.unit, o.value.to_bits()))
                    .hash(h);
            }),
            outcomes,
            data: finish(&|h| {
                (&page.title, &page.path, &page.slug, page.date, page.updated).hash(h);
                (&page.summary, &page.authors, &page.terms, outcomes).hash(h);
            }),
            place: finish(&|h| (&page.path, page.date, page.updated).hash(h)),
            keywords: finish(&|h| {
                page.body
                    .keywords()
                    .iter()
                    .take(data::INDEX_KEYWORDS)
                    .for_each(|(w, _)| w.hash(h))
            }),
        }
    }

    /// For a file that is not a page (it failed to parse, or is a draft).
    pub fn unparsed(source: u64) -> PageHashes {
        PageHashes {
            source,
            ..PageHashes::default()
        }
    }
}

/// One output file to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    Home,
    /// A case study, report or plain page (index into `Site::pages`).
    Page(usize),
    /// Page `n` (1-based) of `/case-studies/`.
    CaseStudyList(usize),
    ReportList,
    /// `/<taxonomy>/`.
    TaxonomyIndex(usize),
    /// Page `page` (1-based) of `/<taxonomy>/<term>/`.
    Term {
        tax: usize,
        term: usize,
        page: usize,
    },
    NotFound,
    /// `/atom.xml`: everything new on the site.
    SiteFeed,
    /// `/<taxonomy>/<term>/atom.xml`.
    TermFeed {
        tax: usize,
        term: usize,
    },
    Sitemap,
    Robots,
    /// A redirect from the page's `n`th alias to the page.
    Alias {
        page: usize,
        n: usize,
    },
    /// `/explore/`: the faceted explorer.
    Explore,
    /// `/outcomes/`: outcomes added up.
    Outcomes,
    /// `/search-index.json`, which the explorer reads.
    SearchIndex,
    /// `/case-studies.json`.
    DataJson,
    /// `/case-studies.csv`.
    DataCsv,
    /// `/outcomes.csv`.
    OutcomesCsv,
}

impl Job {
    /// The file this job writes, relative to the output folder.
    pub fn output_path(&self, site: &Site) -> String {
        match *self {
            Job::Home => "index.html".into(),
            Job::Page(i) => [site.pages[i].path.as_str(), "index.html"].concat(),
            Job::CaseStudyList(n) => format!("{}index.html", paged("case-studies/", n)),
            Job::ReportList => "reports/index.html".into(),
            Job::TaxonomyIndex(t) => format!("{}index.html", site.taxonomies[t].path()),
            Job::Term { tax, term, page } => {
                let t = &site.taxonomies[tax];
                paged(&t.term_path(&t.terms[term]), page) + "index.html"
            }
            Job::NotFound => "404.html".into(),
            Job::SiteFeed => "atom.xml".into(),
            Job::TermFeed { tax, term } => {
                let t = &site.taxonomies[tax];
                t.term_path(&t.terms[term]) + "atom.xml"
            }
            Job::Sitemap => "sitemap.xml".into(),
            Job::Robots => "robots.txt".into(),
            Job::Alias { page, n } => {
                // `plan` only makes alias jobs for aliases that map to a
                // path inside the output.
                publish::alias_output(&site.pages[page].aliases[n]).unwrap_or_default()
            }
            Job::Explore => "explore/index.html".into(),
            Job::Outcomes => "outcomes/index.html".into(),
            Job::SearchIndex => "search-index.json".into(),
            Job::DataJson => "case-studies.json".into(),
            Job::DataCsv => "case-studies.csv".into(),
            Job::OutcomesCsv => "outcomes.csv".into(),
        }
    }

    /// What kind of page this is, for the build summary.
    pub fn label(&self, site: &Site) -> &'static str {
        match *self {
            Job::Home => "home",
            Job::Page(i) => match site.pages[i].kind {
                Kind::CaseStudy => "case studies",
                Kind::Report => "reports",
                _ => "pages",
            },
            Job::CaseStudyList(_) | Job::ReportList => "listings",
            Job::TaxonomyIndex(_) | Job::Term { .. } => "taxonomy pages",
            Job::NotFound => "404",
            Job::SiteFeed | Job::TermFeed { .. } => "feeds",
            Job::Sitemap | Job::Robots => "sitemap",
            Job::Alias { .. } => "redirects",
            Job::Explore | Job::Outcomes => "listings",
            Job::SearchIndex | Job::DataJson | Job::DataCsv | Job::OutcomesCsv => "data files",
        }
    }
}

/// Site path of page `n` of a paginated listing: the first page is the
/// listing itself, later ones are `page/N/` under it.
fn paged(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}page/{n}/")
    }
}

fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page).max(1)
}

/// Every output file of the site, in a stable order.
pub fn plan(site: &Site) -> Vec<Job> {
    let per = site.config.paginate_by;
    let mut jobs = vec![
        Job::Home,
        Job::NotFound,
        Job::SiteFeed,
        Job::Sitemap,
        Job::Robots,
        Job::Explore,
        Job::Outcomes,
        Job::SearchIndex,
        Job::DataJson,
        Job::DataCsv,
        Job::OutcomesCsv,
    ];
    for (i, p) in site.pages.iter().enumerate() {
        if matches!(p.kind, Kind::CaseStudy | Kind::Report | Kind::Page) {
            jobs.push(Job::Page(i));
            for (n, alias) in p.aliases.iter().enumerate() {
                if publish::alias_output(alias).is_some() {
                    jobs.push(Job::Alias { page: i, n });
                }
            }
        }
    }
    for n in 1..=page_count(site.case_studies.len(), per) {
        jobs.push(Job::CaseStudyList(n));
    }
    if !site.reports.is_empty() {
        jobs.push(Job::ReportList);
    }
    for (t, tax) in site.taxonomies.iter().enumerate() {
        jobs.push(Job::TaxonomyIndex(t));
        for (ti, term) in tax.terms.iter().enumerate() {
            if tax.config.feed {
                jobs.push(Job::TermFeed { tax: t, term: ti });
            }
            for page in 1..=page_count(term.pages.len(), per) {
                jobs.push(Job::Term {
                    tax: t,
                    term: ti,
                    page,
                });
            }
        }
    }
    jobs
}

/// Above this many case studies behind a number, /outcomes/ links to the
/// explorer (filtered to them) instead of listing them all.
const LINKS_BEHIND: usize = 12;

/// The heading level of cards in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// On listing pages, where the cards are the page's sections.
    H2 = 0,
    /// Under a section heading: the home page, a report's case studies.
    H3 = 1,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::H2 => "h2",
            Level::H3 => "h3",
        }
    }
}

/// Cards (a case study's or report's summary in a list, with its HTML)
/// kept across rebuilds of the preview server, by a key that changes when
/// anything on the card could: see [`Renderer::with_card_cache`]. Term
/// pages' outcome totals are kept in it too, under keys of their own.
pub type CardCache = Mutex<HashMap<u64, Value, IdHash>>;

/// Hashing for maps keyed by a hash already made (the caches' keys): the
/// key is its own hash. SipHash again on each lookup cost a tenth of a
/// preview rebuild's time in the list of 10,000 cards.
pub type IdHash = std::hash::BuildHasherDefault<KeyHasher>;

#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with this; anything else still spreads.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Renders jobs. Holds the compiled templates and, for each page, its card:
/// the data and the HTML of the theme's `card` component, made the first
/// time a listing needs it and shared (tera values are reference counted) by
/// every listing the page appears in — a page is in up to a dozen lists, and
/// rendering its card once instead of in each is most of a build's
/// template work.
pub struct Renderer<'s> {
    site: &'s Site,
    tera: Arc<Templates>,
    theme: &'s Theme,
    /// Each page's card, under an h2 and under an h3.
    cards: Vec<[OnceLock<Result<Value, Diagnostic>>; 2]>,
    /// With the preview server: cards made by earlier rebuilds, and the key
    /// of each page's card.
    shared: Option<(&'s CardCache, Vec<u64>, &'s [PageHashes])>,
    /// While recording: what each job rendered read.
    log: Option<Mutex<HashMap<Job, Vec<Read>>>>,
    /// With the preview server: rows of the data files made by earlier
    /// rebuilds, and each page's key for them.
    rows: Option<RowKeys<'s>>,
    /// Each term's outcome totals as its pages show them: the same on every
    /// page of a paginated term, so added up once, and kept only until the
    /// term's last page has taken them (they list every case study behind
    /// each figure: kept for every term, 250 MB at 100,000 case studies).
    term_totals: Vec<Vec<Mutex<TotalsMemo>>>,
    /// Each page's feed entry, with its XML as the theme's `atom_entry`
    /// component renders it, made the first time a feed needs it (a page
    /// is in a feed for each of its terms), with how many feeds are still
    /// to take it: dropped after the last, as entries hold the page's
    /// whole body.
    entries: Vec<Mutex<(usize, Option<Value>)>>,
    values: Arc<SiteValues>,
}

/// A term's outcome totals while its pages render: how many of its pages
/// are still to render, and the totals once made.
type TotalsMemo = (usize, Option<Value>);

/// The preview server's cache of data-file rows, each page's front-matter
/// and keyword fingerprints, and the rows' keys made from them.
struct RowKeys<'s> {
    cache: &'s data::RowCache,
    hashes: Vec<(u64, u64)>,
    keys: OnceLock<Vec<u64>>,
}

/// A theme's templates, compiled for a site's base path.
pub struct Templates {
    tera: Tera,
}

impl std::ops::Deref for Templates {
    type Target = Tera;
    fn deref(&self) -> &Tera {
        &self.tera
    }
}

/// `{{ html | cdata }}`: the text as an XML CDATA section, marked safe.
fn cdata_filter(text: Cow<'_, str>, _: tera::Kwargs, _: &tera::State) -> Value {
    Value::safe_string(&publish::cdata(&text))
}

impl Templates {
    /// Compiles the theme's templates and checks that every template and
    /// component casebook uses is there, so a theme missing one fails here,
    /// once, rather than on every page.
    pub fn compile(theme: &Theme, config: &crate::config::Config) -> Result<Templates, Diagnostic> {
        let mut tera = Tera::new();
        let base_path = config.base_path.clone();
        tera.register_function(
            "url",
            move |kwargs: tera::Kwargs, _: &tera::State| -> tera::TeraResult<String> {
                let path: &str = kwargs.must_get("path")?;
                Ok(format!("{base_path}{}", path.trim_start_matches('/')))
            },
        );
        tera.register_filter("cdata", cdata_filter);
        // Functions and filters must be registered first: templates are
        // checked against them when added.
        tera.add_raw_templates(
            theme
                .templates
                .iter()
                .map(|(n, t)| (n.as_str(), t.source.as_str())),
        )
        .map_err(|e| template_diagnostic(theme, "", &e))?;
        if !tera.contains_component("card") {
            return Err(Diagnostic::error(
                theme.origin("components.html"),
                "the theme has no `card` component, which every list of case studies uses",
            ));
        }
        for name in [
            "index.html",
            "case-study.html",
            "report.html",
            "page.html",
            "list.html",
            "reports.html",
            "taxonomy.html",
            "term.html",
            "404.html",
            "atom.xml",
            "sitemap.xml",
            "robots.txt",
            "alias.html",
            "explore.html",
            "outcomes.html",
        ] {
            if !tera.contains_template(name) {
                return Err(Diagnostic::error(
                    theme.origin(name),
                    format!("the theme has no `{name}` template"),
                ));
            }
        }
        Ok(Templates { tera })
    }
}

/// What every page can see: the `site` value and one value per taxonomy,
/// with a hash of it all (and of the templates and configuration) that is
/// part of every job's fingerprint.
pub struct SiteValues {
    site: Value,
    /// One value per taxonomy, with its terms and counts.
    taxonomies: Vec<Value>,
    /// Each taxonomy's name as a map key, and a link (name and URL) to each
    /// of its terms: every card holds these by reference, not a copy — at
    /// 100,000 case studies the copies came to 300 MB.
    tax_keys: Vec<tera::value::Key<'static>>,
    term_links: Vec<Vec<Value>>,
    /// Each term's Atom category, shared by every feed entry.
    term_categories: Vec<Vec<Value>>,
    /// For each page, its terms' links hashed, for fingerprints: every
    /// rebuild of the preview fingerprints every output, and hashing the
    /// links' text there took a body edit at 10,000 pages from 3 to 14 ms.
    page_term_hashes: Vec<u64>,
    /// The configuration, the templates and the theme's asset URLs, hashed:
    /// what every output reads ([`Read::Theme`]).
    theme_hash: u64,
    /// Each field of the `site` value, by name, hashed.
    site_fields: Vec<(String, u64)>,
    /// The same for each taxonomy's value.
    tax_fields: Vec<Vec<(String, u64)>>,
    /// Which of those fields each template names.
    template_reads: reads::TemplateReads,
}

impl SiteValues {
    pub fn new(site: &Site, theme: &Theme) -> SiteValues {
        let site_v = Renderer::site_value(site, theme);
        let taxonomies = site_v
            .taxonomies
            .iter()
            .map(Value::from_serializable)
            .collect();
        let c = &site.config;
        let mut h = DefaultHasher::new();
        format!("{c:?}").hash(&mut h);
        for (name, t) in &theme.templates {
            (name, &t.source).hash(&mut h);
        }
        for asset in ["style.css", "favicon.svg", "explore.js"] {
            theme.asset_url(c, asset).hash(&mut h);
        }
        let theme_hash = h.finish();
        let fields = |v: serde_json::Value| -> Vec<(String, u64)> {
            match v {
                serde_json::Value::Object(map) => map
                    .into_iter()
                    .map(|(k, v)| {
                        let mut h = DefaultHasher::new();
                        v.to_string().hash(&mut h);
                        (k, h.finish())
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let site_fields = fields(serde_json::to_value(&site_v).unwrap_or_default());
        let tax_fields = site_v
            .taxonomies
            .iter()
            .map(|t| fields(serde_json::to_value(t).unwrap_or_default()))
            .collect();
        let term_hashes = each_term(site, |term, url| {
            let mut h = DefaultHasher::new();
            (&term.name, url).hash(&mut h);
            h.finish()
        });
        SiteValues {
            site: Value::from_serializable(&site_v),
            taxonomies,
            tax_keys: site
                .taxonomies
                .iter()
                .map(|t| t.config.name.clone().into())
                .collect(),
            term_links: each_term(site, |term, url| {
                Value::from_serializable(&LinkV {
                    name: &term.name,
                    url: url.to_string(),
                })
            }),
            term_categories: publish::category_values(site),
            page_term_hashes: site
                .page_terms
                .iter()
                .map(|terms| {
                    let mut h = DefaultHasher::new();
                    for (t, terms) in terms.iter().enumerate() {
                        for &ti in terms {
                            term_hashes[t][ti].hash(&mut h);
                        }
                    }
                    h.finish()
                })
                .collect(),
            theme_hash,
            site_fields,
            tax_fields,
            template_reads: reads::TemplateReads::new(
                theme
                    .templates
                    .iter()
                    .map(|(n, t)| (n.as_str(), t.source.as_str())),
            ),
        }
    }

    fn field_hash(fields: &[(String, u64)], f: u16) -> u64 {
        if f == u16::MAX {
            let mut h = DefaultHasher::new();
            fields.hash(&mut h);
            return h.finish();
        }
        fields.get(usize::from(f)).map_or(0, |(_, h)| *h)
    }

    /// The hash of field `f` of the `site` value (`u16::MAX`: all of it).
    pub(crate) fn site_field_hash(&self, f: u16) -> u64 {
        Self::field_hash(&self.site_fields, f)
    }

    /// The hash of field `f` of taxonomy `t`'s value.
    pub(crate) fn tax_field_hash(&self, t: u16, f: u16) -> u64 {
        self.tax_fields
            .get(usize::from(t))
            .map_or(0, |fields| Self::field_hash(fields, f))
    }

    /// Records that the job rendering reads, through `template`, the
    /// fields of `site` (and of taxonomy `tax`'s value) its source names.
    fn record_template(&self, template: &str, tax: Option<usize>) {
        if !reads::on() {
            return;
        }
        let index = |fields: &[(String, u64)], name: &str| {
            fields.iter().position(|(n, _)| n == name).map(|i| i as u16)
        };
        let (site, taxonomy) = self.template_reads.of(template);
        match site {
            Some(names) => names
                .iter()
                .filter_map(|n| index(&self.site_fields, n))
                .for_each(|f| record(|| Read::SiteField(f))),
            None => record(|| Read::SiteField(u16::MAX)),
        }
        if let Some(t) = tax {
            let fields = &self.tax_fields[t];
            match taxonomy {
                Some(names) => names
                    .iter()
                    .filter_map(|n| index(fields, n))
                    .for_each(|f| record(|| Read::TaxField(t as u16, f))),
                None => record(|| Read::TaxField(t as u16, u16::MAX)),
            }
        }
    }

    /// Records a read of field `name` of taxonomy `t`'s value.
    fn record_tax_field(&self, t: usize, name: &str) {
        if !reads::on() {
            return;
        }
        if let Some(f) = self.tax_fields[t].iter().position(|(n, _)| n == name) {
            record(|| Read::TaxField(t as u16, f as u16));
        }
    }
}

/// `1 case study`, `2 case studies`.
fn case_count(n: usize) -> String {
    format!("{n} case {}", if n == 1 { "study" } else { "studies" })
}

/// Something made of each term and its page's URL, by taxonomy.
fn each_term<T>(site: &Site, make: impl Fn(&crate::index::Term, &str) -> T) -> Vec<Vec<T>> {
    site.taxonomies
        .iter()
        .map(|tax| {
            tax.terms
                .iter()
                .map(|term| make(term, &site.config.url(&tax.term_path(term))))
                .collect()
        })
        .collect()
}

/// A template error, turned into a diagnostic that names the template file.
fn template_diagnostic(theme: &Theme, template: &str, e: &tera::Error) -> Diagnostic {
    use std::error::Error as _;
    // What the error wraps (a filter's own error), on one line.
    let mut causes = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        causes.push_str(": ");
        causes.push_str(&s.to_string());
        source = s.source();
    }
    match e.kind() {
        // Tera knows the template, line and column: say them as every other
        // diagnostic does, quoting the line.
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
            let name = if r.filename().is_empty() {
                template
            } else {
                r.filename()
            };
            let what = if matches!(e.kind(), tera::ErrorKind::SyntaxError(_)) {
                "the template does not compile"
            } else {
                "the template failed while rendering"
            };
            let mut d = Diagnostic::error(
                theme.origin(name),
                format!("{what}: {}{causes}", r.message()),
            );
            let span = r.span();
            if let Some(t) = theme.templates.get(name)
                && span.start_line > 0
            {
                d = d.at(&t.source, span.start_line, span.start_col + 1);
                if span.end_line == span.start_line && span.end_col > span.start_col {
                    d = d.with_width(span.end_col - span.start_col);
                }
            }
            d
        }
        _ => {
            // Checks across templates (unknown filters, components,
            // blocks) come as one text of rustc-like reports.
            let mut found = reports(theme, &e.to_string());
            if !found.is_empty() {
                let first = found.remove(0);
                return match found.len() {
                    0 => first,
                    n => first.with_hint(format!(
                        "and {n} more such problems in the templates: fix this one and check again"
                    )),
                };
            }
            let file = if template.is_empty() {
                "templates".to_string()
            } else {
                theme.origin(template)
            };
            let message = format!("template `{template}` failed: {e}{causes}").replace('\n', " ");
            Diagnostic::error(file, message)
        }
    }
}

/// The reports in a text Tera made of several (`error: MESSAGE`, then
/// ` --> NAME:LINE:COLUMN` and the quoted line with its carets), as
/// diagnostics on the theme's files.
fn reports(theme: &Theme, text: &str) -> Vec<Diagnostic> {
    text.split("\n\n")
        .filter_map(|report| {
            let mut lines = report.lines();
            let message = lines.next()?.trim().strip_prefix("error: ")?;
            let place = lines.next()?.trim().strip_prefix("--> ")?;
            let mut parts = place.rsplitn(3, ':');
            let column: usize = parts.next()?.parse().ok()?;
            let line: usize = parts.next()?.parse().ok()?;
            let name = parts.next()?;
            let width = report
                .lines()
                .last()
                .map_or(0, |l| l.chars().filter(|&c| c == '^').count());
            let mut d = Diagnostic::error(
                theme.origin(name),
                format!("the template does not compile: {message}"),
            );
            d = match theme.templates.get(name) {
                Some(t) => d.at(&t.source, line, column),
                None => d.at_line(line, column),
            };
            Some(d.with_width(width))
        })
        .collect()
}

impl<'s> Renderer<'s> {
    /// Compiles the theme's templates and prepares shared data.
    pub fn new(site: &'s Site, theme: &'s Theme) -> Result<Renderer<'s>, Diagnostic> {
        let templates = Arc::new(Templates::compile(theme, &site.config)?);
        let values = Arc::new(SiteValues::new(site, theme));
        Ok(Renderer::from_parts(site, theme, templates, values))
    }

    /// A renderer from templates and site values made earlier (the preview
    /// server keeps them while the theme, or the site's shape, is the same).
    pub fn from_parts(
        site: &'s Site,
        theme: &'s Theme,
        templates: Arc<Templates>,
        values: Arc<SiteValues>,
    ) -> Renderer<'s> {
        Renderer {
            site,
            tera: templates,
            theme,
            cards: site
                .pages
                .iter()
                .map(|_| [OnceLock::new(), OnceLock::new()])
                .collect(),
            shared: None,
            log: None,
            rows: None,
            term_totals: site
                .taxonomies
                .iter()
                .map(|t| {
                    t.terms
                        .iter()
                        .map(|tm| {
                            let pages = page_count(tm.pages.len(), site.config.paginate_by);
                            Mutex::new((pages, None))
                        })
                        .collect()
                })
                .collect(),
            entries: {
                let mut feeds = vec![0usize; site.pages.len()];
                for i in publish::site_feed_items(site) {
                    feeds[i] += 1;
                }
                for t in site.taxonomies.iter().filter(|t| t.config.feed) {
                    for term in &t.terms {
                        for i in publish::feed_items(site, &term.pages) {
                            feeds[i] += 1;
                        }
                    }
                }
                feeds.into_iter().map(|n| Mutex::new((n, None))).collect()
            },
            values,
        }
    }

    /// Page `i`'s feed entry (see `entries`).
    fn entry_value(&self, i: usize) -> Result<Value, Diagnostic> {
        let make = || {
            let e = publish::entry(self.site, i, &self.values.term_categories);
            if !self.tera.contains_component("atom_entry") {
                return Ok(e);
            }
            let mut cx = Context::new();
            cx.insert_value("e", e.clone());
            let xml = self
                .tera
                .render_component("atom_entry", &cx, None, true)
                .map_err(|err| template_diagnostic(self.theme, "atom.xml", &err))?;
            let mut map = e.into_map().expect("an entry is a map");
            map.insert("xml".into(), Value::safe_string(&xml));
            Ok(Value::from(map))
        };
        let mut memo = self.entries[i].lock().unwrap_or_else(|e| e.into_inner());
        let (left, kept) = &mut *memo;
        *left = left.saturating_sub(1);
        if let Some(v) = kept {
            let v = v.clone();
            if *left == 0 {
                *kept = None;
            }
            return Ok(v);
        }
        let v = make()?;
        if *left > 0 {
            *kept = Some(v.clone());
        }
        Ok(v)
    }

    fn site_value<'a>(site: &'a Site, theme: &Theme) -> SiteV<'a> {
        let c = &site.config;
        let mut nav = vec![NavV {
            title: "Case studies".into(),
            url: c.url("case-studies/"),
        }];
        if !site.reports.is_empty() {
            nav.push(NavV {
                title: "Reports".into(),
                url: c.url("reports/"),
            });
        }
        nav.push(NavV {
            title: "Explore".into(),
            url: c.url("explore/"),
        });
        nav.push(NavV {
            title: "Outcomes".into(),
            url: c.url("outcomes/"),
        });
        for t in &site.taxonomies {
            nav.push(NavV {
                title: t.config.title.clone(),
                url: c.url(&t.path()),
            });
        }
        let pages = site
            .plain
            .iter()
            .map(|&i| NavV {
                title: site.pages[i].title.clone(),
                url: c.url(&site.pages[i].path),
            })
            .collect();
        let taxonomies = site
            .taxonomies
            .iter()
            .map(|t| {
                let mut terms: Vec<TermV> = t
                    .terms
                    .iter()
                    .map(|term| TermV {
                        name: &term.name,
                        slug: &term.slug,
                        url: c.url(&t.term_path(term)),
                        count: term.pages.len(),
                        feed_url: None,
                    })
                    .collect();
                terms.sort_by(|a, b| {
                    a.name
                        .to_lowercase()
                        .cmp(&b.name.to_lowercase())
                        .then(a.slug.cmp(b.slug))
                });
                TaxonomyV {
                    name: &t.config.name,
                    title: &t.config.title,
                    singular: &t.config.singular,
                    url: c.url(&t.path()),
                    count: t.terms.len(),
                    terms,
                }
            })
            .collect();
        SiteV {
            title: &c.title,
            description: &c.description,
            language: &c.language,
            author: c.author.as_deref(),
            base_url: &c.base_url,
            base_path: &c.base_path,
            home_url: &c.base_path,
            css_url: theme.asset_url(c, "style.css"),
            favicon_url: theme.asset_url(c, "favicon.svg"),
            feed_url: c.url("atom.xml"),
            case_study_count: site.case_studies.len(),
            report_count: site.reports.len(),
            nav,
            taxonomies,
            pages,
            generator: publish::GENERATOR,
        }
    }

    /// The hash of what every output reads: the configuration, the
    /// templates and the theme's asset URLs.
    pub fn global_fingerprint(&self) -> u64 {
        self.values.theme_hash
    }

    /// Reuses cards from earlier rebuilds: a card's key covers everything
    /// it shows (its page's card fingerprint, its terms' names, its
    /// report's size, the templates).
    pub fn with_card_cache(mut self, cache: &'s CardCache, page_hashes: &'s [PageHashes]) -> Self {
        let keys = (0..self.site.pages.len())
            .map(|i| {
                let mut h = DefaultHasher::new();
                (
                    self.values.theme_hash,
                    page_hashes[i].card,
                    self.values.page_term_hashes[i],
                    self.site.members[i].len(),
                )
                    .hash(&mut h);
                h.finish()
            })
            .collect();
        self.shared = Some((cache, keys, page_hashes));
        self
    }

    /// Keeps, for each job rendered from now on, what it read (see
    /// [`Renderer::take_reads`]).
    pub fn recording(mut self) -> Self {
        self.log = Some(Mutex::new(HashMap::new()));
        self
    }

    /// What each job rendered since [`Renderer::recording`] read.
    pub fn take_reads(&self) -> HashMap<Job, Vec<Read>> {
        self.log
            .as_ref()
            .map(|l| std::mem::take(&mut *l.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }

    /// What reads see in this state of the site.
    pub fn read_values<'a>(&'a self, page_hashes: &'a [PageHashes]) -> reads::ReadValues<'a> {
        reads::ReadValues::new(self.site, page_hashes, &self.values)
    }

    /// Reuses rows of the data files (`data::RowCache`) from earlier
    /// rebuilds: a row's key covers everything the row shows (its page's
    /// front matter and keywords, the indices and names of its terms, its
    /// report, and everything global, such as the site's URL).
    pub fn with_row_cache(mut self, cache: &'s data::RowCache, page_hashes: &[PageHashes]) -> Self {
        self.rows = Some(RowKeys {
            cache,
            hashes: page_hashes.iter().map(|h| (h.data, h.keywords)).collect(),
            keys: OnceLock::new(),
        });
        self
    }

    fn rows(&self) -> data::Rows<'_> {
        let Some(r) = &self.rows else {
            return data::Rows::default();
        };
        // Worked out only when a data file is rendered: most edits leave
        // all four alone.
        let keys = r.keys.get_or_init(|| {
            let site = self.site;
            r.hashes
                .iter()
                .enumerate()
                .map(|(i, hashes)| {
                    let mut h = DefaultHasher::new();
                    (
                        self.values.theme_hash,
                        hashes,
                        self.values.page_term_hashes[i],
                        &site.page_terms[i],
                        site.report_of[i].map(|r| &site.pages[r].slug),
                    )
                        .hash(&mut h);
                    h.finish()
                })
                .collect()
        });
        data::Rows::cached(r.cache, keys)
    }

    /// The card of page `i` for a list whose cards are headed by `level`
    /// (h2 on listing pages, h3 where the list sits under a section heading),
    /// made on first use.
    fn card_value(&self, i: usize, level: Level) -> Result<Value, Diagnostic> {
        if reads::on() {
            let p = pid(&self.site.pages[i].rel);
            record(|| Read::Card(p));
            record(|| Read::TermNames(p));
            record(|| Read::Members(p));
        }
        if let Some((cache, keys, _)) = &self.shared {
            let key = keys[i] ^ level as u64;
            if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
                return Ok(v.clone());
            }
            let v = self.make_card(i, level)?;
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, v.clone());
            return Ok(v);
        }
        self.cards[i][level as usize]
            .get_or_init(|| self.make_card(i, level))
            .clone()
    }

    fn cards_of(&self, items: &[usize], level: Level) -> Result<Vec<Value>, Diagnostic> {
        items.iter().map(|&i| self.card_value(i, level)).collect()
    }

    /// A card's data, with its HTML as the theme's `card` component renders
    /// it, under `html`.
    fn make_card(&self, i: usize, level: Level) -> Result<Value, Diagnostic> {
        // Made into a template value once: the component sees it, and then
        // it takes its HTML as one more key.
        let cv = self.card(i);
        let card = Value::from_serializable(&cv);
        let mut cx = Context::new();
        cx.insert_value("c", card.clone());
        cx.insert("heading", level.tag());
        let html = self
            .tera
            .render_component("card", &cx, None, true)
            .map_err(|e| template_diagnostic(self.theme, "components.html", &e))?;
        // The context's copy goes first, so the map is not copied again.
        drop(cx);
        let mut map = card.into_map().expect("a card is a map");
        map.insert("html".into(), Value::safe_string(&html));
        Ok(Value::from(map))
    }

    /// Page `i`'s terms by taxonomy name (every declared taxonomy has a
    /// key), from the links shared by every card and page.
    fn terms_value(&self, i: usize) -> Value {
        let v = &self.values;
        let mut map = tera::Map::default();
        for (t, key) in v.tax_keys.iter().enumerate() {
            let links: Vec<Value> = self.site.page_terms[i][t]
                .iter()
                .map(|&ti| v.term_links[t][ti].clone())
                .collect();
            map.insert(key.clone(), Value::from(links));
        }
        Value::from(map)
    }

    fn card(&self, i: usize) -> CardV<'s> {
        let p: &'s Page = &self.site.pages[i];
        CardV {
            kind: p.kind.name(),
            draft: p.draft,
            title: &p.title,
            url: self.site.config.url(&p.path),
            date: date_v(p.date),
            summary: &p.summary,
            first_outcome: p.outcomes.first().map(outcome_v),
            case_study_count: self.site.members[i].len(),
            terms: self.terms_value(i),
        }
    }

    fn page_value(&self, i: usize) -> Value {
        let site = self.site;
        let p: &'s Page = &site.pages[i];
        let c = &site.config;
        if reads::on() {
            let id = pid(&p.rel);
            record(|| Read::Source(id));
            record(|| Read::TermNames(id));
            record(|| Read::ReportOf(id));
        }
        if let Some(r) = site.report_of[i] {
            record(|| Read::Card(pid(&site.pages[r].rel)));
        }
        let taxonomies = site
            .taxonomies
            .iter()
            .enumerate()
            .filter(|(t, _)| !site.page_terms[i][*t].is_empty())
            .map(|(t, tax)| TaxonomyTermsV {
                name: &tax.config.name,
                title: &tax.config.title,
                singular: &tax.config.singular,
                url: c.url(&tax.path()),
                terms: site.page_terms[i][t]
                    .iter()
                    .map(|&ti| self.values.term_links[t][ti].clone())
                    .collect(),
            })
            .collect();
        let v = PageV {
            kind: p.kind.name(),
            title: &p.title,
            url: c.url(&p.path),
            permalink: c.permalink(&p.path),
            path: &p.path,
            slug: &p.slug,
            source: &p.file,
            date: date_v(p.date),
            updated: date_v(p.updated),
            summary: &p.summary,
            toc: &p.body.toc,
            word_count: p.body.word_count,
            reading_minutes: p.body.word_count.div_ceil(220).max(1),
            authors: &p.authors,
            taxonomies,
            outcomes: p.outcomes.iter().map(outcome_v).collect(),
            related: self.related_of(i),
            report: site.report_of[i].map(|r| LinkV {
                name: &site.pages[r].title,
                url: c.url(&site.pages[r].path),
            }),
            image: p.image.as_deref().map(|img| {
                if img.starts_with('/') && !img.starts_with("//") {
                    c.url(img)
                } else {
                    img.to_string()
                }
            }),
            image_alt: p.image_alt.as_deref(),
            extra: &p.extra,
            draft: p.draft,
            terms: self.terms_value(i),
            content: Value::safe_string(&p.body.html),
        };
        Value::from_serializable(&v)
    }

    fn paginator(
        &self,
        list: List,
        items: &[usize],
        n: usize,
        base: &str,
    ) -> Result<(PaginatorV, Vec<Value>), Diagnostic> {
        let per = self.site.config.paginate_by;
        record(|| Read::Slice(list, ((n - 1) * per) as u32, per as u32));
        let (p, shown) = self.pager(items, n, base);
        Ok((p, self.cards_of(shown, Level::H2)?))
    }

    /// Page `n` of a list of `items` at `base`: the pager, and the items
    /// it shows.
    fn pager<'i>(&self, items: &'i [usize], n: usize, base: &str) -> (PaginatorV, &'i [usize]) {
        let per = self.site.config.paginate_by;
        let total_pages = page_count(items.len(), per);
        let start = ((n - 1) * per).min(items.len());
        let end = (start + per).min(items.len());
        let url = |k: usize| self.site.config.url(&paged(base, k));
        let p = PaginatorV {
            current: n,
            total_pages,
            total_items: items.len(),
            first_item: if items.is_empty() { 0 } else { start + 1 },
            last_item: end,
            prev: (n > 1).then(|| url(n - 1)),
            next: (n < total_pages).then(|| url(n + 1)),
            pages: (1..=total_pages)
                .map(|k| PagerLinkV {
                    number: k,
                    url: url(k),
                    current: k == n,
                })
                .collect(),
        };
        (p, &items[start..end])
    }

    /// What a term page's `<head>` says.
    fn term_meta(&self, tax: usize, term: usize, page: usize) -> publish::MetaV {
        let site = self.site;
        let c = &site.config;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        let base = t.term_path(tm);
        let mut title = format!("{} · {}", tm.name, t.config.title);
        if page > 1 {
            title = format!("{title} (page {page})");
        }
        let description = format!("{} on {}.", case_count(tm.pages.len()), tm.name);
        let mut meta = publish::MetaV::new(site, &title, &description, Some(&paged(&base, page)));
        if t.config.feed {
            meta.feeds.push(publish::FeedLinkV {
                title: format!("{}: {}", c.title, tm.name),
                url: c.url(&format!("{base}atom.xml")),
            });
        }
        meta
    }

    fn section(&self, name: &'static str, default_title: &str) -> Value {
        record(|| Read::Section(name));
        #[derive(Serialize)]
        struct SectionV<'a> {
            title: &'a str,
            summary: &'a str,
            content: Value,
        }
        match self.site.sections.get(name).map(|&i| &self.site.pages[i]) {
            Some(p) => {
                let title = if p.title.is_empty() {
                    default_title
                } else {
                    &p.title
                };
                Value::from_serializable(&SectionV {
                    title,
                    summary: &p.summary,
                    content: Value::safe_string(&p.body.html),
                })
            }
            None => Value::from_serializable(&SectionV {
                title: default_title,
                summary: "",
                content: Value::safe_string(""),
            }),
        }
    }

    /// The template and context for a job.
    fn prepare(&self, job: &Job) -> Result<(&'static str, Context), Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let mut cx = Context::new();
        let out_path = job.output_path(site);
        let current = match out_path.strip_suffix("index.html") {
            Some(dir) => c.url(dir),
            None => c.url(&out_path),
        };
        cx.insert("current_url", &current);
        cx.insert_value("site", self.values.site.clone());
        let here = out_path.strip_suffix("index.html").map(str::to_string);
        let mut json_ld = None;
        let paged_title = |t: &str, n: usize| {
            if n > 1 {
                format!("{t} (page {n})")
            } else {
                t.to_string()
            }
        };
        let (template, meta) = match *job {
            Job::Home => {
                let intro = self.section_home();
                cx.insert_value("home", intro);
                record(|| Read::Slice(List::CaseStudies, 0, 6));
                record(|| Read::Slice(List::Reports, 0, u32::MAX));
                let latest = self.cards_of(
                    &site.case_studies[..site.case_studies.len().min(6)],
                    Level::H3,
                )?;
                cx.insert_value("latest", Value::from(latest));
                let reports = self.cards_of(&site.reports, Level::H3)?;
                cx.insert_value("reports", Value::from(reports));
                json_ld = Some(publish::script_json(&serde_json::json!({
                    "@context": "https://schema.org",
                    "@type": "WebSite",
                    "name": c.title,
                    "description": c.description,
                    "url": c.permalink(""),
                    "inLanguage": c.language,
                })));
                (
                    "index.html",
                    publish::MetaV::new(site, &c.title, &c.description, here.as_deref()),
                )
            }
            Job::Page(i) => {
                cx.insert_value("page", self.page_value(i));
                let (meta, ld) = publish::MetaV::for_page(site, i);
                json_ld = ld;
                let template = match site.pages[i].kind {
                    Kind::CaseStudy => "case-study.html",
                    Kind::Report => {
                        record(|| Read::Members(pid(&site.pages[i].rel)));
                        let members = self.cards_of(&site.members[i], Level::H3)?;
                        cx.insert_value("case_studies", Value::from(members));
                        "report.html"
                    }
                    _ => "page.html",
                };
                (template, meta)
            }
            Job::CaseStudyList(n) => {
                let (p, items) =
                    self.paginator(List::CaseStudies, &site.case_studies, n, "case-studies/")?;
                cx.insert("paginator", &p);
                cx.insert_value("items", Value::from(items));
                let (title, summary) = self.section_text("case-studies", "Case studies");
                cx.insert_value("section", self.section("case-studies", "Case studies"));
                let description = if summary.is_empty() {
                    format!("{} from {}.", case_count(site.case_studies.len()), c.title)
                } else {
                    summary
                };
                (
                    "list.html",
                    publish::MetaV::new(
                        site,
                        &paged_title(&title, n),
                        &description,
                        here.as_deref(),
                    ),
                )
            }
            Job::ReportList => {
                record(|| Read::Slice(List::Reports, 0, u32::MAX));
                let items = self.cards_of(&site.reports, Level::H2)?;
                cx.insert_value("items", Value::from(items));
                let (title, summary) = self.section_text("reports", "Reports");
                cx.insert_value("section", self.section("reports", "Reports"));
                (
                    "reports.html",
                    publish::MetaV::new(site, &title, &summary, here.as_deref()),
                )
            }
            Job::TaxonomyIndex(t) => {
                cx.insert_value("taxonomy", self.values.taxonomies[t].clone());
                let tax = &site.taxonomies[t];
                self.values.record_tax_field(t, "count");
                let description = format!(
                    "Case studies by {}: {} in all.",
                    tax.config.singular.to_lowercase(),
                    tax.terms.len()
                );
                (
                    "taxonomy.html",
                    publish::MetaV::new(site, &tax.config.title, &description, here.as_deref()),
                )
            }
            Job::Term { tax, term, page } => {
                let t = &site.taxonomies[tax];
                let tm = &t.terms[term];
                let base = t.term_path(tm);
                let id = tid(&t.config.name, &tm.slug);
                record(|| Read::TermName(id));
                let (p, items) = self.paginator(List::Term(id), &tm.pages, page, &base)?;
                cx.insert("paginator", &p);
                cx.insert_value("items", Value::from(items));
                cx.insert(
                    "term",
                    &TermV {
                        name: &tm.name,
                        slug: &tm.slug,
                        url: c.url(&base),
                        count: tm.pages.len(),
                        feed_url: t.config.feed.then(|| c.url(&format!("{base}atom.xml"))),
                    },
                );
                cx.insert_value("taxonomy", self.values.taxonomies[tax].clone());
                let totals = self.term_totals(tax, term);
                cx.insert_value("outcomes", totals);
                ("term.html", self.term_meta(tax, term, page))
            }
            Job::Explore => {
                record(|| Read::Slice(List::CaseStudies, 0, 0));
                #[derive(Serialize)]
                struct ExploreV {
                    index_url: String,
                    script_url: String,
                    count: usize,
                }
                cx.insert(
                    "explore",
                    &ExploreV {
                        index_url: c.url("search-index.json"),
                        script_url: self.theme.asset_url(c, "explore.js"),
                        count: site.case_studies.len(),
                    },
                );
                let description = format!(
                    "Filter and search {} by {}.",
                    case_count(site.case_studies.len()),
                    site.taxonomies
                        .iter()
                        .map(|t| t.config.singular.to_lowercase())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                (
                    "explore.html",
                    publish::MetaV::new(
                        site,
                        "Explore case studies",
                        &description,
                        here.as_deref(),
                    ),
                )
            }
            Job::Outcomes => {
                record(|| Read::AllData);
                cx.insert("outcomes", &self.totals(&site.outcomes, None));
                let description = format!(
                    "The outcomes reported in {}, added up by metric.",
                    case_count(site.case_studies.len())
                );
                (
                    "outcomes.html",
                    publish::MetaV::new(site, "Outcomes", &description, here.as_deref()),
                )
            }
            Job::SearchIndex | Job::DataJson | Job::DataCsv | Job::OutcomesCsv => {
                unreachable!("data files are written by `render` without a template")
            }
            Job::NotFound => (
                "404.html",
                publish::MetaV::new(site, "Page not found", "", None),
            ),
            Job::SiteFeed | Job::TermFeed { .. } => {
                let spec = self.feed_spec(job).expect("a feed job");
                for &i in spec.items.iter().filter(|_| reads::on()) {
                    let id = pid(&site.pages[i].rel);
                    record(|| Read::Source(id));
                    record(|| Read::TermNames(id));
                }
                let entries = spec
                    .items
                    .iter()
                    .map(|&i| self.entry_value(i))
                    .collect::<Result<Vec<_>, _>>()?;
                cx.insert_value("feed", publish::feed(site, &spec, entries));
                return Ok(("atom.xml", cx));
            }
            Job::Sitemap => {
                record(|| Read::AllPlaces);
                cx.insert("urls", &publish::sitemap(site));
                return Ok(("sitemap.xml", cx));
            }
            Job::Robots => {
                cx.insert("sitemap_url", &c.permalink("sitemap.xml"));
                return Ok(("robots.txt", cx));
            }
            Job::Alias { page, .. } => {
                let p = &site.pages[page];
                record(|| Read::Card(pid(&p.rel)));
                cx.insert(
                    "target",
                    &LinkV {
                        name: &p.title,
                        url: c.url(&p.path),
                    },
                );
                cx.insert("target_permalink", &c.permalink(&p.path));
                return Ok(("alias.html", cx));
            }
        };
        // JSON inside a script element: escaped by script_json so no value
        // can end the element, then marked safe so the HTML escaper does
        // not turn its quotes into entities.
        let meta = publish::MetaV {
            json_ld: json_ld.map(|ld| Value::safe_string(&ld)),
            ..meta
        };
        cx.insert_value("meta", Value::from_serializable(&meta));
        Ok((template, cx))
    }

    /// The explorer's URL with `filters` (query key, term slug) applied.
    fn explore_url(&self, filters: &[(&str, &str)]) -> String {
        let mut url = self.site.config.url("explore/?");
        for (n, (k, v)) in filters.iter().enumerate() {
            if n > 0 {
                url.push('&');
            }
            url.push_str(k);
            url.push('=');
            url.push_str(v);
        }
        url
    }

    /// Links to `pages`, when there are few enough to list.
    fn links_behind(&self, pages: &[usize]) -> Vec<PageLinkV<'s>> {
        if pages.len() > LINKS_BEHIND {
            return Vec::new();
        }
        pages
            .iter()
            .map(|&i| PageLinkV {
                title: &self.site.pages[i].title,
                url: self.site.config.url(&self.site.pages[i].path),
            })
            .collect()
    }

    /// A term's outcome totals, as the `outcomes` value `term.html` sees:
    /// the same on every page of a paginated term, so made once and kept
    /// until its last page takes them.
    fn term_totals(&self, tax: usize, term: usize) -> Value {
        let site = self.site;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        record(|| Read::TermOutcomes(tid(&t.config.name, &tm.slug)));
        let make = || {
            // With the preview server, totals kept from an earlier
            // rebuild, by a key covering all they show: adding up a
            // sector's thousand case studies again after each save
            // was a tenth of a summary edit's rebuild.
            let kept = self.shared.as_ref().map(|(cache, _, hashes)| {
                let mut h = DefaultHasher::new();
                ("term totals", self.values.theme_hash).hash(&mut h);
                (&t.config.name, &tm.slug).hash(&mut h);
                for &i in &tm.pages {
                    (hashes[i].outcomes, self.values.page_term_hashes[i]).hash(&mut h);
                }
                (*cache, h.finish())
            });
            if let Some((cache, key)) = kept {
                let cache = cache.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(v) = cache.get(&key) {
                    return v.clone();
                }
            }
            let metrics = crate::index::outcomes::summarise_in(
                &site.pages,
                &tm.pages,
                &[],
                &site.outcome_groups,
            );
            let filter = Some((t.config.name.as_str(), tm.slug.as_str()));
            let v = Value::from_serializable(&self.totals(&metrics, filter));
            if let Some((cache, key)) = kept {
                cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, v.clone());
            }
            v
        };
        let mut memo = self.term_totals[tax][term]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (left, kept) = &mut *memo;
        *left = left.saturating_sub(1);
        if *left == 0 {
            kept.take().unwrap_or_else(make)
        } else {
            kept.get_or_insert_with(make).clone()
        }
    }

    /// A metric's figure and label for people, and the explorer filtered
    /// to the case studies behind it (and `filter`, a term page's own term).
    fn total_figure(
        &self,
        m: &Metric,
        slug: &str,
        filter: Option<(&str, &str)>,
    ) -> (String, String, String) {
        let (value_display, label) = total_display(&m.name, m.unit.as_deref(), m.figure.value);
        let mut filters: Vec<(&str, &str)> = vec![("outcome", slug)];
        filters.extend(filter);
        (value_display, label, self.explore_url(&filters))
    }

    /// Metrics as templates see them; `filter` narrows the explorer links
    /// (a term page's own term).
    fn totals<'m>(
        &self,
        metrics: &'m [Metric],
        filter: Option<(&'m str, &'m str)>,
    ) -> Vec<TotalV<'m>>
    where
        's: 'm,
    {
        let site = self.site;
        metrics
            .iter()
            .map(|m| {
                let slug = data::metric_slug(m);
                let (value_display, label, explore_url) = self.total_figure(m, &slug, filter);
                let breakdowns = m
                    .breakdowns
                    .iter()
                    .map(|(t, rows)| {
                        let tax = &site.taxonomies[*t];
                        let max = rows.iter().map(|r| r.1.value.abs()).fold(0.0, f64::max);
                        BreakdownV {
                            name: &tax.config.name,
                            title: &tax.config.title,
                            singular: &tax.config.singular,
                            rows: rows
                                .iter()
                                .map(|(term, fig)| {
                                    let tm = &tax.terms[*term];
                                    let bar = if max > 0.0 {
                                        (fig.value.abs() / max * 1000.0).round() / 10.0
                                    } else {
                                        0.0
                                    };
                                    BarV {
                                        name: &tm.name,
                                        url: site.config.url(&tax.term_path(tm)),
                                        value_display: total_display(
                                            &m.name,
                                            m.unit.as_deref(),
                                            fig.value,
                                        )
                                        .0,
                                        value: fig.value,
                                        count: fig.pages.len(),
                                        bar,
                                        explore_url: self.explore_url(&[
                                            ("outcome", slug.as_str()),
                                            (tax.config.name.as_str(), tm.slug.as_str()),
                                        ]),
                                        pages: self.links_behind(&fig.pages),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect();
                TotalV {
                    explore_url,
                    id: slug.clone(),
                    metric: &m.name,
                    unit: m.unit.as_deref(),
                    label,
                    value_display,
                    value: m.figure.value,
                    average: m.combine == Combine::Mean,
                    count: m.figure.pages.len(),
                    pages: self.links_behind(&m.figure.pages),
                    breakdowns,
                }
            })
            .collect()
    }

    fn related_of(&self, i: usize) -> Vec<RelatedV<'s>> {
        let site = self.site;
        record(|| Read::Related(pid(&site.pages[i].rel)));
        site.related[i]
            .iter()
            .map(|r| {
                let p: &'s Page = &site.pages[r.page];
                record(|| Read::Card(pid(&p.rel)));
                for &(t, term) in &r.shared {
                    let tax = &site.taxonomies[t];
                    record(|| Read::TermName(tid(&tax.config.name, &tax.terms[term].slug)));
                }
                let shared: Vec<&'s str> = r
                    .shared
                    .iter()
                    .map(|&(t, term)| site.taxonomies[t].terms[term].name.as_str())
                    .collect();
                RelatedV {
                    title: &p.title,
                    url: site.config.url(&p.path),
                    date: date_v(p.date),
                    summary: &p.summary,
                    reason: shared.join(" · "),
                    shared,
                }
            })
            .collect()
    }

    /// The title and summary of a listing, from its `_index.md` if any.
    fn section_text(&self, name: &'static str, default_title: &str) -> (String, String) {
        record(|| Read::Section(name));
        match self.site.sections.get(name).map(|&i| &self.site.pages[i]) {
            Some(p) if !p.title.is_empty() => (p.title.clone(), p.summary.clone()),
            Some(p) => (default_title.to_string(), p.summary.clone()),
            None => (default_title.to_string(), String::new()),
        }
    }

    fn section_home(&self) -> Value {
        #[derive(Serialize)]
        struct HomeV<'a> {
            title: &'a str,
            content: Value,
        }
        record(|| Read::Section(""));
        let (title, html) = match self.site.home.map(|i| &self.site.pages[i]) {
            Some(p) => (
                if p.title.is_empty() {
                    self.site.config.title.as_str()
                } else {
                    p.title.as_str()
                },
                p.body.html.as_str(),
            ),
            None => (self.site.config.title.as_str(), ""),
        };
        Value::from_serializable(&HomeV {
            title,
            content: Value::safe_string(html),
        })
    }

    /// What a feed job shows: its title, subtitle, entries, and where it
    /// and the page it is about are published.
    fn feed_spec(&self, job: &Job) -> Option<publish::FeedSpec> {
        let site = self.site;
        let c = &site.config;
        match *job {
            Job::SiteFeed => Some({
                record(|| Read::SiteFeedItems);
                publish::FeedSpec {
                    title: c.title.clone(),
                    subtitle: c.description.clone(),
                    items: publish::site_feed_items(site),
                    self_path: "atom.xml".to_string(),
                    home_path: String::new(),
                }
            }),
            Job::TermFeed { tax, term } => {
                let t = &site.taxonomies[tax];
                let tm = &t.terms[term];
                let base = t.term_path(tm);
                let id = tid(&t.config.name, &tm.slug);
                record(|| Read::TermName(id));
                record(|| Read::Slice(List::Term(id), 0, c.feed_limit as u32));
                Some(publish::FeedSpec {
                    title: format!("{}: {} ({})", c.title, tm.name, t.config.singular),
                    subtitle: format!("Case studies on {} from {}.", tm.name, c.title),
                    items: publish::feed_items(site, &tm.pages),
                    self_path: format!("{base}atom.xml"),
                    home_path: base,
                })
            }
            _ => None,
        }
    }

    /// Renders one job into `out`. The open-data files and the search
    /// index are written as they are made (tens of MB at 100,000 case
    /// studies); pages go through their template.
    pub fn render(
        &self,
        job: &Job,
        theme: &Theme,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        let Some(log) = &self.log else {
            return self.render_job(job, theme, out);
        };
        let (done, reads) = reads::recording(|| self.render_job(job, theme, out));
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*job, reads);
        done
    }

    fn render_job(
        &self,
        job: &Job,
        theme: &Theme,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        record(|| Read::Theme);
        if matches!(job, Job::SearchIndex) {
            record(|| Read::AllKeywords);
        }
        let data = match job {
            Job::SearchIndex => Some(data::search_index(self.site, self.rows(), out)),
            Job::DataJson => Some(data::case_studies_json(self.site, self.rows(), out)),
            Job::DataCsv => Some(data::case_studies_csv(self.site, self.rows(), out)),
            Job::OutcomesCsv => Some(data::outcomes_csv(self.site, self.rows(), out)),
            _ => None,
        };
        if let Some(result) = data {
            record(|| Read::AllData);
            return result.map_err(RenderError::Io);
        }
        let (template, cx) = self.prepare(job).map_err(RenderError::Template)?;
        let tax = match *job {
            Job::TaxonomyIndex(t) | Job::Term { tax: t, .. } => Some(t),
            _ => None,
        };
        self.values.record_template(template, tax);
        self.tera
            .render_to(template, &cx, out)
            .map_err(|e| RenderError::Template(template_diagnostic(theme, template, &e)))
    }
}

/// Why a job could not be rendered.
#[derive(Debug)]
pub enum RenderError {
    /// A problem in the theme's templates or what they were given.
    Template(Diagnostic),
    /// Writing the output failed.
    Io(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(1, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(paged("sector/health/", 1), "sector/health/");
        assert_eq!(paged("sector/health/", 2), "sector/health/page/2/");
    }
}
