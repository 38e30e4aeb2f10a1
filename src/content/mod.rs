//! The `load` and `parse` stages: find every Markdown file under `content/`,
//! read it, split and type its front matter, and render its body to HTML.
//!
//! Output is a list of [`Page`]s, each knowing its kind, its URL path and its
//! parsed fields, plus every problem found on the way. Nothing here knows
//! about other pages except through the map of source paths to URLs, which
//! `@/` links need.

pub mod consent;
pub mod date;
pub mod files;
pub mod front_matter;
pub mod markdown;
pub mod simple_yaml;
pub use crate::text::slug;
pub use crate::text::{describe_control, is_forbidden_control};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use date::Date;
use front_matter::{FrontMatter, Located, Outcome};
use markdown::{LinkRef, MarkdownContext, Rendered};

/// The largest source file casebook reads. A case study is a few kilobytes;
/// anything this large is almost certainly a mistake (a video saved as .md),
/// and refusing it keeps memory bounded.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// What a file is, from where it sits under `content/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `content/_index.md`: the home page's text.
    Home,
    /// `content/case-studies/_index.md` or `content/reports/_index.md`: the
    /// intro text of a listing.
    Section,
    CaseStudy,
    Report,
    /// Any other Markdown file: about, methodology, ...
    Page,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Home => "home",
            Kind::Section => "section",
            Kind::CaseStudy => "case-study",
            Kind::Report => "report",
            Kind::Page => "page",
        }
    }
}

/// One taxonomy value of a page.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermValue {
    /// As it is shown: the vocabulary's spelling, or as written with its
    /// white space tidied.
    pub shown: String,
    /// What terms are grouped by: `mental-health`. Never empty (validation
    /// reports values without letters or digits, and they are left out).
    pub slug: String,
}

/// A file read from disk, not yet parsed.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path relative to `content/`, with forward slashes: `case-studies/x.md`.
    pub rel: String,
    pub text: String,
}

impl Source {
    /// The path shown in messages: `content/case-studies/x.md`.
    pub fn display(&self) -> String {
        format!("content/{}", self.rel)
    }
}

/// One parsed page.
#[derive(Debug, Clone)]
pub struct Page {
    pub kind: Kind,
    /// `content/case-studies/x.md`, for messages.
    pub file: String,
    /// `case-studies/x.md`, relative to `content/`; what `@/` links name.
    pub rel: String,
    pub slug: String,
    /// The site path without the base path: `case-studies/x/`, `` for home.
    pub path: String,
    pub title: String,
    pub date: Option<Date>,
    pub updated: Option<Date>,
    pub draft: bool,
    pub summary: String,
    pub report: Option<String>,
    pub authors: Vec<String>,
    /// Each taxonomy's values, in the order of `Config::taxonomies`: as
    /// shown and as slugs (worked out here, once per page, so indexing the
    /// whole site is only grouping).
    pub terms: Vec<Vec<TermValue>>,
    pub outcomes: Vec<Outcome>,
    pub aliases: Vec<String>,
    pub image: Option<String>,
    pub image_alt: Option<String>,
    /// The lead photo, when it is one of the site's photos and may be shown.
    pub photo: Option<Box<crate::images::PhotoV>>,
    /// Every photo the page shows (lead and text), to be processed.
    pub photos: Vec<Arc<crate::images::Photo>>,
    /// Site paths of photos this page's consent records leave out.
    pub photos_left_out: Vec<String>,
    /// Front-matter fields beyond the built-in ones, as written.
    pub extra: std::collections::BTreeMap<String, serde_yaml::Value>,
    pub body: Rendered,
    pub front_matter: FrontMatter,
    /// The file's text up to the end of its front matter, to quote lines of
    /// it in later diagnostics.
    pub head: String,
}

impl Page {
    pub fn links(&self) -> &[LinkRef] {
        &self.body.links
    }
}

/// A file beside a page in a page bundle (`case-studies/x/index.md` with
/// `photo.jpg` next to it): published beside the page, photos processed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Asset {
    /// Path relative to `content/`, with forward slashes.
    pub rel: String,
    pub path: PathBuf,
}

