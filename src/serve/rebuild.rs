//! Incremental rebuilds for the preview server.
//!
//! A [`Session`] remembers what it parsed (one entry per source file) and
//! what it wrote (a fingerprint per output file). When files change it
//! re-reads only those, re-renders only the Markdown bodies that need it,
//! re-indexes the site (cheap), and rewrites only the output files whose
//! fingerprint changed. The result is the same bytes a clean
//! `casebook build` would write; tests hold it to that.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::config::Config;
use crate::content::{self, HeadResult, Page, Source};
use crate::diagnostic::{self, Diagnostic};
use crate::render::{self, Renderer, Theme};
use crate::{Error, index, validate, write};

/// What changed on disk since the last rebuild.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub config: bool,
    pub theme: bool,
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
                c.content.insert(r.to_string());
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
    hash: u64,
    /// Where `@/` links to this file go (None: an unpublished draft).
    target: Option<String>,
    page: Option<Arc<Page>>,
    diags: Vec<Diagnostic>,
    /// The `@/` files this page links to, so it is re-rendered when one of
    /// them appears, disappears or moves.
    links_to: Vec<String>,
}

/// What one rebuild did, for the line the terminal prints.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub changes: String,
    pub pages_written: usize,
    pub files_removed: usize,
    pub static_copied: usize,
    pub warnings: Vec<Diagnostic>,
    pub elapsed: Duration,
    /// The full build summary, on the first build.
    pub summary: Option<String>,
    pub timings: crate::Timings,
}

/// The preview server's memory of the site between rebuilds.
pub struct Session {
    root: PathBuf,
    out: PathBuf,
    base_url: String,
    drafts: bool,
    config: Option<Config>,
    theme: Option<Theme>,
    files: BTreeMap<String, FileState>,
    /// Output path -> fingerprint of what is on disk now (the last good build).
    written: HashMap<String, u64>,
    /// The output paths the last rebuild rewrote.
    last_written: Vec<String>,
    /// Cards rendered by earlier rebuilds (see `render::CardCache`).
    cards: render::CardCache,
    cards_global: Option<u64>,
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
    pub fn new(root: &Path, out: &Path, base_url: &str, drafts: bool) -> Session {
        Session {
            root: root.to_path_buf(),
            out: out.to_path_buf(),
            base_url: base_url.to_string(),
            drafts,
            config: None,
            theme: None,
            files: BTreeMap::new(),
            written: HashMap::new(),
            last_written: Vec::new(),
            cards: render::CardCache::default(),
            cards_global: None,
        }
    }

    pub fn output(&self) -> &Path {
        &self.out
    }

    /// The output files the last successful rebuild rewrote, sorted.
    pub fn last_written(&self) -> &[String] {
        &self.last_written
    }

    /// Reads one file under `content/` (relative path) as the loader would.
    fn read(&self, rel: &str) -> Option<Result<Source, Diagnostic>> {
        let path = self.root.join("content").join(rel);
        let meta = std::fs::metadata(&path).ok()?;
        if !meta.is_file() {
            return None;
        }
        if !rel.ends_with(".md") {
            return Some(Err(Diagnostic::warning(
                format!("content/{rel}"),
                "this file is not Markdown (.md) and is not published",
            )
            .with_hint(
                "put images and downloads in static/ and link to them as /images/name.png",
            )));
        }
        Some(content::read_source(rel.to_string(), &path))
    }

