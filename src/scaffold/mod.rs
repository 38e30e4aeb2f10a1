//! `casebook new` and `casebook init`: files a writer fills in rather than
//! types from memory. A new case study has every field the site expects,
//! today's date, `draft: true`, and a short hint beside each field.

use std::path::{Path, PathBuf};

use crate::Error;
use crate::config::Config;
use crate::content::date::Date;
use crate::content::slug::slugify;
use crate::diagnostic::Diagnostic;

/// What `casebook new` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewKind {
    CaseStudy,
    Report,
}

impl NewKind {
    fn folder(self) -> &'static str {
        match self {
            NewKind::CaseStudy => "case-studies",
            NewKind::Report => "reports",
        }
    }
}

/// Values given on the command line for a new file.
#[derive(Debug, Clone, Default)]
pub struct NewFields {
    pub ngo: Option<String>,
    pub sector: Option<String>,
    pub program: Option<String>,
    pub country: Option<String>,
}

/// A YAML double-quoted string: safe for any text, including colons,
/// quotes and leading dashes.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `[Health, Mental Health]` from "Health, Mental Health".
fn quote_list(s: &str) -> String {
    let items: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(quote)
        .collect();
    format!("[{}]", items.join(", "))
}

/// A field line with its hint aligned in a column, as a writer would lay
/// it out by hand.
fn line(field: &str, value: &str, hint: &str) -> String {
    let left = format!("{field}: {value}");
    if hint.is_empty() {
        format!("{left}\n")
    } else {
        format!("{left:<32} # {hint}\n")
    }
}

/// The report file names (slugs) that exist, for the hint beside `report:`.
fn report_slugs(root: &Path) -> Vec<String> {
    let mut slugs: Vec<String> = std::fs::read_dir(root.join("content/reports"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".md") && !n.starts_with('_'))
        .map(|n| n.trim_end_matches(".md").to_string())
        .collect();
    slugs.sort();
    slugs
}

/// The text of a new case study or report.
pub fn new_text(
    kind: NewKind,
    title: &str,
    fields: &NewFields,
    config: &Config,
    reports: &[String],
    today: Date,
) -> String {
    let mut s = String::from("---\n");
    s.push_str("# Fill in the fields, then write below the second `---` line.\n");
    s.push_str("# When it is ready, change `draft: true` to `draft: false`.\n");
    s.push_str(&line("title", &quote(title), "the headline"));
    s.push_str(&line(
        "date",
        &today.iso_date(),
        "publication date, YYYY-MM-DD",
    ));
    let value = |v: &Option<String>, list: bool| match v {
        Some(v) if list => quote_list(v),
        Some(v) => quote(v),
        None if list => "[]".to_string(),
        None => "\"\"".to_string(),
    };
    match kind {
        NewKind::CaseStudy => {
            let known = ["ngo", "sector", "program", "country", "tags"];
            for t in &config.taxonomies {
                let (val, hint) = match t.field.as_str() {
                    "ngo" => (
                        value(&fields.ngo, false),
                        "the organisation, e.g. SHOFCO".to_string(),
                    ),
                    "sector" => (
                        value(&fields.sector, true),
                        "one or more, e.g. [Health, Mental Health]".to_string(),
                    ),
                    "program" => (
                        value(&fields.program, false),
                        "the programme, e.g. Fractional CxO".to_string(),
                    ),
                    "country" => (
                        value(&fields.country, false),
                        "e.g. Kenya; a list if several".to_string(),
                    ),
                    "tags" => (
                        "[]".to_string(),
                        "short labels, e.g. [dashboards, chatbots]".to_string(),
                    ),
                    other if !known.contains(&other) => {
                        ("[]".to_string(), format!("{} (one or a list)", t.singular))
                    }
                    _ => continue,
                };
                s.push_str(&line(&t.field, &val, &hint));
            }
            let report_hint = if reports.is_empty() {
                "optional: the file name of its report, without .md".to_string()
            } else {
                format!("optional: one of {}", reports.join(", "))
            };
            s.push_str(&line("report", "\"\"", &report_hint));
            s.push_str(&line(
                "summary",
                "\"\"",
                "one or two sentences for cards and search engines",
            ));
            s.push_str(&line(
                "outcomes",
                "[]",
                "optional numbers, written like this:",
            ));
            s.push_str("#  - metric: People reached\n#    value: 1200\n#    unit: people\n");
        }
        NewKind::Report => {
            s.push_str(&line(
                "authors",
                "[]",
                "who wrote it, e.g. [Asha Rao, Sam Otieno]",
            ));
            s.push_str(&line(
                "program",
                &value(&fields.program, false),
                "the programme it reviews",
            ));
            s.push_str(&line(
                "summary",
                "\"\"",
                "one or two sentences for cards and search engines",
            ));
        }
    }
    s.push_str(&line("draft", "true", "true keeps it off the site"));
    s.push_str("---\n\n");
    match kind {
        NewKind::CaseStudy => s.push_str(
            "Who the organisation is, in a sentence or two.\n\n## The challenge\n\nWhat problem were they facing?\n\n## What we tried\n\n## What changed\n\n## What we learned\n",
        ),
        NewKind::Report => s.push_str(
            "What this report covers.\n\n## The year in brief\n\n## What we learned\n\n## What comes next\n\nCase studies whose `report:` names this file appear below this text automatically.\n",
        ),
    }
    s
}

