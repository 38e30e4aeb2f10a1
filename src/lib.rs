//! casebook: a static site generator for sector learning reports and NGO
//! case studies.
//!
//! The library is what the `casebook` command runs, and can be driven the
//! same way by other programs:
//!
//! - [`build`] a site into its output folder, with [`BuildOptions`], and get
//!   a [`BuildReport`];
//! - [`check`] it without writing anything, and get a [`CheckReport`];
//! - [`serve::serve`] a live preview, or drive its rebuilds yourself with a
//!   [`serve::Session`];
//! - [`scaffold::init`] a new site, or [`scaffold::new_file`] a new case study
//!   or report.
//!
//! ```no_run
//! let report = casebook::build(&casebook::BuildOptions::new("my-site"))?;
//! println!("{}", report.summary());
//! # Ok::<(), casebook::Error>(())
//! ```
//!
//! Inside, the library is one pipeline, each stage taking owned values and
//! returning new ones:
//!
//! ```text
//! config::load -> content::load -> content::parse -> validate -> index -> render -> write
//! ```
//!
//! It never prints: problems come back as [`Diagnostic`]s inside an
//! [`Error`] typed by its cause, and the CLI in `main.rs` decides how to
//! show them and which exit code to use.

// A Diagnostic (file, position, message, hint, the quoted line) is returned
// by value from the functions that find problems; they are rare and built
// once, so the size of the error variant does not matter.
#![allow(clippy::result_large_err)]
#![warn(missing_docs)]

pub mod budget;
pub(crate) mod config;
pub(crate) mod content;
pub mod diagnostic;
pub(crate) mod images;
pub(crate) mod index;
pub(crate) mod render;
pub mod scaffold;
pub mod serve;
pub(crate) mod text;
pub(crate) mod validate;
pub(crate) mod write;

/// The parsers the fuzz targets in `fuzz/` drive directly. Not an API:
/// it changes whenever the parsers do.
#[doc(hidden)]
pub mod fuzzing {
    #[doc(hidden)]
    pub use crate::content::markdown::{MarkdownContext, render};
    #[doc(hidden)]
    pub use crate::content::slug::{check_segment, slugify};
    #[doc(hidden)]
    pub use crate::content::{front_matter, simple_yaml, source_from_bytes};
}

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use diagnostic::{Diagnostic, Severity};
pub use render::OutputKind;
pub use write::{Written, remove_output};

pub(crate) use config::Config;
pub(crate) use index::Site;

/// Everything that can stop a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the site's files (content, site.toml, templates). Holds
    /// every problem found, errors and warnings, sorted by file and line.
    #[error("{}", diagnostic::summary(.0))]
    Diagnostics(Vec<Diagnostic>),
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// Why.
        source: std::io::Error,
    },
    /// The preview server could not listen on its address (the port is
    /// taken, or the address is not this machine's).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address it tried.
        addr: std::net::SocketAddr,
        #[source]
        /// Why it could not.
        source: std::io::Error,
    },
    /// The preview server could not watch the site's files for changes.
    #[error("cannot watch {} for changes: {message}", .path.display())]
    Watch {
        /// The folder it tried to watch.
        path: PathBuf,
        /// What the watcher said.
        message: String,
    },
}

/// What `casebook build` is asked to do.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site's folder (where site.toml is).
    pub root: PathBuf,
    /// Where to write; relative paths are relative to `root`.
    pub output: PathBuf,
    /// Overrides `base_url` in site.toml.
    pub base_url: Option<String>,
    /// Publish pages marked `draft: true`.
    pub drafts: bool,
    /// Only check: skip making HTML that nothing will write.
    pub check_only: bool,
}

impl BuildOptions {
    /// Options to build the site at `root` into `root/public`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        BuildOptions {
            root: root.into(),
            output: PathBuf::from("public"),
            base_url: None,
            drafts: false,
            check_only: false,
        }
    }

    /// The output folder, resolved against the root.
    pub fn output_dir(&self) -> PathBuf {
        if self.output.is_absolute() {
            self.output.clone()
        } else {
            self.root.join(&self.output)
        }
    }
}

/// What a successful build did.
#[derive(Debug)]
pub struct BuildReport {
    /// How long each stage took.
    pub timings: Timings,
    /// How many files of each kind were written.
    pub written: write::Written,
    /// (taxonomy name, number of terms), in site order.
    pub terms: Vec<(String, usize)>,
    /// Warnings found on the way (a build with errors does not finish).
    pub warnings: Vec<Diagnostic>,
    /// The output folder written.
    pub output: PathBuf,
    /// How long the whole build took.
    pub elapsed: Duration,
    /// Pages and photos left out because their consent has ended, was
    /// withdrawn or is missing where site.toml requires it.
    pub left_out: LeftOut,
}

/// What consent kept out of a build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeftOut {
    /// Pages (case studies, reports) left out.
    pub pages: usize,
    /// Photo files left out.
    pub photos: usize,
}

