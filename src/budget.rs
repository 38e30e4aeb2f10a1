//! Page weight: what each page costs a reader on a phone, measured on a
//! real build. Readers in this sector often pay for every megabyte and wait
//! on slow links, so `casebook check --budget` builds the site into a
//! scratch folder and, for every page, adds up what a browser 360 pixels
//! wide (at two device pixels per CSS pixel, a common phone) fetches to show
//! it all: the HTML, its stylesheets and scripts, the photo copy each
//! `<picture>` would choose, and the data a script is pointed at
//! (`data-index`). Each file counts as it travels, gzip-compressed, except
//! images, which are compressed already. Lazy photos count too: a reader who
//! reads to the end loads them.
//!
//! The load time is the transfer alone at the budget's link speed (400
//! kbps by default); latency adds to it, so it is a floor.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// The viewport width the weight is measured at, in CSS pixels.
pub const VIEWPORT: f64 = 360.0;
/// Device pixels per CSS pixel.
pub const DPR: f64 = 2.0;

/// What one file adds to a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Its URL as the page writes it.
    pub url: String,
    /// What it is: `html`, `css`, `js`, `image`, `data`.
    pub kind: &'static str,
    /// Bytes on the wire.
    pub bytes: u64,
}

/// One page's weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageWeight {
    /// The page's path in the output: `case-studies/x/index.html`.
    pub page: String,
    /// The page itself first, then what it loads, each once.
    pub parts: Vec<Part>,
}

impl PageWeight {
    /// Bytes on the wire, all parts together.
    pub fn total(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// Bytes of one kind of part.
    pub fn of(&self, kind: &str) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.kind == kind)
            .map(|p| p.bytes)
            .sum()
    }
}

/// Every page's weight, heaviest first, and the budget.
#[derive(Debug, Clone)]
pub struct BudgetReport {
    /// Every page, heaviest first (redirects from old addresses left out).
    pub pages: Vec<PageWeight>,
    /// The most a page may weigh, in bytes.
    pub limit: u64,
    /// The link speed, in kilobits a second.
    pub kbps: u32,
}

impl BudgetReport {
    /// Seconds to transfer `bytes` at the budget's link speed.
    pub fn seconds(&self, bytes: u64) -> f64 {
        bytes as f64 * 8.0 / (f64::from(self.kbps.max(1)) * 1000.0)
    }

    /// The pages over the budget, heaviest first.
    pub fn over(&self) -> impl Iterator<Item = &PageWeight> {
        self.pages.iter().filter(|p| p.total() > self.limit)
    }
}

/// Attributes of each tag of `html`, by tag: (tag name, [(name, value)]),
/// for the few tags that load something.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        rest = &rest[end..];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/')
            .collect::<String>()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "link" | "script" | "img" | "source" | "picture" | "/picture" | "div"
        ) {
            continue;
        }
        let mut attrs = Vec::new();
        let mut a = &tag[name.len()..];
        while let Some(eq) = a.find("=\"") {
            let key = a[..eq]
                .rsplit(|c: char| c.is_whitespace())
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            let after = &a[eq + 2..];
            let Some(close) = after.find('"') else { break };
            attrs.push((key, unescape(&after[..close])));
            a = &after[close + 1..];
        }
        out.push((name, attrs));
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The width, in CSS pixels, `sizes` gives an image at [`VIEWPORT`].
pub fn slot_width(sizes: &str) -> f64 {
    let length = |v: &str| -> Option<f64> {
        let v = v.trim();
        if let Some(inner) = v.strip_prefix("calc(").and_then(|x| x.strip_suffix(')')) {
            let (a, b) = inner.split_once(" - ")?;
            return Some(length_of(a)? - length_of(b)?);
        }
        length_of(v)
    };
    fn length_of(v: &str) -> Option<f64> {
        let v = v.trim();
        let num = |s: &str| s.trim().parse::<f64>().ok();
        if let Some(n) = v.strip_suffix("vw") {
            return Some(num(n)? * VIEWPORT / 100.0);
        }
        if let Some(n) = v.strip_suffix("rem").or_else(|| v.strip_suffix("em")) {
            return Some(num(n)? * 16.0);
        }
        if let Some(n) = v.strip_suffix("px") {
            return num(n);
        }
        None
    }
    for entry in sizes.split(',') {
        let entry = entry.trim();
        match entry.strip_prefix('(') {
            Some(cond) => {
                let Some((cond, value)) = cond.split_once(')') else {
                    continue;
                };
                let holds = match cond.split_once(':') {
                    Some((f, v)) if f.trim() == "min-width" => {
                        length_of(v).is_some_and(|w| VIEWPORT >= w)
                    }
                    Some((f, v)) if f.trim() == "max-width" => {
                        length_of(v).is_some_and(|w| VIEWPORT <= w)
                    }
                    _ => false,
                };
                if holds && let Some(w) = length(value) {
                    return w;
                }
            }
            None => return length(entry).unwrap_or(VIEWPORT),
        }
    }
    VIEWPORT
}

