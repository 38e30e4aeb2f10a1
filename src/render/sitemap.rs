//! `/sitemap.xml`, every page a search engine should know, and
//! `/robots.txt`, which points to it.

use serde::Serialize;
use tera::Context;

use super::Renderer;
use super::feeds::changed;
use super::reads::{Read, record};
use crate::content::Kind;
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
    let newest = |items: &[usize]| -> Option<String> {
        items
            .iter()
            .filter_map(|&i| changed(&site.pages[i]))
            .max_by_key(|d| d.timestamp())
            .map(|d| d.to_string())
    };
    let mut urls = Vec::new();
    let everything: Vec<usize> = (0..site.pages.len()).collect();
    urls.push(UrlV {
        loc: c.permalink(""),
        lastmod: newest(&everything),
    });
    for (i, p) in site.pages.iter().enumerate() {
        if matches!(p.kind, Kind::CaseStudy | Kind::Report | Kind::Page) {
            urls.push(UrlV {
                loc: c.permalink(&p.path),
                lastmod: newest(&[i]),
            });
        }
    }
    urls.push(UrlV {
        loc: c.permalink("case-studies/"),
        lastmod: newest(&site.case_studies),
    });
    if !site.reports.is_empty() {
        urls.push(UrlV {
            loc: c.permalink("reports/"),
            lastmod: newest(&site.reports),
        });
    }
    for tax in &site.taxonomies {
        let all: Vec<usize> = tax
            .terms
            .iter()
            .flat_map(|t| t.pages.iter().copied())
            .collect();
        urls.push(UrlV {
            loc: c.permalink(&tax.path()),
            lastmod: newest(&all),
        });
        for term in &tax.terms {
            urls.push(UrlV {
                loc: c.permalink(&tax.term_path(term)),
                lastmod: newest(&term.pages),
            });
        }
    }
    urls
}
