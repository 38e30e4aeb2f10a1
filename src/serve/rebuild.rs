//! Incremental rebuilds for the preview server.
//!
//! A [`Session`] remembers what it parsed (one entry per source file), what
//! it wrote (a fingerprint per output file) and the last good build. When
//! files change it re-reads only those and re-renders only the Markdown
//! bodies that need it. If the edit leaves the site's shape alone — the
//! usual save, which changes words, not dates, titles, terms, headings or
//! links — it reuses the last build's index, link checks and plan; otherwise
//! it indexes and checks the whole site again. Either way it rewrites only
//! the output files whose fingerprint changed, and the result is the same
//! bytes a clean `casebook build` would write; tests hold it to that.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::content::{self, HeadResult, Page, Source};
use crate::diagnostic::{self, Diagnostic};
use crate::index::Site;
use crate::render::{self, Renderer, Theme, reads::Read};
use crate::{Error, index, validate, write};

/// What changed on disk since the last rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// site.toml changed.
    pub config: bool,
    /// A file of the theme changed.
    pub theme: bool,
    /// A file under `static/` changed.
    pub statics: bool,
    /// Paths relative to `content/`, with `/`.
    pub content: BTreeSet<String>,
}

impl Changes {
    /// Everything: the first build.
    pub fn all() -> Changes {
        Changes {
            config: true,
            theme: true,
            statics: true,
            content: BTreeSet::new(),
        }
    }

    /// Adds `other`'s changes to these.
    pub fn merge(&mut self, other: &Changes) {
        self.config |= other.config;
        self.theme |= other.theme;
        self.statics |= other.statics;
        self.content.extend(other.content.iter().cloned());
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.config && !self.theme && !self.statics && self.content.is_empty()
    }

    /// Sorts changed paths (absolute, from the file watcher) into kinds.
    /// Paths outside the site's sources (the output folder, editor swap
    /// files) are ignored.
    pub fn from_paths(root: &Path, paths: impl IntoIterator<Item = PathBuf>) -> Changes {
        let mut c = Changes::default();
        for p in paths {
            let Ok(rel) = p.strip_prefix(root) else {
                continue;
            };
            let rel = rel.to_string_lossy().replace('\\', "/");
            let name = rel.rsplit('/').next().unwrap_or("");
            if name.starts_with('.')
                || name.ends_with('~')
                || name.ends_with(".swp")
                || name.ends_with(".tmp")
            {
                continue;
            }
            if rel == "site.toml" {
                c.config = true;
            } else if rel == "themes" || rel.starts_with("themes/") {
                c.theme = true;
            } else if rel == "static" || rel.starts_with("static/") {
                c.statics = true;
            } else if rel == "content" {
                // The folder itself appeared or vanished: read it all again.
                c.config = true;
            } else if let Some(r) = rel.strip_prefix("content/") {
                if r.ends_with(".md") || !name.contains('.') {
                    c.content.insert(r.to_string());
                } else {
                    // A photo or other file beside a page: which pages show
                    // it is not tracked, so everything is read again.
                    c.config = true;
                }
            }
        }
        c
    }

    /// A short description for the terminal: "content/case-studies/x.md".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if self.config {
            parts.push("site.toml".into());
        }
        if self.theme {
            parts.push("themes/".into());
        }
        if self.statics {
            parts.push("static/".into());
        }
        let n = self.content.len();
        match n {
            0 => {}
            1..=2 => parts.extend(self.content.iter().map(|c| format!("content/{c}"))),
            _ => parts.push(format!("{n} files in content/")),
        }
        parts.join(", ")
    }
}

/// One source file as last read.
struct FileState {
    hashes: render::PageHashes,
    /// Where `@/` links to this file go (None: an unpublished draft).
    target: Option<String>,
    page: Option<Arc<Page>>,
    /// Its own problems: front matter, Markdown, schema.
    diags: Vec<Diagnostic>,
    /// The `@/` files this page links to, so it is re-rendered when one of
    /// them appears, disappears or moves.
    links_to: Vec<String>,
    /// Left out for want of consent.
    left_out: bool,
}