/// The candidate of a `srcset` a browser picks for `sizes` at
/// [`VIEWPORT`] and [`DPR`]: the narrowest at least as wide as needed, else
/// the widest.
pub fn choose(srcset: &str, sizes: &str) -> Option<String> {
    let need = slot_width(sizes) * DPR;
    let mut candidates: Vec<(f64, &str)> = srcset
        .split(',')
        .filter_map(|c| {
            let mut it = c.split_whitespace();
            let url = it.next()?;
            let w = it
                .next()
                .and_then(|d| d.strip_suffix('w'))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0.0);
            Some((w, url))
        })
        .collect();
    candidates.sort_by(|a, b| a.0.total_cmp(&b.0));
    candidates
        .iter()
        .find(|(w, _)| *w >= need)
        .or(candidates.last())
        .map(|(_, u)| u.to_string())
}

/// What one page's HTML makes a browser fetch: (URL, kind).
fn fetched(html: &str) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let mut in_picture = false;
    let mut picked = false;
    for (name, attrs) in tags(html) {
        match name.as_str() {
            "picture" => {
                in_picture = true;
                picked = false;
            }
            "/picture" => in_picture = false,
            "link" => {
                let rel = attr(&attrs, "rel").unwrap_or("");
                if let Some(href) = attr(&attrs, "href") {
                    if rel.split_whitespace().any(|r| r == "stylesheet") {
                        out.push((href.to_string(), "css"));
                    } else if rel.split_whitespace().any(|r| r == "icon") {
                        out.push((href.to_string(), "image"));
                    }
                }
            }
            "script" => {
                if let Some(src) = attr(&attrs, "src") {
                    out.push((src.to_string(), "js"));
                }
            }
            "source" | "img" => {
                if in_picture && picked {
                    continue;
                }
                let sizes = attr(&attrs, "sizes").unwrap_or("100vw");
                let url = match attr(&attrs, "srcset") {
                    Some(set) => choose(set, sizes),
                    None => attr(&attrs, "src").map(str::to_string),
                };
                if let Some(url) = url {
                    out.push((url, "image"));
                    picked = true;
                }
            }
            "div" => {
                if let Some(index) = attr(&attrs, "data-index") {
                    out.push((index.to_string(), "data"));
                }
            }
            _ => {}
        }
    }
    out
}

/// The file in `out` a URL of the site names, if it is one of the site's.
fn file_of(out: &Path, config: &Config, url: &str) -> Option<PathBuf> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    let path = if let Some(rest) = url.strip_prefix(config.base_url.as_str()) {
        rest.to_string()
    } else if let Some(rest) = url.strip_prefix(config.base_path.as_str()) {
        rest.to_string()
    } else {
        return None;
    };
    let decoded = crate::content::markdown::percent_decode(&path)?;
    let rel = crate::text::join_url("", &decoded)?;
    let rel = if rel.is_empty() || rel.ends_with('/') {
        format!("{rel}index.html")
    } else {
        rel
    };
    Some(out.join(rel))
}