/// The folder of a page bundle a file under `content/` belongs to, if its
/// folder holds an `index.md`: `case-studies/x/photo.jpg` -> `case-studies/x`.
fn bundle_dir<'a>(rel: &'a str, bundles: &std::collections::HashSet<&str>) -> Option<&'a str> {
    let (dir, _) = rel.rsplit_once('/')?;
    bundles.contains(dir).then_some(dir)
}

/// Walks the site's `content/` and reads every file, in sorted order.
/// Files that cannot be read (not UTF-8, too large, unreadable, a link out
/// of the site) become diagnostics. Files beside a bundle's `index.md` are
/// its assets.
pub fn load(site_root: &Path) -> (Vec<Source>, Vec<Asset>, Vec<Diagnostic>) {
    let content_dir = site_root.join("content");
    let mut diags = Vec::new();
    if !content_dir.is_dir() {
        diags.push(
            Diagnostic::error("content", "there is no content/ folder")
                .with_hint("create content/case-studies/ and put a Markdown file in it, or run `casebook new case-study \"Title\"`"),
        );
        return (Vec::new(), Vec::new(), diags);
    }
    let (found, walk_diags) = files::walk(&content_dir, &files::real_root(site_root), "content");
    diags.extend(walk_diags);
    let bundles: std::collections::HashSet<&str> = found
        .iter()
        .filter_map(|f| f.rel.strip_suffix("/index.md"))
        .collect();
    let mut paths: Vec<(String, PathBuf)> = Vec::new();
    let mut assets = Vec::new();
    for f in &found {
        if !f.rel.ends_with(".md") {
            if bundle_dir(&f.rel, &bundles).is_some() {
                assets.push(Asset {
                    rel: f.rel.clone(),
                    path: f.path.clone(),
                });
                continue;
            }
            diags.push(not_markdown(&f.rel));
            continue;
        }
        paths.push((f.rel.clone(), f.path.clone()));
    }
    let results: Vec<Result<Source, Diagnostic>> = paths
        .into_par_iter()
        .map(|(rel, path)| read_source(rel, &path))
        .collect();
    let mut sources = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(s) => sources.push(s),
            Err(d) => diags.push(d),
        }
    }
    (sources, assets, diags)
}

/// The warning for a file under `content/` that is neither Markdown nor
/// beside a bundle's `index.md`.
pub fn not_markdown(rel: &str) -> Diagnostic {
    Diagnostic::warning(
        format!("content/{rel}"),
        "this file is not Markdown (.md) and is not published",
    )
    .with_hint(
        "put images and downloads in static/ and link to them as /images/name.png, or make the page a bundle (a folder with index.md) and put them beside it",
    )
}

/// Reads one source file, refusing files that are too large or not UTF-8.
pub fn read_source(rel: String, path: &Path) -> Result<Source, Diagnostic> {
    let shown = format!("content/{rel}");
    let too_big = |n: u64| {
        Diagnostic::error(
            shown.clone(),
            format!(
                "this file is {} MB; casebook reads Markdown files up to {} MB",
                n / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .with_hint("split it into several pages, or move large data to static/")
    };
    let cannot = |e: std::io::Error| Diagnostic::error(shown.clone(), format!("cannot read: {e}"));
    // Opened once and read as long as it said it was, in one read: the
    // size by name and the probe for more that `fs::read` adds were two of
    // the five calls to the system per file.
    let file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    if len > MAX_FILE_BYTES {
        return Err(too_big(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    std::io::Read::read_to_end(&mut std::io::Read::take(file, len), &mut bytes).map_err(cannot)?;
    source_from_bytes(rel, bytes)
}

/// Decodes a file's bytes: UTF-8 with an optional byte-order mark. Invalid
/// UTF-8 is reported with the line and column of the first bad byte.
pub fn source_from_bytes(rel: String, bytes: Vec<u8>) -> Result<Source, Diagnostic> {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Source { rel, text }),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..good]);
            let (line, col) = crate::text::line_col(&prefix, prefix.len());
            let shown = format!("content/{rel}");
            let line_text = String::from_utf8_lossy(&bytes)
                .lines()
                .nth(line - 1)
                .map(str::to_string);
            Err(Diagnostic {
                source_line: line_text,
                ..Diagnostic::error(shown, "this file is not valid UTF-8 text")
                    .at_line(line, col)
                    .with_hint("save it as UTF-8 in your editor (\"Save with encoding\" > UTF-8)")
            })
        }
    }
}

