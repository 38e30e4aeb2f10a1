//! Taxonomy pages: `/<taxonomy>/`, the index of its terms, and
//! `/<taxonomy>/<term>/` (paginated), a term's case studies with their
//! outcome totals. A term's feed is in `feeds`.

use tera::{Context, Value};

use super::head::{FeedLinkV, MetaV};
use super::output::paged;
use super::reads::{List, Read, record, tid};
use super::values::*;
use super::{Renderer, case_count};
use crate::diagnostic::Diagnostic;

impl<'s> Renderer<'s> {
    /// `/<taxonomy>/`.
    pub(super) fn taxonomy_index(
        &self,
        cx: &mut Context,
        t: usize,
        here: Option<&str>,
    ) -> (&'static str, MetaV) {
        let site = self.site;
        cx.insert_value("taxonomy", self.values.taxonomies[t].clone());
        let tax = &site.taxonomies[t];
        self.values.record_tax_field(t, "count");
        let description = format!(
            "Case studies by {}: {} in all.",
            tax.config.singular.to_lowercase(),
            tax.terms.len()
        );
        (
            "taxonomy.html",
            MetaV::new(site, &tax.config.title, &description, here),
        )
    }

    /// Page `page` of `/<taxonomy>/<term>/`.
    pub(super) fn term_page(
        &self,
        cx: &mut Context,
        tax: usize,
        term: usize,
        page: usize,
    ) -> Result<(&'static str, MetaV), Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        let base = t.term_path(tm);
        let id = tid(&t.config.name, &tm.slug);
        record(|| Read::TermName(id));
        let (p, items) = self.paginator(List::Term(id), &tm.pages, page, &base)?;
        cx.insert("paginator", &p);
        cx.insert_value("items", Value::from(items));
        cx.insert(
            "term",
            &TermV {
                name: &tm.name,
                slug: &tm.slug,
                url: c.url(&base),
                count: tm.pages.len(),
                feed_url: t.config.feed.then(|| c.url(&format!("{base}atom.xml"))),
                description: t.config.description(&tm.slug),
            },
        );
        cx.insert_value("taxonomy", self.values.taxonomies[tax].clone());
        let totals = self.term_totals(tax, term);
        cx.insert_value("outcomes", totals);
        Ok(("term.html", self.term_meta(tax, term, page)))
    }

    /// What a term page's `<head>` says.
    fn term_meta(&self, tax: usize, term: usize, page: usize) -> MetaV {
        let site = self.site;
        let c = &site.config;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        let base = t.term_path(tm);
        let mut title = format!("{} · {}", tm.name, t.config.title);
        if page > 1 {
            title = format!("{title} (page {page})");
        }
        let description = format!("{} on {}.", case_count(tm.pages.len()), tm.name);
        let mut meta = MetaV::new(site, &title, &description, Some(&paged(&base, page)));
        if t.config.feed {
            meta.feeds.push(FeedLinkV {
                title: format!("{}: {}", c.title, tm.name),
                url: c.url(&format!("{base}atom.xml")),
            });
        }
        meta
    }
}
