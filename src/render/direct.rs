//! Cards, case-study pages and term pages written directly, without Tera,
//! while the theme's templates for them are the built-in ones: for cards
//! `components.html`; for pages `base.html`, `components.html` and the
//! page's own template (`case-study.html`, `term.html`). They are almost
//! all of a site's pages, and making their template values and running
//! them through the templates was a quarter of a build's instructions
//! (cards alone a twentieth). The
//! output is the templates' own, byte for byte: tests render every such
//! card and page of several sites both ways and compare them, so a change
//! to those templates that is not made here too fails them. (Feeds are
//! written the same way, in `publish::write_feed`.)

use super::data::metric_slug;
use super::publish::{MetaV, escape_into, put};
use super::values::{CardV, NavV, SiteV, outcome_v};
use super::{Level, Renderer, case_count, date_v, paged};
use crate::config::Config;
use crate::index::Site;
use crate::index::outcomes::{Combine, Metric};

/// The parts of `base.html` that are the same on every page of a site,
/// escaped and joined once.
#[derive(Hash)]
pub(crate) struct Chrome {
    /// From `<!DOCTYPE html>` to `<title>`.
    head_start: String,
    /// The `og:site_name` meta element.
    site_name: String,
    /// The `generator` meta element.
    generator: String,
    /// The icon and style sheet links.
    assets: String,
    /// From the skip link to the first navigation item.
    header: String,
    /// Each navigation item's URL, as compared with the page's, and its
    /// escaped URL and title.
    nav: Vec<(String, String, String)>,
    /// From `</main>` to the end.
    footer: String,
}

/// From the end of the navigation to `<main …>`.
const MAIN: &str = "\n      </ul>\n    </nav>\n  </div>\n</header>\n<main id=\"main\" class=\"wrap\" tabindex=\"-1\">\n";

fn escaped(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    escape_into(&mut out, s);
    String::from_utf8(out).expect("escaping keeps UTF-8")
}

