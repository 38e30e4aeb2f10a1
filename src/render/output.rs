//! The list of outputs: one [`Job`] per file a build writes, where each
//! goes, and what kind of output it is for the build summary.

use crate::content::Kind;
use crate::index::Site;

use super::redirects::alias_output;

/// The kinds of output a build summary counts, in the order it lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OutputKind {
    /// A case study's page.
    CaseStudy,
    /// A report's page.
    Report,
    /// A plain page such as `/about/`.
    Page,
    /// A list of case studies or reports, the explorer, `/outcomes/`.
    Listing,
    /// A taxonomy's index or a term's page.
    TaxonomyPage,
    /// An Atom feed.
    Feed,
    /// The explorer's index and the open data files.
    DataFile,
    /// A redirect from an alias.
    Redirect,
    /// The home page.
    Home,
    /// `/404.html`.
    NotFound,
    /// `/sitemap.xml` and `/robots.txt`.
    Sitemap,
}

impl OutputKind {
    /// How the summary names `n` outputs of this kind, or `None` for the
    /// kinds it counts in the total only (one of each per site).
    pub fn counted(self, n: usize) -> Option<String> {
        let (one, many) = match self {
            OutputKind::CaseStudy => ("case study", "case studies"),
            OutputKind::Report => ("report", "reports"),
            OutputKind::Page => ("page", "pages"),
            OutputKind::Listing => ("listing", "listings"),
            OutputKind::TaxonomyPage => ("taxonomy page", "taxonomy pages"),
            OutputKind::Feed => ("feed", "feeds"),
            OutputKind::DataFile => ("data file", "data files"),
            OutputKind::Redirect => ("redirect", "redirects"),
            OutputKind::Home | OutputKind::NotFound | OutputKind::Sitemap => return None,
        };
        Some(format!("{n} {}", if n == 1 { one } else { many }))
    }
}

/// One output file to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Job {
    Home,
    /// A case study, report or plain page (index into `Site::pages`).
    Page(usize),
    /// Page `n` (1-based) of `/case-studies/`.
    CaseStudyList(usize),
    ReportList,
    /// `/<taxonomy>/`.
    TaxonomyIndex(usize),
    /// Page `page` (1-based) of `/<taxonomy>/<term>/`.
    Term {
        tax: usize,
        term: usize,
        page: usize,
    },
    NotFound,
    /// `/atom.xml`: everything new on the site.
    SiteFeed,
    /// `/<taxonomy>/<term>/atom.xml`.
    TermFeed {
        tax: usize,
        term: usize,
    },
    Sitemap,
    Robots,
    /// A redirect from the page's `n`th alias to the page.
    Alias {
        page: usize,
        n: usize,
    },
    /// `/explore/`: the faceted explorer.
    Explore,
    /// `/outcomes/`: outcomes added up.
    Outcomes,
    /// `/search-index.json`, which the explorer reads.
    SearchIndex,
    /// `/case-studies.json`.
    DataJson,
    /// `/case-studies.csv`.
    DataCsv,
    /// `/outcomes.csv`.
    OutcomesCsv,
}

impl Job {
    /// The file this job writes, relative to the output folder.
    pub fn output_path(&self, site: &Site) -> String {
        match *self {
            Job::Home => "index.html".into(),
            Job::Page(i) => [site.pages[i].path.as_str(), "index.html"].concat(),
            Job::CaseStudyList(n) => format!("{}index.html", paged("case-studies/", n)),
            Job::ReportList => "reports/index.html".into(),
            Job::TaxonomyIndex(t) => format!("{}index.html", site.taxonomies[t].path()),
            Job::Term { tax, term, page } => {
                let t = &site.taxonomies[tax];
                paged(&t.term_path(&t.terms[term]), page) + "index.html"
            }
            Job::NotFound => "404.html".into(),
            Job::SiteFeed => "atom.xml".into(),
            Job::TermFeed { tax, term } => {
                let t = &site.taxonomies[tax];
                t.term_path(&t.terms[term]) + "atom.xml"
            }
            Job::Sitemap => "sitemap.xml".into(),
            Job::Robots => "robots.txt".into(),
            Job::Alias { page, n } => {
                // `plan` only makes alias jobs for aliases that map to a
                // path inside the output.
                alias_output(&site.pages[page].aliases[n]).unwrap_or_default()
            }
            Job::Explore => "explore/index.html".into(),
            Job::Outcomes => "outcomes/index.html".into(),
            Job::SearchIndex => "search-index.json".into(),
            Job::DataJson => "case-studies.json".into(),
            Job::DataCsv => "case-studies.csv".into(),
            Job::OutcomesCsv => "outcomes.csv".into(),
        }
    }

    /// What kind of output this is, for the build summary.
    pub fn kind(&self, site: &Site) -> OutputKind {
        match *self {
            Job::Home => OutputKind::Home,
            Job::Page(i) => match site.pages[i].kind {
                Kind::CaseStudy => OutputKind::CaseStudy,
                Kind::Report => OutputKind::Report,
                _ => OutputKind::Page,
            },
            Job::CaseStudyList(_) | Job::ReportList | Job::Explore | Job::Outcomes => {
                OutputKind::Listing
            }
            Job::TaxonomyIndex(_) | Job::Term { .. } => OutputKind::TaxonomyPage,
            Job::NotFound => OutputKind::NotFound,
            Job::SiteFeed | Job::TermFeed { .. } => OutputKind::Feed,
            Job::Sitemap | Job::Robots => OutputKind::Sitemap,
            Job::Alias { .. } => OutputKind::Redirect,
            Job::SearchIndex | Job::DataJson | Job::DataCsv | Job::OutcomesCsv => {
                OutputKind::DataFile
            }
        }
    }
}

/// Site path of page `n` of a paginated listing: the first page is the
/// listing itself, later ones are `page/N/` under it.
pub(super) fn paged(base: &str, n: usize) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}page/{n}/")
    }
}

pub(super) fn page_count(items: usize, per_page: usize) -> usize {
    items.div_ceil(per_page).max(1)
}

/// Every output file of the site, in a stable order.
pub fn plan(site: &Site) -> Vec<Job> {
    let per = site.config.paginate_by;
    let mut jobs = vec![
        Job::Home,
        Job::NotFound,
        Job::SiteFeed,
        Job::Sitemap,
        Job::Robots,
        Job::Explore,
        Job::Outcomes,
        Job::SearchIndex,
        Job::DataJson,
        Job::DataCsv,
        Job::OutcomesCsv,
    ];
    for (i, p) in site.pages.iter().enumerate() {
        if matches!(p.kind, Kind::CaseStudy | Kind::Report | Kind::Page) {
            jobs.push(Job::Page(i));
            for (n, alias) in p.aliases.iter().enumerate() {
                if alias_output(alias).is_some() {
                    jobs.push(Job::Alias { page: i, n });
                }
            }
        }
    }
    for n in 1..=page_count(site.case_studies.len(), per) {
        jobs.push(Job::CaseStudyList(n));
    }
    if !site.reports.is_empty() {
        jobs.push(Job::ReportList);
    }
    for (t, tax) in site.taxonomies.iter().enumerate() {
        jobs.push(Job::TaxonomyIndex(t));
        for (ti, term) in tax.terms.iter().enumerate() {
            if tax.config.feed {
                jobs.push(Job::TermFeed { tax: t, term: ti });
            }
            for page in 1..=page_count(term.pages.len(), per) {
                jobs.push(Job::Term {
                    tax: t,
                    term: ti,
                    page,
                });
            }
        }
    }
    jobs
}
