//! The `index` stage: from a flat list of pages to the immutable [`Site`]
//! that rendering reads — case studies in order, taxonomies and their terms
//! (grouped by slug), and the links between reports and their case studies.
//!
//! Every list here is sorted deterministically, so two builds of the same
//! content produce the same bytes.

use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub mod outcomes;
pub mod related;

use crate::config::{Config, TaxonomyConfig};
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
        [self.config.name.as_str(), "/"].concat()
    }
    /// Site path of a term's first page: `sector/health/`.
    pub fn term_path(&self, term: &Term) -> String {
        [self.config.name.as_str(), "/", term.slug.as_str(), "/"].concat()
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
    /// For each page: its related case studies (case studies only). Empty
    /// until [`Site::with_discovery`].
    pub related: Vec<Vec<related::Related>>,
    /// Every case study's outcomes, added up by metric. Empty until
    /// [`Site::with_discovery`].
    pub outcomes: Vec<outcomes::Metric>,
    /// Each page's outcomes' groups, for adding up a term's. Empty until
    /// [`Site::with_discovery`].
    pub outcome_groups: outcomes::Groups,
}

impl Site {
    /// The taxonomies outcomes are broken down by, as (index, page terms).
    pub fn breakdown(&self) -> Vec<(usize, &[Vec<Vec<usize>>])> {
        self.config
            .outcomes
            .breakdown
            .iter()
            .filter_map(|name| self.taxonomies.iter().position(|t| &t.config.name == name))
            .map(|t| (t, self.page_terms.as_slice()))
            .collect()
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
pub fn index(config: Config, pages: Vec<Arc<Page>>) -> Site {
    // By kind, then newest first (undated last), then title, then file.
    // Sort by keys read once per page: comparing pages directly would visit
    // each (scattered in memory) a dozen times.
    let mut keyed: Vec<(Kind, bool, i64, usize)> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                p.kind,
                p.date.is_none(),
                p.date.map_or(0, |d| -d.timestamp()),
                i,
            )
        })
        .collect();
    keyed.sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| pages[a.3].title.cmp(&pages[b.3].title))
            .then_with(|| pages[a.3].rel.cmp(&pages[b.3].rel))
    });
    let pages: Vec<Arc<Page>> = keyed.iter().map(|k| Arc::clone(&pages[k.3])).collect();

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

    // Taxonomies: group every case study's values by slug. Each page is
    // visited once for all taxonomies (its data is scattered in memory, and
    // visiting it is most of the cost), and records the ids of its groups so
    // the final term numbers need no second look at the page.
    struct Group<'a> {
        slug: &'a str,
        /// (spelling, how many pages use it)
        spellings: Vec<(&'a str, usize)>,
        members: Vec<usize>,
    }
    let n_tax = config.taxonomies.len();
    let mut groups: Vec<Vec<Group>> = (0..n_tax).map(|_| Vec::new()).collect();
    let mut lookup: Vec<HashMap<&str, usize>> = (0..n_tax).map(|_| HashMap::new()).collect();
    let mut page_groups: Vec<(usize, Vec<Vec<usize>>)> =
        Vec::with_capacity(case_studies.len() + reports.len());
    for &i in &case_studies {
        let mut mine = vec![Vec::new(); n_tax];
        for (t, values) in pages[i].terms.iter().enumerate().take(n_tax) {
            for v in values {
                let id = *lookup[t].entry(v.slug.as_str()).or_insert_with(|| {
                    groups[t].push(Group {
                        slug: &v.slug,
                        spellings: Vec::new(),
                        members: Vec::new(),
                    });
                    groups[t].len() - 1
                });
                let g = &mut groups[t][id];
                match g.spellings.iter_mut().find(|(s, _)| *s == v.shown) {
                    Some((_, n)) => *n += 1,
                    None => g.spellings.push((&v.shown, 1)),
                }
                if g.members.last() != Some(&i) {
                    g.members.push(i);
                }
                if !mine[t].contains(&id) {
                    mine[t].push(id);
                }
            }
        }
        page_groups.push((i, mine));
    }
    // Reports link to the terms their case studies made (a report's
    // `program:` links to that programme's page) without being members.
    for &i in &reports {
        let mut mine = vec![Vec::new(); n_tax];
        for (t, values) in pages[i].terms.iter().enumerate().take(n_tax) {
            for v in values {
                if let Some(&id) = lookup[t].get(v.slug.as_str())
                    && !mine[t].contains(&id)
                {
                    mine[t].push(id);
                }
            }
        }
        page_groups.push((i, mine));
    }
    let mut page_terms = vec![vec![Vec::new(); n_tax]; pages.len()];
    let mut taxonomies = Vec::with_capacity(n_tax);
    for (t, tax) in config.taxonomies.iter().enumerate() {
        let mut order: Vec<usize> = (0..groups[t].len()).collect();
        order.sort_unstable_by(|&a, &b| groups[t][a].slug.cmp(groups[t][b].slug));
        // group id -> term number
        let mut number = vec![0; order.len()];
        for (n, &id) in order.iter().enumerate() {
            number[id] = n;
        }
        let terms = order
            .iter()
            .map(|&id| {
                let g = &mut groups[t][id];
                let name = g
                    .spellings
                    .iter()
                    .max_by(|a, b| {
                        spelling_rank(a.0, a.1)
                            .cmp(&spelling_rank(b.0, b.1))
                            .then_with(|| b.0.cmp(a.0))
                    })
                    .map(|(s, _)| s.to_string())
                    .unwrap_or_default();
                Term {
                    name,
                    slug: g.slug.to_string(),
                    pages: std::mem::take(&mut g.members),
                }
            })
            .collect();
        for (i, mine) in &page_groups {
            page_terms[*i][t] = mine[t].iter().map(|&id| number[id]).collect();
        }
        taxonomies.push(Taxonomy {
            config: tax.clone(),
            terms,
        });
    }
    drop(lookup);
    drop(groups);

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
        related: Vec::new(),
        outcomes: Vec::new(),
        outcome_groups: outcomes::Groups::default(),
    }
}