impl Chrome {
    pub(crate) fn new(c: &Config, v: &SiteV) -> Chrome {
        let url = |path: &str| escaped(&c.url(path));
        let mut footer = format!(
            "\n</main>\n<footer class=\"site-footer\">\n  <div class=\"wrap site-footer-inner\">\n    \
             <p class=\"site-footer-title\">{}</p>\n    ",
            escaped(v.title)
        );
        if !v.description.is_empty() {
            footer.push_str(&format!("<p>{}</p>", escaped(v.description)));
        }
        footer.push_str(&format!(
            "\n    <nav aria-label=\"Site\">\n      <ul>\n        \
             <li><a href=\"{}\">All case studies</a></li>\n        ",
            url("case-studies/")
        ));
        for NavV { title, url } in &v.pages {
            footer.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>\n        ",
                escaped(url),
                escaped(title)
            ));
        }
        footer.push_str(&format!(
            "\n      </ul>\n    </nav>\n    \
             <p class=\"site-footer-follow\"><a href=\"{}\">Follow new case studies (Atom feed)</a></p>\n    \
             <p class=\"site-footer-data\">Open data: <a href=\"{}\">case-studies.csv</a> · \
             <a href=\"{}\">outcomes.csv</a> · <a href=\"{}\">case-studies.json</a></p>\n    \
             <p class=\"site-footer-generator\">Made with {}</p>\n  </div>\n</footer>\n</body>\n</html>\n",
            escaped(&v.feed_url),
            url("case-studies.csv"),
            url("outcomes.csv"),
            url("case-studies.json"),
            escaped(v.generator),
        ));
        Chrome {
            head_start: format!(
                "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
                escaped(v.language)
            ),
            site_name: format!(
                "\n<meta property=\"og:site_name\" content=\"{}\">",
                escaped(v.title)
            ),
            generator: format!(
                "\n<meta name=\"generator\" content=\"{}\">",
                escaped(v.generator)
            ),
            assets: format!(
                "\n<link rel=\"icon\" href=\"{}\" type=\"image/svg+xml\">\n\
                 <link rel=\"stylesheet\" href=\"{}\">",
                escaped(&v.favicon_url),
                escaped(&v.css_url)
            ),
            header: format!(
                "\n<a class=\"skip-link\" href=\"#main\">Skip to main content</a>\n\
                 <header class=\"site-header\">\n  <div class=\"wrap site-header-inner\">\n    \
                 <a class=\"site-title\" href=\"{}\">{}</a>\n    \
                 <nav class=\"site-nav\" aria-label=\"Sections\">\n      <ul>\n        ",
                escaped(v.home_url),
                escaped(v.title)
            ),
            nav: v
                .nav
                .iter()
                .map(|n| (n.url.clone(), escaped(&n.url), escaped(&n.title)))
                .collect(),
            footer,
        }
    }

    /// `base.html` up to its `content` block.
    fn open(
        &self,
        out: &mut Vec<u8>,
        meta: &MetaV,
        json_ld: Option<&str>,
        here: &str,
        body_class: &str,
    ) {
        let element = |out: &mut Vec<u8>, start: &str, value: &str| {
            put(out, start);
            escape_into(out, value);
            put(out, "\">");
        };
        put(out, &self.head_start);
        escape_into(out, &meta.full_title);
        element(
            out,
            "</title>\n<meta name=\"description\" content=\"",
            &meta.description,
        );
        if !meta.canonical.is_empty() {
            element(out, "\n<link rel=\"canonical\" href=\"", &meta.canonical);
        }
        if meta.noindex {
            put(out, "\n<meta name=\"robots\" content=\"noindex\">");
        }
        element(out, "\n<meta property=\"og:type\" content=\"", meta.og_type);
        element(out, "\n<meta property=\"og:title\" content=\"", &meta.title);
        element(
            out,
            "\n<meta property=\"og:description\" content=\"",
            &meta.description,
        );
        put(out, &self.site_name);
        if !meta.canonical.is_empty() {
            element(
                out,
                "\n<meta property=\"og:url\" content=\"",
                &meta.canonical,
            );
        }
        let image = meta.image.as_deref().filter(|s| !s.is_empty());
        if let Some(image) = image {
            element(out, "\n<meta property=\"og:image\" content=\"", image);
            if let Some(alt) = meta.image_alt.as_deref().filter(|s| !s.is_empty()) {
                element(out, "\n<meta property=\"og:image:alt\" content=\"", alt);
            }
        }
        element(
            out,
            "\n<meta name=\"twitter:card\" content=\"",
            meta.twitter_card,
        );
        element(
            out,
            "\n<meta name=\"twitter:title\" content=\"",
            &meta.title,
        );
        element(
            out,
            "\n<meta name=\"twitter:description\" content=\"",
            &meta.description,
        );
        if let Some(image) = image {
            element(out, "\n<meta name=\"twitter:image\" content=\"", image);
        }
        put(out, &self.generator);
        for f in &meta.feeds {
            put(
                out,
                "\n<link rel=\"alternate\" type=\"application/atom+xml\" title=\"",
            );
            escape_into(out, &f.title);
            element(out, "\" href=\"", &f.url);
        }
        put(out, &self.assets);
        if let Some(ld) = json_ld.filter(|s| !s.is_empty()) {
            put(out, "\n<script type=\"application/ld+json\">");
            put(out, ld);
            put(out, "</script>");
        }
        put(out, "\n\n</head>\n<body class=\"");
        put(out, body_class);
        put(out, "\">");
        put(out, &self.header);
        for (url, href, title) in &self.nav {
            put(out, "<li><a href=\"");
            put(out, href);
            put(out, "\"");
            if here == url {
                put(out, " aria-current=\"page\"");
            } else if here.starts_with(url.as_str()) {
                put(out, " aria-current=\"true\"");
            }
            put(out, ">");
            put(out, title);
            put(out, "</a></li>\n        ");
        }
        put(out, MAIN);
    }
}