impl LeftOut {
    /// `pages` left out, and the distinct photos the published `shown`
    /// pages' consent records leave out.
    pub(crate) fn of(pages: usize, shown: &[std::sync::Arc<content::Page>]) -> LeftOut {
        let photos: std::collections::BTreeSet<&String> = shown
            .iter()
            .flat_map(|p| p.photos_left_out.iter())
            .collect();
        LeftOut {
            pages,
            photos: photos.len(),
        }
    }
}

impl BuildReport {
    /// One line a person can read: pages by kind, terms per taxonomy, time.
    pub fn summary(&self) -> String {
        let w = &self.written;
        let parts: Vec<String> = w
            .by_kind
            .iter()
            .filter_map(|(kind, &n)| kind.counted(n))
            .collect();
        let terms: Vec<String> = self.terms.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let left_out = match (self.left_out.pages, self.left_out.photos) {
            (0, 0) => String::new(),
            (pages, photos) => {
                let mut what = Vec::new();
                if pages > 0 {
                    what.push(format!(
                        "{pages} case {}",
                        if pages == 1 { "study" } else { "studies" }
                    ));
                }
                if photos > 0 {
                    what.push(format!(
                        "{photos} photo{}",
                        if photos == 1 { "" } else { "s" }
                    ));
                }
                format!("; left out for consent: {}", what.join(", "))
            }
        };
        format!(
            "Built {} files ({}), terms: {}; {} static files{left_out} in {} ms",
            w.pages(),
            parts.join(", "),
            if terms.is_empty() {
                "none".into()
            } else {
                terms.join(", ")
            },
            w.static_files,
            self.elapsed.as_millis()
        )
    }
}

/// The result of loading and checking a site, before anything is rendered.
pub(crate) struct Loaded {
    pub(crate) site: Site,
    pub(crate) theme: render::Theme,
    /// Photo copies and clean originals the output needs.
    pub(crate) photos: images::ToMake,
    pub(crate) left_out: LeftOut,
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) timings: Timings,
}

/// What `casebook check` found in a site with no errors.
pub struct CheckReport {
    /// Warnings, sorted by file and line.
    pub warnings: Vec<Diagnostic>,
    /// How long each stage took.
    pub timings: Timings,
    site: Site,
}

impl CheckReport {
    /// How many case studies the site publishes.
    pub fn case_studies(&self) -> usize {
        self.site.case_studies.len()
    }

    /// How many reports the site publishes.
    pub fn reports(&self) -> usize {
        self.site.reports.len()
    }
}

/// How long each stage took, for `casebook build --timings`.
#[derive(Debug, Clone)]
pub struct Timings {
    last: Instant,
    /// Each stage and how long it took, in order.
    pub stages: Vec<(&'static str, Duration)>,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            last: Instant::now(),
            stages: Vec::new(),
        }
    }
}

impl Timings {
    /// Records the time since the previous mark under `stage`.
    pub fn mark(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.stages.push((stage, now - self.last));
        self.last = now;
    }
}

/// Runs `load -> parse -> validate -> index`: everything up to rendering.
/// Fails with every problem found if any of them is an error.
pub(crate) fn load(opts: &BuildOptions) -> Result<Loaded, Error> {
    let mut config = Config::load(&opts.root).map_err(|d| Error::Diagnostics(vec![d]))?;
    if let Some(url) = &opts.base_url {
        config = config
            .with_base_url(url)
            .map_err(|d| Error::Diagnostics(vec![d]))?;
    }
    let mut timings = Timings::default();
    let (sources, assets, mut diags) = content::load(&opts.root);
    timings.mark("read");
    // The theme first: its static files (and the site's) are where photos
    // in the text may be.
    let mut theme = match render::Theme::load(&opts.root, &config) {
        Ok((t, warnings)) => {
            diags.extend(warnings);
            t
        }
        Err(d) => {
            diags.extend(d);
            render::Theme::stand_in()
        }
    };
    let parsed = content::parse_with(
        sources,
        &assets,
        &theme.statics,
        &config,
        opts.drafts,
        !opts.check_only,
    );
    let pages = parsed.pages;
    timings.mark("parse");
    diags.extend(parsed.diags);
    diags.extend(validate::validate(&pages, &config, &parsed.draft_reports));
    let (photos, photo_diags) = images::publish(
        &opts.root,
        &config,
        &parsed.catalogue,
        &pages,
        &assets,
        &mut theme.statics,
    );
    diags.extend(photo_diags);
    let left_out = LeftOut::of(parsed.left_out, &pages);
    // Links can only be checked against the whole, indexed site; they are
    // checked even when other files have errors, so one run reports all.
    let site = index::index(config, pages);
    timings.mark("validate and index");
    // The links are checked beside the work only rendering needs: the
    // checks run on one core.
    let (links, found) = rayon::join(
        || {
            let mut d = validate::check_links(&site, &theme, &parsed.unreadable);
            d.extend(render::paths::check(&site, &theme, &opts.root));
            d
        },
        || (!opts.check_only).then(|| site.discover()),
    );
    diags.extend(links);
    let site = match found {
        Some(found) => site.with(found),
        None => site,
    };
    timings.mark("check links, related, totals");
    diagnostic::sort(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Error::Diagnostics(diags));
    }
    Ok(Loaded {
        site,
        theme,
        photos,
        left_out,
        warnings: diags,
        timings,
    })
}