    /// Brings the session up to date with `changes` and writes what changed.
    /// On error the output folder is left as the last good build, and the
    /// diagnostics say why; the session still remembers the new state of the
    /// files, so the next rebuild starts from the disk as it is.
    pub fn rebuild(&mut self, changes: &Changes) -> Result<Rebuilt, Error> {
        let start = Instant::now();
        let mut timings = crate::Timings::default();
        let first = self.written.is_empty();

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
        if first || changes.theme || changes.statics || changes.config || self.theme.is_none() {
            match Theme::load(&self.root, &config) {
                Ok(t) => self.theme = Some(t),
                Err(d) => theme_diags = d,
            }
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
        let old_targets: HashMap<String, Option<String>> = self
            .files
            .iter()
            .map(|(k, v)| (k.clone(), v.target.clone()))
            .collect();
        let mut fresh: Vec<Source> = Vec::new();
        let unreadable = |d: Diagnostic| FileState {
            hash: 0,
            target: None,
            page: None,
            diags: vec![d],
            links_to: Vec::new(),
        };
        if full_content {
            self.files.clear();
            let (sources, diags) = content::load(&self.root.join("content"));
            for d in diags {
                let rel = diagnostic::display_path(&d.file);
                let rel = rel.strip_prefix("content/").unwrap_or(&rel).to_string();
                self.files.insert(rel, unreadable(d));
            }
            fresh = sources;
        } else {
            for rel in &changes.content {
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
        let tax_fields = content::taxonomy_fields(&config);
        let drafts = self.drafts;
        let parse = |sources: Vec<Source>| -> Vec<(u64, HeadResult)> {
            sources
                .into_par_iter()
                .map(|s| (hash_source(&s), content::parse_head(s, &tax_fields)))
                .collect()
        };
        let mut heads = parse(fresh);

        // Which `@/` targets appeared, vanished or moved...
        let mut targets: HashMap<String, Option<String>> = old_targets
            .iter()
            .filter(|(k, _)| self.files.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (_, h) in &heads {
            targets.insert(h.rel.clone(), h.link_target(drafts));
        }
        let moved: HashSet<&String> = targets
            .iter()
            .filter(|(k, v)| old_targets.get(*k) != Some(*v))
            .map(|(k, _)| k)
            .chain(old_targets.keys().filter(|k| !targets.contains_key(*k)))
            .collect();
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
            let again: Vec<Source> = relink
                .iter()
                .filter_map(|rel| self.read(rel))
                .filter_map(Result::ok)
                .collect();
            heads.extend(parse(again));
        }

        // 3. Render the bodies that need it.
        let map: HashMap<String, String> = targets
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let md = content::markdown_context(&config, &map);
        let states: Vec<(String, FileState)> = heads
            .into_par_iter()
            .map(|(hash, h)| {
                let target = h.link_target(drafts);
                let publish = h.is_published(drafts);
                let mut diags = h.diags;
                let (page, links_to) = match (publish, h.parsed) {
                    (true, Some(p)) => {
                        let (page, d) = content::render_body(p, &config, &md);
                        diags.extend(d);
                        diags.extend(validate::check_page(&page, &config));
                        let links = source_links(&page);
                        (Some(Arc::new(page)), links)
                    }
                    _ => (None, Vec::new()),
                };
                (
                    h.rel,
                    FileState {
                        hash,
                        target,
                        page,
                        diags,
                        links_to,
                    },
                )
            })
            .collect();
        self.files.extend(states);

        timings.mark("read and parse");

        // 4. Check the whole site.
        let pages: Vec<Arc<Page>> = self.files.values().filter_map(|f| f.page.clone()).collect();
        let mut diags: Vec<Diagnostic> = self
            .files
            .values()
            .flat_map(|f| f.diags.iter().cloned())
            .collect();
        // Each page's own checks ran when it was parsed; only what spans
        // pages runs every time.
        diags.extend(validate::check_site(&pages));
        let fallback;
        let theme = match (&self.theme, theme_diags.is_empty()) {
            (Some(t), true) => t,
            _ => {
                fallback = Theme::builtin();
                &fallback
            }
        };
        diags.extend(theme_diags);

        // 5. Index and check links (even when there are errors already, so
        // one rebuild reports every problem), render what changed, write it.
        let unreadable: Vec<String> = self
            .files
            .values()
            .filter(|f| f.page.is_none())
            .filter_map(|f| f.target.clone())
            .collect();
        timings.mark("validate");
        let site = index::index(config, pages);
        timings.mark("index");
        diags.extend(validate::check_links(&site, theme, &unreadable));
        diagnostic::sort(&mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(Error::Diagnostics(diags));
        }
        timings.mark("check links");
        let hashes: Vec<u64> = site
            .pages
            .iter()
            .map(|p| self.files.get(&p.rel).map_or(0, |f| f.hash))
            .collect();
        let renderer = Renderer::new(&site, theme).map_err(|d| Error::Diagnostics(vec![d]))?;
        // Cards keyed under another global state can never be used again.
        if self.cards_global != Some(renderer.global_fingerprint()) {
            self.cards.lock().unwrap_or_else(|e| e.into_inner()).clear();
            self.cards_global = Some(renderer.global_fingerprint());
        }
        let renderer = renderer.with_card_cache(&self.cards, &hashes);
        timings.mark("prepare templates");
        let jobs = render::plan(&site);
        let mut now: HashMap<String, u64> = HashMap::with_capacity(jobs.len());
        let mut dirty = Vec::new();
        for job in &jobs {
            let path = job.output_path(&site);
            let fp = renderer.fingerprint(job, &hashes);
            if self.written.get(&path) != Some(&fp) {
                dirty.push(*job);
            }
            now.insert(path, fp);
        }
        timings.mark("plan and compare");
        let written = match write::write_in_place(&site, &renderer, theme, &dirty, &self.out) {
            Ok(w) => w,
            Err(e) => {
                // Unknown what reached the disk: rewrite everything next time.
                self.written.clear();
                return Err(e);
            }
        };
        let mut files_removed = 0;
        for gone in self.written.keys().filter(|k| !now.contains_key(*k)) {
            if std::fs::remove_file(self.out.join(gone)).is_ok() {
                files_removed += 1;
            }
        }
        let mut static_copied = 0;
        if first || changes.statics || changes.theme || changes.config {
            static_copied = write::sync_statics(theme, &self.out)?;
        }
        if first || changes.statics || changes.theme || changes.config || files_removed > 0 {
            // Old statics, pages of a previous session, emptied folders.
            let keep: HashSet<String> = now
                .keys()
                .cloned()
                .chain(theme.statics.keys().cloned())
                .collect();
            files_removed += write::remove_stale(&self.out, &keep)?;
        }
        timings.mark("render and write");
        let mut rewritten: Vec<String> = dirty.iter().map(|j| j.output_path(&site)).collect();
        rewritten.sort();
        self.last_written = rewritten;
        self.written = now;

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
            }
            .summary()
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