/// Bytes of a file on the wire: gzip-compressed, but for images.
fn wire_bytes(path: &Path, kind: &str) -> Option<u64> {
    let bytes = std::fs::read(path).ok()?;
    if kind == "image" && path.extension().is_none_or(|e| e != "svg") {
        return Some(bytes.len() as u64);
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(&bytes).ok()?;
    Some(gz.finish().ok()?.len() as u64)
}

/// Weighs every page of a built site in `out`.
pub fn weigh(out: &Path, config: &Config) -> BudgetReport {
    use rayon::prelude::*;
    let pages: Vec<String> = walkdir::WalkDir::new(out)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            let rel = e
                .path()
                .strip_prefix(out)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            rel.ends_with(".html").then_some(rel)
        })
        .collect();
    let cache: std::sync::Mutex<HashMap<PathBuf, Option<u64>>> = Default::default();
    let size = |path: &Path, kind: &str| -> Option<u64> {
        if let Some(n) = cache.lock().expect("sizes").get(path) {
            return *n;
        }
        let n = wire_bytes(path, kind);
        cache.lock().expect("sizes").insert(path.to_path_buf(), n);
        n
    };
    let mut weights: Vec<PageWeight> = pages
        .par_iter()
        .filter_map(|rel| {
            let html = std::fs::read_to_string(out.join(rel)).ok()?;
            // Redirects from old addresses are not pages anyone reads.
            if html.contains("http-equiv=\"refresh\"") {
                return None;
            }
            let mut parts = vec![Part {
                url: rel.clone(),
                kind: "html",
                bytes: size(&out.join(rel), "html")?,
            }];
            let mut seen = std::collections::HashSet::new();
            for (url, kind) in fetched(&html) {
                if !seen.insert(url.clone()) {
                    continue;
                }
                if let Some(file) = file_of(out, config, &url)
                    && let Some(bytes) = size(&file, kind)
                {
                    parts.push(Part { url, kind, bytes });
                }
            }
            Some(PageWeight {
                page: rel.clone(),
                parts,
            })
        })
        .collect();
    weights.sort_by(|a, b| b.total().cmp(&a.total()).then(a.page.cmp(&b.page)));
    BudgetReport {
        pages: weights,
        limit: u64::from(config.budget.page_kb) * 1000,
        kbps: config.budget.kbps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_picks_the_copy_twice_its_slot() {
        // 360 px wide, 2 device pixels: a full-width photo needs 720.
        assert_eq!(slot_width("(min-width: 64rem) 46rem, 100vw"), 360.0);
        assert_eq!(
            slot_width("(min-width: 48rem) 42rem, calc(100vw - 2rem)"),
            328.0
        );
        assert_eq!(slot_width("(max-width: 30rem) 50vw, 100vw"), 180.0);
        let set = "a.480.webp 480w, a.960.webp 960w, a.1600.webp 1600w";
        assert_eq!(choose(set, "100vw").as_deref(), Some("a.960.webp"));
        assert_eq!(
            choose(set, "(max-width: 30rem) 50vw, 100vw").as_deref(),
            Some("a.480.webp")
        );
        assert_eq!(
            choose("a.300.webp 300w", "100vw").as_deref(),
            Some("a.300.webp")
        );
    }

    #[test]
    fn a_picture_counts_once_and_lists_every_other_fetch() {
        let html = r#"<link rel="stylesheet" href="/style.css?v=1"><script src="/print.js" defer></script>
<picture><source type="image/webp" srcset="/p/a.480.webp 480w, /p/a.960.webp 960w" sizes="100vw"><img src="/p/a.960.jpg" srcset="/p/a.480.jpg 480w" sizes="100vw" alt="x"></picture>
<img src="/logo.png" alt="logo"><div id="explorer" data-index="/search-index.json">"#;
        assert_eq!(
            fetched(html),
            vec![
                ("/style.css?v=1".to_string(), "css"),
                ("/print.js".to_string(), "js"),
                ("/p/a.960.webp".to_string(), "image"),
                ("/logo.png".to_string(), "image"),
                ("/search-index.json".to_string(), "data"),
            ]
        );
    }
}
