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

thread_local! {
    /// Per-thread scratch: a score per page, and which pages were touched.
    static SCRATCH: RefCell<(Vec<u32>, Vec<usize>)> = const { RefCell::new((Vec::new(), Vec::new())) };
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
    let mut out = vec![Vec::new(); n_pages];
    if limit == 0 {
        return out;
    }
    // Heaviest taxonomies first, for the order of the reasons shown.
    let mut by_weight: Vec<usize> = (0..taxonomies.len()).filter(|&t| weights[t] > 0).collect();
    by_weight.sort_by_key(|&t| (std::cmp::Reverse(weights[t]), t));

    let results: Vec<(usize, Vec<Related>)> = case_studies
        .par_iter()
        .map(|&i| {
            SCRATCH.with(|s| {
                let (scores, touched) = &mut *s.borrow_mut();
                if scores.len() < n_pages {
                    scores.resize(n_pages, 0);
                }
                for &t in &by_weight {
                    let w = weights[t];
                    for &term in &page_terms[i][t] {
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
                let mut best: Vec<(u32, usize)> = touched.iter().map(|&j| (scores[j], j)).collect();
                for &j in touched.iter() {
                    scores[j] = 0;
                }
                touched.clear();
                // Highest score, then earlier in the site's order (newer).
                let keep = limit.min(best.len());
                if keep < best.len() {
                    best.select_nth_unstable_by(keep, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                    best.truncate(keep);
                }
                best.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
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
}
