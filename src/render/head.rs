//! What goes in every page's `<head>`: the canonical URL, Open Graph and
//! Twitter cards, feed links and schema.org JSON-LD.

use serde::Serialize;
use tera::Value;

use super::escape::{put, script_safe};
use super::feeds::changed;
use crate::content::Kind;
use crate::index::Site;

/// What templates print as `generator`.
pub(crate) const GENERATOR: &str = concat!("casebook ", env!("CARGO_PKG_VERSION"));

#[derive(Serialize)]
pub(crate) struct FeedLinkV {
    pub(crate) title: String,
    pub(crate) url: String,
}

/// What goes in a page's `<head>`, worked out once here so every template
/// says the same thing.
#[derive(Serialize)]
pub(crate) struct MetaV {
    /// The page's own title.
    pub(crate) title: String,
    /// For `<title>`: the page's title and the site's.
    pub(crate) full_title: String,
    pub(crate) description: String,
    /// Absolute URL; empty for pages that have none (404).
    pub(crate) canonical: String,
    pub(crate) og_type: &'static str,
    pub(crate) image: Option<String>,
    pub(crate) image_alt: Option<String>,
    pub(crate) twitter_card: &'static str,
    pub(crate) feeds: Vec<FeedLinkV>,
    pub(crate) noindex: bool,
    /// schema.org JSON-LD, made safe for a script element and marked safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) json_ld: Option<Value>,
}

impl MetaV {
    pub(crate) fn new(site: &Site, title: &str, description: &str, path: Option<&str>) -> MetaV {
        let c = &site.config;
        let full_title = if title.is_empty() || title == c.title {
            c.title.clone()
        } else {
            format!("{title} · {}", c.title)
        };
        let description = if description.trim().is_empty() {
            c.description.clone()
        } else {
            description.to_string()
        };
        MetaV {
            title: if title.is_empty() {
                c.title.clone()
            } else {
                title.to_string()
            },
            full_title,
            description,
            canonical: path.map(|p| c.permalink(p)).unwrap_or_default(),
            og_type: "website",
            image: None,
            image_alt: None,
            twitter_card: "summary",
            feeds: vec![FeedLinkV {
                title: format!("{}: everything new", c.title),
                url: c.url("atom.xml"),
            }],
            noindex: path.is_none(),
            json_ld: None,
        }
    }

    /// Article metadata for a case study or report, and its JSON-LD made
    /// safe for a script element.
    pub(crate) fn for_page(site: &Site, i: usize) -> (MetaV, Option<String>) {
        let p = &site.pages[i];
        let c = &site.config;
        let mut m = MetaV::new(site, &p.title, &p.summary, Some(&p.path));
        // A photo's widest copy (if its consent covers social media), or
        // an image given by its web address.
        let image = match &p.photo {
            Some(photo) if photo.social => Some(absolute(c, &photo.largest)),
            Some(_) => None,
            None => p.image.as_deref().map(|img| {
                if img.starts_with("http://") || img.starts_with("https://") {
                    img.to_string()
                } else {
                    c.permalink(img)
                }
            }),
        };
        if image.is_some() {
            m.twitter_card = "summary_large_image";
        }
        m.image = image.clone();
        m.image_alt = image.as_ref().and(p.image_alt.clone());
        if !matches!(p.kind, Kind::CaseStudy | Kind::Report) {
            return (m, None);
        }
        m.og_type = "article";
        let ld = article_json_ld(site, i, image.as_deref());
        (m, Some(ld))
    }
}

/// A case study's or report's schema.org Article, as JSON made safe for a
/// script element. Written directly, keys in the order `serde_json` gives
/// them (sorted), rather than built as a `serde_json::Value` and then
/// serialised: that was 3% of a build. A test holds it to the `Value` way.
fn article_json_ld(site: &Site, i: usize, image: Option<&str>) -> String {
    let p = &site.pages[i];
    let c = &site.config;
    let mut out: Vec<u8> = Vec::with_capacity(1024);
    let string = |out: &mut Vec<u8>, v: &str| {
        serde_json::to_writer(&mut *out, v).expect("JSON strings write to memory");
    };
    let entity = |out: &mut Vec<u8>, kind: &str, name: &str| {
        put(out, "{\"@type\":\"");
        put(out, kind);
        put(out, "\",\"name\":");
        string(out, name);
        put(out, "}");
    };
    put(
        &mut out,
        "{\"@context\":\"https://schema.org\",\"@type\":\"Article\"",
    );
    if let Some(t) = site.taxonomies.iter().position(|t| t.config.field == "ngo") {
        let name = |ti: usize| site.taxonomies[t].terms[ti].name.as_str();
        match site.page_terms[i][t].as_slice() {
            [] => {}
            [one] => {
                put(&mut out, ",\"about\":");
                entity(&mut out, "Organization", name(*one));
            }
            many => {
                put(&mut out, ",\"about\":[");
                for (k, &ti) in many.iter().enumerate() {
                    if k > 0 {
                        put(&mut out, ",");
                    }
                    entity(&mut out, "Organization", name(ti));
                }
                put(&mut out, "]");
            }
        }
    }
    put(&mut out, ",\"author\":[");
    if p.authors.is_empty() {
        entity(
            &mut out,
            "Organization",
            c.author.as_deref().unwrap_or(&c.title),
        );
    } else {
        for (k, a) in p.authors.iter().enumerate() {
            if k > 0 {
                put(&mut out, ",");
            }
            entity(&mut out, "Person", a);
        }
    }
    put(&mut out, "]");
    if let Some(d) = changed(p) {
        put(&mut out, ",\"dateModified\":");
        string(&mut out, &d.to_string());
    }
    if let Some(d) = p.date {
        put(&mut out, ",\"datePublished\":");
        string(&mut out, &d.to_string());
    }
    put(&mut out, ",\"description\":");
    string(&mut out, &p.summary);
    put(&mut out, ",\"headline\":");
    string(&mut out, &p.title);
    if let Some(img) = image {
        put(&mut out, ",\"image\":");
        string(&mut out, img);
    }
    put(&mut out, ",\"inLanguage\":");
    string(&mut out, &c.language);
    let mut keywords = String::new();
    for (t, tax) in site.taxonomies.iter().enumerate() {
        for &ti in &site.page_terms[i][t] {
            if !keywords.is_empty() {
                keywords.push_str(", ");
            }
            keywords.push_str(&tax.terms[ti].name);
        }
    }
    if !keywords.is_empty() {
        put(&mut out, ",\"keywords\":");
        string(&mut out, &keywords);
    }
    let permalink = c.permalink(&p.path);
    put(&mut out, ",\"mainEntityOfPage\":");
    string(&mut out, &permalink);
    put(&mut out, ",\"publisher\":");
    entity(&mut out, "Organization", &c.title);
    put(&mut out, ",\"url\":");
    string(&mut out, &permalink);
    put(&mut out, "}");
    script_safe(String::from_utf8(out).expect("JSON is UTF-8"))
}

