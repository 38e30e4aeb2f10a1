//! The `index` stage: from a flat list of pages to the immutable [`Site`]
//! that rendering reads — case studies in order, taxonomies and their terms
//! (grouped by slug), and the links between reports and their case studies.
//!
//! Every list here is sorted deterministically, so two builds of the same
//! content produce the same bytes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::config::{Config, TaxonomyConfig, VocabularyMatch};
use crate::content::slug::slugify;
use crate::content::{Kind, Page};

/// A term of a taxonomy: "Health" in "sector".
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// Shown name: the spelling most pages use.
    pub name: String,
    pub slug: String,
    /// Case studies with this term, newest first (indices into `Site::pages`).
    pub pages: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    pub config: TaxonomyConfig,
    /// Terms sorted by slug.
    pub terms: Vec<Term>,
}

impl Taxonomy {
    /// Site path of the taxonomy's index: `sector/`.
    pub fn path(&self) -> String {
        format!("{}/", self.config.name)
    }
    /// Site path of a term's first page: `sector/health/`.
    pub fn term_path(&self, term: &Term) -> String {
        format!("{}/{}/", self.config.name, term.slug)
    }
}

/// The whole site, indexed. Built once per build and only read afterwards.
#[derive(Debug)]
pub struct Site {
    pub config: Config,
    /// Every published page, sorted by kind, then newest first, then title,
    /// then file name.
    pub pages: Vec<Arc<Page>>,
    pub home: Option<usize>,
    /// `case-studies` / `reports` -> the `_index.md` page of that listing.
    pub sections: BTreeMap<String, usize>,
    /// Case studies, newest first.
    pub case_studies: Vec<usize>,
    /// Reports, newest first.
    pub reports: Vec<usize>,
    /// Plain pages, by path.
    pub plain: Vec<usize>,
    pub taxonomies: Vec<Taxonomy>,
    /// For each page: the report it belongs to.
    pub report_of: Vec<Option<usize>>,
    /// For each page: its case studies (reports only), newest first.
    pub members: Vec<Vec<usize>>,
    /// For each page, for each taxonomy: indices of its terms, in the order
    /// the writer gave them.
    pub page_terms: Vec<Vec<Vec<usize>>>,
}

/// Newest first; undated pages last; ties broken by title then file.
fn newest_first(a: &Page, b: &Page) -> std::cmp::Ordering {
    let ta = a.date.map(|d| d.timestamp());
    let tb = b.date.map(|d| d.timestamp());
    tb.cmp(&ta)
        .then_with(|| a.title.cmp(&b.title))
        .then_with(|| a.rel.cmp(&b.rel))
}

