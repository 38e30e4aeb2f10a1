//! The `validate` stage: checks parsed pages against what the site expects
//! (required fields, references between pages, unique URLs) and returns
//! diagnostics. It never changes a page and never stops early: a writer
//! fixing a site wants the whole list at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::config::Config;
use crate::config::{BUILTIN_FIELDS, FieldType, VocabularyMatch};
use crate::content::date::Date;
use crate::content::front_matter::FrontMatter;
use crate::content::markdown::{LinkKind, PROBLEMS_SHOWN, percent_decode};
use crate::content::slug::slugify;
use crate::content::{Kind, Page};
use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::index::Site;
use crate::render;
use crate::text::{self, find_value};

/// Checks every page; returns all problems found, unsorted.
pub fn validate(pages: &[Arc<Page>], config: &Config, draft_reports: &[String]) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let mut diags: Vec<Diagnostic> = pages
        .par_iter()
        .flat_map_iter(|p| check_page(p, config))
        .collect();
    diags.extend(check_site(pages, config, draft_reports));
    diags
}

/// Checks one page against the site's schema, on its own: required fields,
/// types, vocabularies, unknown fields, aliases. The preview server keeps
/// the result until the page changes.
pub fn check_page(page: &Page, config: &Config) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    check_fields(page, config, &mut diags);
    check_folder(page, &mut diags);
    diags
}

/// A plain page in a folder named almost like `case-studies/` or
/// `reports/` (`case-study/`, `case_studies/`, `Reports/`) was meant to be
/// one of those, and is published as a plain page instead: say so.
fn check_folder(page: &Page, diags: &mut Vec<Diagnostic>) {
    if page.kind != Kind::Page {
        return;
    }
    let Some((folder, _)) = page.rel.split_once('/') else {
        return;
    };
    let plain: String = folder
        .to_lowercase()
        .chars()
        .map(|c| if c == '_' || c == ' ' { '-' } else { c })
        .collect();
    let Some(meant) = did_you_mean(&plain, ["case-studies", "reports"]) else {
        return;
    };
    let (what, whats) = if meant == "reports" {
        ("report", "reports")
    } else {
        ("case study", "case studies")
    };
    diags.push(
        Diagnostic::warning(
            page.file.clone(),
            format!(
                "this file is in content/{folder}/, so it is published as a plain page, not as a {what}"
            ),
        )
        .with_hint(format!("{whats} live in content/{meant}/: move it there")),
    );
}

/// A term's name as far as telling names apart goes: lower case, letters
/// and digits only, accents dropped from Latin letters. "Mental Health",
/// "mental-health" and "Perú" / "Peru" are spellings of one name; "北京"
/// and "背景", which a URL writes alike (`bei-jing`), are two.
fn name_key(name: &str) -> String {
    let mut key = String::new();
    for c in name.chars().filter(|c| c.is_alphanumeric()) {
        if c.is_ascii() {
            key.push(c.to_ascii_lowercase());
            continue;
        }
        // A Latin letter with marks transliterates to one letter (é -> e,
        // ø -> o); other scripts keep their own characters.
        match deunicode::deunicode_char(c) {
            Some(t) if t.len() == 1 && t.chars().all(|t| t.is_ascii_alphabetic()) => {
                key.push_str(&t.to_ascii_lowercase());
            }
            _ => key.extend(c.to_lowercase()),
        }
    }
    key
}