/// What one rebuild did, for the line the terminal prints.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    /// What changed, as [`Changes::describe`] says it.
    pub changes: String,
    /// How many output files were rewritten.
    pub pages_written: usize,
    /// How many output files were removed.
    pub files_removed: usize,
    /// How many static files were copied.
    pub static_copied: usize,
    /// Warnings in the site as it is now.
    pub warnings: Vec<Diagnostic>,
    /// How long the rebuild took.
    pub elapsed: Duration,
    /// The full build summary, on the first build.
    pub summary: Option<String>,
    /// How long each stage took.
    pub timings: crate::Timings,
}

/// The last good build, kept whole so that an edit which leaves the site's
/// shape alone (the usual save: words changed, not dates, titles, terms or
/// links) can reuse its index, link checks, plan and site values.
struct LastBuild {
    site: Site,
    /// Page fingerprints in the order of `site.pages`.
    hashes: Vec<render::PageHashes>,
    /// Each output and what it read when it was written.
    plan: Vec<Output>,
    checker: validate::LinkChecker,
    /// Link diagnostics (warnings) of each page, and the site-wide ones.
    link_diags: Vec<Vec<Diagnostic>>,
    site_diags: Vec<Diagnostic>,
    values: Arc<render::SiteValues>,
}

/// One output file of the last good build: what it read when it was
/// written, and the hash of what those reads saw.
#[derive(Clone)]
struct Output {
    job: render::Job,
    path: String,
    reads: Arc<[Read]>,
    seen: u64,
}

/// What decides where a page sits in the site: if none of it changes, the
/// index, the plan and everyone else's links stay as they were.
fn shape(p: &Page) -> impl PartialEq + '_ {
    (
        (p.kind, &p.path, &p.slug, p.date, &p.title),
        (&p.terms, &p.report, &p.aliases, p.body.anchors()),
    )
}

/// Numbers `Session::verify`'s scratch folders, so sessions in one process
/// (tests) never share one.
static VERIFY_RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Every file under `dir`, relative and with `/`, sorted; casebook's stamp
/// left out (which folder holds a build is not part of the site).
fn files_under(dir: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e.path().strip_prefix(dir).ok()?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            (rel != write::STAMP).then_some(rel)
        })
        .collect()
}

