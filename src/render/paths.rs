//! Where every output file goes, checked before anything is written, so
//! that `casebook check` fails wherever `casebook build` would: two outputs
//! on one path (an alias `/index.html` over the home page, a page
//! `slug: explore` over the explorer), a file where another output needs a
//! folder (`slug: index.html` under `case-studies/`, an alias `/atom.xml/`),
//! and names longer than a file system takes. Each problem names the source
//! file behind it, never a temporary folder.

use std::collections::{BTreeMap, HashSet};

use super::theme::{StaticSource, Theme};
use super::{Job, plan};
use crate::diagnostic::Diagnostic;
use crate::index::Site;

/// The longest name one part of an output path may have, in bytes. File
/// systems take 255; the preview server writes each file beside itself
/// under a longer temporary name first (`.name.casebook-tmp-PID`).
pub const MAX_SEGMENT: usize = 200;

/// What made an output, to name in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// A source file: the page, an alias of it, or a term on it.
    Source {
        file: String,
        /// The front-matter key at fault (`slug`, `aliases`, `tags`).
        key: Option<String>,
        /// The value at fault under that key, to point at (an alias).
        value: Option<String>,
        /// How the output is named: "the page", "the alias /x/", "the tag \"C\"".
        what: String,
    },
    /// A file copied from `static/` or a theme.
    Static(String),
    /// Something every site has: the home page, a feed, the explorer.
    Builtin,
}

impl Origin {
    fn describe(&self, path: &str) -> String {
        match self {
            Origin::Source { file, what, .. } => format!("{what} of {file}"),
            Origin::Static(shown) => shown.clone(),
            Origin::Builtin => format!("casebook's own /{}", path.trim_end_matches("index.html")),
        }
    }
}

fn origin(site: &Site, job: &Job) -> Origin {
    match *job {
        Job::Page(i) => {
            let p = &site.pages[i];
            Origin::Source {
                file: p.file.clone(),
                key: p
                    .front_matter
                    .key_lines
                    .contains_key("slug")
                    .then(|| "slug".into()),
                value: None,
                what: "the page".into(),
            }
        }
        Job::Alias { page, n } => {
            let p = &site.pages[page];
            Origin::Source {
                file: p.file.clone(),
                key: Some("aliases".into()),
                value: Some(p.aliases[n].clone()),
                what: format!("the alias {}", p.aliases[n]),
            }
        }
        Job::Term { tax, term, .. } | Job::TermFeed { tax, term } => {
            let t = &site.taxonomies[tax];
            let tm = &t.terms[term];
            // The first file, by name, that uses the term.
            let file = tm
                .pages
                .iter()
                .map(|&i| &site.pages[i].file)
                .min()
                .cloned()
                .unwrap_or_default();
            Origin::Source {
                file,
                key: Some(t.config.field.clone()),
                value: Some(tm.name.clone()),
                what: format!("the {} \"{}\"", t.config.singular.to_lowercase(), tm.name),
            }
        }
        _ => Origin::Builtin,
    }
}

/// The diagnostic for a problem of `origin`'s, at its key's line when the
/// source file says where that is.
fn at(site: &Site, origin: &Origin, message: String, hint: &str) -> Diagnostic {
    let (file, key, value) = match origin {
        Origin::Source {
            file, key, value, ..
        } => (file.clone(), key.as_deref(), value.as_deref()),
        Origin::Static(shown) => (shown.clone(), None, None),
        Origin::Builtin => ("site.toml".into(), None, None),
    };
    let mut d = Diagnostic::error(file.clone(), message).with_hint(hint.to_string());
    if let Some(key) = key
        && let Some(page) = site.pages.iter().find(|p| p.file == file)
        && let Some(&line) = page.front_matter.key_lines.get(key)
    {
        d = match value {
            Some(v) => {
                let (l, c) = crate::text::find_value(&page.head, line, v);
                d.at(&page.head, l, c).with_width(v.chars().count())
            }
            None => d.at(&page.head, line, 1),
        };
    }
    d
}

/// What writes an output: a job of the plan, or a static file.
#[derive(Clone, Copy)]
enum Writer<'a> {
    Job(Job),
    Static(&'a str, &'a StaticSource),
}

