//! The `validate` stage: checks parsed pages against what the site expects
//! (required fields, references between pages, unique URLs) and returns
//! diagnostics. It never changes a page and never stops early: a writer
//! fixing a site wants the whole list at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::Config;
use crate::content::front_matter::KNOWN_KEYS;
use crate::content::slug::slugify;
use crate::content::{Kind, Page};
use crate::diagnostic::{Diagnostic, did_you_mean};

/// Fields each kind of page must have.
fn required_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::CaseStudy => &["title", "date", "ngo", "sector", "program", "summary"],
        Kind::Report | Kind::Page => &["title", "date"],
        Kind::Home | Kind::Section => &[],
    }
}

/// Checks every page; returns all problems found, unsorted.
pub fn validate(pages: &[Arc<Page>], config: &Config) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let tax_fields: Vec<&str> = config.taxonomies.iter().map(|t| t.field.as_str()).collect();

    for page in pages {
        check_fields(page, config, &tax_fields, &mut diags);
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
    diags
}

fn check_fields(page: &Page, config: &Config, tax_fields: &[&str], diags: &mut Vec<Diagnostic>) {
    let fm = &page.front_matter;
    let has = |field: &str| -> bool {
        match field {
            "title" => fm
                .title
                .as_ref()
                .is_some_and(|t| !t.value.trim().is_empty()),
            "date" => fm.date.is_some(),
            "summary" => fm
                .summary
                .as_ref()
                .is_some_and(|t| !t.value.trim().is_empty()),
            f => fm.taxonomies.get(f).is_some_and(|v| !v.value.is_empty()),
        }
    };
    let missing: Vec<&str> = required_fields(page.kind)
        .iter()
        .copied()
        // A taxonomy the site does not declare cannot be required.
        .filter(|f| matches!(*f, "title" | "date" | "summary") || tax_fields.contains(f))
        .filter(|f| !has(f))
        // A field that is written but could not be read has its own error.
        .filter(|f| {
            !fm.key_lines.contains_key(*f)
                || fm.taxonomies.contains_key(*f)
                || matches!(*f, "title" | "summary")
        })
        .collect();
    for field in missing {
        let line = fm.key_lines.get(field).copied();
        let example = match field {
            "title" => "title: SHOFCO builds a data culture",
            "date" => "date: 2024-12-10",
            "summary" => "summary: One or two sentences for cards and feeds.",
            "ngo" => "ngo: SHOFCO",
            "sector" => "sector: Health",
            "program" => "program: Fractional CxO",
            _ => "",
        };
        let mut d = Diagnostic::error(
            page.file.clone(),
            format!(
                "this {} has no `{field}`, which is required",
                noun(page.kind)
            ),
        );
        d = match line {
            Some(l) => d.at(&page.head, l, 1),
            None => d.at(&page.head, 1, 1),
        };
        if !example.is_empty() {
            d = d.with_hint(format!(
                "add a line such as `{example}` between the `---` lines"
            ));
        }
        diags.push(d);
    }

    for (tax, values) in config.taxonomies.iter().zip(&page.terms) {
        for v in values {
            if slugify(v).is_empty() {
                let loc = fm.taxonomies.get(&tax.field);
                let (l, c) = loc.map_or((1, 1), |l| (l.line, l.column));
                diags.push(
                    Diagnostic::error(
                        page.file.clone(),
                        format!(
                            "{} \"{v}\" has no letters or digits to make a URL from",
                            tax.singular
                        ),
                    )
                    .at(&page.head, l, c),
                );
            }
        }
    }

    let known: Vec<&str> = KNOWN_KEYS
        .iter()
        .copied()
        .chain(tax_fields.iter().copied())
        .collect();
    for key in &fm.unknown {
        let mut d =
            Diagnostic::warning(page.file.clone(), format!("unknown field `{}`", key.value))
                .at(&page.head, key.line, 1);
        d = match did_you_mean(&key.value, known.iter().copied()) {
            Some(s) => d.with_hint(format!("did you mean `{s}`?")),
            None => d.with_hint("casebook ignores this field"),
        };
        diags.push(d);
    }
}

fn noun(kind: Kind) -> &'static str {
    match kind {
        Kind::CaseStudy => "case study",
        Kind::Report => "report",
        _ => "page",
    }
}
