//! What a site needs beyond its pages to be published well: Atom feeds (the
//! whole site and each term), the sitemap, robots.txt, redirect pages for
//! renamed URLs, and the metadata in every page's head (canonical URL, Open
//! Graph and Twitter cards, schema.org JSON-LD).

use std::borrow::Cow;

use serde::Serialize;
use tera::Value;

use crate::content::{Kind, Page};
use crate::index::Site;

/// Where an alias (`/old/url/`, `/old-page.html`) writes its redirect,
/// relative to the output folder. `None` unless the alias is a plain site
/// path: it must start with `/`, and no segment may be empty-dot, `..`,
/// contain a backslash, NUL or percent-escape trickery. Validation reports
/// the refused ones; nothing here ever writes outside the output.
pub fn alias_output(alias: &str) -> Option<String> {
    let path = alias.strip_prefix('/')?;
    // `//host/x` is another site's address, not a path in this one.
    if path.starts_with('/') {
        return None;
    }
    let decoded = crate::content::markdown::percent_decode(path)?;
    if decoded
        .chars()
        .any(|c| c.is_control() || matches!(c, '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'))
    {
        return None;
    }
    let segs: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
    if segs.is_empty()
        || segs
            .iter()
            .any(|s| *s == "." || *s == ".." || s.starts_with('.'))
    {
        return None;
    }
    let last = segs[segs.len() - 1];
    let is_file = !decoded.ends_with('/') && (last.ends_with(".html") || last.ends_with(".htm"));
    Some(if is_file {
        segs.join("/")
    } else {
        format!("{}/index.html", segs.join("/"))
    })
}

/// JSON to put inside `<script type="application/ld+json">`: escaped so no
/// value can close the element, open a comment or break a line in old
/// parsers.
pub fn script_json(v: &serde_json::Value) -> String {
    script_safe(serde_json::to_string(v).unwrap_or_else(|_| "{}".into()))
}

/// JSON text made safe for a script element (see [`script_json`]).
fn script_safe(s: String) -> String {
    // Most pages' JSON has none of these (0xE2 leads U+2028 and U+2029,
    // and other characters, which take the slow path): no copy.
    if !s.bytes().any(|b| matches!(b, b'<' | b'>' | b'&' | 0xe2)) {
        return s;
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `text` as one XML CDATA section, for the `cdata` template filter that
/// feeds use for their HTML content: the HTML goes in as it is, where
/// escaping would grow every tag by a quarter and cost more than the rest
/// of the feed. A `]]>` inside, which would end the section early, is split
/// across two sections; characters XML forbids are dropped, as everywhere
/// in a feed.
pub fn cdata(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 12);
    out.push_str("<![CDATA[");
    if cdata_plain(text) {
        out.push_str(text);
        out.push_str("]]>");
        return out;
    }
    let text = xml_safe(text);
    let mut rest: &str = &text;
    while let Some(at) = rest.find("]]>") {
        out.push_str(&rest[..at]);
        out.push_str("]]]]><![CDATA[>");
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out.push_str("]]>");
    out
}

/// Whether `text` can go into a CDATA section as it is: no character XML
/// forbids, and no `]` that could start a `]]>`. As in `xml_safe`: one
/// vectorised pass finds that nearly every text needs neither cleaning nor
/// splitting, far cheaper than searching for `]]>` and then for control
/// characters.
fn cdata_plain(text: &str) -> bool {
    !text.as_bytes().chunks(64).any(|chunk| {
        chunk
            .iter()
            .fold(false, |hit, &b| hit | xml_suspect(b) | (b == b']'))
    })
}

/// Removes characters XML 1.0 does not allow (most control characters), so
/// a stray one in a title cannot make a feed unreadable.
pub fn xml_safe(s: &str) -> Cow<'_, str> {
    // Nearly every text has none: a byte scan spares the char-by-char copy
    // of every page body in every feed it appears in, and the text is
    // borrowed, not copied. Whole chunks are folded without an early exit,
    // which the compiler turns into vector instructions: eight times fewer
    // than a byte-by-byte `any`.
    let clean = s
        .as_bytes()
        .chunks(64)
        .all(|chunk| !chunk.iter().fold(false, |hit, &b| hit | xml_suspect(b)));
    if clean {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|&c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
            .collect(),
    )
}

/// Whether byte `b` may belong to a character XML forbids: a C0 control
/// other than tab and line breaks, DEL, or 0xC2, which leads the C1
/// controls (and other Latin-1 characters, which take the slow path).
/// Bitwise, not short-circuiting, so that scans with it vectorise.
#[inline]
fn xml_suspect(b: u8) -> bool {
    ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0x7f) | (b == 0xc2)
}

