//! `/explore/`, the faceted explorer, and `/search-index.json`, the index
//! its script reads.

use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;
use tera::Context;

use super::data::{MetricIndex, metric_slug};
use super::head::MetaV;
use super::reads::{List, Read, record};
use super::rows::{File, Rows};
use super::{Renderer, case_count};
use crate::index::Site;

impl Renderer<'_> {
    /// `/explore/`: the page; its script fetches the index.
    pub(super) fn explore_page(
        &self,
        cx: &mut Context,
        here: Option<&str>,
    ) -> (&'static str, MetaV) {
        let site = self.site;
        let c = &site.config;
        record(|| Read::Slice(List::CaseStudies, 0, 0));
        #[derive(Serialize)]
        struct ExploreV {
            index_url: String,
            script_url: String,
            count: usize,
        }
        cx.insert(
            "explore",
            &ExploreV {
                index_url: c.url("search-index.json"),
                script_url: self.theme.asset_url(c, "explore.js"),
                count: site.case_studies.len(),
            },
        );
        let description = format!(
            "Filter and search {} by {}.",
            case_count(site.case_studies.len()),
            site.taxonomies
                .iter()
                .map(|t| crate::text::in_sentence(&t.config.singular))
                .collect::<Vec<_>>()
                .join(", ")
        );
        (
            "explore.html",
            MetaV::new(site, "Explore case studies", &description, here),
        )
    }
}

/// How many of a body's most frequent words go into the search index: enough
/// to find a case study by what its text is about, few enough that 10,000
/// case studies stay well under 2 MB gzipped.
pub(crate) const INDEX_KEYWORDS: usize = 24;

/// The explorer's index: `/search-index.json`.
///
/// ```json
/// { "version": 1,
///   "facets": [ { "name": "sector", "title": "Sectors", "singular": "Sector",
///                 "title_in_text": "sectors", "singular_in_text": "sector",
///                 "terms": [ ["Health", "health"], ... ] }, ... ],
///   "docs": [ [ "case-studies/x/", "Title", "2024-12-10", "Summary",
///               [[0], [3, 4], ...],  // per facet: indices into its terms
///               "keywords of the body", "10 December 2024" ] ] }
/// ```
///
/// URLs are relative to the site's base path, so the file is the same
/// wherever the site is served. The last facet, `outcome`, holds the outcome
/// metrics each case study reports.
pub(crate) fn search_index(site: &Site, rows: Rows, out: &mut dyn Write) -> std::io::Result<()> {
    // Serialized straight from borrowed data: at 10,000 case studies a
    // `serde_json::Value` tree of the index would cost ten times its size.
    #[derive(Serialize)]
    struct Facet<'a> {
        name: &'a str,
        title: &'a str,
        singular: &'a str,
        /// `title` and `singular` as they read inside a sentence.
        title_in_text: Cow<'a, str>,
        singular_in_text: Cow<'a, str>,
        terms: Vec<(&'a str, &'a str)>,
    }
    type Doc<'a> = (
        &'a str,
        &'a str,
        String,
        &'a str,
        Vec<&'a [usize]>,
        String,
        String,
    );

    let metric_labels: Vec<(String, String)> = site
        .outcomes
        .iter()
        .map(|m| {
            let (_, label) = super::values::total_display(&m.name, m.unit.as_deref(), 0.0);
            (label, metric_slug(m))
        })
        .collect();
    let mut facets: Vec<Facet> = site
        .taxonomies
        .iter()
        .map(|t| Facet {
            name: &t.config.name,
            title: &t.config.title,
            singular: &t.config.singular,
            title_in_text: crate::text::in_sentence(&t.config.title),
            singular_in_text: crate::text::in_sentence(&t.config.singular),
            terms: t
                .terms
                .iter()
                .map(|term| (term.name.as_str(), term.slug.as_str()))
                .collect(),
        })
        .collect();
    facets.push(Facet {
        name: "outcome",
        title: "Outcomes reported",
        singular: "Outcome",
        title_in_text: Cow::Borrowed("outcomes reported"),
        singular_in_text: Cow::Borrowed("outcome"),
        terms: metric_labels
            .iter()
            .map(|(l, s)| (l.as_str(), s.as_str()))
            .collect(),
    });
    let metric_of = MetricIndex::new(site);
    let mut w = rows.writer(File::Index, out);
    // `{"version":1,"facets":[...],"docs":[...]}`, as serde_json writes a
    // struct of those three fields.
    let mut head = br#"{"version":1,"facets":"#.to_vec();
    serde_json::to_writer(&mut head, &facets).map_err(std::io::Error::other)?;
    head.extend_from_slice(br#","docs":["#);
    w.raw(&head)?;
    let keys: Vec<u64> = site
        .case_studies
        .iter()
        .map(|&i| w.key(i, metric_of.of(i)))
        .collect();
    let wanted: Vec<bool> = keys
        .iter()
        .enumerate()
        .map(|(n, &k)| !w.has(n, k))
        .collect();
    // In parallel: counting the words of 10,000 pages is most of this job,
    // which would otherwise run on one core.
    let made: Vec<Option<Vec<u8>>> = site
        .case_studies
        .par_iter()
        .zip(&wanted)
        .map(|(&i, &wanted)| {
            if !wanted {
                return Ok(None);
            }
            let p = &site.pages[i];
            let metrics = metric_of.of(i);
            let mut terms: Vec<&[usize]> = site.page_terms[i].iter().map(Vec::as_slice).collect();
            terms.push(metrics);
            let mut keywords = String::new();
            p.body.with_keywords(|k| {
                for (w, _) in k.iter().take(INDEX_KEYWORDS) {
                    if !keywords.is_empty() {
                        keywords.push(' ');
                    }
                    keywords.push_str(w);
                }
            });
            let doc: Doc = (
                p.path.as_str(),
                p.title.as_str(),
                p.date.map(|d| d.iso_date()).unwrap_or_default(),
                p.summary.as_str(),
                terms,
                keywords,
                // Dates read the same here as on every page: the explorer
                // shows this, not a date the browser formats its own way.
                p.date.map(|d| d.human()).unwrap_or_default(),
            );
            let mut row = Vec::new();
            serde_json::to_writer(&mut row, &doc).map_err(std::io::Error::other)?;
            Ok(Some(row))
        })
        .collect::<std::io::Result<_>>()?;
    for (n, (key, made)) in keys.into_iter().zip(made).enumerate() {
        if n > 0 {
            w.raw(b",")?;
        }
        w.row(key, |out| match made {
            Some(row) => out.write_all(&row),
            None => unreachable!("a row not kept from the last rebuild was made above"),
        })?;
    }
    w.raw(b"]}")?;
    w.finish()
}