/// Where a file belongs, from its path under `content/`.
pub fn kind_of(rel: &str) -> Kind {
    match rel {
        "_index.md" => Kind::Home,
        "case-studies/_index.md" | "reports/_index.md" => Kind::Section,
        _ if rel.starts_with("case-studies/") => Kind::CaseStudy,
        _ if rel.starts_with("reports/") => Kind::Report,
        _ => Kind::Page,
    }
}

/// The slug and site path a file gets when its front matter does not set `slug:`.
fn default_slug_and_path(kind: Kind, rel: &str) -> (String, String) {
    let stem = rel.trim_end_matches(".md");
    let file_stem = stem.rsplit('/').next().unwrap_or(stem);
    match kind {
        Kind::Home => (String::new(), String::new()),
        Kind::Section => {
            let section = stem.split('/').next().unwrap_or("");
            (section.to_string(), format!("{section}/"))
        }
        Kind::CaseStudy | Kind::Report => {
            // A bundle, `case-studies/x/index.md`, is named by its folder.
            let name = match stem.strip_suffix("/index") {
                Some(dir) if dir.contains('/') => dir.rsplit('/').next().unwrap_or(file_stem),
                _ => file_stem,
            };
            let s = slug::slugify(name);
            let section = if kind == Kind::CaseStudy {
                "case-studies"
            } else {
                "reports"
            };
            (s.clone(), format!("{section}/{s}/"))
        }
        Kind::Page => {
            // `about.md` -> `about/`; `methodology/index.md` -> `methodology/`.
            let mut segs: Vec<String> = stem.split('/').map(slug::slugify).collect();
            if segs.len() > 1 && matches!(segs.last().map(String::as_str), Some("index" | "_index"))
            {
                segs.pop();
            }
            let s = segs.last().cloned().unwrap_or_default();
            (s, format!("{}/", segs.join("/")))
        }
    }
}

/// One file with its front matter read and its body not yet rendered.
pub struct Parsed {
    /// Why the page is left out of the site for want of consent, if it is.
    pub left_out: Option<String>,
    pub source: Source,
    pub kind: Kind,
    pub slug: String,
    pub path: String,
    pub fm: FrontMatter,
    body_start: usize,
    body_line: usize,
    head_len: usize,
}

/// What reading one file's front matter gave: the parsed file if its front
/// matter could be read at all, and every problem found.
pub struct HeadResult {
    pub rel: String,
    pub parsed: Option<Parsed>,
    pub diags: Vec<Diagnostic>,
}

impl HeadResult {
    /// The URL path `@/` links to this file resolve to, or `None` for a
    /// draft that is not being published (a link to it is a dead link).
    /// A file whose front matter is broken still counts: a link to it is not
    /// what is wrong.
    pub fn link_target(&self, include_drafts: bool) -> Option<String> {
        match &self.parsed {
            Some(p) if include_drafts || !p.fm.draft => Some(p.path.clone()),
            Some(_) => None,
            None => Some(default_slug_and_path(kind_of(&self.rel), &self.rel).1),
        }
    }

    /// Whether the page goes into the site.
    pub fn is_published(&self, include_drafts: bool) -> bool {
        self.parsed
            .as_ref()
            .is_some_and(|p| (include_drafts || !p.fm.draft) && p.left_out.is_none())
    }

    /// Whether the page is left out for want of consent.
    pub fn is_left_out(&self) -> bool {
        self.parsed.as_ref().is_some_and(|p| p.left_out.is_some())
    }