/// Checks what involves several pages: two files claiming one URL, two
/// different terms sharing one, a `report:` that names no report.
pub fn check_site(
    pages: &[Arc<Page>],
    config: &Config,
    draft_reports: &[String],
) -> Vec<Diagnostic> {
    let mut diags = Vec::new();

    // Two different names may not share a term's URL: one of them would
    // vanish from every page. (Spellings of one name share it on purpose.)
    // (taxonomy, slug) -> name key -> (first file, name as written).
    type Spelling<'a> = (&'a str, &'a str, &'a Page);
    let mut names: BTreeMap<(usize, &str), BTreeMap<String, Spelling>> = BTreeMap::new();
    for p in pages.iter() {
        for (t, values) in p.terms.iter().enumerate() {
            for v in values {
                let by_key = names.entry((t, v.slug.as_str())).or_default();
                let key = name_key(&v.shown);
                match by_key.get(&key) {
                    Some((file, _, _)) if *file <= p.file.as_str() => {}
                    _ => {
                        by_key.insert(key, (p.file.as_str(), v.shown.as_str(), &**p));
                    }
                }
            }
        }
    }
    for ((t, slug), by_key) in &names {
        if by_key.len() < 2 {
            continue;
        }
        let tax = &config.taxonomies[*t];
        let mut spelt: Vec<&Spelling> = by_key.values().collect();
        spelt.sort_by_key(|(file, name, _)| (*file, *name));
        let (first_file, first_name, _) = spelt[0];
        for (file, name, page) in &spelt[1..] {
            let mut d = Diagnostic::error(
                    *file,
                    format!(
                        "the {} \"{name}\" here and \"{first_name}\" in {first_file} would share one page, /{}/{slug}/, and one of them would vanish",
                        tax.singular.to_lowercase(),
                        tax.name
                    ),
                )
                .with_hint("rename one of them: a term's URL is made from its name");
            if let Some(&line) = page.front_matter.key_lines.get(&tax.field) {
                let (l, c) = find_value(&page.head, line, name);
                d = d.at(&page.head, l, c).with_width(name.chars().count());
            }
            diags.push(d);
        }
    }

    // Two files may not claim the same URL.
    let mut by_path: BTreeMap<&str, Vec<&Page>> = BTreeMap::new();
    for p in pages.iter().map(|p| &**p) {
        by_path.entry(p.path.as_str()).or_default().push(p);
    }
    for (path, claimants) in &by_path {
        if claimants.len() < 2 {
            continue;
        }
        let names: Vec<&str> = claimants.iter().map(|p| p.file.as_str()).collect();
        for p in claimants {
            let others: Vec<&str> = names.iter().copied().filter(|n| *n != p.file).collect();
            let line = p.front_matter.key_lines.get("slug").copied().unwrap_or(0);
            let mut d = Diagnostic::error(
                p.file.clone(),
                format!(
                    "two pages would be written to /{path}: this one and {}",
                    others.join(", ")
                ),
            )
            .with_hint("rename one of the files, or give one of them a different `slug:`");
            if line > 0 {
                d = d.at(&p.head, line, 1);
            }
            diags.push(d);
        }
    }

    // A case study's `report:` must name a report.
    let reports: HashMap<&str, &Page> = pages
        .iter()
        .filter(|p| p.kind == Kind::Report)
        .map(|p| (p.slug.as_str(), &**p))
        .collect();
    for p in pages.iter().filter(|p| p.kind == Kind::CaseStudy) {
        if let (Some(r), Some(loc)) = (&p.report, &p.front_matter.report)
            && !reports.contains_key(r.as_str())
        {
            let mut d = Diagnostic::error(p.file.clone(), format!("`report: {r}` names no report"))
                .at(&p.head, loc.line, loc.column);
            let slugs: Vec<&str> = reports.keys().copied().collect();
            if draft_reports.iter().any(|s| s == r) {
                diags.push(
                    Diagnostic::error(
                        p.file.clone(),
                        format!("`report: {r}` names a report that is a draft"),
                    )
                    .at(&p.head, loc.line, loc.column)
                    .with_hint(format!(
                        "publish content/reports/{r}.md (draft: false), or leave `report:` empty until it is"
                    )),
                );
                continue;
            }
            d = match did_you_mean(r, slugs.iter().copied()) {
                Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                None if slugs.is_empty() => {
                    d.with_hint("there are no reports in content/reports/ yet")
                }
                None => {
                    let mut s = slugs.clone();
                    s.sort();
                    d.with_hint(format!(
                        "reports are named by their file name: {}",
                        s.join(", ")
                    ))
                }
            };
            diags.push(d);
        }
    }
    check_units(pages, &mut diags);
    check_descriptions(pages, config, &mut diags);
    diags
}

/// A description in site.toml for a term no case study uses is shown
/// nowhere: most likely a misspelling.
fn check_descriptions(pages: &[Arc<Page>], config: &Config, diags: &mut Vec<Diagnostic>) {
    for (t, tax) in config.taxonomies.iter().enumerate() {
        if tax.descriptions.is_empty() {
            continue;
        }
        let used: BTreeMap<&str, &str> = pages
            .iter()
            .filter_map(|p| p.terms.get(t))
            .flatten()
            .map(|v| (v.slug.as_str(), v.shown.as_str()))
            .collect();
        for (slug, name, line) in tax.described_terms() {
            if used.contains_key(slug.as_str()) {
                continue;
            }
            let mut d = Diagnostic::warning(
                crate::config::FILE,
                format!(
                    "the {} \"{name}\" has a description, but no page uses it, so it is shown nowhere",
                    tax.singular.to_lowercase()
                ),
            );
            if line > 0 {
                d = d.at_line(line, 1);
            }
            d = match did_you_mean(name, used.values().copied()) {
                Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                None => d.with_hint(format!(
                    "descriptions are keyed by the {}'s name, as case studies write it",
                    tax.singular.to_lowercase()
                )),
            };
            diags.push(d);
        }
    }
}