impl Renderer<'_> {
    /// What the built-in `card` component makes of card `cv` (page `i`),
    /// byte for byte (a test holds the two together), written directly:
    /// every case study's card is made once a build, and going through the
    /// component was a twentieth of a build. Used only while the theme's
    /// `components.html` is the built-in one.
    pub(super) fn card_html(&self, i: usize, cv: &CardV, level: Level) -> String {
        let site = self.site;
        let mut out: Vec<u8> = Vec::with_capacity(512);
        // A taxonomy's term names, ", "-joined, as `term_names` prints them;
        // None when the page has none (or the site no such taxonomy).
        let names = |name: &str| -> Option<Vec<&str>> {
            let t = site.taxonomies.iter().position(|t| t.config.name == name)?;
            let terms = &site.page_terms[i][t];
            (!terms.is_empty()).then(|| {
                terms
                    .iter()
                    .map(|&ti| site.taxonomies[t].terms[ti].name.as_str())
                    .collect()
            })
        };
        let put_names = |out: &mut Vec<u8>, names: &[&str]| {
            for (k, n) in names.iter().enumerate() {
                if k > 0 {
                    put(out, ", ");
                }
                escape_into(out, n);
            }
        };
        put(&mut out, "<article class=\"card card-");
        escape_into(&mut out, cv.kind);
        put(&mut out, "\">\n  ");
        if let Some(ngo) = names("ngo") {
            put(&mut out, "<p class=\"card-kicker\">");
            put_names(&mut out, &ngo);
            put(&mut out, "</p>");
        }
        put(&mut out, "\n  ");
        let h = level.tag();
        put(&mut out, &format!("<{h} class=\"card-title\"><a href=\""));
        escape_into(&mut out, &cv.url);
        put(&mut out, "\">");
        escape_into(&mut out, cv.title);
        put(&mut out, &format!("</a></{h}>"));
        put(&mut out, "\n  ");
        if !cv.summary.is_empty() {
            put(&mut out, "<p class=\"card-summary\">");
            escape_into(&mut out, cv.summary);
            put(&mut out, "</p>");
        }
        put(&mut out, "\n  ");
        if let Some(o) = &cv.first_outcome {
            put(&mut out, "<p class=\"card-figure\"><strong>");
            escape_into(&mut out, &o.value_display);
            put(&mut out, "</strong> ");
            escape_into(&mut out, &o.label);
            put(&mut out, "</p>");
        }
        put(&mut out, "\n  <p class=\"card-meta\">");
        for tax in ["sector", "country"] {
            if let Some(n) = names(tax) {
                put(&mut out, "<span>");
                put_names(&mut out, &n);
                put(&mut out, "</span>");
            }
        }
        if cv.kind == "report" && cv.case_study_count > 0 {
            put(&mut out, "<span>");
            put(&mut out, &case_count(cv.case_study_count));
            put(&mut out, "</span>");
        }
        if let Some(d) = &cv.date {
            put(&mut out, "<span><time datetime=\"");
            escape_into(&mut out, &d.iso);
            put(&mut out, "\">");
            escape_into(&mut out, &d.human);
            put(&mut out, "</time></span>");
        }
        put(&mut out, "</p>\n</article>");
        String::from_utf8(out).expect("pieces of UTF-8")
    }

    /// Case study `i` as `case-study.html` in `base.html` renders it.
    pub(super) fn write_case_study(&self, i: usize, out: &mut Vec<u8>) {
        let site: &Site = self.site;
        let c = &site.config;
        let p = &site.pages[i];
        let (meta, json_ld) = MetaV::for_page(site, i);
        let chrome = &self.values.chrome;
        chrome.open(
            out,
            &meta,
            json_ld.as_deref(),
            &c.url(&p.path),
            "case-study",
        );

        let anchors = &self.values.term_anchors;
        let links = |out: &mut Vec<u8>, t: usize| {
            for (k, &ti) in site.page_terms[i][t].iter().enumerate() {
                if k > 0 {
                    put(out, ", ");
                }
                put(out, &anchors[t][ti]);
            }
        };
        put(
            out,
            "\n<article class=\"article\">\n  <header class=\"article-header\">\n    ",
        );
        if let Some(t) = site.taxonomies.iter().position(|t| t.config.name == "ngo")
            && !site.page_terms[i][t].is_empty()
        {
            put(out, "<p class=\"kicker\">");
            links(out, t);
            put(out, "</p>");
        }
        put(out, "\n    <h1>");
        escape_into(out, &p.title);
        put(out, "</h1>\n    ");
        if !p.summary.is_empty() {
            put(out, "<p class=\"lede\">");
            escape_into(out, &p.summary);
            put(out, "</p>");
        }
        put(out, "\n    <dl class=\"facts\">\n      ");
        for (t, tax) in site.taxonomies.iter().enumerate() {
            let terms = &site.page_terms[i][t];
            if terms.is_empty() || tax.config.name == "ngo" {
                continue;
            }
            put(out, "\n      <div><dt>");
            if terms.len() > 1 {
                escape_into(out, &tax.config.title);
            } else {
                escape_into(out, &tax.config.singular);
            }
            put(out, "</dt><dd>");
            links(out, t);
            put(out, "</dd></div>\n      ");
        }
        put(out, "\n      ");
        if let Some(d) = date_v(p.date) {
            put(out, "<div><dt>Published</dt><dd><time datetime=\"");
            escape_into(out, &d.iso);
            put(out, "\">");
            escape_into(out, &d.human);
            put(out, "</time></dd></div>");
        }
        put(out, "\n      ");
        let report = site.report_of[i].map(|r| (&site.pages[r].title, c.url(&site.pages[r].path)));
        // `<a href="…">…</a>` to the report.
        let report_link = |out: &mut Vec<u8>, (name, url): &(&String, String)| {
            put(out, "<a href=\"");
            escape_into(out, url);
            put(out, "\">");
            escape_into(out, name);
            put(out, "</a>");
        };
        if let Some(r) = &report {
            put(out, "<div><dt>Part of</dt><dd>");
            report_link(out, r);
            put(out, "</dd></div>");
        }
        put(out, "\n    </dl>\n  </header>\n\n  ");
        if !p.outcomes.is_empty() {
            put(
                out,
                "\n  <section class=\"outcomes\" aria-labelledby=\"outcomes-heading\">\n    \
                 <h2 id=\"outcomes-heading\">Outcomes</h2>\n    <ul class=\"figures\">\n      ",
            );
            for o in &p.outcomes {
                let o = outcome_v(o);
                put(out, "<li><strong>");
                escape_into(out, &o.value_display);
                put(out, "</strong> <span class=\"metric\">");
                escape_into(out, &o.label);
                put(out, "</span></li>\n      ");
            }
            put(out, "\n    </ul>\n  </section>\n  ");
        }
        put(out, "\n\n  <div class=\"prose\">\n  ");
        put(out, &p.body.html);
        put(out, "\n  </div>\n\n  ");
        if let Some(r) = &report {
            put(out, "\n  <p class=\"part-of\">This case study is part of ");
            report_link(out, r);
            put(out, ".</p>\n  ");
        }
        put(out, "\n  ");
        let related = &site.related[i];
        if !related.is_empty() {
            put(
                out,
                "\n  <aside class=\"related\" aria-labelledby=\"related-heading\">\n    \
                 <h2 id=\"related-heading\">Related case studies</h2>\n    <ul>\n      ",
            );
            for r in related {
                let rp = &site.pages[r.page];
                put(out, "<li><a href=\"");
                escape_into(out, &c.url(&rp.path));
                put(out, "\">");
                escape_into(out, &rp.title);
                put(out, "</a> <span class=\"reason\">also: ");
                for (k, &(t, term)) in r.shared.iter().enumerate() {
                    if k > 0 {
                        put(out, " · ");
                    }
                    escape_into(out, &site.taxonomies[t].terms[term].name);
                }
                put(out, "</span></li>\n      ");
            }
            put(out, "\n    </ul>\n  </aside>\n  ");
        }
        put(out, "\n</article>\n");
        put(out, &chrome.footer);
    }

    /// `metrics` as the built-in `totals` component writes them.
    pub(super) fn totals_html(&self, metrics: &[Metric], filter: Option<(&str, &str)>) -> String {
        if metrics.is_empty() {
            // `{% if outcomes %}` in term.html: no section at all.
            return String::new();
        }
        let mut out = b"<ul class=\"figures\">\n".to_vec();
        // What `totals` makes of each metric, less what the component
        // does not show (the links behind each figure, breakdowns).
        for m in metrics {
            let (value_display, label, explore_url) = self.total_figure(m, &metric_slug(m), filter);
            put(&mut out, "<li><strong>");
            escape_into(&mut out, &value_display);
            put(&mut out, "</strong> <span class=\"metric\">");
            escape_into(&mut out, &label);
            if m.combine == Combine::Mean {
                put(&mut out, ", on average");
            }
            put(&mut out, "</span> <span class=\"from\">from <a href=\"");
            escape_into(&mut out, &explore_url);
            put(&mut out, "\">");
            put(&mut out, &case_count(m.figure.pages.len()));
            put(&mut out, "</a></span></li>\n");
        }
        put(&mut out, "\n</ul>");
        String::from_utf8(out).expect("escaping keeps UTF-8")
    }

    /// Page `page` of term `term` of taxonomy `tax`, as `term.html` in
    /// `base.html` renders it.
    pub(super) fn write_term(
        &self,
        tax: usize,
        term: usize,
        page: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), crate::diagnostic::Diagnostic> {
        let site: &Site = self.site;
        let c = &site.config;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        let base = t.term_path(tm);
        let (pager, shown) = self.pager(&tm.pages, page, &base);
        let totals = self.term_totals(tax, term, true);
        let meta = self.term_meta(tax, term, page);
        self.values
            .chrome
            .open(out, &meta, None, &c.url(&paged(&base, page)), "");
        put(
            out,
            "\n<header class=\"list-header\">\n  <p class=\"kicker\"><a href=\"",
        );
        escape_into(out, &c.url(&t.path()));
        put(out, "\">");
        escape_into(out, &t.config.title);
        put(out, "</a></p>\n  <h1>");
        escape_into(out, &tm.name);
        put(out, "</h1>\n  <p class=\"count\">");
        put(out, &case_count(tm.pages.len()));
        if pager.total_pages > 1 {
            put(
                out,
                &format!(", page {} of {}", pager.current, pager.total_pages),
            );
        }
        put(out, "</p>\n</header>\n");
        let totals = totals.as_str().unwrap_or_default();
        if !totals.is_empty() {
            put(
                out,
                "\n<section class=\"totals\" aria-labelledby=\"totals-heading\">\n  \
                 <h2 id=\"totals-heading\">Outcomes</h2>\n  ",
            );
            put(out, totals);
            put(out, "\n</section>\n");
        }
        put(out, "\n<div class=\"card-grid\">\n");
        for &i in shown {
            let card = self.card_value(i, Level::H2)?;
            if let Some(html) = card.get_from_path("html").and_then(|h| h.as_str()) {
                put(out, html);
            }
            put(out, "\n");
        }
        put(out, "\n</div>\n");
        if pager.total_pages > 1 {
            put(
                out,
                &format!(
                    "\n<nav class=\"pagination\" aria-label=\"Pages\">\n  \
                     <p class=\"pagination-status\">Showing {}–{} of {}</p>\n  <ul>\n    ",
                    pager.first_item, pager.last_item, pager.total_items
                ),
            );
            if let Some(prev) = &pager.prev {
                put(out, "<li><a href=\"");
                escape_into(out, prev);
                put(out, "\" rel=\"prev\">Previous</a></li>");
            }
            put(out, "\n    ");
            for link in &pager.pages {
                put(out, "<li><a href=\"");
                escape_into(out, &link.url);
                put(out, "\"");
                if link.current {
                    put(out, " aria-current=\"page\"");
                }
                put(out, &format!(">{}</a></li>\n    ", link.number));
            }
            put(out, "\n    ");
            if let Some(next) = &pager.next {
                put(out, "<li><a href=\"");
                escape_into(out, next);
                put(out, "\" rel=\"next\">Next</a></li>");
            }
            put(out, "\n  </ul>\n</nav>\n");
        }
        put(out, "\n");
        put(out, &self.values.chrome.footer);
        Ok(())
    }
}