    /// Judges the consent of the people in the story (`consent:`): a page
    /// whose consent has ended or was withdrawn, or a case study without
    /// one where site.toml's `[consent] case_studies = true` asks for it,
    /// is left out of the site, and a warning says so. One whose consent
    /// ends soon gets a warning too.
    pub fn judge_consent(&mut self, config: &Config) {
        let Some(p) = self.parsed.as_mut() else {
            return;
        };
        let file = p.source.display();
        let head = &p.source.text[..p.head_len];
        let at = |line: usize, column: usize, d: Diagnostic| d.at(head, line, column);
        if p.fm.consent.is_empty() {
            if config.consent.case_studies && p.kind == Kind::CaseStudy {
                p.left_out = Some(
                    "it has no `consent:` record for the people in it, and site.toml's [consent] requires one".into(),
                );
                self.diags.push(
                    at(1, 1, Diagnostic::warning(file, "this case study is left out of the site: it has no consent record"))
                        .with_hint("add `consent: { given: 2025-03-01, expires: 2027-03-01 }` with the dates the people in it agreed to"),
                );
            }
            return;
        }
        // One person's consent ending is enough: the story is theirs too.
        for c in &p.fm.consent {
            let whose = match &c.name {
                Some(n) => format!("the consent of {n}"),
                None => "the consent of the people in this story".to_string(),
            };
            let status = c.status(&config.today, config.consent.warn_days);
            if let Some(why) = status.reason() {
                let why = match &c.name {
                    Some(n) => why.replacen("its consent", &format!("{n}'s consent"), 1),
                    None => why,
                };
                self.diags.push(
                    at(c.line, c.column, Diagnostic::warning(
                        file.clone(),
                        format!("this page is left out of the site: {why}"),
                    ))
                    .with_hint("it is gone from every page, feed, index and download; links to it now lead to the site's \"not found\" page, so remove them"),
                );
                if p.left_out.is_none() {
                    p.left_out = Some(why);
                }
            } else if let consent::Status::EndsSoon { on, days } = status {
                self.diags.push(at(
                    c.line,
                    c.column,
                    Diagnostic::warning(
                        file.clone(),
                        format!("{whose} ends on {} ({})", on.human(), in_days(days)),
                    ),
                )
                .with_hint("renew it with them and change `expires:`, or the page leaves the site after that day"));
            }
        }
    }
}

/// "in 12 days", "today".
pub fn in_days(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "tomorrow".into(),
        n => format!("in {n} days"),
    }
}

/// The front-matter keys the site's taxonomies read.
pub fn taxonomy_fields(config: &Config) -> Vec<&str> {
    config.taxonomies.iter().map(|t| t.field.as_str()).collect()
}

/// The settings Markdown rendering needs, borrowing the map of source files
/// to URLs.
pub fn markdown_context<'a>(
    config: &'a Config,
    sources: &'a HashMap<String, String>,
) -> MarkdownContext<'a> {
    MarkdownContext {
        unsafe_html: config.markdown.unsafe_html,
        base_path: &config.base_path,
        sources,
        html: true,
        photos: None,
    }
}

/// Parses every source: front matter first (all files), then Markdown bodies,
/// which need the map of every file to its URL for `@/` links. Drafts are
/// dropped here unless `include_drafts`.
#[cfg(test)]
pub fn parse(sources: Vec<Source>, config: &Config, include_drafts: bool) -> Parse {
    parse_with(
        sources,
        &[],
        &Default::default(),
        config,
        include_drafts,
        true,
    )
}

/// [`parse`], optionally without making HTML (for checking only), with the
/// bundles' assets and the static files photos may be in.
pub fn parse_with(
    sources: Vec<Source>,
    assets: &[Asset],
    statics: &std::collections::BTreeMap<String, crate::render::theme::StaticSource>,
    config: &Config,
    include_drafts: bool,
    html: bool,
) -> Parse {
    let tax_fields = taxonomy_fields(config);
    let mut heads: Vec<HeadResult> = sources
        .into_par_iter()
        .map(|source| {
            let mut h = parse_head(source, &tax_fields);
            h.judge_consent(config);
            h
        })
        .collect();
    let catalogue =
        crate::images::Catalogue::for_site(config, statics, assets, &bundle_paths(&heads));
    let sources_map: HashMap<String, String> = heads
        .iter()
        .filter_map(|h| h.link_target(include_drafts).map(|t| (h.rel.clone(), t)))
        .collect();
    let mut diags = Vec::new();
    let mut unreadable = Vec::new();
    let mut draft_reports = Vec::new();
    let mut left_out = 0;
    for h in &mut heads {
        if h.is_left_out() {
            // Said at the page itself; a link to it is not what is wrong.
            unreadable.extend(h.link_target(include_drafts));
            left_out += 1;
        }
        match &h.parsed {
            None => unreadable.extend(h.link_target(include_drafts)),
            Some(p) if p.kind == Kind::Report && p.fm.draft && !include_drafts => {
                draft_reports.push(p.slug.clone());
            }
            Some(_) => {}
        }
        diags.append(&mut h.diags);
    }
    let md = MarkdownContext {
        html,
        ..markdown_context(config, &sources_map)
    };
    // Each published file goes from its head to its page, and into the
    // page's `Arc`, on every core: a page is 1 KB, and moving 10,000 of them
    // into a list of their own and then into their `Arc`s was 20 ms on one.
    let results: Vec<(Arc<Page>, Vec<Diagnostic>)> = heads
        .into_par_iter()
        .filter(|h| h.is_published(include_drafts))
        .filter_map(|h| h.parsed)
        .map(|p| {
            let (page, diags) = render_body(p, config, &md, Some(&catalogue));
            (Arc::new(page), diags)
        })
        .collect();
    let mut pages = Vec::with_capacity(results.len());
    for (p, d) in results {
        diags.extend(d);
        pages.push(p);
    }
    Parse {
        pages,
        diags,
        unreadable,
        draft_reports,
        catalogue,
        left_out,
    }
}