/// The full address of a root-relative URL (`/learning/x.jpg`).
fn absolute(c: &crate::config::Config, url: &str) -> String {
    c.permalink(url.strip_prefix(c.base_path.as_str()).unwrap_or(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::escape::script_json;

    /// The JSON-LD of a page built as a `serde_json::Value` and serialised,
    /// as it was before `article_json_ld` wrote it directly.
    fn reference_json_ld(site: &Site, i: usize) -> String {
        let p = &site.pages[i];
        let c = &site.config;
        let image = p.image.as_deref().map(|img| {
            if img.starts_with("http://") || img.starts_with("https://") {
                img.to_string()
            } else {
                c.permalink(img)
            }
        });
        let names = |field: &str| -> Vec<String> {
            site.taxonomies
                .iter()
                .position(|t| t.config.field == field)
                .map(|t| {
                    site.page_terms[i][t]
                        .iter()
                        .map(|&ti| site.taxonomies[t].terms[ti].name.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let authors: Vec<serde_json::Value> = if p.authors.is_empty() {
            vec![
                serde_json::json!({"@type": "Organization", "name": c.author.as_deref().unwrap_or(&c.title)}),
            ]
        } else {
            p.authors
                .iter()
                .map(|a| serde_json::json!({"@type": "Person", "name": a}))
                .collect()
        };
        let mut ld = serde_json::json!({
            "@context": "https://schema.org",
            "@type": "Article",
            "headline": p.title,
            "description": p.summary,
            "url": c.permalink(&p.path),
            "mainEntityOfPage": c.permalink(&p.path),
            "inLanguage": c.language,
            "author": authors,
            "publisher": {"@type": "Organization", "name": c.title},
        });
        if let Some(d) = p.date {
            ld["datePublished"] = d.to_string().into();
        }
        if let Some(d) = changed(p) {
            ld["dateModified"] = d.to_string().into();
        }
        let ngos: Vec<serde_json::Value> = names("ngo")
            .into_iter()
            .map(|n| serde_json::json!({"@type": "Organization", "name": n}))
            .collect();
        match ngos.len() {
            0 => {}
            1 => ld["about"] = ngos[0].clone(),
            _ => ld["about"] = ngos.into(),
        }
        let keywords: Vec<String> = site
            .taxonomies
            .iter()
            .enumerate()
            .flat_map(|(t, tax)| {
                site.page_terms[i][t]
                    .iter()
                    .map(move |&ti| tax.terms[ti].name.clone())
            })
            .collect();
        if !keywords.is_empty() {
            ld["keywords"] = keywords.join(", ").into();
        }
        if let Some(img) = image {
            ld["image"] = img.into();
        }
        script_json(&ld)
    }

    #[test]
    fn article_json_ld_is_the_values_serialised() {
        let files = [
            (
                "case-studies/a.md",
                "---\ntitle: \"R&D </script> \\\"quoted\\\" \\u2028 line\"\ndate: 2024-05-01\n\
                 updated: 2024-06-02\nngo: [\"Ana & Bo <NGO>\", Second NGO]\nsector: [Health, Éducation]\n\
                 tags: [a, b]\nimage: /img/a.png\nsummary: \"<b>bold</b> & 'q'\"\n---\nx\n",
            ),
            (
                "case-studies/b.md",
                "---\ntitle: Bare\nimage: https://cdn.example/x.png\n---\nx\n",
            ),
            (
                "case-studies/c.md",
                "---\ntitle: One NGO\ndate: 2023-01-15\nngo: Solo\n---\nx\n",
            ),
            (
                "reports/r.md",
                "---\ntitle: Year\ndate: 2024-12-10\n\
                 authors: [\"A & B\", \"C </script>\", \"D \\u2029\"]\nsummary: Report.\n---\nx\n",
            ),
        ];
        for config in [
            "title = \"Notes & <Lessons>\"\nbase_url = \"https://example.org/learning/\"\n\
             author = \"Ana 'A' & Co\"\nlanguage = \"en-GB\"\n",
            "title = \"T\"\n",
            "title = \"T\"\n[[taxonomies]]\nname = \"sector\"\n",
        ] {
            let site = crate::index::test_site(config, &files);
            for i in 0..site.pages.len() {
                let (_, ld) = MetaV::for_page(&site, i);
                assert_eq!(
                    ld,
                    Some(reference_json_ld(&site, i)),
                    "{}",
                    site.pages[i].rel
                );
            }
        }
    }
}
