//! Atom feeds: `/atom.xml` for the whole site and `/<taxonomy>/<term>/atom.xml`
//! for each term of a taxonomy with `feed = true`.

use std::borrow::Cow;

use serde::Serialize;
use tera::{Context, Value};

use super::Renderer;
use super::absolute::absolute_links;
use super::escape::xml_safe;
use super::reads::{self, List, Read, pid, record, tid};
use super::templates::template_diagnostic;
use crate::content::Page;
use crate::diagnostic::Diagnostic;
use crate::index::Site;

impl Renderer<'_> {
    /// `/atom.xml`: everything new on the site.
    pub(super) fn site_feed(&self, cx: &mut Context) -> Result<&'static str, Diagnostic> {
        let site = self.site;
        let c = &site.config;
        record(|| Read::SiteFeedItems);
        let spec = FeedSpec {
            title: c.title.clone(),
            subtitle: c.description.clone(),
            items: site_feed_items(site),
            self_path: "atom.xml".to_string(),
            home_path: String::new(),
        };
        self.feed(cx, &spec)
    }

    /// `/<taxonomy>/<term>/atom.xml`: what is new on one term.
    pub(super) fn term_feed(
        &self,
        cx: &mut Context,
        tax: usize,
        term: usize,
    ) -> Result<&'static str, Diagnostic> {
        let site = self.site;
        let c = &site.config;
        let t = &site.taxonomies[tax];
        let tm = &t.terms[term];
        let base = t.term_path(tm);
        let id = tid(&t.config.name, &tm.slug);
        record(|| Read::TermName(id));
        record(|| Read::Slice(List::Term(id), 0, c.feed_limit as u32));
        let spec = FeedSpec {
            title: format!("{}: {} ({})", c.title, tm.name, t.config.singular),
            subtitle: format!("Case studies on {} from {}.", tm.name, c.title),
            items: feed_items(site, &tm.pages),
            self_path: format!("{base}atom.xml"),
            home_path: base,
        };
        self.feed(cx, &spec)
    }

    /// The feed `spec` describes, into `cx`, each entry made once for all
    /// the feeds it is in.
    fn feed(&self, cx: &mut Context, spec: &FeedSpec) -> Result<&'static str, Diagnostic> {
        let site = self.site;
        for &i in spec.items.iter().filter(|_| reads::on()) {
            let id = pid(&site.pages[i].rel);
            record(|| Read::Source(id));
            record(|| Read::TermNames(id));
        }
        let entries = spec
            .items
            .iter()
            .map(|&i| self.entry_value(i))
            .collect::<Result<Vec<_>, _>>()?;
        cx.insert_value("feed", feed_value(site, spec, entries));
        Ok("atom.xml")
    }
}

impl Renderer<'_> {
    /// Page `i`'s feed entry (see `entries`).
    fn entry_value(&self, i: usize) -> Result<Value, Diagnostic> {
        let make = || {
            let e = entry(self.site, i, &self.values.term_categories);
            if !self.tera.contains_component("atom_entry") {
                return Ok(e);
            }
            let mut cx = Context::new();
            cx.insert_value("e", e.clone());
            let xml = self
                .tera
                .render_component("atom_entry", &cx, None, true)
                .map_err(|err| template_diagnostic(self.theme, "atom.xml", &err))?;
            let mut map = e.into_map().expect("an entry is a map");
            map.insert("xml".into(), Value::safe_string(&xml));
            Ok(Value::from(map))
        };
        let mut memo = self.entries[i].lock().unwrap_or_else(|e| e.into_inner());
        let (left, kept) = &mut *memo;
        *left = left.saturating_sub(1);
        if let Some(v) = kept {
            let v = v.clone();
            if *left == 0 {
                *kept = None;
            }
            return Ok(v);
        }
        let v = make()?;
        if *left > 0 {
            *kept = Some(v.clone());
        }
        Ok(v)
    }
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
pub(super) fn changed(p: &Page) -> Option<crate::content::date::Date> {
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
        updated: changed(p).map_or_else(|| published.clone(), |d| d.rfc3339()),
        published,
        authors: authors_of(site, p),
        summary: xml_safe(&p.summary),
        // A feed reader shows the HTML away from the page: every link and
        // image in it must carry the page's address.
        content: if feed_carries_content(p) {
            absolute_links(xml_safe(&p.body.html), &permalink)
        } else {
            Cow::Borrowed("")
        },
        categories: feed_categories(site, i)
            .map(|(t, ti)| categories[t][ti].clone())
            .collect(),
        permalink,
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
fn feed_value(site: &Site, spec: &FeedSpec, entries: Vec<Value>) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