/// Each bundle's folder under `content/` and its page's site path:
/// `case-studies/x` -> `case-studies/x/`.
pub fn bundle_paths(heads: &[HeadResult]) -> HashMap<String, String> {
    heads
        .iter()
        .filter_map(|h| {
            let dir = h.rel.strip_suffix("/index.md")?;
            Some((dir.to_string(), h.parsed.as_ref()?.path.clone()))
        })
        .collect()
}

/// What parsing the sources gave.
pub struct Parse {
    pub pages: Vec<Arc<Page>>,
    pub diags: Vec<Diagnostic>,
    /// Site paths of files whose front matter could not be read at all: they
    /// exist, so a link to them is not dead, but they have no page yet.
    pub unreadable: Vec<String>,
    /// Slugs of reports left out because they are drafts: a case study
    /// naming one is told so.
    pub draft_reports: Vec<String>,
    /// The site's photo files.
    pub catalogue: crate::images::Catalogue,
    /// How many pages are left out for want of consent.
    pub left_out: usize,
}

/// How many control characters of one file are reported one by one; the
/// rest are counted.
const CONTROLS_SHOWN: usize = 5;

/// Every forbidden control character in a file's text, as errors at their
/// line and column.
fn control_characters(text: &str, file: &str) -> Vec<Diagnostic> {
    // Nearly every file has none: one pass over the bytes finds out, 64 at
    // a time with no early exit, so that it vectorises. C1 controls
    // (U+0080 to U+009F) start with 0xC2 in UTF-8, as do a few common
    // characters (a no-break space, `£`, `°`): a file with one is looked at
    // character by character.
    let suspect = |b: u8| {
        ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0x7f) | (b == 0xc2)
    };
    if !text
        .as_bytes()
        .chunks(64)
        .any(|c| c.iter().fold(false, |acc, &b| acc | suspect(b)))
    {
        return Vec::new();
    }
    let found: Vec<(usize, char)> = text
        .char_indices()
        .filter(|&(_, c)| is_forbidden_control(c))
        .collect();
    let mut diags: Vec<Diagnostic> = found
        .iter()
        .take(CONTROLS_SHOWN)
        .map(|&(at, c)| {
            let (line, col) = crate::text::line_col(text, at);
            Diagnostic::error(
                file,
                format!(
                    "a control character, {}, is in the text: it is invisible here and would reach the pages and data files",
                    describe_control(c)
                ),
            )
            .at(text, line, col)
            .with_width(1)
            .with_hint("delete it (it often comes with text copied out of another program)")
        })
        .collect();
    if found.len() > CONTROLS_SHOWN {
        diags.push(Diagnostic::error(
            file,
            format!(
                "{} more control characters are in this file",
                found.len() - CONTROLS_SHOWN
            ),
        ));
    }
    diags
}