/// The most categories a feed entry lists: its first terms, in the order
/// of the site's taxonomies. A page is an entry in the feed of each of its
/// terms, so listing them all made each page's feeds grow with the square
/// of its number of terms.
pub(crate) const FEED_CATEGORIES: usize = 25;

/// The most HTML a feed entry carries, in bytes. A longer page's entry has
/// its summary and its link, not its text: the entry is repeated in the
/// feed of each of the page's terms.
pub(crate) const FEED_CONTENT_MAX: usize = 64 * 1024;

/// Page `i`'s terms as feed categories: (taxonomy, term) pairs.
pub(crate) fn feed_categories(site: &Site, i: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    site.page_terms[i]
        .iter()
        .enumerate()
        .flat_map(|(t, terms)| terms.iter().map(move |&ti| (t, ti)))
        .take(FEED_CATEGORIES)
}

/// Whether page `p`'s entries carry its HTML.
fn feed_carries_content(p: &Page) -> bool {
    p.body.html.len() <= FEED_CONTENT_MAX
}

/// The date a page was last changed: `updated`, else `date`.
fn changed(p: &Page) -> Option<crate::content::date::Date> {
    p.updated.or(p.date)
}

const EPOCH: &str = "1970-01-01T00:00:00Z";

#[derive(Serialize)]
pub(crate) struct CategoryV<'a> {
    term: &'a str,
    label: Cow<'a, str>,
    scheme: &'a str,
}

#[derive(Serialize)]
pub(crate) struct EntryV<'a> {
    title: Cow<'a, str>,
    permalink: String,
    id: String,
    published: String,
    updated: String,
    authors: Vec<Cow<'a, str>>,
    summary: Cow<'a, str>,
    /// The page's HTML, as text: escaped when a template prints it, or
    /// as it is inside the section the `cdata` filter makes.
    content: Cow<'a, str>,
    /// Shared by every entry of the term: see `category_values`. A
    /// template value in a serialised struct is cloned, not serialised
    /// again, and an `Arc` clone is all it costs.
    categories: Vec<Value>,
}

#[derive(Serialize)]
pub(crate) struct FeedV<'a> {
    title: Cow<'a, str>,
    subtitle: Cow<'a, str>,
    self_url: String,
    home_url: String,
    id: String,
    updated: String,
    author: Cow<'a, str>,
    entries: Vec<Value>,
}

fn authors_of<'a>(site: &'a Site, p: &'a Page) -> Vec<Cow<'a, str>> {
    if !p.authors.is_empty() {
        return p.authors.iter().map(|a| xml_safe(a)).collect();
    }
    vec![xml_safe(
        site.config.author.as_deref().unwrap_or(&site.config.title),
    )]
}

/// Each term's Atom category (`{term, label, scheme}`), by taxonomy: the
/// same in every entry of every feed, so made once and shared.
pub(crate) fn category_values(site: &Site) -> Vec<Vec<Value>> {
    let c = &site.config;
    site.taxonomies
        .iter()
        .map(|tax| {
            let scheme = c.permalink(&tax.path());
            tax.terms
                .iter()
                .map(|term| {
                    Value::from_serializable(&CategoryV {
                        term: &term.slug,
                        label: xml_safe(&term.name),
                        scheme: &scheme,
                    })
                })
                .collect()
        })
        .collect()
}

/// Page `i` as a feed entry, its terms' categories from
/// [`category_values`]. The same in every feed the page is in.
pub(crate) fn entry(site: &Site, i: usize, categories: &[Vec<Value>]) -> Value {
    let p = &site.pages[i];
    let c = &site.config;
    let permalink = c.permalink(&p.path);
    let published = p.date.map_or_else(|| EPOCH.to_string(), |d| d.rfc3339());
    let v = EntryV {
        title: xml_safe(&p.title),
        id: permalink.clone(),
        permalink,
        updated: changed(p).map_or_else(|| published.clone(), |d| d.rfc3339()),
        published,
        authors: authors_of(site, p),
        summary: xml_safe(&p.summary),
        content: if feed_carries_content(p) {
            xml_safe(&p.body.html)
        } else {
            Cow::Borrowed("")
        },
        categories: feed_categories(site, i)
            .map(|(t, ti)| categories[t][ti].clone())
            .collect(),
    };
    Value::from_serializable(&v)
}

