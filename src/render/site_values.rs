//! What every page can see — the `site` value and one value per taxonomy —
//! made once per build, with hashes of its parts that the preview server's
//! read records compare.

use std::hash::{DefaultHasher, Hash, Hasher};

use tera::Value;

use super::Theme;
use super::feeds::category_values;
use super::head::GENERATOR;
use super::reads::{self, Read, record};
use super::values::*;
use crate::index::Site;

/// What every page can see: the `site` value and one value per taxonomy,
/// with a hash of it all (and of the templates and configuration) that is
/// part of every job's fingerprint.
pub struct SiteValues {
    pub(super) site: Value,
    /// One value per taxonomy, with its terms and counts.
    pub(super) taxonomies: Vec<Value>,
    /// Each taxonomy's name as a map key, and a link (name and URL) to each
    /// of its terms: every card holds these by reference, not a copy — at
    /// 100,000 case studies the copies came to 300 MB.
    pub(super) tax_keys: Vec<tera::value::Key<'static>>,
    pub(super) term_links: Vec<Vec<Value>>,
    /// Each term's Atom category, shared by every feed entry.
    pub(super) term_categories: Vec<Vec<Value>>,
    /// For each page, its terms' links hashed, for fingerprints: every
    /// rebuild of the preview fingerprints every output, and hashing the
    /// links' text there took a body edit at 10,000 pages from 3 to 14 ms.
    pub(super) page_term_hashes: Vec<u64>,
    /// The configuration, the templates and the theme's asset URLs, hashed:
    /// what every output reads ([`Read::Theme`]).
    pub(super) theme_hash: u64,
    /// Each field of the `site` value, by name, hashed.
    pub(super) site_fields: Vec<(String, u64)>,
    /// The same for each taxonomy's value.
    pub(super) tax_fields: Vec<Vec<(String, u64)>>,
    /// Which of those fields each template names.
    pub(super) template_reads: reads::TemplateReads,
}

