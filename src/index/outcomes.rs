//! Outcomes added up: every case study's numbers grouped by metric and unit,
//! with a total, the case studies behind it, and breakdowns by taxonomy
//! (sector and programme by default).
//!
//! Metrics group by name ignoring case and spacing ("People reached" and
//! "people  reached" are one), and by unit: 500 people and 500 USD are never
//! added together. Percentages and scores are not amounts, so they are
//! averaged, not summed.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::content::Page;
use crate::content::front_matter::Outcome;

/// How a metric's values combine: declared in site.toml's
/// `[outcomes] aggregate`, else inferred from the unit.
pub use crate::config::Aggregate as Combine;

/// What a unit says about adding its figures up: rates and scores (percent,
/// "per week", "hours/week", a score) are averaged, countries reached
/// taken at their highest, amounts summed.
pub fn combine_for(unit: Option<&str>) -> Combine {
    let Some(u) = unit.map(|u| u.trim().to_lowercase()) else {
        return Combine::Sum;
    };
    let rate = matches!(
        u.as_str(),
        "%" | "percent" | "per cent" | "percentage" | "points" | "score" | "rating" | "nps"
    ) || u.contains(" per ")
        || u.starts_with("per ")
        || u.contains('/')
        || u.ends_with(" score")
        || u.ends_with(" rate");
    // Two case studies may reach the same countries: the widest reach is
    // the figure that holds, not the sum.
    let places = matches!(u.as_str(), "countries" | "country");
    if rate {
        Combine::Mean
    } else if places {
        Combine::Max
    } else {
        Combine::Sum
    }
}

/// How metric `name` with `unit` combines: as site.toml declares (keys
/// as [`key`] makes them), else as its unit suggests.
fn combine_of(declared: &BTreeMap<String, Combine>, name: &str, unit: Option<&str>) -> Combine {
    declared
        .get(key(name).as_ref())
        .copied()
        .unwrap_or_else(|| combine_for(unit))
}

/// One figure: a total (or mean) over some case studies.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The sum, or for rates the mean.
    pub value: f64,
    /// Case studies behind it (indices into `Site::pages`), in site order.
    pub pages: Vec<usize>,
}

/// A metric across the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The spelling most case studies use.
    pub name: String,
    pub unit: Option<String>,
    pub combine: Combine,
    pub figure: Figure,
    /// For each breakdown taxonomy (in config order): (term, figure),
    /// largest first. Case studies without a term in that taxonomy are left
    /// out of its breakdown.
    pub breakdowns: Vec<(usize, Vec<(usize, Figure)>)>,
}

/// Whether `s` is ASCII with no spacing to tidy: single spaces between
/// words and no other white space (a vertical tab counts, as it does for
/// `split_whitespace`).
fn spaced_once(s: &str) -> bool {
    !s.starts_with(' ')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.bytes()
            .all(|b| b.is_ascii() && (b == b' ' || !(b.is_ascii_whitespace() || b == 0x0b)))
}

/// A name as grouping sees it: lower case, single spaces. Most names are
/// written that way already and are borrowed, not copied.
pub(crate) fn key(s: &str) -> Cow<'_, str> {
    if spaced_once(s) && !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase(),
    )
}

/// A name as grouping sees it (see [`key`]), compared without making the
/// lower-case copy when the name is ASCII, as nearly all are: every term
/// page adds up its case studies' outcomes, and most metric names are
/// capitalised, so `key` copied each one once per page of every term.
enum GroupKey<'a> {
    /// A name [`spaced_once`]: its key is its own bytes lower cased,
    /// compared as they are read.
    Raw(&'a str),
    /// Any other name, as `key` makes it.
    Made(Cow<'a, str>),
}

impl<'a> GroupKey<'a> {
    fn new(s: &'a str) -> Self {
        if spaced_once(s) {
            GroupKey::Raw(s)
        } else {
            GroupKey::Made(key(s))
        }
    }
}

impl Ord for GroupKey<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use GroupKey::{Made, Raw};
        fn lower(s: &str) -> impl Iterator<Item = u8> + '_ {
            s.bytes().map(|c| c.to_ascii_lowercase())
        }
        match (self, other) {
            (Raw(a), Raw(b)) => lower(a).cmp(lower(b)),
            (Raw(a), Made(b)) => lower(a).cmp(b.bytes()),
            (Made(a), Raw(b)) => a.bytes().cmp(lower(b)),
            (Made(a), Made(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for GroupKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for GroupKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for GroupKey<'_> {}

struct Acc<'a> {
    names: BTreeMap<&'a str, usize>,
    units: BTreeMap<&'a str, usize>,
    /// page -> sum of its values for this metric (a case study may report
    /// the same metric twice; its values are summed before combining).
    by_page: BTreeMap<usize, f64>,
}

fn figure(
    by_page: &BTreeMap<usize, f64>,
    pages: impl Iterator<Item = usize>,
    combine: Combine,
) -> Figure {
    let pages: Vec<usize> = pages.filter(|p| by_page.contains_key(p)).collect();
    let sum: f64 = pages.iter().map(|p| by_page[p]).sum();
    let value = match combine {
        Combine::Sum | Combine::None => sum,
        Combine::Max => pages.iter().map(|p| by_page[p]).fold(0.0, f64::max),
        Combine::Mean if pages.is_empty() => 0.0,
        Combine::Mean => sum / pages.len() as f64,
    };
    Figure { value, pages }
}

fn most_used<'a>(counts: &BTreeMap<&'a str, usize>) -> Option<&'a str> {
    counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(s, _)| *s)
}