/// The entries a feed of `items` shows: the newest `feed_limit`.
pub(crate) fn feed_items(site: &Site, items: &[usize]) -> Vec<usize> {
    items.iter().copied().take(site.config.feed_limit).collect()
}

/// Everything the site publishes, newest first: case studies and reports,
/// as many as a feed holds.
///
/// Both lists are already in this order (the index sorts each kind newest
/// first, undated last, then by title, then by file), so the newest of the
/// two are merged, not the whole site sorted: the preview server asks on
/// every rebuild, and sorting 10,000 case studies by date took longer than
/// the rest of working out what changed.
pub(crate) fn site_feed_items(site: &Site) -> Vec<usize> {
    let newer = |a: usize, b: usize| {
        let (pa, pb) = (&site.pages[a], &site.pages[b]);
        let (ta, tb) = (
            pa.date.map(|d| d.timestamp()),
            pb.date.map(|d| d.timestamp()),
        );
        tb.cmp(&ta)
            .then_with(|| pa.title.cmp(&pb.title))
            .then_with(|| pa.rel.cmp(&pb.rel))
            .is_le()
    };
    let (mut cs, mut rs) = (
        site.case_studies.iter().peekable(),
        site.reports.iter().peekable(),
    );
    let mut out = Vec::new();
    while out.len() < site.config.feed_limit {
        let next = match (cs.peek(), rs.peek()) {
            (Some(&&c), Some(&&r)) if newer(c, r) => cs.next(),
            (Some(_), Some(_)) => rs.next(),
            (Some(_), None) => cs.next(),
            (None, _) => rs.next(),
        };
        match next {
            Some(&i) => out.push(i),
            None => break,
        }
    }
    out
}

/// What one feed shows.
pub(crate) struct FeedSpec {
    pub(crate) title: String,
    pub(crate) subtitle: String,
    /// Its entries, already limited to `feed_limit`.
    pub(crate) items: Vec<usize>,
    /// Where the feed is published.
    pub(crate) self_path: String,
    /// The page it is about.
    pub(crate) home_path: String,
}

/// When a feed of `items` last changed: its newest entry's date.
fn feed_updated(site: &Site, items: &[usize]) -> String {
    items
        .iter()
        .filter_map(|&i| changed(&site.pages[i]))
        .max_by_key(|d| d.timestamp())
        .map_or_else(|| EPOCH.to_string(), |d| d.rfc3339())
}

/// The feed `spec` describes, with its `entries` (see [`entry`]), as the
/// value templates see.
pub(crate) fn feed(site: &Site, spec: &FeedSpec, entries: Vec<Value>) -> Value {
    let c = &site.config;
    let v = FeedV {
        title: xml_safe(&spec.title),
        subtitle: xml_safe(&spec.subtitle),
        self_url: c.permalink(&spec.self_path),
        home_url: c.permalink(&spec.home_path),
        id: c.permalink(&spec.self_path),
        updated: feed_updated(site, &spec.items),
        author: xml_safe(c.author.as_deref().unwrap_or(&c.title)),
        entries,
    };
    Value::from_serializable(&v)
}

/// What templates print as `generator`.
pub(crate) const GENERATOR: &str = concat!("casebook ", env!("CARGO_PKG_VERSION"));

