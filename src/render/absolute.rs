//! Links made absolute for places with no page around them. A feed reader
//! shows an entry's HTML away from the site, so `../other-case/` or
//! `/images/a.jpg` in a case study would point nowhere there: every `href`
//! and `src` in a feed entry is resolved against the page's own address, as
//! a browser would resolve it on the page (RFC 3986, section 5.2).
//!
//! Our own few lines rather than the `url` crate: this is one join of a
//! reference onto an address casebook made itself, and that crate brings
//! the whole of IDNA and its Unicode tables with it.

use std::borrow::Cow;

use crate::text::join_url;

/// `html` with every relative `href="…"`, `src="…"` and each address of a
/// `srcset="…"` (double or single quotes) resolved against `base`, an absolute URL such as
/// `https://example.org/learning/case-studies/x/`. Borrowed when nothing
/// needed resolving.
pub(crate) fn absolute_links<'a>(html: Cow<'a, str>, base: &str) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    let mut done = 0;
    let mut at = 0;
    while let Some(found) = find_attr(&html[at..]) {
        let (start, quote, name_len) = (at + found.0, found.1, found.2);
        let value_start = start + name_len + 2;
        let Some(len) = html[value_start..].find(quote) else {
            break;
        };
        let value = &html[value_start..value_start + len];
        at = value_start + len + 1;
        let resolved = if name_len == "srcset".len() {
            resolve_srcset(base, value)
        } else {
            resolve(base, value)
        };
        if let Some(resolved) = resolved {
            let o = out.get_or_insert_with(|| String::with_capacity(html.len() + 256));
            o.push_str(&html[done..value_start]);
            o.push_str(&resolved);
            done = value_start + len;
        }
    }
    match out {
        None => html,
        Some(mut o) => {
            o.push_str(&html[done..]);
            Cow::Owned(o)
        }
    }
}

/// A `srcset` (`a.webp 480w, b.webp 960w`) with each address resolved.
fn resolve_srcset(base: &str, value: &str) -> Option<String> {
    let mut changed = false;
    let parts: Vec<String> = value
        .split(',')
        .map(|candidate| {
            let candidate = candidate.trim();
            let (url, descriptor) = candidate
                .split_once(char::is_whitespace)
                .unwrap_or((candidate, ""));
            match resolve(base, url) {
                Some(r) => {
                    changed = true;
                    if descriptor.is_empty() {
                        r
                    } else {
                        format!("{r} {}", descriptor.trim())
                    }
                }
                None => candidate.to_string(),
            }
        })
        .collect();
    changed.then(|| parts.join(", "))
}

/// The next ` href=`, ` src=` or ` srcset=` followed by a quote: (offset of the name,
/// the quote, the name's length).
fn find_attr(html: &str) -> Option<(usize, char, usize)> {
    let b = html.as_bytes();
    let mut from = 0;
    while let Some(i) = html[from..].find('=') {
        let eq = from + i;
        from = eq + 1;
        let quote = match b.get(eq + 1) {
            Some(b'"') => '"',
            Some(b'\'') => '\'',
            _ => continue,
        };
        for name in ["href", "src", "srcset"] {
            let Some(start) = eq.checked_sub(name.len()) else {
                continue;
            };
            let before = start.checked_sub(1).map(|j| b[j]);
            if html[start..eq].eq_ignore_ascii_case(name)
                && before.is_some_and(|c| c.is_ascii_whitespace())
            {
                return Some((start, quote, name.len()));
            }
        }
    }
    None
}

/// `reference` resolved against `base`, or `None` when it is already
/// absolute (has a scheme), empty, or climbs above the root (which the link
/// check refuses before anything is rendered).
fn resolve(base: &str, reference: &str) -> Option<String> {
    if reference.is_empty() || has_scheme(reference) {
        return None;
    }
    let scheme_end = base.find("://")? + 3;
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let (origin, base_path) = base.split_at(authority_end);
    let base_path = base_path.split(['?', '#']).next().unwrap_or("");
    if let Some(rest) = reference.strip_prefix("//") {
        return Some(format!("{}{rest}", &base[..scheme_end]));
    }
    if reference.starts_with('#') {
        let without = base.split('#').next().unwrap_or(base);
        return Some(format!("{without}{reference}"));
    }
    if reference.starts_with('?') {
        let without = base.split(['?', '#']).next().unwrap_or(base);
        return Some(format!("{without}{reference}"));
    }
    // Path, then whatever query or fragment the reference carries.
    let split = reference.find(['?', '#']).unwrap_or(reference.len());
    let (path, tail) = reference.split_at(split);
    // The same folder arithmetic as the link check's.
    let joined = match path.strip_prefix('/') {
        Some(from_root) => join_url("", from_root)?,
        None => {
            let dir = base_path.trim_start_matches('/');
            join_url(&dir[..dir.rfind('/').map_or(0, |i| i + 1)], path)?
        }
    };
    Some(format!("{origin}/{joined}{tail}"))
}

/// Whether `r` starts with a URL scheme (`https:`, `mailto:`).
fn has_scheme(r: &str) -> bool {
    let Some(colon) = r.find(':') else {
        return false;
    };
    let scheme = &r[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://example.org/learning/case-studies/x/";

    #[test]
    fn references_resolve_as_a_browser_would() {
        let r = |s| resolve(BASE, s);
        assert_eq!(
            r("../other/").as_deref(),
            Some("https://example.org/learning/case-studies/other/")
        );
        assert_eq!(
            r("photo.jpg").as_deref(),
            Some("https://example.org/learning/case-studies/x/photo.jpg")
        );
        assert_eq!(
            r("/learning/ngo/a/").as_deref(),
            Some("https://example.org/learning/ngo/a/")
        );
        assert_eq!(
            r("#outcomes").as_deref(),
            Some("https://example.org/learning/case-studies/x/#outcomes")
        );
        assert_eq!(
            r("../../../y/?a=1#b").as_deref(),
            Some("https://example.org/y/?a=1#b")
        );
        assert_eq!(
            r("//cdn.example/a.png").as_deref(),
            Some("https://cdn.example/a.png")
        );
        assert_eq!(r("./").as_deref(), Some(BASE));
        assert_eq!(r("/").as_deref(), Some("https://example.org/"));
        assert_eq!(r("../../../../above/"), None);
        assert_eq!(r("https://other.example/"), None);
        assert_eq!(r("mailto:a@example.org"), None);
        assert_eq!(r(""), None);
    }

    #[test]
    fn only_href_src_and_srcset_attributes_change() {
        let html = r#"<p><a href="../y/">y</a> data-href="../z/" <img src='a.png' alt="../b"> <a href="https://e.org/">e</a></p>"#;
        assert_eq!(
            absolute_links(Cow::Borrowed(html), BASE),
            r#"<p><a href="https://example.org/learning/case-studies/y/">y</a> data-href="../z/" <img src='https://example.org/learning/case-studies/x/a.png' alt="../b"> <a href="https://e.org/">e</a></p>"#
        );
        let picture =
            r#"<source srcset="/learning/p/a.480.webp 480w, /learning/p/a.960.webp 960w">"#;
        assert_eq!(
            absolute_links(Cow::Borrowed(picture), BASE),
            r#"<source srcset="https://example.org/learning/p/a.480.webp 480w, https://example.org/learning/p/a.960.webp 960w">"#
        );
        let plain = r#"<p><a href="https://e.org/">e</a></p>"#;
        assert!(matches!(
            absolute_links(Cow::Borrowed(plain), BASE),
            Cow::Borrowed(_)
        ));
    }
}
