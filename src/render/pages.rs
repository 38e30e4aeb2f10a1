//! Pages with a file of their own: a case study, a report (with its case
//! studies), a plain page such as `/about/`, and `/404.html`.

use tera::{Context, Value};

use super::Renderer;
use super::cards::Level;
use super::head::MetaV;
use super::reads::{self, Read, pid, record, tid};
use super::values::*;
use crate::content::{Kind, Page};
use crate::diagnostic::Diagnostic;

impl<'s> Renderer<'s> {
    /// Page `i`, through `case-study.html`, `report.html` or `page.html`.
    pub(super) fn page(
        &self,
        cx: &mut Context,
        i: usize,
    ) -> Result<(&'static str, MetaV), Diagnostic> {
        let site = self.site;
        cx.insert_value("page", self.page_value(i));
        let (mut meta, ld) = MetaV::for_page(site, i);
        meta.json_ld = ld.map(|ld| Value::safe_string(&ld));
        let template = match site.pages[i].kind {
            Kind::CaseStudy => "case-study.html",
            Kind::Report => {
                record(|| Read::Members(pid(&site.pages[i].rel)));
                let members = self.cards_of(&site.members[i], Level::H3)?;
                cx.insert_value("case_studies", Value::from(members));
                "report.html"
            }
            _ => "page.html",
        };
        Ok((template, meta))
    }

    /// `/404.html`.
    pub(super) fn not_found(&self) -> (&'static str, MetaV) {
        (
            "404.html",
            MetaV::new(self.site, "Page not found", "", None),
        )
    }

    fn page_value(&self, i: usize) -> Value {
        let site = self.site;
        let p: &'s Page = &site.pages[i];
        let c = &site.config;
        if reads::on() {
            let id = pid(&p.rel);
            record(|| Read::Source(id));
            record(|| Read::TermNames(id));
            record(|| Read::ReportOf(id));
        }
        if let Some(r) = site.report_of[i] {
            record(|| Read::Card(pid(&site.pages[r].rel)));
        }
        let taxonomies = site
            .taxonomies
            .iter()
            .enumerate()
            .filter(|(t, _)| !site.page_terms[i][*t].is_empty())
            .map(|(t, tax)| TaxonomyTermsV {
                name: &tax.config.name,
                title: &tax.config.title,
                singular: &tax.config.singular,
                url: c.url(&tax.path()),
                terms: site.page_terms[i][t]
                    .iter()
                    .map(|&ti| self.values.term_links[t][ti].clone())
                    .collect(),
            })
            .collect();
        let v = PageV {
            kind: p.kind.name(),
            title: &p.title,
            url: c.url(&p.path),
            permalink: c.permalink(&p.path),
            path: &p.path,
            slug: &p.slug,
            source: &p.file,
            date: date_v(p.date),
            updated: date_v(p.updated),
            summary: &p.summary,
            toc: &p.body.toc,
            word_count: p.body.word_count,
            reading_minutes: p.body.word_count.div_ceil(220).max(1),
            authors: &p.authors,
            taxonomies,
            outcomes: p.outcomes.iter().map(outcome_v).collect(),
            related: self.related_of(i),
            report: site.report_of[i].map(|r| LinkV {
                name: &site.pages[r].title,
                url: c.url(&site.pages[r].path),
            }),
            image: p.image.as_deref().map(|img| {
                if img.starts_with('/') && !img.starts_with("//") {
                    c.url(img)
                } else {
                    img.to_string()
                }
            }),
            image_alt: p.image_alt.as_deref(),
            photo: p.photo.as_deref(),
            extra: &p.extra,
            draft: p.draft,
            terms: self.terms_value(i),
            content: Value::safe_string(&p.body.html),
        };
        Value::from_serializable(&v)
    }

    fn related_of(&self, i: usize) -> Vec<RelatedV<'s>> {
        let site = self.site;
        record(|| Read::Related(pid(&site.pages[i].rel)));
        site.related[i]
            .iter()
            .map(|r| {
                let p: &'s Page = &site.pages[r.page];
                record(|| Read::Card(pid(&p.rel)));
                for &(t, term) in &r.shared {
                    let tax = &site.taxonomies[t];
                    record(|| Read::TermName(tid(&tax.config.name, &tax.terms[term].slug)));
                }
                let shared: Vec<&'s str> = r
                    .shared
                    .iter()
                    .map(|&(t, term)| site.taxonomies[t].terms[term].name.as_str())
                    .collect();
                RelatedV {
                    title: &p.title,
                    url: site.config.url(&p.path),
                    date: date_v(p.date),
                    summary: &p.summary,
                    reason: shared.join(" · "),
                    shared,
                }
            })
            .collect()
    }
}