/// Every problem with where the site's outputs would be written. `site`
/// still holds its pages' front matter (before `Site::without_sources`);
/// `root` is the site's folder, to name static files by.
pub fn check(site: &Site, theme: &Theme, root: &std::path::Path) -> Vec<Diagnostic> {
    // Each output's path and what writes it; what that is in words is only
    // worked out for the few that have a problem.
    let mut all: Vec<(String, Writer)> = plan(site)
        .into_iter()
        .map(|job| (job.output_path(site), Writer::Job(job)))
        .collect();
    all.extend(
        theme
            .statics
            .iter()
            .map(|(rel, src)| (rel.clone(), Writer::Static(rel, src))),
    );
    all.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let long = |p: &str| p.split('/').any(|s| s.len() > MAX_SEGMENT);
    let mut suspects: HashSet<&str> = HashSet::new();
    for w in all.windows(2) {
        if w[0].0 == w[1].0 {
            suspects.insert(&w[0].0);
        }
    }
    let files: HashSet<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for (p, _) in &all {
        if long(p) {
            suspects.insert(p);
        }
        let mut at = 0;
        while let Some(i) = p[at..].find('/') {
            if files.contains(&p[..at + i]) {
                suspects.insert(p);
                suspects.insert(&p[..at + i]);
            }
            at += i + 1;
        }
    }
    if suspects.is_empty() {
        return Vec::new();
    }
    let describe = |w: &Writer| match w {
        Writer::Job(job) => origin(site, job),
        Writer::Static(rel, StaticSource::File(path)) => {
            Origin::Static(path.strip_prefix(root).map_or_else(
                |_| format!("static/{rel}"),
                |p| p.to_string_lossy().replace('\\', "/"),
            ))
        }
        Writer::Static(_, StaticSource::Builtin(_)) => Origin::Builtin,
    };
    let mut outputs: BTreeMap<String, Vec<Origin>> = BTreeMap::new();
    let mut statics: BTreeMap<String, Origin> = BTreeMap::new();
    for (path, w) in all.iter().filter(|(p, _)| suspects.contains(p.as_str())) {
        match w {
            Writer::Job(_) => outputs.entry(path.clone()).or_default().push(describe(w)),
            Writer::Static(..) => {
                statics.insert(path.clone(), describe(w));
            }
        }
    }

    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut said: HashSet<(String, String)> = HashSet::new();
    let mut say = |d: Diagnostic| {
        if said.insert((d.file.display().to_string(), d.message.clone())) {
            diags.push(d);
        }
    };
    // Names too long for a file system.
    for (path, origins) in outputs
        .iter()
        .map(|(p, o)| (p, o.as_slice()))
        .chain(statics.iter().map(|(p, o)| (p, std::slice::from_ref(o))))
    {
        if let Some(seg) = path.split('/').find(|s| s.len() > MAX_SEGMENT) {
            for o in origins.iter().filter(|o| **o != Origin::Builtin) {
                say(at(
                    site,
                    o,
                    format!(
                        "{} would be written under a name of {} bytes (\"{}…\"); casebook allows {MAX_SEGMENT}, file systems 255",
                        o.describe(path),
                        seg.len(),
                        seg.chars().take(40).collect::<String>()
                    ),
                    "make it shorter",
                ));
            }
        }
    }
    // Two outputs on one path. Two pages claiming one URL are reported by
    // `validate::check_site` already. A redirect never takes the place of
    // a real page: when an alias meets anything else, the alias is at fault.
    let is_alias = |o: &Origin| matches!(o, Origin::Source { key: Some(k), .. } if k == "aliases");
    let is_page = |o: &Origin| matches!(o, Origin::Source { what, .. } if what == "the page");
    for (path, origins) in &outputs {
        if origins.len() < 2 || origins.iter().all(is_page) {
            continue;
        }
        let some_alias = origins.iter().any(is_alias);
        let blamed = |o: &&Origin| {
            **o != Origin::Builtin && (!some_alias || is_alias(o) || origins.iter().all(is_alias))
        };
        for o in origins.iter().filter(blamed) {
            let message = match o {
                Origin::Source {
                    value: Some(alias), ..
                } if is_alias(o) => {
                    let other = origins
                        .iter()
                        .find(|x| *x != o)
                        .map_or_else(String::new, |x| match x {
                            Origin::Source { file, .. } => file.clone(),
                            _ => "a page casebook makes".into(),
                        });
                    format!("alias `{alias}` would replace /{path}, which belongs to {other}")
                }
                _ => {
                    let others: Vec<String> = origins
                        .iter()
                        .filter(|x| *x != o)
                        .map(|x| x.describe(path))
                        .collect();
                    format!(
                        "{} would be written to /{path}, where {} is written",
                        o.describe(path),
                        others.join(" and ")
                    )
                }
            };
            say(at(site, o, message, "choose another slug, alias or name"));
        }
    }
    // A static file where an output is written: the static file wins, as
    // a theme's stylesheet can be replaced, but it is said.
    for (path, o) in &statics {
        if let (Some(origins), Origin::Static(shown)) = (outputs.get(path), o) {
            let what = origins[0].describe(path);
            say(
                Diagnostic::warning(shown.clone(), format!("this file replaces {what}"))
                    .with_hint("rename it if that is not what you meant"),
            );
        }
    }
    // A file where another output needs a folder: `atom.xml` and
    // `atom.xml/index.html`.
    let files: BTreeMap<&str, &[Origin]> = outputs
        .iter()
        .map(|(p, o)| (p.as_str(), o.as_slice()))
        .chain(
            statics
                .iter()
                .map(|(p, o)| (p.as_str(), std::slice::from_ref(o))),
        )
        .collect();
    for (path, origins) in &files {
        let mut prefix = String::new();
        for seg in path
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            prefix.push_str(seg);
            if let Some(file_origins) = files.get(prefix.as_str()) {
                // Report it on whichever side a writer can change.
                let (culprits, other, other_path) = if origins.iter().all(|o| *o == Origin::Builtin)
                {
                    (*file_origins, &origins[0], *path)
                } else {
                    (*origins, &file_origins[0], prefix.as_str())
                };
                for o in culprits.iter().filter(|o| **o != Origin::Builtin) {
                    say(at(
                        site,
                        o,
                        format!(
                            "{} would need /{prefix} to be a folder, but {} is the file /{}",
                            o.describe(path),
                            other.describe(other_path),
                            prefix
                        ),
                        "choose another slug, alias or name",
                    ));
                }
            }
            prefix.push('/');
        }
    }
    diags
}