impl Site {
    /// Lets go of what only the checks needed: each page's front matter as
    /// written (with the line of every value) and the text of its head, kept
    /// to quote in messages. Once the site is checked, rendering reads none
    /// of it; at 100,000 pages it comes to a few hundred MB. Pages shared
    /// with someone else (the preview server keeps its own) stay whole.
    /// Freeing it is a thread's work beside the rendering: on the build's
    /// path it was 20 ms at 10,000 pages, with the other core idle.
    pub fn without_sources(mut self) -> Site {
        let sources: Vec<_> = self
            .pages
            .par_iter_mut()
            .filter_map(Arc::get_mut)
            .map(|p| {
                (
                    std::mem::take(&mut p.front_matter),
                    std::mem::take(&mut p.head),
                )
            })
            .collect();
        let _ = std::thread::Builder::new()
            .name("casebook-free".into())
            .spawn(move || drop(sources));
        self
    }

    /// Adds what only the rendered site shows — related case studies and
    /// outcome totals — which `casebook check` has no need to compute.
    #[cfg(test)]
    pub fn with_discovery(self) -> Site {
        let found = self.discover();
        self.with(found)
    }

    /// Works out what [`Site::with_discovery`] adds, without changing the
    /// site: so that it can run beside the link checks, which read the site.
    /// The related case studies and the outcome totals are worked out side
    /// by side (the totals on one core were 20 ms at 10,000 pages).
    pub fn discover(&self) -> Discovery {
        let weights: Vec<u32> = self
            .taxonomies
            .iter()
            .map(|t| self.config.related.weight(&t.config.name))
            .collect();
        let (related, (outcomes, outcome_groups)) = rayon::join(
            || {
                related::related(
                    self.pages.len(),
                    &self.case_studies,
                    &self.taxonomies,
                    &self.page_terms,
                    &weights,
                    self.config.related.limit,
                )
            },
            || self.outcome_totals(),
        );
        Discovery {
            related,
            outcomes,
            outcome_groups,
        }
    }

    /// The site with what [`Site::discover`] found.
    pub fn with(mut self, found: Discovery) -> Site {
        self.related = found.related;
        self.outcomes = found.outcomes;
        self.outcome_groups = found.outcome_groups;
        self
    }

    /// Adds up the site's outcomes again, after its pages' figures changed.
    pub fn count_outcomes(&mut self) {
        (self.outcomes, self.outcome_groups) = self.outcome_totals();
    }

    fn outcome_totals(&self) -> (Vec<outcomes::Metric>, outcomes::Groups) {
        let groups = outcomes::Groups::new(&self.pages, &self.config.outcomes.aggregate);
        let totals =
            outcomes::summarise_in(&self.pages, &self.case_studies, &self.breakdown(), &groups);
        (totals, groups)
    }
}

/// What [`Site::discover`] works out: the parts of a [`Site`] that are
/// empty until [`Site::with_discovery`].
pub struct Discovery {
    related: Vec<Vec<related::Related>>,
    outcomes: Vec<outcomes::Metric>,
    outcome_groups: outcomes::Groups,
}

/// For unit tests: the indexed site of `files` (content-relative path,
/// text) under the site.toml `config`, which must have no errors.
#[cfg(test)]
pub(crate) fn test_site(config: &str, files: &[(&str, &str)]) -> Site {
    let config = Config::parse(config).unwrap();
    let sources = files
        .iter()
        .map(|(rel, text)| crate::content::Source {
            rel: rel.to_string(),
            text: text.to_string(),
        })
        .collect();
    let parsed = crate::content::parse(sources, &config, false);
    assert!(
        parsed.diags.iter().all(|d| !d.is_error()),
        "{:?}",
        parsed.diags
    );
    index(config, parsed.pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &str)]) -> Site {
        test_site("title = \"T\"\n", files)
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