/// Appends `s`.
pub(crate) fn put(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

#[derive(Serialize)]
pub(crate) struct UrlV {
    loc: String,
    lastmod: Option<String>,
}

/// Every page a search engine should know, with its last change.
pub(crate) fn sitemap(site: &Site) -> Vec<UrlV> {
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
        let image = p.image.as_deref().map(|img| {
            if img.starts_with("http://") || img.starts_with("https://") {
                img.to_string()
            } else {
                c.permalink(img)
            }
        });
        if image.is_some() {
            m.twitter_card = "summary_large_image";
        }
        m.image = image.clone();
        m.image_alt = p.image_alt.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_stay_inside_the_output() {
        assert_eq!(
            alias_output("/old/url/").as_deref(),
            Some("old/url/index.html")
        );
        assert_eq!(
            alias_output("/old/url").as_deref(),
            Some("old/url/index.html")
        );
        assert_eq!(
            alias_output("/old-page.html").as_deref(),
            Some("old-page.html")
        );
        assert_eq!(
            alias_output("/caf%C3%A9/").as_deref(),
            Some("café/index.html")
        );
        for bad in [
            "old/url/",
            "/",
            "/../etc/",
            "/a/../../b/",
            "/%2e%2e/x/",
            "/a%2f..%2f..%2fb/",
            "/..\\..\\x/",
            "/a%5c..%5cb/",
            "/a%00b/",
            "/.hidden/",
            "/C:/x/",
            "/a/./b/",
        ] {
            assert_eq!(alias_output(bad), None, "{bad}");
        }
    }

    /// The merge gives what sorting every case study and report by the
    /// feed's order gives: dates shared across kinds, undated pages, equal
    /// titles, and a limit that falls inside, at and past either list.
    #[test]
    fn the_site_feed_is_the_newest_of_both_kinds() {
        let dates = ["2024-03-01", "2024-03-01", "2023-07-15", "", "2024-11-30"];
        let titles = ["Alpha", "Beta", "Alpha"];
        let mut files = Vec::new();
        for n in 0..23 {
            let (kind, dir) = if n % 3 == 1 {
                ("report", "reports")
            } else {
                ("case study", "case-studies")
            };
            let date = dates[n % dates.len()];
            let date = if date.is_empty() {
                String::new()
            } else {
                format!("date: {date}\n")
            };
            files.push((
                format!("{dir}/{kind}-{n:02}.md").replace(' ', "-"),
                format!(
                    "---\ntitle: {}\n{date}---\nText.\n",
                    titles[n % titles.len()]
                ),
            ));
        }
        let files: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        for limit in [1, 5, 7, 16, 23, 40] {
            let site =
                crate::index::test_site(&format!("title = \"T\"\nfeed_limit = {limit}\n"), &files);
            let mut all: Vec<usize> = site
                .case_studies
                .iter()
                .chain(&site.reports)
                .copied()
                .collect();
            all.sort_by(|&a, &b| {
                let (pa, pb) = (&site.pages[a], &site.pages[b]);
                (pb.date.map(|d| d.timestamp()))
                    .cmp(&pa.date.map(|d| d.timestamp()))
                    .then_with(|| pa.title.cmp(&pb.title))
                    .then_with(|| pa.rel.cmp(&pb.rel))
            });
            all.truncate(site.config.feed_limit);
            assert_eq!(site_feed_items(&site), all, "feed_limit {limit}");
        }
    }

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

    #[test]
    fn json_in_script_cannot_escape() {
        let v = serde_json::json!({"headline": "</script><script>alert(1)</script> & <!--", "x": "\u{2028}"});
        let s = script_json(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert!(s.contains("\\u003c/script\\u003e"));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        // Each on its own, not only alongside the others.
        for (text, escaped) in [
            ("a\u{2028}b", "a\\u2028b"),
            ("a\u{2029}b", "a\\u2029b"),
            ("a&b", "a\\u0026b"),
        ] {
            assert_eq!(
                script_json(&serde_json::json!(text)),
                format!("\"{escaped}\"")
            );
        }
        assert_eq!(
            script_json(&serde_json::json!("plain — text")),
            "\"plain — text\""
        );
    }

    #[test]
    fn cdata_keeps_html_as_it_is_and_cannot_be_closed_early() {
        assert_eq!(cdata("<p>a &amp; b</p>"), "<![CDATA[<p>a &amp; b</p>]]>");
        assert_eq!(cdata(""), "<![CDATA[]]>");
        // A `]]>` in the text is split, so the text comes back whole from
        // an XML parser: `]]` ends one section, `>` starts the next.
        assert_eq!(
            cdata("x]]>y]]>"),
            "<![CDATA[x]]]]><![CDATA[>y]]]]><![CDATA[>]]>"
        );
        assert_eq!(cdata("a\u{1b}b"), "<![CDATA[ab]]>");
    }

    #[test]
    fn xml_safe_drops_control_characters() {
        assert_eq!(xml_safe("a\u{7}b\0c\td"), "abc\td");
        assert_eq!(xml_safe("plain\r\n"), "plain\r\n");
        assert_eq!(xml_safe("£ \u{85}x\u{7f}"), "£ x");
        // Anywhere in a long text, not only in the first chunk scanned.
        let long = "<p>text</p>".repeat(40);
        for at in [0, 63, 64, 65, 200, long.len()] {
            let mut dirty = long.clone();
            dirty.insert(at, '\u{1b}');
            assert_eq!(xml_safe(&dirty), long, "control character at {at}");
        }
        assert_eq!(xml_safe(&long), long);
    }
}