/// Reads one file's front matter.
pub fn parse_head(source: Source, tax_fields: &[&str]) -> HeadResult {
    let file = source.display();
    let rel = source.rel.clone();
    let kind = kind_of(&source.rel);
    let controls = control_characters(&source.text, &file);
    let split = match front_matter::split(&source.text, &file) {
        Ok(s) => s,
        Err(d) => {
            let mut diags = controls;
            diags.push(d);
            return HeadResult {
                rel,
                parsed: None,
                diags,
            };
        }
    };
    let (fm, mut diags) = front_matter::parse(&split, &source.text, &file, tax_fields);
    // Written as an escape (`"a\0b"`), a control character is only in the
    // parsed value.
    if controls.is_empty() {
        diags.extend(front_matter::escaped_controls(&split, &source.text, &file));
    }
    diags.extend(controls);
    let Some(fm) = fm else {
        // No fields could be read at all: checking them would only add
        // "missing title" noise to the YAML error.
        return HeadResult {
            rel,
            parsed: None,
            diags,
        };
    };
    let (mut slug, mut path) = default_slug_and_path(kind, &source.rel);
    if let Some(s) = &fm.slug
        && matches!(kind, Kind::CaseStudy | Kind::Report | Kind::Page)
    {
        match slug::check_segment(&s.value) {
            Ok(()) => {
                path = match path.trim_end_matches('/').rsplit_once('/') {
                    Some((parent, _)) => format!("{parent}/{}/", s.value),
                    None => format!("{}/", s.value),
                };
                slug = s.value.clone();
            }
            Err(m) => diags.push(
                Diagnostic::error(file.clone(), format!("`slug`: {m}"))
                    .at(&source.text, s.line, s.column)
                    .with_hint(format!(
                        "use lower-case letters, digits and hyphens, e.g. `slug: {}`",
                        slug::slugify(&s.value)
                    )),
            ),
        }
    }
    if slug.is_empty() && kind != Kind::Home {
        diags.push(
            Diagnostic::error(
                file.clone(),
                "the file name has no letters or digits to make a URL from",
            )
            .with_hint("rename the file, or set `slug:` in its front matter"),
        );
    }
    let body_start = source.text.len() - split.body.len();
    let head_len = split.head.len();
    let body_line = split.body_line;
    // Field errors do not drop the page: later checks (its report, its
    // links) still run, so the writer sees every problem in one go.
    HeadResult {
        rel,
        parsed: Some(Parsed {
            left_out: None,
            source,
            kind,
            slug,
            path,
            fm,
            body_start,
            body_line,
            head_len,
        }),
        diags,
    }
}

/// What a page shows of its photos.
struct PagePhotos {
    lead: Option<Box<crate::images::PhotoV>>,
    lead_left_out: bool,
    used: Vec<Arc<crate::images::Photo>>,
    left_out: Vec<String>,
}

/// Resolves the lead photo against its consent, and turns what the text's
/// photos met on the way into diagnostics: left out (a warning naming why)
/// or unreadable (an error). Consents that end soon are warned of.
#[allow(clippy::too_many_arguments)]
fn page_photos(
    fm: &FrontMatter,
    page_path: &str,
    file: &str,
    text: &str,
    body: &Rendered,
    config: &Config,
    catalogue: Option<&crate::images::Catalogue>,
    diags: &mut Vec<Diagnostic>,
) -> PagePhotos {
    use crate::images::{Catalogue, Found, judge};
    let mut out = PagePhotos {
        lead: None,
        lead_left_out: false,
        used: body.photos.clone(),
        left_out: Vec::new(),
    };
    let Some(catalogue) = catalogue else {
        return out;
    };
    if let Some(image) = &fm.image {
        let src = image.value.trim();
        match catalogue.find(page_path, src) {
            Found::Photo(p) => match judge(fm.image_consent.as_ref(), config) {
                Ok(()) => {
                    let alt = fm.image_alt.as_deref().unwrap_or("").trim();
                    let mut v = p.markup(&config.base_path, alt);
                    v.caption = fm.image_caption.clone().filter(|c| !c.trim().is_empty());
                    v.credit = fm.image_credit.clone().filter(|c| !c.trim().is_empty());
                    if let Some(c) = &fm.image_consent {
                        v.print = c.allows("print");
                        v.social = c.allows("social");
                    }
                    out.lead = Some(Box::new(v));
                    out.used.insert(0, p);
                }
                Err(why) => {
                    diags.push(
                        Diagnostic::warning(file, format!("the photo `{src}` is left out of the site: {why}"))
                            .at(text, image.line, image.column)
                            .with_hint("it is gone from this page, its cards, feeds and link previews; remove it or renew the consent"),
                    );
                    out.lead_left_out = true;
                    out.left_out.extend(Catalogue::site_path(page_path, src));
                }
            },
            Found::Unreadable(shown, why) => diags.push(
                Diagnostic::error(
                    file,
                    format!("the photo `{src}` cannot be read ({shown}): {why}"),
                )
                .at(text, image.line, image.column)
                .with_hint("open it in an image editor and save it again as JPEG or PNG"),
            ),
            Found::Other => {}
        }
    }
    for note in &body.photo_notes {
        if note.left_out {
            diags.push(
                Diagnostic::warning(
                    file,
                    format!(
                        "the photo `{}` is left out of the text: {}",
                        note.src, note.why
                    ),
                )
                .at(text, note.line, note.column)
                .with_hint("remove it from the text or renew the consent under `photo_consent:`"),
            );
            out.left_out
                .extend(Catalogue::site_path(page_path, &note.src));
        } else {
            diags.push(
                Diagnostic::error(
                    file,
                    format!("the photo `{}` cannot be read: {}", note.src, note.why),
                )
                .at(text, note.line, note.column)
                .with_hint("open it in an image editor and save it again as JPEG or PNG"),
            );
        }
    }
    let records = fm
        .image_consent
        .iter()
        .map(|c| {
            (
                fm.image
                    .as_ref()
                    .map_or("the lead photo", |i| i.value.as_str()),
                c,
            )
        })
        .chain(fm.photo_consent.iter().map(|(k, c)| (k.as_str(), c)));
    for (what, c) in records {
        if let consent::Status::EndsSoon { on, days } =
            c.status(&config.today, config.consent.warn_days)
        {
            diags.push(
                Diagnostic::warning(
                    file,
                    format!(
                        "the consent for the photo `{what}` ends on {} ({})",
                        on.human(),
                        in_days(days)
                    ),
                )
                .at(text, c.line, c.column)
                .with_hint("renew it with the people in the photo and change `expires:`, or the photo leaves the site after that day"),
            );
        }
    }
    out
}