/// A term as shown: the vocabulary's spelling when the taxonomy has one
/// (aliases resolved), otherwise as written with surrounding and repeated
/// white space removed.
fn shown(tax: &TaxonomyConfig, value: &str) -> String {
    match tax.lookup(value) {
        VocabularyMatch::Known(v) => v.to_string(),
        _ => value.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// How good a spelling of a term is to show, when several group under one
/// slug: the most used wins; among equals, one that is not shouting in
/// capitals, then one that starts with a capital ("Mental Health" over
/// "mental health"), then one that keeps its accents ("Perú" over "Peru").
fn spelling_rank(s: &str, count: usize) -> (usize, bool, bool, usize) {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    let all_caps = letters.len() > 1 && letters.iter().all(|c| c.is_uppercase());
    let capitalised = s.chars().next().is_some_and(char::is_uppercase);
    let accents = s.chars().filter(|c| !c.is_ascii()).count();
    (count, !all_caps, capitalised, accents)
}

/// Builds the site from validated pages.
pub fn index(config: Config, mut pages: Vec<Arc<Page>>) -> Site {
    pages.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| newest_first(a, b)));

    let mut home = None;
    let mut sections = BTreeMap::new();
    let mut case_studies = Vec::new();
    let mut reports = Vec::new();
    let mut plain = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        match p.kind {
            Kind::Home => home = Some(i),
            Kind::Section => {
                sections.insert(p.slug.clone(), i);
            }
            Kind::CaseStudy => case_studies.push(i),
            Kind::Report => reports.push(i),
            Kind::Page => plain.push(i),
        }
    }
    plain.sort_by(|&a, &b| pages[a].path.cmp(&pages[b].path));

    // Taxonomies: group the raw values of every case study by slug.
    let mut page_terms = vec![vec![Vec::new(); config.taxonomies.len()]; pages.len()];
    let mut taxonomies = Vec::with_capacity(config.taxonomies.len());
    for (t, tax) in config.taxonomies.iter().enumerate() {
        // slug -> (spelling -> count, pages)
        let mut groups: BTreeMap<String, (BTreeMap<String, usize>, Vec<usize>)> = BTreeMap::new();
        for &i in &case_studies {
            for value in &pages[i].terms[t] {
                let value = shown(tax, value);
                let slug = slugify(&value);
                if slug.is_empty() {
                    continue;
                }
                let g = groups.entry(slug).or_default();
                *g.0.entry(value).or_default() += 1;
                if g.1.last() != Some(&i) {
                    g.1.push(i);
                }
            }
        }
        let mut terms = Vec::with_capacity(groups.len());
        let mut slug_index = HashMap::with_capacity(groups.len());
        for (slug, (spellings, members)) in groups {
            let name = spellings
                .iter()
                .max_by(|a, b| {
                    spelling_rank(a.0, *a.1)
                        .cmp(&spelling_rank(b.0, *b.1))
                        .then_with(|| b.0.cmp(a.0))
                })
                .map(|(s, _)| s.to_string())
                .unwrap_or_default();
            slug_index.insert(slug.clone(), terms.len());
            terms.push(Term {
                name,
                slug,
                pages: members,
            });
        }
        // Reports link to the terms their case studies made (a report's
        // `program:` links to that programme's page) without being members.
        for &i in case_studies.iter().chain(&reports) {
            let mut mine: Vec<usize> = Vec::new();
            for value in &pages[i].terms[t] {
                if let Some(&ti) = slug_index.get(&slugify(&shown(tax, value)))
                    && !mine.contains(&ti)
                {
                    mine.push(ti);
                }
            }
            page_terms[i][t] = mine;
        }
        taxonomies.push(Taxonomy {
            config: tax.clone(),
            terms,
        });
    }

    // Reports and their case studies.
    let report_by_slug: HashMap<&str, usize> = reports
        .iter()
        .map(|&i| (pages[i].slug.as_str(), i))
        .collect();
    let mut report_of = vec![None; pages.len()];
    let mut members = vec![Vec::new(); pages.len()];
    for &i in &case_studies {
        if let Some(r) = pages[i]
            .report
            .as_deref()
            .and_then(|r| report_by_slug.get(r))
        {
            report_of[i] = Some(*r);
            members[*r].push(i);
        }
    }

    Site {
        config,
        pages,
        home,
        sections,
        case_studies,
        reports,
        plain,
        taxonomies,
        report_of,
        members,
        page_terms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{self, Source};

    fn site(files: &[(&str, &str)]) -> Site {
        let config = Config::parse("title = \"T\"\n").unwrap();
        let sources = files
            .iter()
            .map(|(rel, text)| Source {
                rel: rel.to_string(),
                text: text.to_string(),
            })
            .collect();
        let parsed = content::parse(sources, &config, false);
        assert!(
            parsed.diags.iter().all(|d| !d.is_error()),
            "{:?}",
            parsed.diags
        );
        index(config, parsed.pages.into_iter().map(Arc::new).collect())
    }

    fn cs(date: &str, sector: &str) -> String {
        format!(
            "---\ntitle: T {date}\ndate: {date}\nngo: N\nsector: {sector}\nprogram: P\nsummary: S\n---\n"
        )
    }

    #[test]
    fn terms_group_by_slug_under_the_most_used_spelling() {
        let a = cs("2024-01-01", "Mental Health");
        let b = cs("2024-01-02", "mental health");
        let c = cs("2024-01-03", "mental-health");
        let d = cs("2024-01-04", "Mental Health");
        let s = site(&[
            ("case-studies/a.md", &a),
            ("case-studies/b.md", &b),
            ("case-studies/c.md", &c),
            ("case-studies/d.md", &d),
        ]);
        let sector = &s.taxonomies[1];
        assert_eq!(sector.terms.len(), 1);
        assert_eq!(sector.terms[0].name, "Mental Health");
        assert_eq!(sector.terms[0].slug, "mental-health");
        // Newest first.
        let dates: Vec<_> = sector.terms[0]
            .pages
            .iter()
            .map(|&i| s.pages[i].date.unwrap().iso_date())
            .collect();
        assert_eq!(
            dates,
            ["2024-01-04", "2024-01-03", "2024-01-02", "2024-01-01"]
        );
    }

    #[test]
    fn spelling_ranks() {
        assert!(spelling_rank("Perú", 1) > spelling_rank("Peru", 1));
        assert!(spelling_rank("Peru", 1) > spelling_rank("PERÚ", 1));
        assert!(spelling_rank("Mental Health", 1) > spelling_rank("mental health", 1));
        assert!(spelling_rank("mental health", 2) > spelling_rank("Mental Health", 1));
        // Acronyms are not shouting: one spelling, nothing to compare.
        assert!(spelling_rank("SHOFCO", 2) > spelling_rank("Shofco", 1));
    }

    #[test]
    fn ties_prefer_capitals() {
        let a = cs("2024-01-01", "mental health");
        let b = cs("2024-01-02", "Mental Health");
        let s = site(&[("case-studies/a.md", &a), ("case-studies/b.md", &b)]);
        assert_eq!(s.taxonomies[1].terms[0].name, "Mental Health");
    }

    #[test]
    fn reports_collect_their_case_studies() {
        let mut a = cs("2024-01-01", "Health");
        a = a.replace("summary: S", "summary: S\nreport: r2024");
        let r = "---\ntitle: R\ndate: 2024-12-01\n---\nbody\n";
        let s = site(&[("case-studies/a.md", &a), ("reports/r2024.md", r)]);
        let ri = s.reports[0];
        assert_eq!(s.members[ri], vec![s.case_studies[0]]);
        assert_eq!(s.report_of[s.case_studies[0]], Some(ri));
    }
}