/// Builds the site into its output folder, replacing what was there only if
/// the whole build succeeds.
pub fn build(opts: &BuildOptions) -> Result<BuildReport, Error> {
    let start = Instant::now();
    let out = opts.output_dir();
    write::check_output_dir(&opts.root, &out).map_err(|d| Error::Diagnostics(vec![d]))?;
    let Loaded {
        site,
        theme,
        photos,
        left_out,
        warnings,
        mut timings,
    } = load(opts)?;
    let problems = images::make(&opts.root, &photos, site.config.images.quality);
    if !problems.is_empty() {
        let mut all = warnings;
        all.extend(problems);
        diagnostic::sort(&mut all);
        return Err(Error::Diagnostics(all));
    }
    timings.mark("photos");
    let site = site.without_sources();
    let renderer = render::Renderer::new(&site, &theme).map_err(|d| Error::Diagnostics(vec![d]))?;
    let jobs = render::plan(&site);
    timings.mark("prepare templates");
    let written = write::write_site(&site, &renderer, &theme, &jobs, &out)?;
    timings.mark("render and write");
    drop(renderer);
    let terms = site
        .taxonomies
        .iter()
        .map(|t| (t.config.name.clone(), t.terms.len()))
        .collect();
    // Freeing a large site takes a noticeable moment; nobody waits for it.
    std::thread::spawn(move || drop(site));
    Ok(BuildReport {
        timings,
        written,
        terms,
        warnings,
        output: out,
        elapsed: start.elapsed(),
        left_out,
    })
}

/// Runs every check a build runs, writing nothing: loads and checks the
/// site as a build does, then compiles the theme's templates and renders
/// every output into nothing, so that a template that does not compile or
/// fails on some page is found here and not by `build`. The site is loaded
/// as for a build (`opts.check_only` is not looked at).
pub fn check(opts: &BuildOptions) -> Result<CheckReport, Error> {
    use rayon::prelude::*;
    let opts = BuildOptions {
        check_only: false,
        ..opts.clone()
    };
    let loaded = load(&opts)?;
    let renderer = render::Renderer::new(&loaded.site, &loaded.theme)
        .map_err(|d| Error::Diagnostics(vec![d]))?;
    let jobs = render::plan(&loaded.site);
    let mut problems: Vec<Diagnostic> = jobs
        .par_iter()
        .filter_map(|job| {
            let mut out = Vec::new();
            match renderer.render(job, &loaded.theme, &mut out) {
                Err(render::RenderError::Template(d)) => Some(d),
                _ => None,
            }
        })
        .collect();
    drop(renderer);
    // One broken template fails every page that uses it: said once.
    diagnostic::sort(&mut problems);
    problems.dedup();
    if problems.is_empty() {
        return Ok(CheckReport {
            warnings: loaded.warnings,
            timings: loaded.timings,
            site: loaded.site,
        });
    }
    let mut all = loaded.warnings;
    all.extend(problems);
    diagnostic::sort(&mut all);
    Err(Error::Diagnostics(all))
}

/// Builds the site into a scratch folder and weighs every page as a phone
/// would load it (see [`budget`]); the scratch folder is removed after. A
/// site with errors fails as `build` does.
pub fn budget(opts: &BuildOptions) -> Result<budget::BudgetReport, Error> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let scratch = std::env::temp_dir().join(format!(
        "casebook-budget-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mut o = opts.clone();
    o.output = scratch.clone();
    let built = build(&o);
    let result = built.and_then(|_| {
        let mut config = Config::load(&opts.root).map_err(|d| Error::Diagnostics(vec![d]))?;
        if let Some(url) = &opts.base_url {
            config = config
                .with_base_url(url)
                .map_err(|d| Error::Diagnostics(vec![d]))?;
        }
        Ok(budget::weigh(&scratch, &config))
    });
    let _ = write::remove_output(&scratch);
    result
}

/// The site root given on the command line; without one, the nearest
/// folder holding a `site.toml`, from the current folder up, as cargo and
/// git find theirs (so commands work from inside `content/`); failing
/// that, the current folder, whose missing site.toml is then the error.
pub fn root_or_cwd(root: Option<&Path>) -> PathBuf {
    if let Some(root) = root {
        return root.to_path_buf();
    }
    let here = PathBuf::from(".");
    let Ok(cwd) = std::env::current_dir() else {
        return here;
    };
    match cwd.ancestors().find(|dir| dir.join(config::FILE).is_file()) {
        Some(dir) if dir == cwd => here,
        Some(dir) => dir.to_path_buf(),
        None => here,
    }
}

/// The most memory this process has held at once, where the system tells
/// (Linux: `VmHWM` in /proc/self/status).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
