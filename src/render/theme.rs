//! The theme: templates and static files, from the built-in default theme
//! (compiled into the binary, so a site needs no `themes/` folder) with a
//! site's own theme folder laid over it file by file, and the site's
//! `static/` over both.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::content::files;
use crate::diagnostic::Diagnostic;

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../themes/default/templates/", $name)))),*]
    };
}

/// The default theme's templates, compiled in.
pub const BUILTIN_TEMPLATES: &[(&str, &str)] = builtin!(
    "base.html",
    "components.html",
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
);

/// The default theme's static files, compiled in.
pub const BUILTIN_STATIC: &[(&str, &[u8])] = &[
    (
        "style.css",
        include_bytes!("../../themes/default/static/style.css"),
    ),
    (
        "favicon.svg",
        include_bytes!("../../themes/default/static/favicon.svg"),
    ),
    (
        "explore.js",
        include_bytes!("../../themes/default/static/explore.js"),
    ),
    (
        "print.js",
        include_bytes!("../../themes/default/static/print.js"),
    ),
    (
        "favicon.ico",
        include_bytes!("../../themes/default/static/favicon.ico"),
    ),
];

#[derive(Debug, Clone)]
pub struct TemplateSource {
    pub source: String,
    /// Where it came from, for messages: a path, or "the built-in theme".
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticSource {
    Builtin(&'static [u8]),
    File(PathBuf),
}

#[derive(Debug, Clone, Default)]
pub struct Theme {
    pub templates: BTreeMap<String, TemplateSource>,
    /// Output path (relative to the output folder) -> where its bytes are.
    pub statics: BTreeMap<String, StaticSource>,
    /// The built-in theme standing in for a site's theme that could not be
    /// loaded: its static files are not known, so links to them are not
    /// reported missing (the theme's own error says what is wrong).
    pub stand_in: bool,
}

impl Theme {
    pub fn builtin() -> Theme {
        let templates = BUILTIN_TEMPLATES
            .iter()
            .map(|(n, s)| {
                (
                    n.to_string(),
                    TemplateSource {
                        source: s.to_string(),
                        origin: format!("built-in theme: templates/{n}"),
                    },
                )
            })
            .collect();
        let statics = BUILTIN_STATIC
            .iter()
            .map(|(n, b)| (n.to_string(), StaticSource::Builtin(b)))
            .collect();
        Theme {
            templates,
            statics,
            stand_in: false,
        }
    }

    /// The built-in theme in place of a site's theme that failed to load.
    pub fn stand_in() -> Theme {
        Theme {
            stand_in: true,
            ..Theme::builtin()
        }
    }

    /// The built-in theme, overlaid with `themes/<theme>/` if site.toml names
    /// one, and with the site's `static/`; with its warnings (a special
    /// file passed over), or every problem if any is an error.
    pub fn load(root: &Path, config: &Config) -> Result<(Theme, Vec<Diagnostic>), Vec<Diagnostic>> {
        let mut theme = Theme::builtin();
        let mut diags = Vec::new();
        let real_root = files::real_root(root);
        if let Some(name) = &config.theme {
            let dir = root.join("themes").join(name);
            if !dir.is_dir() {
                if name != "default" {
                    return Err(vec![Diagnostic::error(
                        "site.toml",
                        format!("theme \"{name}\" not found: there is no folder themes/{name}/"),
                    )
                    .with_hint("remove the `theme` line to use the built-in theme, or create the folder")]);
                }
            } else {
                let tdir = dir.join("templates");
                let shown = format!("themes/{name}/templates");
                for (rel, path) in files_under(&tdir, &real_root, &shown, &mut diags) {
                    let shown = format!("themes/{name}/templates/{rel}");
                    match std::fs::read(&path).map(String::from_utf8) {
                        Ok(Ok(source)) => {
                            theme.templates.insert(
                                rel,
                                TemplateSource {
                                    source,
                                    origin: shown,
                                },
                            );
                        }
                        Ok(Err(_)) => diags.push(Diagnostic::error(
                            shown,
                            "this template is not valid UTF-8 text",
                        )),
                        Err(e) => diags.push(Diagnostic::error(shown, format!("cannot read: {e}"))),
                    }
                }
                let shown = format!("themes/{name}/static");
                for (rel, path) in files_under(&dir.join("static"), &real_root, &shown, &mut diags)
                {
                    theme.statics.insert(rel, StaticSource::File(path));
                }
            }
        }
        for (rel, path) in files_under(&root.join("static"), &real_root, "static", &mut diags) {
            theme.statics.insert(rel, StaticSource::File(path));
        }
        if diags.iter().any(Diagnostic::is_error) {
            Err(diags)
        } else {
            Ok((theme, diags))
        }
    }

    /// Where a template came from, for messages.
    pub fn origin(&self, template: &str) -> String {
        self.templates
            .get(template)
            .map_or_else(|| format!("templates/{template}"), |t| t.origin.clone())
    }

    /// The bytes of a static file, read if it is on disk.
    pub fn static_bytes(&self, rel: &str) -> Option<Cow<'static, [u8]>> {
        match self.statics.get(rel)? {
            StaticSource::Builtin(b) => Some(Cow::Borrowed(b)),
            StaticSource::File(p) => std::fs::read(p).ok().map(Cow::Owned),
        }
    }

    /// The URL of a static file with a version from its content, so a CDN or
    /// browser cache never serves a stale copy after a deploy.
    pub fn asset_url(&self, config: &Config, rel: &str) -> String {
        match self.static_bytes(rel) {
            Some(bytes) => format!("{}?v={}", config.url(rel), &content_hash(&bytes)[..10]),
            None => config.url(rel),
        }
    }
}

/// FNV-1a, 64-bit, as hex: stable across platforms and Rust versions, which
/// std's hasher does not promise.
pub fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Files below `dir` as (relative path with `/`, full path), sorted; hidden
/// files and editor droppings are skipped, and so is anything leading out
/// of the site (see [`crate::content::files`]).
fn files_under(
    dir: &Path,
    root: &Path,
    shown: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(String, PathBuf)> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let (found, problems) = files::walk(dir, root, shown);
    diags.extend(problems);
    found
        .into_iter()
        .filter(|f| !f.rel.ends_with('~') && !f.rel.ends_with(".swp"))
        .map(|f| (f.rel, f.path))
        .collect()
}