/// A metric written in different units in different case studies ("People
/// reached" in people here, in households there) gets one total per unit:
/// figures in different units are never added. Say so, at each outcome
/// whose unit is not the one most case studies use, so that a writer who
/// meant one metric can make them agree.
fn check_units(pages: &[Arc<Page>], diags: &mut Vec<Diagnostic>) {
    use crate::index::outcomes::key;
    // metric -> unit -> (page, outcome index), in site order.
    type Uses<'a> = BTreeMap<String, Vec<(&'a Page, usize)>>;
    let mut metrics: BTreeMap<String, Uses> = BTreeMap::new();
    for p in pages.iter().filter(|p| p.kind == Kind::CaseStudy) {
        for (i, o) in p.outcomes.iter().enumerate() {
            if !o.value.is_finite() {
                continue;
            }
            let unit = key(o.unit.as_deref().unwrap_or("")).into_owned();
            metrics
                .entry(key(&o.metric).into_owned())
                .or_default()
                .entry(unit)
                .or_default()
                .push((p, i));
        }
    }
    let written = |u: &str| {
        if u.is_empty() {
            "no unit".to_string()
        } else {
            format!("\"{u}\"")
        }
    };
    for units in metrics.values().filter(|u| u.len() > 1) {
        // The unit most case studies use; on a tie, the first in order.
        let (usual, usual_uses) = units
            .iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| b.0.cmp(a.0)))
            .expect("more than one unit");
        for (unit, uses) in units.iter().filter(|(u, _)| *u != usual) {
            for &(page, i) in uses {
                let o = &page.outcomes[i];
                let n = usual_uses.len();
                let mut d = Diagnostic::warning(
                    page.file.clone(),
                    format!(
                        "the outcome \"{}\" has {} here, but {} in {n} other case {} (first {})",
                        o.metric,
                        written(unit),
                        written(usual),
                        if n == 1 { "study" } else { "studies" },
                        usual_uses[0].0.file,
                    ),
                )
                .with_hint(
                    "figures in different units are never added together, so this metric gets a total of its own: write the same unit in both, or give the metrics different names",
                );
                if let Some(&line) = page.front_matter.key_lines.get("outcomes") {
                    let (l, c) = outcome_line(&page.head, line, i, o.unit.as_deref());
                    d = d.at(&page.head, l, c);
                }
                diags.push(d);
            }
        }
    }
}

/// Where outcome `index` under `outcomes:` (on line `key_line`) writes its
/// unit, or else where the outcome starts: (line, column), 1-based.
fn outcome_line(head: &str, key_line: usize, index: usize, unit: Option<&str>) -> (usize, usize) {
    let mut item: Option<usize> = None;
    let mut item_indent = None;
    let mut start = (key_line, 1);
    for (n, line) in head.lines().enumerate().skip(key_line) {
        if !line.starts_with([' ', '\t', '-']) {
            break;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if body.starts_with('-') && *item_indent.get_or_insert(indent) == indent {
            let next = item.map_or(0, |i| i + 1);
            if next > index {
                break;
            }
            item = Some(next);
            if next == index {
                start = (n + 1, indent + 1);
            }
        }
        if item != Some(index) {
            continue;
        }
        let field = body.trim_start_matches('-').trim_start();
        if let Some(u) = unit
            && field.starts_with("unit:")
            && let Some(pos) = line.find(u)
        {
            return (n + 1, line[..pos].chars().count() + 1);
        }
    }
    start
}

#[derive(PartialEq)]
enum Presence {
    Present,
    Missing,
    /// Written, but not readable as its type; that has its own error.
    Unreadable,
}

fn presence(fm: &FrontMatter, field: &str) -> Presence {
    let written = fm.key_lines.contains_key(field);
    let text = |o: &Option<crate::content::front_matter::Located<String>>| match o {
        Some(l) if !l.value.trim().is_empty() => Presence::Present,
        Some(_) => Presence::Missing,
        None if written => Presence::Unreadable,
        None => Presence::Missing,
    };
    let nonempty = |ok: bool| {
        if ok {
            Presence::Present
        } else if written && !fm.extra.contains_key(field) {
            Presence::Unreadable
        } else {
            Presence::Missing
        }
    };
    match field {
        "title" => text(&fm.title),
        "summary" => text(&fm.summary),
        "slug" => text(&fm.slug),
        "report" => text(&fm.report),
        "image" => text(&fm.image),
        "date" => nonempty(fm.date.is_some()),
        "updated" => nonempty(fm.updated.is_some()),
        "authors" | "author" => nonempty(!fm.authors.is_empty()),
        "outcomes" => nonempty(!fm.outcomes.is_empty()),
        "aliases" => nonempty(!fm.aliases.is_empty()),
        "image_alt" => nonempty(
            fm.image_alt
                .as_deref()
                .is_some_and(|a| !a.trim().is_empty()),
        ),
        "image_caption" => nonempty(fm.image_caption.is_some()),
        "image_credit" => nonempty(fm.image_credit.is_some()),
        "consent" => nonempty(!fm.consent.is_empty()),
        "image_consent" => nonempty(fm.image_consent.is_some()),
        "photo_consent" => nonempty(!fm.photo_consent.is_empty()),
        "draft" => Presence::Present,
        f => match (fm.taxonomies.get(f), fm.extra.get(f)) {
            (Some(l), _) if !l.value.is_empty() => Presence::Present,
            (Some(_), _) => Presence::Missing,
            (None, Some(v)) => match &v.value {
                serde_yaml::Value::Null => Presence::Missing,
                serde_yaml::Value::String(s) if s.trim().is_empty() => Presence::Missing,
                serde_yaml::Value::Sequence(s) if s.is_empty() => Presence::Missing,
                _ => Presence::Present,
            },
            (None, None) => nonempty(false),
        },
    }
}

/// The schema's name for a kind of page; `None` for the home page and
/// section intros, which have no required fields.
fn schema_kind(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::CaseStudy => Some("case-study"),
        Kind::Report => Some("report"),
        Kind::Page => Some("page"),
        Kind::Home | Kind::Section => None,
    }
}