impl SiteValues {
    pub fn new(site: &Site, theme: &Theme) -> SiteValues {
        let site_v = site_value(site, theme);
        let taxonomies = site_v
            .taxonomies
            .iter()
            .map(Value::from_serializable)
            .collect();
        let c = &site.config;
        let mut h = DefaultHasher::new();
        format!("{c:?}").hash(&mut h);
        for (name, t) in &theme.templates {
            (name, &t.source).hash(&mut h);
        }
        // Every URL a template may be given for a theme file.
        for (asset, _) in super::theme::BUILTIN_STATIC {
            theme.asset_url(c, asset).hash(&mut h);
        }
        let theme_hash = h.finish();
        let fields = |v: serde_json::Value| -> Vec<(String, u64)> {
            match v {
                serde_json::Value::Object(map) => map
                    .into_iter()
                    .map(|(k, v)| {
                        let mut h = DefaultHasher::new();
                        v.to_string().hash(&mut h);
                        (k, h.finish())
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let site_fields = fields(serde_json::to_value(&site_v).unwrap_or_default());
        let tax_fields = site_v
            .taxonomies
            .iter()
            .map(|t| fields(serde_json::to_value(t).unwrap_or_default()))
            .collect();
        let term_hashes = each_term(site, |term, url| {
            let mut h = DefaultHasher::new();
            (&term.name, url).hash(&mut h);
            h.finish()
        });
        SiteValues {
            site: Value::from_serializable(&site_v),
            taxonomies,
            tax_keys: site
                .taxonomies
                .iter()
                .map(|t| t.config.name.clone().into())
                .collect(),
            term_links: each_term(site, |term, url| {
                Value::from_serializable(&LinkV {
                    name: &term.name,
                    url: url.to_string(),
                })
            }),
            term_categories: category_values(site),
            page_term_hashes: site
                .page_terms
                .iter()
                .map(|terms| {
                    let mut h = DefaultHasher::new();
                    for (t, terms) in terms.iter().enumerate() {
                        for &ti in terms {
                            term_hashes[t][ti].hash(&mut h);
                        }
                    }
                    h.finish()
                })
                .collect(),
            theme_hash,
            site_fields,
            tax_fields,
            template_reads: reads::TemplateReads::new(
                theme
                    .templates
                    .iter()
                    .map(|(n, t)| (n.as_str(), t.source.as_str())),
            ),
        }
    }

    fn field_hash(fields: &[(String, u64)], f: u16) -> u64 {
        if f == u16::MAX {
            let mut h = DefaultHasher::new();
            fields.hash(&mut h);
            return h.finish();
        }
        fields.get(usize::from(f)).map_or(0, |(_, h)| *h)
    }

    /// The hash of field `f` of the `site` value (`u16::MAX`: all of it).
    pub(crate) fn site_field_hash(&self, f: u16) -> u64 {
        Self::field_hash(&self.site_fields, f)
    }

    /// The hash of field `f` of taxonomy `t`'s value.
    pub(crate) fn tax_field_hash(&self, t: u16, f: u16) -> u64 {
        self.tax_fields
            .get(usize::from(t))
            .map_or(0, |fields| Self::field_hash(fields, f))
    }

    /// Records that the job rendering reads, through `template`, the
    /// fields of `site` (and of taxonomy `tax`'s value) its source names.
    pub(super) fn record_template(&self, template: &str, tax: Option<usize>) {
        if !reads::on() {
            return;
        }
        let index = |fields: &[(String, u64)], name: &str| {
            fields.iter().position(|(n, _)| n == name).map(|i| i as u16)
        };
        let (site, taxonomy) = self.template_reads.of(template);
        match site {
            Some(names) => names
                .iter()
                .filter_map(|n| index(&self.site_fields, n))
                .for_each(|f| record(|| Read::SiteField(f))),
            None => record(|| Read::SiteField(u16::MAX)),
        }
        if let Some(t) = tax {
            let fields = &self.tax_fields[t];
            match taxonomy {
                Some(names) => names
                    .iter()
                    .filter_map(|n| index(fields, n))
                    .for_each(|f| record(|| Read::TaxField(t as u16, f))),
                None => record(|| Read::TaxField(t as u16, u16::MAX)),
            }
        }
    }

    /// Records a read of field `name` of taxonomy `t`'s value.
    pub(super) fn record_tax_field(&self, t: usize, name: &str) {
        if !reads::on() {
            return;
        }
        if let Some(f) = self.tax_fields[t].iter().position(|(n, _)| n == name) {
            record(|| Read::TaxField(t as u16, f as u16));
        }
    }
}

/// Something made of each term and its page's URL, by taxonomy.
pub(super) fn each_term<T>(
    site: &Site,
    make: impl Fn(&crate::index::Term, &str) -> T,
) -> Vec<Vec<T>> {
    site.taxonomies
        .iter()
        .map(|tax| {
            tax.terms
                .iter()
                .map(|term| make(term, &site.config.url(&tax.term_path(term))))
                .collect()
        })
        .collect()
}

/// The `site` value every template sees.
fn site_value<'a>(site: &'a Site, theme: &Theme) -> SiteV<'a> {
    let c = &site.config;
    let mut nav = vec![NavV {
        title: "Case studies".into(),
        url: c.url("case-studies/"),
        browse: false,
    }];
    if !site.reports.is_empty() {
        nav.push(NavV {
            title: "Reports".into(),
            url: c.url("reports/"),
            browse: false,
        });
    }
    nav.push(NavV {
        title: "Explore".into(),
        url: c.url("explore/"),
        browse: false,
    });
    nav.push(NavV {
        title: "Outcomes".into(),
        url: c.url("outcomes/"),
        browse: false,
    });
    for t in &site.taxonomies {
        nav.push(NavV {
            title: t.config.title.clone(),
            url: c.url(&t.path()),
            browse: true,
        });
    }
    let pages = site
        .plain
        .iter()
        .map(|&i| NavV {
            title: site.pages[i].title.clone(),
            url: c.url(&site.pages[i].path),
            browse: false,
        })
        .collect();
    let taxonomies = site
        .taxonomies
        .iter()
        .map(|t| {
            let mut terms: Vec<TermV> = t
                .terms
                .iter()
                .map(|term| TermV {
                    name: &term.name,
                    slug: &term.slug,
                    url: c.url(&t.term_path(term)),
                    count: term.pages.len(),
                    feed_url: None,
                    description: t.config.description(&term.slug),
                })
                .collect();
            terms.sort_by(|a, b| {
                a.name
                    .to_lowercase()
                    .cmp(&b.name.to_lowercase())
                    .then(a.slug.cmp(b.slug))
            });
            TaxonomyV {
                name: &t.config.name,
                title: &t.config.title,
                singular: &t.config.singular,
                url: c.url(&t.path()),
                count: t.terms.len(),
                terms,
            }
        })
        .collect();
    SiteV {
        title: &c.title,
        description: &c.description,
        language: &c.language,
        author: c.author.as_deref(),
        base_url: &c.base_url,
        base_path: &c.base_path,
        home_url: &c.base_path,
        css_url: theme.asset_url(c, "style.css"),
        print_js_url: theme.asset_url(c, "print.js"),
        organisation: c.organisation.as_deref().unwrap_or(&c.title),
        favicon_url: theme.asset_url(c, "favicon.svg"),
        feed_url: c.url("atom.xml"),
        case_study_count: site.case_studies.len(),
        report_count: site.reports.len(),
        nav,
        taxonomies,
        pages,
        generator: GENERATOR,
    }
}
