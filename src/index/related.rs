//! Related case studies: for each case study, the few others that share the
//! most with it — the same NGO, sector, country, programme or tags, each
//! taxonomy weighted (`[related] weights` in site.toml) — with the shared
//! terms kept to show the reader why ("also: Health · India").
//!
//! Scores are gathered through the terms (each case study adds weight to
//! every other member of its terms), not by comparing every pair, and each
//! case study is scored independently, in parallel.

use std::cell::RefCell;

use rayon::prelude::*;

use super::Taxonomy;

/// One related case study.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Index into `Site::pages`.
    pub page: usize,
    pub score: u32,
    /// The terms it shares, as (taxonomy, term), heaviest taxonomy first.
    pub shared: Vec<(usize, usize)>,
}

/// A score per page, the pages touched, a weight per group.
type Scratch = (Vec<u32>, Vec<usize>, Vec<u32>);

thread_local! {
    /// Per-thread scratch: a score per page, which pages were touched, and
    /// the weight each group of pages shares with the page being scored.
    static SCRATCH: RefCell<Scratch> =
        const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// For every page (by index), its related case studies: at most `limit`,
/// highest score first, ties going to the page earlier in the site's order
/// (newer). Only case studies have and are related case studies. Pages that
/// share nothing are never related.
pub fn related(
    n_pages: usize,
    case_studies: &[usize],
    taxonomies: &[Taxonomy],
    page_terms: &[Vec<Vec<usize>>],
    weights: &[u32],
    limit: usize,
) -> Vec<Vec<Related>> {
    // A term is "big" when it holds over 5% of the case studies (and over 64):
    // a sector, a programme. Walking every big term's members for every page
    // is quadratic (100,000 case studies in 12 sectors: 10^9 steps).
    let big = (case_studies.len() / 20).max(64);
    related_with(
        n_pages,
        case_studies,
        taxonomies,
        page_terms,
        weights,
        limit,
        big,
        2048,
    )
}

/// The scoring, with the size above which a term counts as big.
///
/// Small terms are walked member by member, adding weight to each page met
/// ("touched"). Big terms are not walked: pages are grouped by the set of
/// big terms they belong to, and every untouched page of a group has the
/// same score, the weight of the big terms its group shares with this page.
/// Since ties go to the earlier page, only the first `limit` untouched
/// pages of a group can make the list, so those are the only ones looked
/// at. The result is exactly that of scoring every pair.
///
/// What each group shares with each other group is worked out once per
/// pair while there are at most `pair_groups` groups.
#[allow(clippy::too_many_arguments)]
fn related_with(
    n_pages: usize,
    case_studies: &[usize],
    taxonomies: &[Taxonomy],
    page_terms: &[Vec<Vec<usize>>],
    weights: &[u32],
    limit: usize,
    big: usize,
    pair_groups: usize,
) -> Vec<Vec<Related>> {
    let mut out = vec![Vec::new(); n_pages];
    if limit == 0 {
        return out;
    }
    // Heaviest taxonomies first, for the order of the reasons shown.
    let mut by_weight: Vec<usize> = (0..taxonomies.len()).filter(|&t| weights[t] > 0).collect();
    by_weight.sort_by_key(|&t| (std::cmp::Reverse(weights[t]), t));
    let is_big = |t: usize, term: usize| taxonomies[t].terms[term].pages.len() > big;

    // Each page's big terms, sorted: its group's key.
    let signature = |j: usize| -> Vec<(usize, usize)> {
        let mut sig: Vec<(usize, usize)> = by_weight
            .iter()
            .flat_map(|&t| page_terms[j][t].iter().map(move |&term| (t, term)))
            .filter(|&(t, term)| is_big(t, term))
            .collect();
        sig.sort_unstable();
        sig.dedup();
        sig
    };
    let mut members: Vec<usize> = by_weight
        .iter()
        .flat_map(|&t| {
            taxonomies[t]
                .terms
                .iter()
                .filter(|term| term.pages.len() > big)
                .flat_map(|term| term.pages.iter().copied())
        })
        .collect();
    members.sort_unstable();
    members.dedup();
    let mut group_of = vec![usize::MAX; n_pages];
    let mut ids: std::collections::HashMap<Vec<(usize, usize)>, usize> = Default::default();
    // (the big terms, the pages that have exactly those, in site order)
    type Group = (Vec<(usize, usize)>, Vec<usize>);
    let mut groups: Vec<Group> = Vec::new();
    for j in members {
        let sig = signature(j);
        let g = *ids.entry(sig.clone()).or_insert_with(|| {
            groups.push((sig, Vec::new()));
            groups.len() - 1
        });
        groups[g].1.push(j);
        group_of[j] = g;
    }
    let shared_weight = |a: &[(usize, usize)], b: &[(usize, usize)]| -> u32 {
        let (mut x, mut y, mut sum) = (0, 0, 0);
        while x < a.len() && y < b.len() {
            match a[x].cmp(&b[y]) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    sum += weights[a[x].0];
                    x += 1;
                    y += 1;
                }
            }
        }
        sum
    };
    // Pages of one group share the same weight with every group: working
    // it out once per pair of groups, not once per page and group, saved a
    // twentieth of a 10,000-page build (600 groups of sector and programme
    // sets). Kept to `pair_groups` squared (16 MB for 2,048 groups); past
    // that, one row per page.
    let pair_weights: Option<Vec<Vec<u32>>> = (groups.len() <= pair_groups).then(|| {
        groups
            .par_iter()
            .map(|(a, _)| groups.iter().map(|(b, _)| shared_weight(a, b)).collect())
            .collect()
    });

    let results: Vec<(usize, Vec<Related>)> = case_studies
        .par_iter()
        .map(|&i| {
            SCRATCH.with(|s| {
                let (scores, touched, group_weight) = &mut *s.borrow_mut();
                if scores.len() < n_pages {
                    scores.resize(n_pages, 0);
                }
                for &t in &by_weight {
                    let w = weights[t];
                    for &term in &page_terms[i][t] {
                        if is_big(t, term) {
                            continue;
                        }
                        for &j in &taxonomies[t].terms[term].pages {
                            if j != i {
                                if scores[j] == 0 {
                                    touched.push(j);
                                }
                                scores[j] += w;
                            }
                        }
                    }
                }
                // What each group shares with this page: its own group's
                // row when there is one (a page outside every group has no
                // big term, so shares nothing with any group).
                let mine = group_of[i];
                let group_weight: &[u32] = if mine == usize::MAX {
                    group_weight.clear();
                    group_weight.resize(groups.len(), 0);
                    group_weight
                } else if let Some(rows) = &pair_weights {
                    &rows[mine]
                } else {
                    let sig = &groups[mine].0;
                    group_weight.clear();
                    group_weight.extend(groups.iter().map(|(s, _)| shared_weight(sig, s)));
                    group_weight
                };
                let big_of = |j: usize| match group_of[j] {
                    usize::MAX => 0,
                    g => group_weight[g],
                };
                // The best `limit` candidates so far, best first: highest
                // score, then earlier in the site's order (newer). Most
                // candidates are turned away by the last one kept, where
                // gathering them all and selecting made this scoring a
                // fifth dearer (perf, 10,000 pages).
                let mut best: Vec<(u32, usize)> = Vec::with_capacity(limit + 1);
                let better =
                    |a: (u32, usize), b: (u32, usize)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
                let offer = |best: &mut Vec<(u32, usize)>, c: (u32, usize)| -> bool {
                    if best.len() == limit {
                        if !better(c, best[limit - 1]) {
                            return false;
                        }
                        best.pop();
                    }
                    let at = best
                        .iter()
                        .position(|&b| better(c, b))
                        .unwrap_or(best.len());
                    best.insert(at, c);
                    true
                };
                for &j in touched.iter() {
                    offer(&mut best, (scores[j] + big_of(j), j));
                }
                if mine != usize::MAX {
                    for ((_, pages), &w) in groups.iter().zip(group_weight.iter()) {
                        if w == 0 {
                            continue;
                        }
                        // A group's pages are in site order and score the
                        // same: once one is turned away, so is the rest.
                        for &j in pages
                            .iter()
                            .filter(|&&j| j != i && scores[j] == 0)
                            .take(limit)
                        {
                            if !offer(&mut best, (w, j)) {
                                break;
                            }
                        }
                    }
                }
                for &j in touched.iter() {
                    scores[j] = 0;
                }
                touched.clear();
                let related = best
                    .into_iter()
                    .map(|(score, j)| Related {
                        page: j,
                        score,
                        shared: by_weight
                            .iter()
                            .flat_map(|&t| {
                                page_terms[i][t]
                                    .iter()
                                    .filter(move |term| page_terms[j][t].contains(term))
                                    .map(move |&term| (t, term))
                            })
                            .collect(),
                    })
                    .collect();
                (i, related)
            })
        })
        .collect();
    for (i, r) in results {
        out[i] = r;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::default_taxonomies;
    use crate::index::Term;

    /// Taxonomies from (taxonomy, term) memberships of pages 0..n.
    fn fixture(memberships: &[&[(usize, usize)]]) -> (Vec<Taxonomy>, Vec<Vec<Vec<usize>>>) {
        let configs = default_taxonomies();
        let mut taxonomies: Vec<Taxonomy> = configs
            .iter()
            .map(|c| Taxonomy {
                config: c.clone(),
                terms: (0..5)
                    .map(|n| Term {
                        name: format!("{}-{n}", c.name),
                        slug: format!("{}-{n}", c.name),
                        pages: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        let mut page_terms = vec![vec![Vec::new(); configs.len()]; memberships.len()];
        for (p, m) in memberships.iter().enumerate() {
            for &(t, term) in *m {
                taxonomies[t].terms[term].pages.push(p);
                page_terms[p][t].push(term);
            }
        }
        (taxonomies, page_terms)
    }

    // Taxonomy order in the defaults: ngo 0, sector 1, program 2, country 3, tags 4.
    const W: [u32; 5] = [4, 3, 1, 2, 1];

    #[test]
    fn scores_shared_terms_by_weight() {
        let (tax, pt) = fixture(&[
            &[(1, 0), (3, 0)],         // 0: Health, India
            &[(1, 0)],                 // 1: Health           -> 3
            &[(1, 0), (3, 0)],         // 2: Health, India    -> 5
            &[(0, 0)],                 // 3: shares nothing with 0
            &[(3, 0), (4, 1), (4, 2)], // 4: India            -> 2
        ]);
        let r = related(5, &[0, 1, 2, 3, 4], &tax, &pt, &W, 4);
        let mine: Vec<(usize, u32)> = r[0].iter().map(|x| (x.page, x.score)).collect();
        assert_eq!(mine, [(2, 5), (1, 3), (4, 2)]);
        // The reason lists the heaviest taxonomy first: sector, then country.
        assert_eq!(r[0][0].shared, [(1, 0), (3, 0)]);
        // Never the page itself; never one sharing nothing.
        assert!(
            r.iter()
                .enumerate()
                .all(|(i, v)| v.iter().all(|x| x.page != i))
        );
        assert!(r[3].is_empty());
    }

    #[test]
    fn limits_and_breaks_ties_by_site_order() {
        let all: Vec<&[(usize, usize)]> = vec![&[(1, 0)]; 7];
        let (tax, pt) = fixture(&all);
        let r = related(7, &(0..7).collect::<Vec<_>>(), &tax, &pt, &W, 4);
        let pages: Vec<usize> = r[3].iter().map(|x| x.page).collect();
        assert_eq!(
            pages,
            [0, 1, 2, 4],
            "equal scores: earlier (newer) pages first"
        );
        // Deterministic: the same input, the same answer.
        assert_eq!(r, related(7, &(0..7).collect::<Vec<_>>(), &tax, &pt, &W, 4));
    }

    #[test]
    fn zero_weights_and_zero_limit() {
        let (tax, pt) = fixture(&[&[(4, 0)], &[(4, 0)]]);
        let mut w = W;
        w[4] = 0;
        assert!(
            related(2, &[0, 1], &tax, &pt, &w, 4)
                .iter()
                .all(Vec::is_empty)
        );
        assert!(
            related(2, &[0, 1], &tax, &pt, &W, 0)
                .iter()
                .all(Vec::is_empty)
        );
    }

    /// Every pair scored, the obvious way: what the grouped scoring must match.
    fn brute_force(
        n: usize,
        pt: &[Vec<Vec<usize>>],
        w: &[u32],
        limit: usize,
    ) -> Vec<Vec<(usize, u32)>> {
        (0..n)
            .map(|i| {
                let mut all: Vec<(u32, usize)> = (0..n)
                    .filter(|&j| j != i)
                    .map(|j| {
                        let s: u32 = (0..w.len())
                            .map(|t| {
                                w[t] * pt[i][t].iter().filter(|x| pt[j][t].contains(x)).count()
                                    as u32
                            })
                            .sum();
                        (s, j)
                    })
                    .filter(|&(s, _)| s > 0)
                    .collect();
                all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                all.into_iter().take(limit).map(|(s, j)| (j, s)).collect()
            })
            .collect()
    }

    #[test]
    fn grouped_scoring_matches_every_pair_scored() {
        // A deterministic pseudo-random site: 300 pages, few terms per
        // taxonomy, so many terms are "big" at the thresholds tried.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m) as usize
        };
        let pages: Vec<Vec<(usize, usize)>> = (0..300)
            .map(|_| {
                let mut m = Vec::new();
                for t in 0..5 {
                    for _ in 0..next(3) {
                        let term = next(5);
                        if !m.contains(&(t, term)) {
                            m.push((t, term));
                        }
                    }
                }
                m
            })
            .collect();
        let refs: Vec<&[(usize, usize)]> = pages.iter().map(Vec::as_slice).collect();
        let (tax, pt) = fixture(&refs);
        let all: Vec<usize> = (0..300).collect();
        let expected = brute_force(300, &pt, &W, 4);
        for big in [0, 20, 60, 1000] {
            // With each group's weights worked out per pair, and per page.
            for pair_groups in [2048, 0] {
                let got = related_with(300, &all, &tax, &pt, &W, 4, big, pair_groups);
                let got: Vec<Vec<(usize, u32)>> = got
                    .iter()
                    .map(|v| v.iter().map(|r| (r.page, r.score)).collect())
                    .collect();
                assert_eq!(
                    got, expected,
                    "terms over {big} pages counted as big, pairs up to {pair_groups} groups"
                );
            }
        }
    }
}