/// What to tell a writer whose `@/` link names no file: the near miss in
/// the same folder (`@/case-studies/shofco-data-cultur.md`), or how such
/// links are written.
fn source_hint(target: &str, sources: &HashMap<String, String>) -> String {
    let wanted = target.trim_start_matches("@/");
    let wanted = wanted.split('#').next().unwrap_or(wanted);
    let (dir, name) = wanted.rsplit_once('/').unwrap_or(("", wanted));
    let mut siblings: Vec<&str> = sources
        .keys()
        .filter(|k| k.rsplit_once('/').map_or("", |(d, _)| d) == dir)
        .map(|k| k.rsplit('/').next().unwrap_or(k))
        .collect();
    siblings.sort_unstable();
    match crate::diagnostic::did_you_mean(name, siblings) {
        Some(n) if dir.is_empty() => format!("did you mean `@/{n}`?"),
        Some(n) => format!("did you mean `@/{dir}/{n}`?"),
        None => "`@/` links name a file under content/, e.g. `@/case-studies/shofco.md`".into(),
    }
}

/// Renders a parsed file's Markdown body and assembles its [`Page`].
pub fn render_body(
    h: Parsed,
    config: &Config,
    md: &MarkdownContext,
    catalogue: Option<&crate::images::Catalogue>,
) -> (Page, Vec<Diagnostic>) {
    let file = h.source.display();
    let text = &h.source.text;
    let mut diags = Vec::new();
    let md = &MarkdownContext {
        photos: catalogue.map(|c| markdown::PhotoContext {
            catalogue: c,
            config,
            page_path: &h.path,
            consent: &h.fm.photo_consent,
        }),
        ..*md
    };
    let source = &text[h.body_start..];
    let body = match markdown::markup_count(source) {
        n if n > markdown::MAX_MARKUP => {
            diags.push(
                Diagnostic::error(
                    file.clone(),
                    format!(
                        "this page has {n} lines and Markdown marks; casebook renders pages of up to {}",
                        markdown::MAX_MARKUP
                    ),
                )
                .with_hint("split it into several pages (the Markdown reader holds every mark in memory at once)"),
            );
            markdown::Rendered::default()
        }
        _ => markdown::render(source, h.body_line, md),
    };
    for (line, col, width, target) in body.unresolved.iter().take(markdown::PROBLEMS_SHOWN) {
        diags.push(
            Diagnostic::error(
                file.clone(),
                format!("link to `{target}`: there is no such file in content/"),
            )
            .at(text, *line, *col)
            .with_width(*width)
            .with_hint(source_hint(target, md.sources)),
        );
    }
    for (what, n, error) in [
        (
            "links to files that do not exist",
            body.unresolved.len(),
            true,
        ),
        ("links that run script", body.unsafe_links.len(), false),
    ] {
        if n > markdown::PROBLEMS_SHOWN {
            let message = format!(
                "{} more {what} are in this file (not shown)",
                n - markdown::PROBLEMS_SHOWN
            );
            diags.push(if error {
                Diagnostic::error(file.clone(), message)
            } else {
                Diagnostic::warning(file.clone(), message)
            });
        }
    }
    if body.links_not_checked > 0 {
        diags.push(
            Diagnostic::error(
                file.clone(),
                format!(
                    "this page has {} links and images; casebook checks at most {}",
                    body.links.len() + body.links_not_checked,
                    markdown::MAX_LINKS
                ),
            )
            .with_hint("split it into several pages"),
        );
    }
    for (line, col, target) in body.unsafe_links.iter().take(markdown::PROBLEMS_SHOWN) {
        diags.push(
            Diagnostic::warning(
                file.clone(),
                format!("link to `{target}` was removed: links that run script are not allowed"),
            )
            .at(text, *line, *col),
        );
    }
    let fm = h.fm;
    let photos = page_photos(
        &fm, &h.path, &file, text, &body, config, catalogue, &mut diags,
    );
    let terms = config
        .taxonomies
        .iter()
        .map(|t| {
            fm.taxonomies
                .get(&t.field)
                .map(|l| {
                    l.value
                        .iter()
                        .map(|v| {
                            let shown = t.shown(v);
                            TermValue {
                                slug: slug::slugify(&shown),
                                shown,
                            }
                        })
                        .filter(|v| !v.slug.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let take = |o: &Option<Located<String>>| {
        o.as_ref()
            .map(|l| l.value.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let page = Page {
        kind: h.kind,
        file,
        rel: h.source.rel.clone(),
        slug: h.slug,
        path: h.path,
        title: take(&fm.title).unwrap_or_default(),
        date: fm.date.as_ref().map(|d| d.value),
        updated: fm.updated.as_ref().map(|d| d.value),
        draft: fm.draft,
        summary: take(&fm.summary).unwrap_or_default(),
        report: take(&fm.report),
        authors: fm.authors.clone(),
        terms,
        outcomes: fm.outcomes.iter().map(|o| o.value.clone()).collect(),
        aliases: fm.aliases.iter().map(|a| a.value.clone()).collect(),
        image: if photos.lead_left_out {
            None
        } else {
            take(&fm.image)
        },
        image_alt: fm.image_alt.clone(),
        photo: photos.lead,
        photos: photos.used,
        photos_left_out: photos.left_out,
        extra: fm
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), v.value.clone()))
            .collect(),
        body,
        head: text[..h.head_len].to_string(),
        front_matter: fm,
    };
    (page, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_paths() {
        assert_eq!(kind_of("_index.md"), Kind::Home);
        assert_eq!(kind_of("case-studies/_index.md"), Kind::Section);
        assert_eq!(kind_of("case-studies/x.md"), Kind::CaseStudy);
        assert_eq!(kind_of("reports/x.md"), Kind::Report);
        assert_eq!(kind_of("about.md"), Kind::Page);
        assert_eq!(
            default_slug_and_path(Kind::CaseStudy, "case-studies/SHOFCO Data.md"),
            ("shofco-data".into(), "case-studies/shofco-data/".into())
        );
        assert_eq!(
            default_slug_and_path(Kind::Page, "methodology/index.md"),
            ("methodology".into(), "methodology/".into())
        );
        assert_eq!(default_slug_and_path(Kind::Page, "about.md").1, "about/");
    }

    #[test]
    fn bom_and_bad_utf8() {
        let s =
            source_from_bytes("a.md".into(), b"\xEF\xBB\xBF---\ntitle: x\n---\n".to_vec()).unwrap();
        assert!(s.text.starts_with("---"));
        let e =
            source_from_bytes("a.md".into(), b"---\ntitle: caf\xE9\n---\n".to_vec()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 11));
        assert!(e.message.contains("UTF-8"));
    }
}
