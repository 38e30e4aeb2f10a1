//! Front-matter values are text, never markup; raw HTML in Markdown is off
//! by default; links that run script are never rendered as links.

use crate::common;

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
        // The explorer page also loads the theme's own explore.js, and
        // every page its print.js.
        let scripts = html.matches("<script").count();
        let ld = html
            .matches("<script type=\"application/ld+json\">")
            .count();
        let own = html.matches("<script src=\"/explore.js?v=").count()
            + html.matches("<script src=\"/print.js?v=").count();
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

/// Every attack string at once: markup, an attribute break-out, the end of
/// a script element, a script URL.
const ALL: &str =
    "<script>alert(1)</script> \"onmouseover=\"alert(1) </script> javascript:alert(1)";

/// A site (`tests/fixtures/hostile`) whose every front-matter field and
/// site.toml value carries [`ALL`], and one case study whose fields are
/// spreadsheet formulas.
fn audit_site() -> Site {
    Site::from_fixture("hostile")
}

#[test]
fn every_html_output_keeps_hostile_values_as_text() {
    let site = audit_site();
    site.build(&[]);
    assert_no_injected_markup(&site);
    for f in site.files().iter().filter(|f| f.ends_with(".html")) {
        let html = site.read(f);
        for tag in ["<script>alert", "</script> \"", "onmouseover=\"alert"] {
            assert!(!html.contains(tag), "{f} contains {tag:?} unescaped");
        }
        for attr in ["src", "action", "formaction", "poster", "data"] {
            for v in attr_values(&html, attr) {
                assert!(
                    !v.to_lowercase().starts_with("javascript:"),
                    "{f}: {attr}={v}"
                );
            }
        }
    }
}

