//! `/sitemap.xml`, every page a search engine should know, and
//! `/robots.txt`, which points to it.

use serde::Serialize;
use tera::Context;

use super::Renderer;
use super::feeds::changed;
use super::output::{Job, plan};
use super::reads::{Read, record};
use crate::index::Site;

impl Renderer<'_> {
    /// `/sitemap.xml`.
    pub(super) fn sitemap(&self, cx: &mut Context) -> &'static str {
        record(|| Read::AllPlaces);
        cx.insert("urls", &urls(self.site));
        "sitemap.xml"
    }

    /// `/robots.txt`.
    pub(super) fn robots(&self, cx: &mut Context) -> &'static str {
        cx.insert("sitemap_url", &self.site.config.permalink("sitemap.xml"));
        "robots.txt"
    }
}

#[derive(Serialize)]
pub(crate) struct UrlV {
    loc: String,
    lastmod: Option<String>,
}

/// Every page a search engine should know, with its last change.
fn urls(site: &Site) -> Vec<UrlV> {
    let c = &site.config;
    let per = c.paginate_by;
    let newest = |items: &[usize]| -> Option<String> {
        items
            .iter()
            .filter_map(|&i| changed(&site.pages[i]))
            .max_by_key(|d| d.timestamp())
            .map(|d| d.to_string())
    };
    // What the first page of a paginated list of `items` shows.
    let first_page = |items: &[usize]| -> Vec<usize> { items.iter().copied().take(per).collect() };
    let everything: Vec<usize> = (0..site.pages.len()).collect();
    // Every page a reader can land on, from the list of outputs itself, so
    // a new kind of page cannot be left out: all but the 404 page, the
    // redirects, later pages of lists and the files that are not HTML.
    plan(site)
        .iter()
        .filter_map(|job| {
            let lastmod = match *job {
                Job::Home => newest(&everything),
                Job::Page(i) => newest(&[i]),
                // Later pages of a list, as Hugo and Zola do: the first
                // leads a crawler to them, and their contents shift.
                Job::CaseStudyList(n) if n > 1 => return None,
                Job::Term { page, .. } if page > 1 => return None,
                Job::CaseStudyList(_) => newest(&first_page(&site.case_studies)),
                Job::ReportList => newest(&site.reports),
                Job::TaxonomyIndex(t) => {
                    let all: Vec<usize> = site.taxonomies[t]
                        .terms
                        .iter()
                        .flat_map(|term| term.pages.iter().copied())
                        .collect();
                    newest(&all)
                }
                Job::Term { tax, term, .. } => {
                    newest(&first_page(&site.taxonomies[tax].terms[term].pages))
                }
                Job::Explore | Job::Outcomes => newest(&site.case_studies),
                Job::NotFound
                | Job::Alias { .. }
                | Job::SiteFeed
                | Job::TermFeed { .. }
                | Job::Sitemap
                | Job::Robots
                | Job::SearchIndex
                | Job::DataJson
                | Job::DataCsv
                | Job::OutcomesCsv => return None,
            };
            let path = job.output_path(site);
            let dir = path.strip_suffix("index.html")?;
            Some(UrlV {
                loc: c.permalink(dir),
                lastmod,
            })
        })
        .collect()
}