/// Creates `content/<folder>/<slug>.md` for a new case study or report and
/// returns its path. Never overwrites a file.
pub fn new_file(
    root: &Path,
    kind: NewKind,
    title: &str,
    fields: &NewFields,
    today: Date,
) -> Result<PathBuf, Error> {
    let config = Config::load(root).map_err(|d| Error::Diagnostics(vec![d]))?;
    let title = title.trim();
    let slug = slugify(title);
    if slug.is_empty() {
        return Err(Error::Diagnostics(vec![Diagnostic::error(
            "TITLE",
            format!("the title \"{title}\" has no letters or digits to make a file name from"),
        )]));
    }
    let rel = PathBuf::from("content")
        .join(kind.folder())
        .join(format!("{slug}.md"));
    let path = root.join(&rel);
    if path.exists() {
        return Err(Error::Diagnostics(vec![
            Diagnostic::error(
                rel.clone(),
                "this file already exists; casebook will not overwrite it",
            )
            .with_hint("open it to continue writing, or choose a different title"),
        ]));
    }
    let text = new_text(kind, title, fields, &config, &report_slugs(root), today);
    let dir = path.parent().expect("the path has a folder");
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // create_new: if another process made the file a moment ago, fail
    // rather than overwrite it.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, text.as_bytes()))
        .map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    Ok(rel)
}

/// The starter site `casebook init` writes: (path, contents).
pub const STARTER: &[(&str, &str)] = &[
    ("site.toml", include_str!("starter/site.toml")),
    (
        "content/_index.md",
        include_str!("starter/content/_index.md"),
    ),
    (
        "content/case-studies/shofco-data-culture.md",
        include_str!("starter/content/case-studies/shofco-data-culture.md"),
    ),
    (
        "content/case-studies/search-chatbot.md",
        include_str!("starter/content/case-studies/search-chatbot.md"),
    ),
    (
        "content/reports/year-in-review-2024.md",
        include_str!("starter/content/reports/year-in-review-2024.md"),
    ),
];

/// Creates a new site in `dir` (made if missing). Refuses a folder that
/// already has anything in it. Returns the files written.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::Diagnostics(vec![Diagnostic::error(
                dir.to_path_buf(),
                "this is a file, not a folder",
            )]));
        }
        let mut entries = std::fs::read_dir(dir).map_err(io(dir))?;
        if entries.next().is_some() {
            return Err(Error::Diagnostics(vec![
                Diagnostic::error(dir.to_path_buf(), "this folder is not empty; casebook init only writes into an empty or new folder")
                    .with_hint("run `casebook init my-site` to create a new folder"),
            ]));
        }
    }
    let mut written = Vec::new();
    for (rel, text) in STARTER {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(PathBuf::from(rel));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_hostile_titles() {
        for t in [
            "Plain",
            "A: colon",
            "\"quoted\"",
            "- dash",
            "back\\slash",
            "#hash",
            "multi\nline",
            "{x}",
        ] {
            let yaml = format!("title: {}\n", quote(t));
            let v: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
            assert_eq!(v["title"].as_str(), Some(t), "{yaml}");
        }
        assert_eq!(
            quote_list("Health, Mental Health"),
            "[\"Health\", \"Mental Health\"]"
        );
    }
}