/// Checks a declared extra field's value against its type.
fn type_error(ty: FieldType, v: &serde_yaml::Value) -> Option<String> {
    use serde_yaml::Value as Y;
    let scalar = |v: &Y| matches!(v, Y::String(_) | Y::Number(_) | Y::Bool(_));
    let ok = match ty {
        FieldType::String => scalar(v),
        FieldType::List => scalar(v) || matches!(v, Y::Sequence(items) if items.iter().all(scalar)),
        FieldType::Number => matches!(v, Y::Number(_)),
        FieldType::Bool => matches!(v, Y::Bool(_)),
        FieldType::Outcomes => matches!(v, Y::Sequence(_)),
        FieldType::Consent => matches!(v, Y::Mapping(_)),
        FieldType::Date => {
            return match v {
                Y::String(s) => Date::parse(s).err(),
                _ => Some(format!("must be {}", ty.describe())),
            };
        }
    };
    (!ok && !v.is_null()).then(|| format!("must be {}", ty.describe()))
}

fn check_fields(page: &Page, config: &Config, diags: &mut Vec<Diagnostic>) {
    let fm = &page.front_matter;
    let Some(kind) = schema_kind(page.kind) else {
        return;
    };
    let head = &page.head;

    for field in config.required_fields(kind) {
        if presence(fm, &field) != Presence::Missing {
            continue;
        }
        let example = match field.as_str() {
            "title" => "title: SHOFCO builds a data culture".to_string(),
            "date" => "date: 2024-12-10".to_string(),
            "summary" => "summary: One or two sentences for cards and feeds.".to_string(),
            "ngo" => "ngo: SHOFCO".to_string(),
            "sector" => "sector: Health".to_string(),
            "program" => "program: Fractional CxO".to_string(),
            "country" => "country: Kenya".to_string(),
            "authors" => "authors: [Asha Rao]".to_string(),
            f => match config.field_type(kind, f) {
                Some(FieldType::Date) => format!("{f}: 2024-12-10"),
                Some(FieldType::Number) => format!("{f}: 100"),
                Some(FieldType::List) => format!("{f}: [First, Second]"),
                Some(FieldType::Bool) => format!("{f}: true"),
                _ => format!("{f}: ..."),
            },
        };
        let line = fm.key_lines.get(&field).copied().unwrap_or(1);
        // A draft is work in progress: what it still lacks is said, and
        // the preview shows it anyway; it is required before publishing.
        let (severity, before) = if page.draft {
            (
                crate::diagnostic::Severity::Warning,
                " before it is published",
            )
        } else {
            (crate::diagnostic::Severity::Error, "")
        };
        diags.push(Diagnostic {
            severity,
            ..Diagnostic::error(
                page.file.clone(),
                format!(
                    "this {} has no `{field}`, which is required{before}",
                    if page.draft { "draft" } else { noun(page.kind) }
                ),
            )
            .at(head, line, 1)
            .with_hint(format!(
                "add a line such as `{example}` between the `---` lines"
            ))
        });
    }

    for tax in &config.taxonomies {
        let Some(loc) = fm.taxonomies.get(&tax.field) else {
            continue;
        };
        for v in &loc.value {
            // Looked for only when there is something to point at: most
            // values are fine, and searching the head for each was 5% of
            // `casebook check`.
            let at = || find_value(head, loc.line, v);
            if slugify(v).is_empty() {
                let (l, c) = at();
                diags.push(
                    Diagnostic::error(
                        page.file.clone(),
                        format!(
                            "{} \"{v}\" has no letters or digits to make a URL from",
                            tax.singular
                        ),
                    )
                    .at(head, l, c)
                    .with_width(v.chars().count()),
                );
                continue;
            }
            if tax.lookup(v) == VocabularyMatch::Unknown {
                let candidates = tax
                    .values
                    .iter()
                    .chain(tax.aliases.keys())
                    .map(String::as_str);
                let hint = match did_you_mean(v, candidates) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None if tax.values.len() <= 12 => {
                        format!("allowed values: {}", tax.values.join(", "))
                    }
                    None => format!(
                        "the allowed values are listed under [[taxonomies]] name = \"{}\" in site.toml",
                        tax.name
                    ),
                };
                let (l, c) = at();
                diags.push(
                    Diagnostic::error(
                        page.file.clone(),
                        format!(
                            "\"{v}\" is not one of the site's {}",
                            tax.title.to_lowercase()
                        ),
                    )
                    .at(head, l, c)
                    .with_width(v.chars().count())
                    .with_hint(hint),
                );
            }
        }
    }

    for alias in &fm.aliases {
        if crate::render::alias_output(&alias.value).is_none() {
            let (l, c) = find_value(head, alias.line, &alias.value);
            diags.push(
                Diagnostic::error(page.file.clone(), format!("alias `{}` is not a path inside the site", alias.value))
                    .at(head, l, c)
                    .with_width(alias.value.chars().count())
                    .with_hint("write the old address as a path from the site's root, e.g. `aliases: [/case-studies/old-name/]`"),
            );
        }
    }

    if let Some(image) = &fm.image
        && !is_safe_image_address(&image.value)
    {
        let (l, c) = find_value(head, image.line, &image.value);
        diags.push(
            Diagnostic::error(
                page.file.clone(),
                format!(
                    "image `{}` is not a web address or a path in the site",
                    image.value
                ),
            )
            .at(head, l, c)
            .with_width(image.value.chars().count())
            .with_hint(
                "use a path such as `/images/photo.jpg` (a file in static/) or an https:// address",
            ),
        );
    }

    let declared = &config.kind_schema(kind).fields;
    for (key, loc) in &fm.extra {
        if let Some(ty) = declared.get(key) {
            if let Some(problem) = type_error(*ty, &loc.value) {
                let sep = if problem.starts_with("must") {
                    " "
                } else {
                    ": "
                };
                diags.push(
                    Diagnostic::error(page.file.clone(), format!("`{key}`{sep}{problem}"))
                        .at(head, loc.line, loc.column),
                );
            }
            continue;
        }
        let known: Vec<&str> = BUILTIN_FIELDS
            .iter()
            .map(|(f, _)| *f)
            .chain(config.taxonomies.iter().map(|t| t.field.as_str()))
            .chain(declared.keys().map(String::as_str))
            .collect();
        let turned_off = crate::config::default_taxonomies()
            .into_iter()
            .find(|t| &t.field == key && !config.taxonomies.iter().any(|s| s.name == t.name));
        if let Some(t) = turned_off {
            diags.push(
                Diagnostic::warning(
                    page.file.clone(),
                    format!(
                        "the taxonomy `{}` is turned off in site.toml, so casebook ignores `{key}`",
                        t.name
                    ),
                )
                .at(head, loc.line, 1)
                .with_hint(format!(
                    "remove the field, or turn the taxonomy back on: delete its `enabled = false` (or declare [[taxonomies]] name = \"{}\")",
                    t.name
                )),
            );
            continue;
        }
        let mut d = Diagnostic::warning(page.file.clone(), format!("unknown field `{key}`"))
            .at(head, loc.line, 1);
        d = match did_you_mean(key, known) {
            Some(s) => d.with_hint(format!("did you mean `{s}`?")),
            None => d.with_hint(format!(
                "casebook ignores it; to use it in templates, declare it in site.toml: [schema.{kind}] fields = {{ {key} = \"string\" }}"
            )),
        };
        diags.push(d);
    }
}