#[test]
fn json_outputs_hold_hostile_values_as_data() {
    let site = audit_site();
    site.build(&[]);
    let data: serde_json::Value = serde_json::from_str(&site.read("case-studies.json")).unwrap();
    let all = data["case_studies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "all")
        .unwrap();
    for key in ["title", "summary"] {
        assert_eq!(all[key], ALL, "{key}");
    }
    for key in ["ngo", "sector", "program", "country"] {
        assert_eq!(all[key][0], ALL, "{key}");
    }
    assert_eq!(all["outcomes"][0]["metric"], ALL);
    assert_eq!(all["outcomes"][0]["unit"], ALL);
    let index: serde_json::Value = serde_json::from_str(&site.read("search-index.json")).unwrap();
    let doc = index["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d[0] == "case-studies/all/")
        .unwrap();
    assert_eq!(doc[1], ALL);
    assert_eq!(doc[3], ALL);
    assert!(
        index["facets"][0]["terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t[0] == ALL)
    );
    // JSON-LD inside script elements: parsed back, the values are intact.
    let html = site.read("case-studies/all/index.html");
    let ld = html
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .unwrap();
    let ld: serde_json::Value = serde_json::from_str(ld).unwrap();
    assert_eq!(ld["headline"], ALL);
}

#[test]
fn feeds_and_sitemap_are_well_formed_xml_with_values_as_text() {
    if !common::tools_available(
        &[("python3", common::runs("python3", &["--version"]))],
        "apt-get install python3",
    ) {
        return;
    }
    let site = audit_site();
    site.build(&[]);
    let script = r#"
import sys, xml.etree.ElementTree as ET
ns = {'a': 'http://www.w3.org/2005/Atom'}
for path in sys.argv[2:]:
    root = ET.parse(path).getroot()
    if root.tag.endswith('feed'):
        for e in root.findall('a:entry', ns):
            print('TITLE', e.find('a:title', ns).text)
            for c in e.findall('a:category', ns):
                print('CATEGORY', c.get('label'))
            for a in e.findall('a:author/a:name', ns):
                print('AUTHOR', a.text)
print('PARSED', len(sys.argv) - 2)
"#;
    let xml: Vec<String> = site
        .files()
        .into_iter()
        .filter(|f| f.ends_with(".xml"))
        .map(|f| site.out().join(f).to_string_lossy().into_owned())
        .collect();
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg("-")
        .args(&xml)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(&format!("PARSED {}", xml.len())), "{text}");
    assert!(text.lines().any(|l| l == format!("TITLE {ALL}")), "{text}");
    assert!(
        text.lines().any(|l| l == format!("CATEGORY {ALL}")),
        "{text}"
    );
    assert!(text.lines().any(|l| l == format!("AUTHOR {ALL}")), "{text}");
}

/// Whether a spreadsheet would run `cell` as a formula: it starts, after
/// white space, with `=`, `+`, `-`, `@` (or their full-width forms), tab or
/// carriage return, and is not simply a number.
fn runs_as_formula(cell: &str) -> bool {
    let t = cell.trim_start_matches(|c: char| c.is_whitespace() && c != '\t' && c != '\r');
    t.starts_with([
        '=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}',
    ]) && t.trim().parse::<f64>().is_err()
}

#[test]
fn csv_cells_are_data_never_formulas() {
    let site = audit_site();
    site.build(&[]);
    for file in ["case-studies.csv", "outcomes.csv"] {
        let text = site.read(file);
        let text = text.trim_start_matches('\u{feff}');
        // As a CSV reader reads it.
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let width = reader.headers().unwrap().len();
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert!(!records.is_empty(), "{file}");
        for rec in &records {
            assert_eq!(rec.len(), width, "{file}: {rec:?}");
            for cell in rec.iter() {
                assert!(
                    !runs_as_formula(cell),
                    "{file}: a cell a spreadsheet would run: {cell:?}"
                );
            }
        }
        assert!(
            records.iter().any(|r| &r[0] == ALL),
            "{file}: the hostile title is kept as text"
        );
        assert!(
            records
                .iter()
                .any(|r| &r[0] == "'=HYPERLINK(\"http://evil.example\",\"x\")"),
            "{file}"
        );
        // As a spreadsheet set to another separator, or a careless import
        // that splits lines on one, reads it: no piece is a formula either.
        for sep in [',', ';', '\t'] {
            for line in text.split(['\n', '\r']) {
                for piece in line.split(sep) {
                    let piece = piece.trim().trim_start_matches('"');
                    assert!(
                        !runs_as_formula(piece),
                        "{file}, split on {sep:?}: {piece:?} in {line:?}"
                    );
                }
            }
        }
        // Every cell holding a separator is quoted, so no locale splits it.
        for rec in &records {
            for cell in rec.iter().filter(|c| c.contains([';', '\t', ','])) {
                let quoted = format!("\"{}\"", cell.replace('"', "\"\""));
                assert!(text.contains(&quoted), "{file}: {cell:?} is not quoted");
            }
        }
    }
}

#[test]
fn an_image_address_with_a_script_scheme_is_an_error() {
    let site = Site::empty("title = \"T\"\n");
    site.write(
        "content/case-studies/x.md",
        "---\ntitle: X\ndate: 2024-01-01\nngo: N\nsector: S\nprogram: P\nsummary: s\nimage: javascript:alert(1)\n---\nBody\n",
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = common::stdout(&out) + &common::stderr(&out);
    assert!(
        text.contains("image `javascript:alert(1)` is not a web address or a path in the site"),
        "{text}"
    );
    assert!(text.contains("x.md:8:8"), "{text}");
}

/// The elements and attributes rendered Markdown may carry in safe mode:
/// what CommonMark and the enabled extensions (tables, footnotes, task
/// lists, strikethrough, heading ids and classes) produce, nothing a writer
/// can add.
fn assert_only_markdown_markup(what: &str, html: &str) {
    const ELEMENTS: &[&str] = &[
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "img",
        "em",
        "strong",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "input",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "hr",
        "br",
        "sup",
        "div",
        // Footnotes, gathered at the end of the body.
        "section",
        // Photos, at several widths.
        "picture",
        "source",
    ];
    for tag in common::tags(html) {
        assert!(
            ELEMENTS.contains(&tag.name.as_str()),
            "{what}: <{}> from Markdown",
            tag.name
        );
        for (name, value) in &tag.attrs {
            let ok = match name.as_str() {
                "href" | "src" | "alt" | "title" | "start" => true,
                "id" | "class" => value.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ' | '+' | '#' | '.')
                }),
                "style" => [
                    "text-align: left",
                    "text-align: center",
                    "text-align: right",
                ]
                .contains(&value.as_str()),
                "type" => value == "checkbox" || (tag.name == "source" && value == "image/webp"),
                // Photos, as casebook writes them: its own copies only.
                "srcset" => value
                    .split(", ")
                    .all(|c| c.contains("/processed-images/") && !c.contains(['"', '<', '>'])),
                "sizes" => value == "(min-width: 48rem) 42rem, calc(100vw - 2rem)",
                "width" | "height" => value.chars().all(|c| c.is_ascii_digit()),
                "loading" => value == "lazy",
                "decoding" => value == "async",
                // Footnote links and their list, as casebook writes them.
                "role" => ["doc-noteref", "doc-backlink", "doc-endnotes"].contains(&value.as_str()),
                "aria-label" => value == "Back to the text",
                "disabled" | "checked" => tag.name == "input",
                _ => false,
            };
            assert!(ok, "{what}: <{} {name}={value:?}> from Markdown", tag.name);
        }
    }
}

/// The body of every `<content type="html">` of an Atom feed, its CDATA
/// sections joined.
fn feed_contents(xml: &str) -> Vec<String> {
    xml.split("<content type=\"html\">")
        .skip(1)
        .map(|c| {
            let c = c.split("</content>").next().unwrap();
            c.replace("]]]]><![CDATA[>", "]]>")
                .trim_start_matches("<![CDATA[")
                .trim_end_matches("]]>")
                .to_string()
        })
        .collect()
}

/// What lies between the body's `<div class="… prose">` and its own end tag.
fn prose(html: &str) -> Option<&str> {
    let open = html.find("<div class=\"doc-body prose\">")?;
    let start = open + html[open..].find('>')? + 1;
    let mut depth = 1;
    let mut at = start;
    while depth > 0 {
        let open = html[at..].find("<div").map(|i| at + i);
        let close = html[at..].find("</div>").map(|i| at + i)?;
        match open {
            Some(o) if o < close => {
                depth += 1;
                at = o + 4;
            }
            _ => {
                depth -= 1;
                at = close + 6;
            }
        }
    }
    Some(&html[start..at - 6])
}

#[test]
fn markdown_puts_no_markup_of_the_writers_into_pages_or_feeds() {
    let site = audit_site();
    let out = site.build(&[]);
    let page = site.read("case-studies/markdown/index.html");
    let body = prose(&page).expect("the case study's body");
    assert!(body.contains("<h2 id=\"focus-me\">Focus me</h2>"), "{body}");
    assert!(body.contains("class=\"note"), "classes survive: {body}");
    assert_only_markdown_markup("case-studies/markdown/", body);
    let mut feeds = 0;
    for f in site.files().iter().filter(|f| f.ends_with("atom.xml")) {
        for content in feed_contents(&site.read(f)) {
            assert_only_markdown_markup(f, &content);
            feeds += usize::from(content.contains("Focus me"));
        }
    }
    assert!(
        feeds >= 2,
        "the body is in the site's feed and its terms' feeds"
    );
    // Nothing of it anywhere else either: no page carries an attribute
    // that runs script or takes focus, but the theme's own.
    for f in site.files().iter().filter(|f| f.ends_with(".html")) {
        for tag in common::tags(&site.read(f)) {
            for (name, value) in &tag.attrs {
                let bad = name.starts_with("on")
                    || ["autofocus", "srcdoc", "formaction", "contenteditable"]
                        .contains(&name.as_str())
                    || (name == "tabindex" && value != "-1")
                    || (name == "style" && !value.starts_with("text-align: "));
                assert!(!bad, "{f}: <{} {name}={value:?}>", tag.name);
            }
            assert!(
                !["iframe", "object", "embed", "base", "style"].contains(&tag.name.as_str()),
                "{f}: <{}>",
                tag.name
            );
        }
    }
    // A writer hears what was dropped.
    let err = common::stderr(&out);
    assert!(err.contains("javascript:alert(1)"), "{err}");
}