/// Each outcome's group (its metric and unit as grouping sees them),
/// numbered in the order groups sort: worked out once for the site, so that
/// adding up each term's outcomes compares numbers, not names. At 10,000
/// case studies that was a thirtieth of a build.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    /// Page `p`'s outcomes' groups are `ids[start[p]..start[p + 1]]`;
    /// [`Groups::LEFT_OUT`] for a value that is not a finite number.
    start: Vec<usize>,
    ids: Vec<u32>,
    /// `[outcomes] aggregate` from site.toml, by metric name as [`key`]
    /// makes it.
    declared: BTreeMap<String, Combine>,
}

impl Groups {
    const LEFT_OUT: u32 = u32::MAX;

    /// The groups of every outcome of `all`, and how each metric
    /// combines as site.toml declares it.
    pub fn new(all: &[std::sync::Arc<Page>], declared: &BTreeMap<String, Combine>) -> Groups {
        fn key(o: &Outcome) -> (GroupKey<'_>, GroupKey<'_>) {
            (
                GroupKey::new(&o.metric),
                GroupKey::new(o.unit.as_deref().unwrap_or("")),
            )
        }
        let mut numbers: BTreeMap<(GroupKey, GroupKey), u32> = BTreeMap::new();
        for p in all {
            for o in p.outcomes.iter().filter(|o| o.value.is_finite()) {
                numbers.insert(key(o), 0);
            }
        }
        for (n, id) in numbers.values_mut().enumerate() {
            *id = n as u32;
        }
        let mut start = Vec::with_capacity(all.len() + 1);
        let mut ids = Vec::new();
        for p in all {
            start.push(ids.len());
            ids.extend(p.outcomes.iter().map(|o| {
                if o.value.is_finite() {
                    numbers[&key(o)]
                } else {
                    Groups::LEFT_OUT
                }
            }));
        }
        start.push(ids.len());
        Groups {
            start,
            ids,
            declared: declared
                .iter()
                .map(|(name, &c)| (self::key(name).into_owned(), c))
                .collect(),
        }
    }

    fn of(&self, page: usize) -> &[u32] {
        &self.ids[self.start[page]..self.start[page + 1]]
    }
}

/// Adds up the outcomes of `pages` (indices into `all`, in site order).
/// `breakdown` lists (taxonomy index, for each page its terms in that
/// taxonomy). Metrics are ordered by how many case studies report them,
/// then by name.
#[cfg(test)]
pub fn summarise(
    all: &[std::sync::Arc<Page>],
    pages: &[usize],
    breakdown: &[(usize, &[Vec<Vec<usize>>])],
) -> Vec<Metric> {
    summarise_in(all, pages, breakdown, &Groups::new(all, &BTreeMap::new()))
}