/// Ids the built-in templates give elements, which links may point at.
const TEMPLATE_IDS: &[&str] = &[
    "main",
    "outcomes-heading",
    "toc-heading",
    "case-studies-heading",
];

/// Checks links against the files a build will write. Made once per
/// indexed site (the set of outputs is most of the work); each page's links
/// are then checked on their own, so the preview server re-checks only the
/// pages that changed.
pub struct LinkChecker {
    outputs: HashSet<String>,
    /// Site path -> index in `Site::pages`.
    by_path: HashMap<String, usize>,
    /// Source path (`case-studies/x.md`) -> index in `Site::pages`.
    by_rel: HashMap<String, usize>,
    base_path: String,
    /// Whether the theme's static files are known (see `Theme::stand_in`).
    statics_known: bool,
    /// The taxonomies' names: the first part of their pages' paths.
    taxonomies: Vec<String>,
}

/// Whether a front-matter `image:` can be used as an image address: a path
/// (site-relative or relative) or an http(s) URL, never another scheme
/// (`javascript:`, `data:`) that a theme would put in `src` or `href`.
fn is_safe_image_address(s: &str) -> bool {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return true;
    }
    // A scheme is letters (and + - .) then a colon before any slash.
    let scheme = s.split_once(':').is_some_and(|(head, _)| {
        !head.is_empty()
            && !head.contains('/')
            && head
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    !scheme && !s.starts_with("//") && !s.chars().any(char::is_control)
}

/// Checks every link and image in every page's Markdown against the files
/// the build will write: pages, listings, term pages and static files, and
/// the headings of the page a fragment points into. Also warns about images
/// without alt text.
pub fn check_links(
    site: &Site,
    theme: &crate::render::Theme,
    unreadable: &[String],
) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let checker = LinkChecker::new(site, theme, unreadable);
    (0..site.pages.len())
        .into_par_iter()
        .flat_map_iter(|i| checker.check_page(site, i))
        .collect()
}

