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
    /// A case study, in `content/case-studies/`.
    CaseStudy,
    /// A report, in `content/reports/`.
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
    /// The NGO (`--ngo`).
    pub ngo: Option<String>,
    /// The sector (`--sector`).
    pub sector: Option<String>,
    /// The programme (`--program`).
    pub program: Option<String>,
    /// The country (`--country`).
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

/// The published reports' file names (slugs), for the hint beside
/// `report:`: a draft report is not one a case study can name yet.
fn report_slugs(root: &Path) -> Vec<String> {
    let mut slugs: Vec<String> = std::fs::read_dir(root.join("content/reports"))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(|n| (n.to_string(), e.path())))
        .filter(|(n, _)| n.ends_with(".md") && !n.starts_with('_'))
        .filter(|(n, path)| {
            let head = crate::content::read_source(format!("reports/{n}"), path)
                .map(|src| crate::content::parse_head(src, &[]));
            !matches!(head, Ok(h) if h.parsed.as_ref().is_some_and(|p| p.fm.draft))
        })
        .map(|(n, _)| n.trim_end_matches(".md").to_string())
        .collect();
    slugs.sort();
    slugs
}

/// The values given on the command line, checked against the site: a
/// report takes only `--program`; a taxonomy with a closed vocabulary
/// takes its own values (written as the vocabulary spells them); a
/// taxonomy the site turned off takes none. Every problem is reported.
fn checked_fields(kind: NewKind, fields: &NewFields, config: &Config) -> Result<NewFields, Error> {
    let mut diags = Vec::new();
    let mut out = fields.clone();
    let given = [
        ("ngo", &fields.ngo, &mut out.ngo),
        ("sector", &fields.sector, &mut out.sector),
        ("program", &fields.program, &mut out.program),
        ("country", &fields.country, &mut out.country),
    ];
    for (field, value, checked) in given {
        let Some(value) = value else { continue };
        if kind == NewKind::Report && field != "program" {
            diags.push(
                Diagnostic::error(
                    format!("--{field}"),
                    format!("a report has no `{field}` (its case studies do), so `casebook new report` does not take --{field}"),
                )
                .with_hint("leave it out; a report takes --program"),
            );
            continue;
        }
        let Some(tax) = config.taxonomies.iter().find(|t| t.field == field) else {
            diags.push(Diagnostic::error(
                format!("--{field}"),
                format!("this site has no taxonomy reading `{field}` (site.toml turns it off)"),
            ));
            continue;
        };
        let mut spelt = Vec::new();
        for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            match tax.lookup(v) {
                crate::config::VocabularyMatch::Open => spelt.push(v.to_string()),
                crate::config::VocabularyMatch::Known(k) => spelt.push(k.to_string()),
                crate::config::VocabularyMatch::Unknown => {
                    let d = Diagnostic::error(
                        format!("--{field}"),
                        format!(
                            "\"{v}\" is not one of the site's {}",
                            tax.title.to_lowercase()
                        ),
                    );
                    let hint = match crate::diagnostic::did_you_mean(
                        v,
                        tax.values.iter().map(String::as_str),
                    ) {
                        Some(s) => format!("did you mean \"{s}\"?"),
                        None => format!("allowed values: {}", tax.values.join(", ")),
                    };
                    diags.push(d.with_hint(hint));
                }
            }
        }
        *checked = Some(spelt.join(", "));
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(Error::Diagnostics(diags))
    }
}

/// Lines for the fields the site's `[schema]` requires beyond those the
/// new file already has, each empty, to be filled in.
fn required_lines(kind: NewKind, config: &Config, written: &str) -> String {
    let schema_kind = match kind {
        NewKind::CaseStudy => "case-study",
        NewKind::Report => "report",
    };
    let mut s = String::new();
    for field in config.required_fields(schema_kind) {
        let has = written
            .lines()
            .any(|l| l.split(':').next() == Some(field.as_str()));
        if has {
            continue;
        }
        use crate::config::FieldType;
        let value = match config.field_type(schema_kind, &field) {
            Some(FieldType::List) => "[]",
            Some(FieldType::String) | None => "\"\"",
            // Left empty: `""` is not a number, a date or a yes/no.
            Some(_) => "",
        };
        s.push_str(&line(&field, value, "required by this site"));
    }
    s
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
    let required = required_lines(kind, config, &s);
    s.push_str(&required);
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
) -> Result<PathBuf, Error> {
    let today = Date::today();
    let config = Config::load(root).map_err(|d| Error::Diagnostics(vec![d]))?;
    let fields = &checked_fields(kind, fields, &config)?;
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
    (".gitignore", include_str!("starter/gitignore")),
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
