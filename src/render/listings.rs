//! Listings of many case studies or reports: the home page, `/case-studies/`
//! (paginated) and `/reports/`, each with the text of its `_index.md`.

use serde::Serialize;
use tera::{Context, Value};

use super::cards::Level;
use super::escape::script_json;
use super::head::MetaV;
use super::output::{page_count, paged};
use super::reads::{List, Read, record};
use super::values::*;
use super::{Renderer, case_count};
use crate::diagnostic::Diagnostic;

/// A listing's title, with its page number after the first.
pub(super) fn paged_title(t: &str, n: usize) -> String {
    if n > 1 {
        format!("{t} (page {n})")
    } else {
        t.to_string()
    }
}

impl<'s> Renderer<'s> {
    /// `/`: the home page's text, the newest case studies and every report.
    pub(super) fn home(
        &self,
        cx: &mut Context,
        here: Option<&str>,
    ) -> Result<(&'static str, MetaV), Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let intro = self.section_home();
        cx.insert_value("home", intro);
        record(|| Read::Slice(List::CaseStudies, 0, 6));
        record(|| Read::Slice(List::Reports, 0, u32::MAX));
        let latest = self.cards_of(
            &site.case_studies[..site.case_studies.len().min(6)],
            Level::H3,
        )?;
        cx.insert_value("latest", Value::from(latest));
        let reports = self.cards_of(&site.reports, Level::H3)?;
        cx.insert_value("reports", Value::from(reports));
        let mut meta = MetaV::new(site, &c.title, &c.description, here);
        // JSON inside a script element: escaped by script_json so no value
        // can end the element, then marked safe so the HTML escaper does
        // not turn its quotes into entities.
        meta.json_ld = Some(Value::safe_string(&script_json(&serde_json::json!({
            "@context": "https://schema.org",
            "@type": "WebSite",
            "name": c.title,
            "description": c.description,
            "url": c.permalink(""),
            "inLanguage": c.language,
        }))));
        Ok(("index.html", meta))
    }

    /// Page `n` of `/case-studies/`.
    pub(super) fn case_study_list(
        &self,
        cx: &mut Context,
        n: usize,
        here: Option<&str>,
    ) -> Result<(&'static str, MetaV), Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let (p, items) =
            self.paginator(List::CaseStudies, &site.case_studies, n, "case-studies/")?;
        cx.insert("paginator", &p);
        cx.insert_value("items", Value::from(items));
        let (title, summary) = self.section_text("case-studies", "Case studies");
        cx.insert_value("section", self.section("case-studies", "Case studies"));
        let description = if summary.is_empty() {
            format!("{} from {}.", case_count(site.case_studies.len()), c.title)
        } else {
            summary
        };
        Ok((
            "list.html",
            MetaV::new(site, &paged_title(&title, n), &description, here),
        ))
    }

    /// `/reports/`.
    pub(super) fn report_list(
        &self,
        cx: &mut Context,
        here: Option<&str>,
    ) -> Result<(&'static str, MetaV), Diagnostic> {
        let site = self.site;
        record(|| Read::Slice(List::Reports, 0, u32::MAX));
        let items = self.cards_of(&site.reports, Level::H2)?;
        cx.insert_value("items", Value::from(items));
        let (title, summary) = self.section_text("reports", "Reports");
        cx.insert_value("section", self.section("reports", "Reports"));
        Ok(("reports.html", MetaV::new(site, &title, &summary, here)))
    }

    pub(super) fn paginator(
        &self,
        list: List,
        items: &[usize],
        n: usize,
        base: &str,
    ) -> Result<(PaginatorV, Vec<Value>), Diagnostic> {
        let per = self.site.config.paginate_by;
        record(|| Read::Slice(list, ((n - 1) * per) as u32, per as u32));
        let (p, shown) = self.pager(items, n, base);
        Ok((p, self.cards_of(shown, Level::H2)?))
    }

    /// Page `n` of a list of `items` at `base`: the pager, and the items
    /// it shows.
    pub(super) fn pager<'i>(
        &self,
        items: &'i [usize],
        n: usize,
        base: &str,
    ) -> (PaginatorV, &'i [usize]) {
        let per = self.site.config.paginate_by;
        let total_pages = page_count(items.len(), per);
        let start = ((n - 1) * per).min(items.len());
        let end = (start + per).min(items.len());
        let url = |k: usize| self.site.config.url(&paged(base, k));
        let p = PaginatorV {
            current: n,
            total_pages,
            total_items: items.len(),
            first_item: if items.is_empty() { 0 } else { start + 1 },
            last_item: end,
            prev: (n > 1).then(|| url(n - 1)),
            next: (n < total_pages).then(|| url(n + 1)),
            pages: (1..=total_pages)
                .map(|k| PagerLinkV {
                    number: k,
                    url: url(k),
                    current: k == n,
                })
                .collect(),
        };
        (p, &items[start..end])
    }

    fn section(&self, name: &'static str, default_title: &str) -> Value {
        record(|| Read::Section(name));
        #[derive(Serialize)]
        struct SectionV<'a> {
            title: &'a str,
            summary: &'a str,
            content: Value,
        }
        match self.site.sections.get(name).map(|&i| &self.site.pages[i]) {
            Some(p) => {
                let title = if p.title.is_empty() {
                    default_title
                } else {
                    &p.title
                };
                Value::from_serializable(&SectionV {
                    title,
                    summary: &p.summary,
                    content: Value::safe_string(&p.body.html),
                })
            }
            None => Value::from_serializable(&SectionV {
                title: default_title,
                summary: "",
                content: Value::safe_string(""),
            }),
        }
    }

    /// The title and summary of a listing, from its `_index.md` if any.
    fn section_text(&self, name: &'static str, default_title: &str) -> (String, String) {
        record(|| Read::Section(name));
        match self.site.sections.get(name).map(|&i| &self.site.pages[i]) {
            Some(p) if !p.title.is_empty() => (p.title.clone(), p.summary.clone()),
            Some(p) => (default_title.to_string(), p.summary.clone()),
            None => (default_title.to_string(), String::new()),
        }
    }

    fn section_home(&self) -> Value {
        #[derive(Serialize)]
        struct HomeV<'a> {
            title: &'a str,
            content: Value,
        }
        record(|| Read::Section(""));
        let (title, html) = match self.site.home.map(|i| &self.site.pages[i]) {
            Some(p) => (
                if p.title.is_empty() {
                    self.site.config.title.as_str()
                } else {
                    p.title.as_str()
                },
                p.body.html.as_str(),
            ),
            None => (self.site.config.title.as_str(), ""),
        };
        Value::from_serializable(&HomeV {
            title,
            content: Value::safe_string(html),
        })
    }
}