impl LinkChecker {
    pub fn new(site: &Site, theme: &crate::render::Theme, unreadable: &[String]) -> LinkChecker {
        let plan = render::plan(site);
        // Where every output goes; two on one path are reported by
        // `render::paths::check`.
        let claimed: HashSet<String> = plan.iter().map(|job| job.output_path(site)).collect();
        let mut outputs: HashSet<String> = claimed;
        outputs.extend(theme.statics.keys().cloned());
        // Pages whose front matter is broken have their own error; a link to
        // them is not dead.
        outputs.extend(unreadable.iter().map(|p| format!("{p}index.html")));
        LinkChecker {
            outputs,
            by_path: site
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (p.path.clone(), i))
                .collect(),
            by_rel: site
                .pages
                .iter()
                .enumerate()
                .map(|(i, p)| (p.rel.clone(), i))
                .collect(),
            base_path: site.config.base_path.clone(),
            statics_known: !theme.stand_in,
            taxonomies: site
                .taxonomies
                .iter()
                .map(|t| t.config.name.clone())
                .collect(),
        }
    }

    /// What to tell a writer whose link or image at site path `path` leads
    /// nowhere: the near miss in the same folder (`/sector/educaton/` ->
    /// `/sector/education/`, `volunteer.png` -> `volunteers.png`), the
    /// path without `static/` (static files are published at the root),
    /// or what kind of link would work.
    fn missing_hint(&self, site: &Site, path: &str, is_image: bool) -> String {
        // `static/images/x.png`, or a relative `../static/...`.
        let in_static = path
            .strip_prefix("static/")
            .or_else(|| path.split_once("/static/").map(|(_, rest)| rest));
        if let Some(rest) = in_static
            && self.exists(rest).is_some()
        {
            return format!("files in static/ are published at the site's root: write `/{rest}`");
        }
        let wanted = path.trim_end_matches('/');
        let (dir, name) = wanted.rsplit_once('/').unwrap_or(("", wanted));
        // Every output in that folder, by the name a link would use: a
        // page's folder, or a file.
        let mut near: Vec<(&str, String)> = Vec::new();
        for o in &self.outputs {
            let (o_dir, o_name, url) = match o.strip_suffix("/index.html") {
                Some(folder) => {
                    let (d, n) = folder.rsplit_once('/').unwrap_or(("", folder));
                    (d, n, format!("/{folder}/"))
                }
                None if o.ends_with("index.html") => continue,
                None => {
                    let (d, n) = o.rsplit_once('/').unwrap_or(("", o.as_str()));
                    (d, n, format!("/{o}"))
                }
            };
            if o_dir == dir {
                near.push((o_name, url));
            }
        }
        near.sort();
        if let Some(n) = did_you_mean(name, near.iter().map(|(n, _)| *n)) {
            let url = &near.iter().find(|(x, _)| *x == n).expect("found above").1;
            let page = url
                .strip_prefix('/')
                .and_then(|p| self.by_path.get(p))
                .map(|&j| &site.pages[j]);
            return match page {
                Some(p) => format!("did you mean `{url}`? Or link to the file: `@/{}`", p.rel),
                None => format!("did you mean `{url}`?"),
            };
        }
        if self.base_path != "/" && path.starts_with(self.base_path.trim_start_matches('/')) {
            return format!(
                "leave out {}: casebook adds the base path to links starting with /",
                self.base_path
            );
        }
        let first = wanted.split('/').next().unwrap_or("");
        if self.taxonomies.iter().any(|t| t == first) {
            return format!("the site's terms are listed at /{first}/");
        }
        if is_image {
            "put images in static/ (static/images/x.png is /images/x.png)".into()
        } else {
            "`@/case-studies/name.md` links to a file by its name and is checked when you build"
                .into()
        }
    }

    /// Where the page made from a source file (`case-studies/x.md`) sits in
    /// `Site::pages`.
    pub fn page_index(&self, rel: &str) -> Option<usize> {
        self.by_rel.get(rel).copied()
    }

    /// The file a site path is served from, if the build writes one.
    fn exists(&self, path: &str) -> Option<String> {
        let candidates = if path.is_empty() || path.ends_with('/') {
            vec![format!("{path}index.html")]
        } else {
            vec![path.to_string(), format!("{path}/index.html")]
        };
        candidates.into_iter().find(|c| self.outputs.contains(c))
    }

    /// Checks the links and images of page `i`. A page with more than
    /// [`PROBLEMS_SHOWN`] problems gets that many and a count of the
    /// rest.
    pub fn check_page(&self, site: &Site, i: usize) -> Vec<Diagnostic> {
        let mut diags = self.check_every_link(site, i);
        if diags.len() > PROBLEMS_SHOWN {
            crate::diagnostic::sort(&mut diags);
            let rest = diags.len() - PROBLEMS_SHOWN;
            let errors = diags[PROBLEMS_SHOWN..].iter().any(Diagnostic::is_error);
            diags.truncate(PROBLEMS_SHOWN);
            let file = site.pages[i].file.clone();
            let message =
                format!("{rest} more problems with links and images in this file are not shown");
            diags.push(if errors {
                Diagnostic::error(file, message)
            } else {
                Diagnostic::warning(file, message)
            });
        }
        diags
    }

    fn check_every_link(&self, site: &Site, i: usize) -> Vec<Diagnostic> {
        let mut diags = Vec::new();
        let page = &site.pages[i];
        let page_at = |j: usize| -> &Page { &site.pages[j] };
        let at = |d: Diagnostic, l: &crate::content::markdown::LinkRef| {
            d.at_line(l.line, l.column)
                .with_width(l.width)
                .with_source_line(&l.line_text)
        };
        for link in page.links() {
            let (target, fragment) = match link.target.split_once('#') {
                Some((t, f)) => (t, Some(f)),
                None => (link.target.as_str(), None),
            };
            let target = target.split('?').next().unwrap_or(target);
            // The site path of the target, without the base path.
            let (path, target_page): (Option<String>, Option<&Page>) = match link.kind {
                LinkKind::Source => match self.by_rel.get(&target[2..]).map(|&j| page_at(j)) {
                    Some(p) => (Some(p.path.clone()), Some(p)),
                    // Reported when the Markdown was rendered.
                    None => continue,
                },
                LinkKind::Fragment => (Some(page.path.clone()), Some(&**page)),
                LinkKind::SiteRelative => (percent_decode(&target[1..]), None),
                LinkKind::Relative => (
                    percent_decode(target).and_then(|t| text::join_url(&page.path, &t)),
                    None,
                ),
            };
            let what = if link.is_image { "image" } else { "link" };
            let Some(path) = path else {
                diags.push(at(
                    Diagnostic::error(
                        page.file.clone(),
                        format!("{what} `{}` points outside the site", link.target),
                    ),
                    link,
                ));
                continue;
            };
            let Some(file) = self.exists(&path) else {
                if !self.statics_known && !path.ends_with('/') && path.contains('.') {
                    continue;
                }
                let d = Diagnostic::error(
                    page.file.clone(),
                    format!(
                        "{what} `{}`: there is no such page or file in the site",
                        link.target
                    ),
                )
                .with_hint(self.missing_hint(site, &path, link.is_image));
                diags.push(at(d, link));
                continue;
            };
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                continue;
            };
            let target_page = target_page.or_else(|| {
                file.strip_suffix("index.html")
                    .and_then(|p| self.by_path.get(p).map(|&j| page_at(j)))
            });
            let Some(tp) = target_page else {
                continue;
            };
            if !matches!(tp.kind, Kind::CaseStudy | Kind::Report | Kind::Page) {
                continue;
            }
            let ids = tp.body.anchors();
            let fragment = percent_decode(fragment).unwrap_or_else(|| fragment.to_string());
            if ids.contains(fragment.as_str()) || TEMPLATE_IDS.contains(&fragment.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(
                page.file.clone(),
                format!(
                    "{what} `{}`: {} has no heading `#{fragment}`",
                    link.target, tp.file
                ),
            );
            let mut choices: Vec<&str> = ids.into_iter().collect();
            choices.sort();
            d = match did_you_mean(&fragment, choices.iter().copied()) {
                Some(s) => d.with_hint(format!("did you mean `#{s}`?")),
                None if choices.is_empty() => d.with_hint("that page has no headings to link to"),
                None => d.with_hint(format!(
                    "its headings are: {}",
                    choices
                        .iter()
                        .map(|c| format!("#{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            diags.push(at(d, link));
        }
        for (line, col, src, text) in &page.body.images_without_alt {
            diags.push(
                Diagnostic::warning(page.file.clone(), format!("image `{src}` has no alt text that describes it"))
                    .at_line(*line, *col)
                    .with_source_line(text)
                    .with_hint("describe the image for readers who cannot see it: ![A counsellor using the app](/images/app.png)"),
            );
        }
        if let (Some(image), Some(loc)) = (&page.image, &page.front_matter.image) {
            let local = if let Some(rest) = image.strip_prefix('/') {
                (!rest.starts_with('/'))
                    .then(|| percent_decode(rest))
                    .flatten()
            } else if image.contains(':') {
                None
            } else {
                percent_decode(image).and_then(|t| text::join_url(&page.path, &t))
            };
            if let Some(path) = local
                && self.exists(&path).is_none()
                && self.statics_known
            {
                let (l, c) = find_value(&page.head, loc.line, image);
                diags.push(
                    Diagnostic::error(
                        page.file.clone(),
                        format!("image `{image}`: there is no such file in the site"),
                    )
                    .at(&page.head, l, c)
                    .with_width(image.chars().count())
                    .with_hint(self.missing_hint(site, &path, true)),
                );
            }
        }
        if let Some(image) = &page.front_matter.image {
            let alt = page.image_alt.as_deref().unwrap_or("");
            if crate::images::placeholder_alt(alt, &image.value) {
                let fm = &page.front_matter;
                let line = fm
                    .key_lines
                    .get("image_alt")
                    .or_else(|| fm.key_lines.get("image"))
                    .copied()
                    .unwrap_or(1);
                let message = if alt.trim().is_empty() {
                    "`image` has no `image_alt` describing it".to_string()
                } else {
                    format!("`image_alt: {}` does not describe the photo", alt.trim())
                };
                diags.push(
                    Diagnostic::error(page.file.clone(), message)
                        .at(&page.head, line, 1)
                        .with_hint("say what the photo shows for readers who cannot see it: `image_alt: A nurse checks a child's eyes at a village clinic`"),
                );
            }
        }
        diags
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::CaseStudy => "case study",
        Kind::Report => "report",
        _ => "page",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls() {
        assert_eq!(
            text::join_url("case-studies/x/", "../y/").as_deref(),
            Some("case-studies/y/")
        );
        assert_eq!(
            text::join_url("case-studies/x/", "img.png").as_deref(),
            Some("case-studies/x/img.png")
        );
        assert_eq!(
            text::join_url("case-studies/x/", "../../sector/").as_deref(),
            Some("sector/")
        );
        assert_eq!(
            text::join_url("case-studies/x/", "./a/./b").as_deref(),
            Some("case-studies/x/a/b")
        );
        assert_eq!(text::join_url("about/", "../../../x"), None);
        assert_eq!(text::join_url("about/", "..").as_deref(), Some(""));
    }
}
