//! The `render` stage: turns the indexed [`Site`] into output files.
//!
//! It first makes a plan — one [`Job`] per output file, cheap to compute —
//! then a [`Renderer`] (templates compiled once, per-page card data built
//! once) renders any job to bytes. Jobs are independent, so the write stage
//! runs them in parallel and streams each to its file; no stage holds the
//! whole site's HTML in memory.
//!
//! One module per kind of output:
//!
//! | module        | writes |
//! |---------------|--------|
//! | [`pages`]     | a case study, a report, a plain page, `/404.html` |
//! | [`listings`]  | `/`, `/case-studies/` (paginated), `/reports/` |
//! | [`terms`]     | `/<taxonomy>/`, `/<taxonomy>/<term>/` (paginated) |
//! | [`feeds`]     | `/atom.xml`, `/<taxonomy>/<term>/atom.xml` |
//! | [`sitemap`]   | `/sitemap.xml`, `/robots.txt` |
//! | [`outcomes`]  | `/outcomes/`, and the totals on term pages |
//! | [`explorer`]  | `/explore/`, `/search-index.json` |
//! | [`data`]      | `/case-studies.json`, `/case-studies.csv`, `/outcomes.csv` |
//! | [`redirects`] | a redirect page for each alias |
//!
//! and what they share: [`output`] (the list of outputs), [`templates`],
//! [`site_values`] (what every page sees), [`cards`], [`head`] (every page's
//! `<head>`), [`values`] (the shapes templates see), [`escape`],
//! [`absolute`] (links in feed entries made absolute), [`rows`]
//! and [`cache`] (what the preview keeps between rebuilds), [`reads`] (what
//! each output read, for the preview), [`theme`] and [`paths`] (checks of
//! the links templates make).

mod absolute;
mod cache;
mod cards;
pub mod data;
mod escape;
mod explorer;
mod feeds;
mod head;
mod listings;
mod outcomes;
pub mod output;
mod pages;
pub mod paths;
pub mod reads;
mod redirects;
pub mod rows;
mod site_values;
mod sitemap;
mod templates;
mod terms;
pub mod theme;
pub mod values;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use tera::{Context, Value};

use crate::diagnostic::Diagnostic;
use crate::index::Site;
use reads::{Read, record};

use cache::RowKeys;
pub use cache::{CardCache, IdHash, PageHashes};
use output::page_count;
pub use output::{Job, OutputKind, plan};
pub use redirects::alias_output;
pub use site_values::SiteValues;
pub use templates::Templates;
use templates::template_diagnostic;
pub use theme::Theme;

/// Renders jobs. Holds the compiled templates and, for each page, its card:
/// the data and the HTML of the theme's `card` component, made the first
/// time a listing needs it and shared (tera values are reference counted) by
/// every listing the page appears in — a page is in up to a dozen lists, and
/// rendering its card once instead of in each is most of a build's
/// template work.
pub struct Renderer<'s> {
    site: &'s Site,
    tera: Arc<Templates>,
    theme: &'s Theme,
    /// Each page's card, under an h2 and under an h3.
    cards: Vec<[OnceLock<Result<Value, Diagnostic>>; 2]>,
    /// With the preview server: cards made by earlier rebuilds, and the key
    /// of each page's card.
    shared: Option<(&'s CardCache, Vec<u64>, &'s [PageHashes])>,
    /// While recording: what each job rendered read.
    log: Option<Mutex<HashMap<Job, Vec<Read>>>>,
    /// With the preview server: rows of the data files made by earlier
    /// rebuilds, and each page's key for them.
    rows: Option<RowKeys<'s>>,
    /// Each term's outcome totals as its pages show them: the same on every
    /// page of a paginated term, so added up once, and kept only until the
    /// term's last page has taken them (they list every case study behind
    /// each figure: kept for every term, 250 MB at 100,000 case studies).
    term_totals: Vec<Vec<Mutex<TotalsMemo>>>,
    /// Each page's feed entry, with its XML as the theme's `atom_entry`
    /// component renders it, made the first time a feed needs it (a page
    /// is in a feed for each of its terms), with how many feeds are still
    /// to take it: dropped after the last, as entries hold the page's
    /// whole body.
    entries: Vec<Mutex<(usize, Option<Value>)>>,
    values: Arc<SiteValues>,
}

/// A term's outcome totals while its pages render: how many of its pages
/// are still to render, and the totals once made.
type TotalsMemo = (usize, Option<Value>);

/// `1 case study`, `2 case studies`.
fn case_count(n: usize) -> String {
    format!("{n} case {}", if n == 1 { "study" } else { "studies" })
}