/// The relative paths where folders `a` and `b` differ, sorted.
fn differences(a: &Path, b: &Path) -> Vec<String> {
    let (fa, fb) = (files_under(a), files_under(b));
    fa.symmetric_difference(&fb)
        .cloned()
        .chain(
            fa.intersection(&fb)
                .filter(|f| std::fs::read(a.join(f)).ok() != std::fs::read(b.join(f)).ok())
                .cloned(),
        )
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The preview server's memory of the site between rebuilds.
pub struct Session {
    root: PathBuf,
    out: PathBuf,
    base_url: String,
    drafts: bool,
    config: Option<Config>,
    theme: Option<Theme>,
    templates: Option<Arc<render::Templates>>,
    files: BTreeMap<String, FileState>,
    /// Where `@/` links to each file resolve (published files only).
    targets: HashMap<String, String>,
    last: Option<LastBuild>,
    /// The output paths the last rebuild rewrote.
    last_written: Vec<String>,
    /// Cards rendered by earlier rebuilds (see `render::CardCache`).
    cards: render::CardCache,
    cards_global: Option<u64>,
    /// Rows of the data files made by earlier rebuilds (see
    /// `render::rows::RowCache`), under the same global state as the cards.
    rows: render::rows::RowCache,
    /// Changes since the last good rebuild, carried into the next one: an
    /// error may stop a rebuild before it has read them all, and the next
    /// one must compare every page changed since with the last good build,
    /// those re-read for their links included.
    pending: Changes,
    /// The files beside bundles' pages, as last read.
    assets: Vec<content::Asset>,
    /// The theme's and site's static files as loaded, before photos are
    /// published into them.
    base_statics: std::collections::BTreeMap<String, render::theme::StaticSource>,
}

/// What a page's output can depend on from its own file: where it is
/// (which makes its URL) and what it says.
fn hash_source(s: &Source) -> u64 {
    let mut h = DefaultHasher::new();
    s.rel.hash(&mut h);
    s.text.hash(&mut h);
    h.finish()
}

fn source_links(page: &Page) -> Vec<String> {
    page.links()
        .iter()
        .filter(|l| l.kind == content::markdown::LinkKind::Source)
        .map(|l| l.target[2..].split('#').next().unwrap_or("").to_string())
        .collect()
}

impl Session {
    /// A session for the site at `root`, previewed in `out` at `base_url`; nothing is built until the first [`Session::rebuild`].
    pub fn new(root: &Path, out: &Path, base_url: &str, drafts: bool) -> Session {
        Session {
            root: root.to_path_buf(),
            out: out.to_path_buf(),
            base_url: base_url.to_string(),
            drafts,
            config: None,
            theme: None,
            templates: None,
            files: BTreeMap::new(),
            targets: HashMap::new(),
            last: None,
            last_written: Vec::new(),
            cards: render::CardCache::default(),
            cards_global: None,
            rows: render::rows::RowCache::default(),
            pending: Changes::default(),
            assets: Vec::new(),
            base_statics: Default::default(),
        }
    }

    /// The folder the preview is written to.
    pub fn output(&self) -> &Path {
        &self.out
    }

    /// The output files the last successful rebuild rewrote, sorted.
    pub fn last_written(&self) -> &[String] {
        &self.last_written
    }

    /// Builds the site from scratch into a scratch folder and lists the
    /// output files where the preview differs from that clean build: one
    /// missing from either side, or with other bytes. `serve --verify` runs
    /// it after every rebuild; an empty list is the promise kept. The
    /// scratch folder is casebook's own and is removed afterwards.
    pub fn verify(&self) -> Result<Vec<String>, Error> {
        let scratch = std::env::temp_dir().join(format!(
            "casebook-verify-{}-{}",
            std::process::id(),
            VERIFY_RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let mut opts = crate::BuildOptions::new(&self.root);
        opts.output = scratch.clone();
        opts.base_url = Some(self.base_url.clone());
        opts.drafts = self.drafts;
        let built = crate::build(&opts);
        let result = built.map(|_| differences(&self.out, &scratch));
        let _ = write::remove_output(&scratch);
        result
    }

    /// Reads one file under `content/` (relative path) as the loader would.
    fn read(&self, rel: &str) -> Option<Result<Source, Diagnostic>> {
        let path = self.root.join("content").join(rel);
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        if let Err(d) = content::files::check_inside(
            &path,
            &content::files::real_root(&self.root),
            &format!("content/{rel}"),
        ) {
            return Some(Err(d));
        }
        if !rel.ends_with(".md") {
            return Some(Err(content::not_markdown(rel)));
        }
        Some(content::read_source(rel.to_string(), &path))
    }

    /// Output path -> what each file on disk from the last good build read.
    fn on_disk(&self) -> HashMap<&str, &Output> {
        match &self.last {
            Some(last) => last.plan.iter().map(|o| (o.path.as_str(), o)).collect(),
            None => HashMap::new(),
        }
    }

    /// Brings the session up to date with `changes` and writes what changed.
    /// On error the output folder is left as the last good build, and the
    /// diagnostics say why; the session still remembers the new state of the
    /// files, so the next rebuild starts from the disk as it is.
    pub fn rebuild(&mut self, changes: &Changes) -> Result<Rebuilt, Error> {
        let mut all = std::mem::take(&mut self.pending);
        all.merge(changes);
        let result = self.rebuild_from(&all);
        if result.is_err() {
            self.pending.merge(&all);
        } else {
            self.pending = Changes::default();
        }
        result
    }

    fn rebuild_from(&mut self, changes: &Changes) -> Result<Rebuilt, Error> {
        let start = Instant::now();
        let mut timings = crate::Timings::default();
        let first = self.last.is_none();

        // 1. Configuration and theme.
        let mut full_content = self.config.is_none();
        if changes.config || self.config.is_none() {
            let config = Config::load(&self.root)
                .and_then(|c| c.with_base_url(&self.base_url))
                .map_err(|d| Error::Diagnostics(vec![d]))?;
            if self.config.as_ref() != Some(&config) {
                full_content = true;
            }
            self.config = Some(config);
        }
        let config = self.config.clone().expect("config is loaded above");
        let mut theme_diags = Vec::new();
        let theme_changed =
            first || changes.theme || changes.statics || changes.config || self.theme.is_none();
        if theme_changed {
            self.templates = None;
            match Theme::load(&self.root, &config) {
                Ok((t, warnings)) => {
                    self.base_statics = t.statics.clone();
                    self.theme = Some(t);
                    theme_diags = warnings;
                }
                Err(d) => theme_diags = d,
            }
        }
        // A static file may be a photo a page shows: its size and the names
        // of its copies are in the page, so every page is read again.
        if changes.statics {
            full_content = true;
        }
        // A folder under content/ that appeared, vanished or moved: its
        // files may not each have an event, so read everything again.
        if changes.content.iter().any(|rel| {
            let p = self.root.join("content").join(rel);
            p.is_dir()
                || (!p.exists() && self.files.keys().any(|k| k.starts_with(&format!("{rel}/"))))
        }) {
            full_content = true;
        }

        // 2. Content: read what changed and parse its front matter.
        let unreadable = |d: Diagnostic| FileState {
            hashes: render::PageHashes::default(),
            target: None,
            page: None,
            diags: vec![d],
            links_to: Vec::new(),
            left_out: false,
        };
        let mut fresh: Vec<Source> = Vec::new();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        if full_content {
            touched.extend(self.files.keys().cloned());
            self.files.clear();
            let (sources, assets, diags) = content::load(&self.root);
            self.assets = assets;
            for d in diags {
                let rel = diagnostic::display_path(&d.file);
                let rel = rel.strip_prefix("content/").unwrap_or(&rel).to_string();
                touched.insert(rel.clone());
                self.files.insert(rel, unreadable(d));
            }
            fresh = sources;
        } else {
            for rel in &changes.content {
                touched.insert(rel.clone());
                match self.read(rel) {
                    None => {
                        self.files.remove(rel);
                    }
                    Some(Err(d)) => {
                        self.files.insert(rel.clone(), unreadable(d));
                    }
                    Some(Ok(src)) => fresh.push(src),
                }
            }
        }
        touched.extend(fresh.iter().map(|s| s.rel.clone()));
        let tax_fields = content::taxonomy_fields(&config);
        let drafts = self.drafts;
        let parse = |sources: Vec<Source>| -> Vec<(u64, HeadResult)> {
            sources
                .into_par_iter()
                .map(|s| {
                    let hash = hash_source(&s);
                    let mut h = content::parse_head(s, &tax_fields);
                    h.judge_consent(&config);
                    (hash, h)
                })
                .collect()
        };
        let mut heads = parse(fresh);

        // Which `@/` targets appeared, vanished or moved...
        let mut moved: HashSet<String> = HashSet::new();
        for rel in &touched {
            let now = match heads.iter().find(|(_, h)| &h.rel == rel) {
                Some((_, h)) => h.link_target(drafts),
                None => self.files.get(rel).and_then(|f| f.target.clone()),
            };
            let before = self.targets.get(rel).cloned();
            if now != before {
                moved.insert(rel.clone());
                match now {
                    Some(t) => self.targets.insert(rel.clone(), t),
                    None => self.targets.remove(rel),
                };
            }
        }
        if full_content {
            // Files that vanished with a full reload.
            let gone: Vec<String> = self
                .targets
                .keys()
                .filter(|k| !touched.contains(*k))
                .cloned()
                .collect();
            for g in gone {
                self.targets.remove(&g);
                moved.insert(g);
            }
        }
        // ...and the unchanged pages that link to them, re-read to render again.
        if !moved.is_empty() {
            let parsed: HashSet<&str> = heads.iter().map(|(_, h)| h.rel.as_str()).collect();
            let relink: Vec<String> = self
                .files
                .iter()
                .filter(|(rel, f)| {
                    !parsed.contains(rel.as_str()) && f.links_to.iter().any(|l| moved.contains(l))
                })
                .map(|(rel, _)| rel.clone())
                .collect();
            self.pending.content.extend(relink.iter().cloned());
            let again: Vec<Source> = relink
                .iter()
                .filter_map(|rel| self.read(rel))
                .filter_map(Result::ok)
                .collect();
            heads.extend(parse(again));
        }

        // 3. Render the bodies that need it; check each page on its own.
        let md = content::markdown_context(&config, &self.targets);
        let bundles: HashMap<String, String> = self
            .targets
            .iter()
            .filter_map(|(rel, path)| {
                Some((rel.strip_suffix("/index.md")?.to_string(), path.clone()))
            })
            .collect();
        let catalogue =
            crate::images::Catalogue::for_site(&config, &self.base_statics, &self.assets, &bundles);
        let states: Vec<(String, FileState)> = heads
            .into_par_iter()
            .map(|(hash, h)| {
                let target = h.link_target(drafts);
                let publish = h.is_published(drafts);
                let left_out = h.is_left_out();
                let mut diags = h.diags;
                let (page, links_to, hashes) = match (publish, h.parsed) {
                    (true, Some(p)) => {
                        let (page, d) = content::render_body(p, &config, &md, Some(&catalogue));
                        diags.extend(d);
                        diags.extend(validate::check_page(&page, &config));
                        let links = source_links(&page);
                        let hashes = render::PageHashes::of(&page, hash);
                        (Some(Arc::new(page)), links, hashes)
                    }
                    _ => (None, Vec::new(), render::PageHashes::unparsed(hash)),
                };
                (
                    h.rel,
                    FileState {
                        hashes,
                        target,
                        page,
                        diags,
                        links_to,
                        left_out,
                    },
                )
            })
            .collect();
        let changed_pages: Vec<String> = states.iter().map(|(rel, _)| rel.clone()).collect();
        self.files.extend(states);
        timings.mark("read and parse");

        // Photos: their copies and clean originals, made as a build makes
        // them; the static files change when what is shown does.
        let mut statics_changed = false;
        let mut photo_diags = Vec::new();
        if let Some(t) = self.theme.as_mut() {
            let pages: Vec<Arc<Page>> =
                self.files.values().filter_map(|f| f.page.clone()).collect();
            let mut statics = self.base_statics.clone();
            let (todo, d) = crate::images::publish(
                &self.root,
                &config,
                &catalogue,
                &pages,
                &self.assets,
                &mut statics,
            );
            photo_diags = d;
            let problems = crate::images::make(&self.root, &todo, config.images.quality);
            if !problems.is_empty() {
                return Err(Error::Diagnostics(problems));
            }
            if t.statics != statics {
                t.statics = statics;
                statics_changed = true;
            }
        }
        let theme_changed = theme_changed || statics_changed;

        // 4. The fast path: same shape as the last good build, so reuse it.
        let fast = !full_content
            && !theme_changed
            && moved.is_empty()
            && theme_diags.is_empty()
            && touched.iter().all(|rel| changed_pages.contains(rel))
            && self.last.as_ref().is_some_and(|last| {
                changed_pages.iter().all(|rel| {
                    let new = self.files.get(rel).and_then(|f| f.page.as_ref());
                    let old = last.checker.page_index(rel).map(|i| &last.site.pages[i]);
                    match (new, old) {
                        (Some(new), Some(old)) => shape(new) == shape(old),
                        _ => false,
                    }
                })
            });
        let mut diags: Vec<Diagnostic> = self
            .files
            .values()
            .flat_map(|f| f.diags.iter().cloned())
            .collect();
        let fallback;
        let theme_failed = theme_diags.iter().any(Diagnostic::is_error);
        let theme = match (&self.theme, !theme_failed) {
            (Some(t), true) => t,
            _ => {
                fallback = Theme::stand_in();
                &fallback
            }
        };
        diags.extend(theme_diags);
        diags.extend(photo_diags);

        let (site, hashes, checker, link_diags, site_diags, values, old_plan) = if fast {
            let last = self.last.take().expect("the fast path has a last build");
            let mut site = last.site;
            let mut hashes = last.hashes;
            let mut link_diags = last.link_diags;
            let mut outcomes_changed = false;
            for rel in &changed_pages {
                let i = last.checker.page_index(rel).expect("checked above");
                let f = &self.files[rel];
                let page = f.page.as_ref().expect("checked above");
                outcomes_changed |= page.outcomes != site.pages[i].outcomes;
                site.pages[i] = Arc::clone(page);
                hashes[i] = f.hashes;
            }
            // Totals are the one part of the index a page's figures feed.
            if outcomes_changed {
                site.count_outcomes();
            }
            for rel in &changed_pages {
                let i = last.checker.page_index(rel).expect("checked above");
                link_diags[i] = last.checker.check_page(&site, i);
            }
            timings.mark("reuse the index");
            (
                site,
                hashes,
                last.checker,
                link_diags,
                last.site_diags,
                last.values,
                Some(last.plan),
            )
        } else {
            // 5. The slow path: index, check and plan the whole site.
            let pages: Vec<Arc<Page>> =
                self.files.values().filter_map(|f| f.page.clone()).collect();
            let site_diags = validate::check_site(&pages, &config, &[]);
            let unreadable: Vec<String> = self
                .files
                .values()
                .filter(|f| f.page.is_none())
                .filter_map(|f| f.target.clone())
                .collect();
            let site = index::index(config, pages);
            let mut site_diags = site_diags;
            site_diags.extend(render::paths::check(&site, theme, &self.root));
            timings.mark("index");
            // As in a build: the links are checked beside related case
            // studies and outcome totals.
            let ((checker, link_diags), found) = rayon::join(
                || {
                    let checker = validate::LinkChecker::new(&site, theme, &unreadable);
                    let link_diags: Vec<Vec<Diagnostic>> = (0..site.pages.len())
                        .into_par_iter()
                        .map(|i| checker.check_page(&site, i))
                        .collect();
                    (checker, link_diags)
                },
                || site.discover(),
            );
            let site = site.with(found);
            timings.mark("check links, related, totals");
            let hashes: Vec<render::PageHashes> = site
                .pages
                .iter()
                .map(|p| {
                    self.files
                        .get(&p.rel)
                        .map_or_else(Default::default, |f| f.hashes)
                })
                .collect();
            let values = Arc::new(render::SiteValues::new(&site, theme));
            (site, hashes, checker, link_diags, site_diags, values, None)
        };
        diags.extend(site_diags.iter().cloned());
        diags.extend(link_diags.iter().flatten().cloned());
        diagnostic::sort(&mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            // Keep what the fast path took, so the next edit can use it.
            if let Some(plan) = old_plan {
                self.last = Some(LastBuild {
                    site,
                    hashes,
                    plan,
                    checker,
                    link_diags,
                    site_diags,
                    values,
                });
            }
            return Err(Error::Diagnostics(diags));
        }

        // 6. Render what changed and write it.
        let templates = match &self.templates {
            Some(t) => Arc::clone(t),
            None => {
                let t = Arc::new(
                    render::Templates::compile(theme, &site.config)
                        .map_err(|d| Error::Diagnostics(vec![d]))?,
                );
                self.templates = Some(Arc::clone(&t));
                t
            }
        };
        let renderer = Renderer::from_parts(&site, theme, templates, Arc::clone(&values));
        // Cards keyed under another global state can never be used again.
        if self.cards_global != Some(renderer.global_fingerprint()) {
            self.cards.lock().unwrap_or_else(|e| e.into_inner()).clear();
            self.rows.clear();
            self.cards_global = Some(renderer.global_fingerprint());
        }
        let renderer = renderer
            .with_card_cache(&self.cards, &hashes)
            .with_row_cache(&self.rows, &hashes)
            .recording();
        timings.mark("prepare templates");
        let plan: Vec<Output> = match old_plan {
            // Same shape: same jobs and paths; only what they read can change.
            Some(old) => old,
            None => {
                let disk = self.on_disk();
                render::plan(&site)
                    .into_iter()
                    .map(|job| {
                        let path = job.output_path(&site);
                        match disk.get(path.as_str()) {
                            Some(o) => Output {
                                job,
                                path,
                                ..(*o).clone()
                            },
                            // Not on disk: never the same as what it reads.
                            None => Output {
                                job,
                                path,
                                reads: Arc::from(Vec::new()),
                                seen: 0,
                            },
                        }
                    })
                    .collect()
            }
        };
        let now_seen = renderer.read_values(&hashes);
        // In parallel: the site-wide files each read every case study.
        let dirty: Vec<render::Job> = plan
            .par_iter()
            .filter(|o| o.reads.is_empty() || now_seen.fingerprint(&o.reads) != o.seen)
            .map(|o| o.job)
            .collect();
        let gone: Vec<String> = if fast {
            Vec::new()
        } else {
            let now: HashSet<&str> = plan.iter().map(|o| o.path.as_str()).collect();
            self.on_disk()
                .keys()
                .filter(|k| !now.contains(*k))
                .map(|k| k.to_string())
                .collect()
        };
        timings.mark("plan and compare");
        if first {
            // Nothing on disk is known to this session: the folder is
            // emptied, which also gives room back after a full disk.
            if let Err(e) = write::clear(&self.out) {
                self.last = None;
                return Err(e);
            }
        }
        let written = match write::write_in_place(&site, &renderer, theme, &dirty, &self.out) {
            Ok(w) => w,
            Err(e) => {
                // Unknown what reached the disk: rewrite everything next time.
                self.last = None;
                return Err(e);
            }
        };
        let mut files_removed = 0;
        for g in &gone {
            if std::fs::remove_file(self.out.join(g)).is_ok() {
                files_removed += 1;
            }
        }
        let mut static_copied = 0;
        if theme_changed {
            static_copied = write::sync_statics(theme, &self.out)?;
        }
        if theme_changed || files_removed > 0 {
            // Old statics, pages of a previous session, emptied folders.
            let keep: HashSet<String> = plan
                .iter()
                .map(|o| o.path.clone())
                .chain(theme.statics.keys().cloned())
                .collect();
            files_removed += write::remove_stale(&self.out, &keep)?;
        }
        timings.mark("render and write");
        // What the rewritten outputs read this time.
        let read = renderer.take_reads();
        let plan: Vec<Output> = plan
            .into_par_iter()
            .map(|o| match read.get(&o.job) {
                Some(reads) => {
                    let reads: Arc<[Read]> = Arc::from(reads.as_slice());
                    Output {
                        seen: now_seen.fingerprint(&reads),
                        reads,
                        ..o
                    }
                }
                None => o,
            })
            .collect();
        drop(read);
        drop(now_seen);
        let mut rewritten: Vec<String> = dirty.iter().map(|j| j.output_path(&site)).collect();
        rewritten.sort();
        self.last_written = rewritten;
        drop(renderer);

        let elapsed = start.elapsed();
        let summary = first.then(|| {
            crate::BuildReport {
                timings: crate::Timings::default(),
                terms: site
                    .taxonomies
                    .iter()
                    .map(|t| (t.config.name.clone(), t.terms.len()))
                    .collect(),
                written: write::Written {
                    static_files: theme.statics.len(),
                    ..written.clone()
                },
                warnings: Vec::new(),
                output: self.out.clone(),
                elapsed,
                left_out: crate::LeftOut::of(
                    self.files.values().filter(|f| f.left_out).count(),
                    &site.pages,
                ),
            }
            .summary()
        });
        self.last = Some(LastBuild {
            site,
            hashes,
            plan,
            checker,
            link_diags,
            site_diags,
            values,
        });
        Ok(Rebuilt {
            changes: changes.describe(),
            pages_written: written.pages(),
            files_removed,
            static_copied,
            warnings: diags,
            elapsed,
            summary,
            timings,
        })
    }
}
