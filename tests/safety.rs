//! Front-matter values are text, never markup; raw HTML in Markdown is off
//! by default; links that run script are never rendered as links.

mod common;

use common::{Site, attr_values};

const HOSTILE: &str = "<script>alert(1)</script>";

fn hostile_site() -> Site {
    let site = Site::empty(
        "title = \"Safety <b>site</b>\"\ndescription = \"\\\"onmouseover=\\\"alert(1)\"\n",
    );
    site.write(
        "content/case-studies/x.md",
        &format!(
            "---\ntitle: \"{HOSTILE} title\"\ndate: 2024-01-01\nngo: \"{HOSTILE}\"\nsector: ['\"onmouseover=\"alert(1)']\nprogram: P\ncountry: \"</script><script>alert(2)</script>\"\ntags: [javascript:alert(1)]\nsummary: \"{HOSTILE} summary\"\nreport: r\noutcomes:\n  - metric: \"{HOSTILE}\"\n    value: 1\n    unit: \"<i>u</i>\"\n---\nBody <script>alert(3)</script> and <img src=x onerror=alert(4)>\n\n[click](javascript:alert(5)) [ok](https://example.org/)\n"
        ),
    );
    site.write(
        "content/reports/r.md",
        &format!("---\ntitle: \"{HOSTILE}\"\ndate: 2024-01-02\nauthors: [\"{HOSTILE}\"]\nsummary: x\n---\nBody\n"),
    );
    site.write(
        "content/_index.md",
        &format!("---\ntitle: \"{HOSTILE}\"\n---\nHi\n"),
    );
    site
}

/// No page may contain a script element or an event-handler attribute that
/// the theme did not write itself.
fn assert_no_injected_markup(site: &Site) {
    for f in site.files().iter().filter(|f| f.ends_with(".html")) {
        let html = site.read(f);
        // The only script element is the theme's own JSON-LD, and its JSON
        // holds the values as data.
        // The explorer page also loads the theme's own explore.js.
        let scripts = html.matches("<script").count();
        let ld = html
            .matches("<script type=\"application/ld+json\">")
            .count();
        let own = html.matches("<script src=\"/explore.js?v=").count();
        assert_eq!(scripts, ld + own, "{f} contains a script element:\n{html}");
        for json in html.split("<script type=\"application/ld+json\">").skip(1) {
            let json = json.split("</script>").next().unwrap();
            serde_json::from_str::<serde_json::Value>(json)
                .unwrap_or_else(|e| panic!("{f}: JSON-LD broken ({e}): {json}"));
        }
        assert!(
            !html.contains("<img src=x"),
            "{f} contains raw HTML from Markdown"
        );
        assert!(
            !html.contains("<i>u</i>"),
            "{f} contains raw HTML from front matter"
        );
        assert!(
            !html.contains("<b>site</b>"),
            "{f} contains raw HTML from site.toml"
        );
        assert!(
            !html.contains("\"onmouseover=\""),
            "{f} lets a value break out of an attribute"
        );
        for href in attr_values(&html, "href") {
            assert!(
                !href.to_lowercase().starts_with("javascript:"),
                "{f} links to {href}"
            );
        }
    }
}

#[test]
fn front_matter_values_are_escaped_everywhere() {
    let site = hostile_site();
    site.build(&[]);
    assert_no_injected_markup(&site);
    let cs = site.read("case-studies/x/index.html");
    assert!(
        cs.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; title")
            || cs.contains("&lt;script&gt;alert(1)&lt;/script&gt; title"),
        "{cs}"
    );
    // The value is shown, as text.
    assert!(cs.contains("&lt;script&gt;"), "{cs}");
}

#[test]
fn raw_html_in_markdown_is_text_unless_enabled() {
    let site = hostile_site();
    site.build(&[]);
    let cs = site.read("case-studies/x/index.html");
    assert!(
        cs.contains("Body &lt;script&gt;alert(3)&lt;/script&gt;"),
        "{cs}"
    );
    assert!(cs.contains("&lt;img src=x onerror=alert(4)&gt;"), "{cs}");
    assert!(
        cs.contains("<a href=\"https://example.org/\">ok</a>"),
        "ordinary links still work"
    );
    assert!(cs.contains("click"), "the text of a removed link stays");

    let toml = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write(
        "site.toml",
        &format!("{toml}[markdown]\nunsafe_html = true\n"),
    );
    site.build(&[]);
    let cs = site.read("case-studies/x/index.html");
    assert!(
        cs.contains("Body <script>alert(3)</script>"),
        "raw HTML allowed when turned on"
    );
    // Front matter is still escaped, and javascript: links still dropped.
    assert!(!cs.contains("<script>alert(1)"), "{cs}");
    assert!(!cs.contains("href=\"javascript:"), "{cs}");
}

#[test]
fn script_links_are_reported_as_warnings() {
    let site = hostile_site();
    let out = site.build(&[]);
    let err = common::stderr(&out);
    assert!(
        err.contains("warning: link to `javascript:alert(5)` was removed"),
        "{err}"
    );
    assert!(err.contains("content/case-studies/x.md:18:1"), "{err}");
}