impl<'s> Renderer<'s> {
    /// Compiles the theme's templates and prepares shared data.
    pub fn new(site: &'s Site, theme: &'s Theme) -> Result<Renderer<'s>, Diagnostic> {
        let templates = Arc::new(Templates::compile(theme, &site.config)?);
        let values = Arc::new(SiteValues::new(site, theme));
        Ok(Renderer::from_parts(site, theme, templates, values))
    }

    /// A renderer from templates and site values made earlier (the preview
    /// server keeps them while the theme, or the site's shape, is the same).
    pub fn from_parts(
        site: &'s Site,
        theme: &'s Theme,
        templates: Arc<Templates>,
        values: Arc<SiteValues>,
    ) -> Renderer<'s> {
        Renderer {
            site,
            tera: templates,
            theme,
            cards: site
                .pages
                .iter()
                .map(|_| [OnceLock::new(), OnceLock::new()])
                .collect(),
            shared: None,
            log: None,
            rows: None,
            term_totals: site
                .taxonomies
                .iter()
                .map(|t| {
                    t.terms
                        .iter()
                        .map(|tm| {
                            let pages = page_count(tm.pages.len(), site.config.paginate_by);
                            Mutex::new((pages, None))
                        })
                        .collect()
                })
                .collect(),
            entries: {
                let mut feeds = vec![0usize; site.pages.len()];
                for i in feeds::site_feed_items(site) {
                    feeds[i] += 1;
                }
                for t in site.taxonomies.iter().filter(|t| t.config.feed) {
                    for term in &t.terms {
                        for i in feeds::feed_items(site, &term.pages) {
                            feeds[i] += 1;
                        }
                    }
                }
                feeds.into_iter().map(|n| Mutex::new((n, None))).collect()
            },
            values,
        }
    }

    /// The hash of what every output reads: the configuration, the
    /// templates and the theme's asset URLs.
    pub fn global_fingerprint(&self) -> u64 {
        self.values.theme_hash
    }

    /// Keeps, for each job rendered from now on, what it read (see
    /// [`Renderer::take_reads`]).
    pub fn recording(mut self) -> Self {
        self.log = Some(Mutex::new(HashMap::new()));
        self
    }

    /// What each job rendered since [`Renderer::recording`] read.
    pub fn take_reads(&self) -> HashMap<Job, Vec<Read>> {
        self.log
            .as_ref()
            .map(|l| std::mem::take(&mut *l.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }

    /// What reads see in this state of the site.
    pub fn read_values<'a>(&'a self, page_hashes: &'a [PageHashes]) -> reads::ReadValues<'a> {
        reads::ReadValues::new(self.site, page_hashes, &self.values)
    }

    /// Renders one job into `out`. The open-data files and the search
    /// index are written as they are made (tens of MB at 100,000 case
    /// studies); pages go through their template.
    pub fn render(
        &self,
        job: &Job,
        theme: &Theme,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        let Some(log) = &self.log else {
            return self.render_job(job, theme, out);
        };
        let (done, reads) = reads::recording(|| self.render_job(job, theme, out));
        log.lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*job, reads);
        done
    }

    fn render_job(
        &self,
        job: &Job,
        theme: &Theme,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        record(|| Read::Theme);
        // The machine-readable files are written by code, as they are made.
        let data = match job {
            Job::SearchIndex => Some(explorer::search_index(self.site, self.rows(), out)),
            Job::DataJson => Some(data::case_studies_json(self.site, self.rows(), out)),
            Job::DataCsv => Some(data::case_studies_csv(self.site, self.rows(), out)),
            Job::OutcomesCsv => Some(data::outcomes_csv(self.site, self.rows(), out)),
            _ => None,
        };
        if let Some(result) = data {
            if matches!(job, Job::SearchIndex) {
                record(|| Read::AllKeywords);
            }
            record(|| Read::AllData);
            return result.map_err(RenderError::Io);
        }
        let (template, cx) = self.prepare(job).map_err(RenderError::Template)?;
        let tax = match *job {
            Job::TaxonomyIndex(t) | Job::Term { tax: t, .. } => Some(t),
            _ => None,
        };
        self.values.record_template(template, tax);
        self.tera
            .render_to(template, &cx, out)
            .map_err(|e| RenderError::Template(template_diagnostic(theme, template, &e)))
    }

    /// The template and context for a job that goes through a template:
    /// what every template sees, then what the job's own module adds.
    fn prepare(&self, job: &Job) -> Result<(&'static str, Context), Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let mut cx = Context::new();
        let out_path = job.output_path(site);
        let current = match out_path.strip_suffix("index.html") {
            Some(dir) => c.url(dir),
            None => c.url(&out_path),
        };
        cx.insert("current_url", &current);
        cx.insert_value("site", self.values.site.clone());
        let here = out_path.strip_suffix("index.html");
        let (template, meta) = match *job {
            Job::Home => self.home(&mut cx, here)?,
            Job::Page(i) => self.page(&mut cx, i)?,
            Job::CaseStudyList(n) => self.case_study_list(&mut cx, n, here)?,
            Job::ReportList => self.report_list(&mut cx, here)?,
            Job::TaxonomyIndex(t) => self.taxonomy_index(&mut cx, t, here),
            Job::Term { tax, term, page } => self.term_page(&mut cx, tax, term, page)?,
            Job::Explore => self.explore_page(&mut cx, here),
            Job::Outcomes => self.outcomes_page(&mut cx, here),
            Job::NotFound => self.not_found(),
            // Not HTML pages: no head to describe.
            Job::SiteFeed => return Ok((self.site_feed(&mut cx)?, cx)),
            Job::TermFeed { tax, term } => return Ok((self.term_feed(&mut cx, tax, term)?, cx)),
            Job::Sitemap => return Ok((self.sitemap(&mut cx), cx)),
            Job::Robots => return Ok((self.robots(&mut cx), cx)),
            Job::Alias { page, .. } => return Ok((self.redirect(&mut cx, page), cx)),
            Job::SearchIndex | Job::DataJson | Job::DataCsv | Job::OutcomesCsv => {
                unreachable!("data files are written by `render_job` without a template")
            }
        };
        cx.insert_value("meta", Value::from_serializable(&meta));
        Ok((template, cx))
    }
}

/// Why a job could not be rendered.
#[derive(Debug)]
pub enum RenderError {
    /// A problem in the theme's templates or what they were given.
    Template(Diagnostic),
    /// Writing the output failed.
    Io(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::output::paged;

    #[test]
    fn paging() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(1, 20), 1);
        assert_eq!(page_count(20, 20), 1);
        assert_eq!(page_count(21, 20), 2);
        assert_eq!(paged("sector/health/", 1), "sector/health/");
        assert_eq!(paged("sector/health/", 2), "sector/health/page/2/");
    }
}
