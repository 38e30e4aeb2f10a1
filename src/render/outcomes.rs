//! `/outcomes/`: every metric the case studies report, added up, with a
//! breakdown by each taxonomy; and the same totals for a term's page.

use std::hash::{DefaultHasher, Hash, Hasher};

use tera::{Context, Value};

use super::data::metric_slug;
use super::head::MetaV;
use super::reads::{Read, record, tid};
use super::values::*;
use super::{Renderer, case_count};
use crate::index::outcomes::{Combine, Metric};

/// Above this many case studies behind a number, /outcomes/ links to the
/// explorer (filtered to them) instead of listing them all.
const LINKS_BEHIND: usize = 12;

impl<'s> Renderer<'s> {
    /// `/outcomes/`.
    pub(super) fn outcomes_page(
        &self,
        cx: &mut Context,
        here: Option<&str>,
    ) -> (&'static str, MetaV) {
        let site = self.site;
        record(|| Read::AllData);
        cx.insert("outcomes", &self.totals(&site.outcomes, None));
        let description = format!(
            "The outcomes reported in {}, added up by metric.",
            case_count(site.case_studies.len())
        );
        (
            "outcomes.html",
            MetaV::new(site, "Outcomes", &description, here),
        )
    }

    /// The explorer's URL with `filters` (query key, term slug) applied.
    fn explore_url(&self, filters: &[(&str, &str)]) -> String {
        let mut url = self.site.config.url("explore/?");
        for (n, (k, v)) in filters.iter().enumerate() {
            if n > 0 {
                url.push('&');
            }
            url.push_str(k);
            url.push('=');
            url.push_str(v);
        }
        url
    }

    /// Links to `pages`, when there are few enough to list.
    fn links_behind(&self, pages: &[usize]) -> Vec<PageLinkV<'s>> {
        if pages.len() > LINKS_BEHIND {
            return Vec::new();
        }
        pages
            .iter()
            .map(|&i| PageLinkV {
                title: &self.site.pages[i].title,
                url: self.site.config.url(&self.site.pages[i].path),
            })
            .collect()
    }

    /// A term's outcome totals, as the `outcomes` value `term.html` sees:
    /// the same on every page of a paginated term, so made once and kept
    /// until its last page takes them.
    pub(super) fn term_totals(&self, tax: usize, term: usize) -> Value {
        let site = self.site;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        record(|| Read::TermOutcomes(tid(&t.config.name, &tm.slug)));
        let make = || {
            // With the preview server, totals kept from an earlier
            // rebuild, by a key covering all they show: adding up a
            // sector's thousand case studies again after each save
            // was a tenth of a summary edit's rebuild.
            let kept = self.shared.as_ref().map(|(cache, _, hashes)| {
                let mut h = DefaultHasher::new();
                ("term totals", self.values.theme_hash).hash(&mut h);
                site.config.outcomes.aggregate.hash(&mut h);
                (&t.config.name, &tm.slug).hash(&mut h);
                for &i in &tm.pages {
                    (hashes[i].outcomes, self.values.page_term_hashes[i]).hash(&mut h);
                }
                (*cache, h.finish())
            });
            if let Some((cache, key)) = kept {
                let cache = cache.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(v) = cache.get(&key) {
                    return v.clone();
                }
            }
            let metrics = crate::index::outcomes::summarise_in(
                &site.pages,
                &tm.pages,
                &[],
                &site.outcome_groups,
            );
            let filter = Some((t.config.name.as_str(), tm.slug.as_str()));
            let v = Value::from_serializable(&self.totals(&metrics, filter));
            if let Some((cache, key)) = kept {
                cache
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, v.clone());
            }
            v
        };
        let mut memo = self.term_totals[tax][term]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let (left, kept) = &mut *memo;
        *left = left.saturating_sub(1);
        if *left == 0 {
            kept.take().unwrap_or_else(make)
        } else {
            kept.get_or_insert_with(make).clone()
        }
    }

    /// A metric's figure and label for people, and the explorer filtered
    /// to the case studies behind it (and `filter`, a term page's own term).
    fn total_figure(
        &self,
        m: &Metric,
        slug: &str,
        filter: Option<(&str, &str)>,
    ) -> (String, String, String) {
        let (value_display, label) = total_display(&m.name, m.unit.as_deref(), m.figure.value);
        let mut filters: Vec<(&str, &str)> = vec![("outcome", slug)];
        filters.extend(filter);
        (value_display, label, self.explore_url(&filters))
    }

    /// Metrics as templates see them; `filter` narrows the explorer links
    /// (a term page's own term).
    fn totals<'m>(
        &self,
        metrics: &'m [Metric],
        filter: Option<(&'m str, &'m str)>,
    ) -> Vec<TotalV<'m>>
    where
        's: 'm,
    {
        let site = self.site;
        metrics
            .iter()
            .map(|m| {
                let slug = metric_slug(m);
                let (value_display, label, explore_url) = self.total_figure(m, &slug, filter);
                let breakdowns = m
                    .breakdowns
                    .iter()
                    .map(|(t, rows)| {
                        let tax = &site.taxonomies[*t];
                        let max = rows.iter().map(|r| r.1.value.abs()).fold(0.0, f64::max);
                        BreakdownV {
                            name: &tax.config.name,
                            title: &tax.config.title,
                            singular: &tax.config.singular,
                            rows: rows
                                .iter()
                                .map(|(term, fig)| {
                                    let tm = &tax.terms[*term];
                                    let bar = if max > 0.0 {
                                        (fig.value.abs() / max * 1000.0).round() / 10.0
                                    } else {
                                        0.0
                                    };
                                    BarV {
                                        name: &tm.name,
                                        url: site.config.url(&tax.term_path(tm)),
                                        value_display: total_display(
                                            &m.name,
                                            m.unit.as_deref(),
                                            fig.value,
                                        )
                                        .0,
                                        value: fig.value,
                                        count: fig.pages.len(),
                                        bar,
                                        explore_url: self.explore_url(&[
                                            ("outcome", slug.as_str()),
                                            (tax.config.name.as_str(), tm.slug.as_str()),
                                        ]),
                                        pages: self.links_behind(&fig.pages),
                                    }
                                })
                                .collect(),
                        }
                    })
                    .collect();
                TotalV {
                    explore_url,
                    id: slug.clone(),
                    metric: &m.name,
                    unit: m.unit.as_deref(),
                    label,
                    value_display,
                    value: m.figure.value,
                    average: m.combine == Combine::Mean,
                    highest: m.combine == Combine::Max,
                    count: m.figure.pages.len(),
                    pages: self.links_behind(&m.figure.pages),
                    breakdowns,
                }
            })
            .collect()
    }
}