/// [`summarise`], with the groups of `all` made earlier.
pub fn summarise_in(
    all: &[std::sync::Arc<Page>],
    pages: &[usize],
    breakdown: &[(usize, &[Vec<Vec<usize>>])],
    groups: &Groups,
) -> Vec<Metric> {
    // Groups made for other pages (a site not yet through discovery) are
    // made again.
    let made;
    let groups = if groups.start.len() == all.len() + 1 {
        groups
    } else {
        made = Groups::new(all, &groups.declared);
        &made
    };
    let mut metrics: BTreeMap<u32, Acc> = BTreeMap::new();
    for &i in pages {
        for (o, &g) in all[i].outcomes.iter().zip(groups.of(i)) {
            if g == Groups::LEFT_OUT {
                continue;
            }
            let acc = metrics.entry(g).or_insert_with(|| Acc {
                names: BTreeMap::new(),
                units: BTreeMap::new(),
                by_page: BTreeMap::new(),
            });
            *acc.names.entry(o.metric.as_str()).or_default() += 1;
            *acc.units
                .entry(o.unit.as_deref().unwrap_or(""))
                .or_default() += 1;
            *acc.by_page.entry(i).or_default() += o.value;
        }
    }
    let mut out: Vec<Metric> = metrics
        .into_values()
        .map(|acc| {
            let unit = most_used(&acc.units)
                .filter(|u| !u.is_empty())
                .map(str::to_string);
            let name = most_used(&acc.names).unwrap_or_default().to_string();
            let combine = combine_of(&groups.declared, &name, unit.as_deref());
            let figure_all = figure(&acc.by_page, acc.by_page.keys().copied(), combine);
            let breakdowns = breakdown
                .iter()
                .map(|&(t, page_terms)| {
                    let mut terms: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
                    for &p in acc.by_page.keys() {
                        for &term in &page_terms[p][t] {
                            terms.entry(term).or_default().push(p);
                        }
                    }
                    let mut rows: Vec<(usize, Figure)> = terms
                        .into_iter()
                        .map(|(term, ps)| (term, figure(&acc.by_page, ps.into_iter(), combine)))
                        .collect();
                    rows.sort_by(|a, b| b.1.value.total_cmp(&a.1.value).then(a.0.cmp(&b.0)));
                    (t, rows)
                })
                .collect();
            Metric {
                name,
                unit,
                combine,
                figure: figure_all,
                breakdowns,
            }
        })
        .collect();
    // Figures site.toml says not to put together make no total anywhere.
    out.retain(|m| m.combine != Combine::None);
    out.sort_by(|a, b| {
        b.figure
            .pages
            .len()
            .cmp(&a.figure.pages.len())
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.unit.cmp(&b.unit))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{self, Source};
    use std::sync::Arc;

    fn pages(outcomes: &[&str]) -> Vec<Arc<Page>> {
        let config = crate::config::Config::parse("title = \"T\"\n").unwrap();
        let sources = outcomes
            .iter()
            .enumerate()
            .map(|(i, o)| Source {
                rel: format!("case-studies/p{i}.md"),
                text: format!(
                    "---\ntitle: P{i}\ndate: 2024-01-0{}\noutcomes:\n{o}---\nx\n",
                    i + 1
                ),
            })
            .collect();
        let parsed = content::parse(sources, &config, false);
        let mut p: Vec<Arc<Page>> = parsed.pages;
        p.sort_by(|a, b| a.rel.cmp(&b.rel));
        p
    }

    /// A term's totals, added up with the groups of the whole site, are
    /// those of its case studies on their own.
    #[test]
    fn groups_made_for_the_site_add_up_any_part_of_it() {
        let p = pages(&[
            "  - metric: People reached\n    value: 100\n    unit: people\n",
            "  - metric: people  REACHED\n    value: 50\n    unit: People\n  - metric: Cost\n    value: 10\n    unit: USD\n",
            "  - metric: Uptake\n    value: 40\n    unit: \"%\"\n  - metric: Cost\n    value: 5\n    unit: usd\n",
            "  - metric: People reached\n    value: 7\n    unit: households\n  - metric: Uptake\n    value: 60\n    unit: percent\n",
            "  - metric: Zebra count\n    value: 1\n",
        ]);
        let groups = Groups::new(&p, &BTreeMap::new());
        let all: Vec<usize> = (0..p.len()).collect();
        assert_eq!(
            summarise_in(&p, &all, &[], &groups),
            summarise(&p, &all, &[])
        );
        for part in [vec![0], vec![1, 3], vec![2, 4], vec![0, 2, 3], vec![4]] {
            let alone: Vec<Arc<Page>> = part.iter().map(|&i| Arc::clone(&p[i])).collect();
            let mut expected = summarise(&alone, &(0..alone.len()).collect::<Vec<_>>(), &[]);
            for m in &mut expected {
                for page in &mut m.figure.pages {
                    *page = part[*page];
                }
            }
            assert_eq!(summarise_in(&p, &part, &[], &groups), expected, "{part:?}");
        }
    }

    #[test]
    fn groups_by_name_and_unit_never_mixing_units() {
        let p = pages(&[
            "  - metric: People reached\n    value: 100\n    unit: people\n",
            "  - metric: people  REACHED\n    value: 50\n    unit: People\n  - metric: Cost\n    value: 10\n    unit: USD\n",
            "  - metric: People reached\n    value: 7\n    unit: households\n",
        ]);
        let m = summarise(&p, &[0, 1, 2], &[]);
        let people = m
            .iter()
            .find(|m| m.unit.as_deref().map(str::to_lowercase).as_deref() == Some("people"))
            .unwrap();
        assert_eq!(people.name, "People reached");
        assert_eq!(people.figure.value, 150.0);
        assert_eq!(people.figure.pages, [0, 1]);
        let households = m
            .iter()
            .find(|m| m.unit.as_deref() == Some("households"))
            .unwrap();
        assert_eq!(
            households.figure.value, 7.0,
            "different units are never added"
        );
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name, "People reached", "most reported first");
    }

    #[test]
    fn rates_are_averaged_and_pages_without_outcomes_count_for_nothing() {
        let p = pages(&[
            "  - metric: Attendance up\n    value: 20\n    unit: percent\n",
            "  - metric: Attendance up\n    value: 40\n    unit: percent\n",
            "  []\n",
        ]);
        let m = summarise(&p, &[0, 1, 2], &[]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].combine, Combine::Mean);
        assert_eq!(m[0].figure.value, 30.0);
        assert_eq!(m[0].figure.pages, [0, 1]);
        assert!(summarise(&p, &[2], &[]).is_empty());
    }

    #[test]
    fn a_metric_twice_in_one_case_study_is_summed_for_it() {
        let p = pages(&["  - metric: Hours\n    value: 2\n  - metric: hours\n    value: 3\n"]);
        let m = summarise(&p, &[0], &[]);
        assert_eq!(m[0].figure.value, 5.0);
        assert_eq!(m[0].figure.pages, [0]);
        assert_eq!(m[0].unit, None);
    }

    #[test]
    fn breaks_down_by_taxonomy() {
        let p = pages(&[
            "  - metric: People\n    value: 10\n",
            "  - metric: People\n    value: 30\n",
            "  - metric: People\n    value: 5\n",
        ]);
        // One taxonomy (0): page 0 in term 0, page 1 in terms 0 and 1, page 2 in none.
        let page_terms = vec![vec![vec![0]], vec![vec![0, 1]], vec![vec![]]];
        let m = summarise(&p, &[0, 1, 2], &[(0, &page_terms)]);
        let rows = &m[0].breakdowns[0].1;
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].0, rows[0].1.value), (0, 40.0));
        assert_eq!((rows[1].0, rows[1].1.value), (1, 30.0));
        assert_eq!(m[0].figure.value, 45.0);
    }

    #[test]
    fn grouping_names_ignore_case_and_spacing() {
        for (name, grouped) in [
            ("people reached", "people reached"),
            ("People reached", "people reached"),
            ("  people   reached ", "people reached"),
            ("people\treached", "people reached"),
            ("people\u{b}reached", "people reached"),
            ("Élèves inscrits", "élèves inscrits"),
            ("usd", "usd"),
            ("", ""),
        ] {
            assert_eq!(key(name), grouped, "{name:?}");
        }
        assert!(matches!(key("people reached"), Cow::Borrowed(_)));
    }

    /// Grouping compares names as their `key` strings compare, without
    /// copying ASCII names: equal where the keys are equal, ordered as they
    /// are ordered.
    #[test]
    fn group_keys_compare_as_the_grouping_names_do() {
        let names = [
            "People reached",
            "people  REACHED",
            " people reached ",
            "people\treached",
            "People",
            "people reached!",
            "Élèves inscrits",
            "élèves   INSCRITS",
            "ΣΟΦΊΑΣ",
            "",
            " ",
            "a b",
            "ab",
            "a\u{b}b",
            "Z",
            "z",
            "Cost",
            "cost (USD)",
        ];
        for a in names {
            for b in names {
                assert_eq!(
                    GroupKey::new(a).cmp(&GroupKey::new(b)),
                    key(a).cmp(&key(b)),
                    "{a:?} against {b:?}"
                );
            }
        }
    }
}
