//! Redirect pages: one for each alias a page lists (`aliases:` in its
//! front matter), so an old URL leads to where the page is now.

use tera::Context;

use super::Renderer;
use super::reads::{Read, pid, record};
use super::values::LinkV;

impl Renderer<'_> {
    /// The redirect page from one of page `page`'s aliases.
    pub(super) fn redirect(&self, cx: &mut Context, page: usize) -> &'static str {
        let c = &self.site.config;
        let p = &self.site.pages[page];
        record(|| Read::Card(pid(&p.rel)));
        cx.insert(
            "target",
            &LinkV {
                name: &p.title,
                url: c.url(&p.path),
            },
        );
        cx.insert("target_permalink", &c.permalink(&p.path));
        "alias.html"
    }
}

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
}
