//! The properties the fuzz targets hold casebook to, shared by the
//! libFuzzer targets in `fuzz_targets/` and by `tests/it/fuzz_regressions.rs`,
//! which replays the committed seeds and every input that once failed.
//! Each function panics when the property does not hold.

// Each fuzz target uses one of these.
#![allow(dead_code)]

use std::collections::HashMap;

use casebook::fuzzing::{MarkdownContext, render};
use casebook::fuzzing::{check_segment, slugify};
use casebook::fuzzing::{front_matter, simple_yaml, source_from_bytes};

const FILE: &str = "case-studies/fuzz.md";

/// Arbitrary bytes as a content file end in a page or in diagnostics that
/// name the file, and the quick YAML reader agrees with the full parser.
pub fn front_matter(data: &[u8]) {
    let source = match source_from_bytes(FILE.into(), data.to_vec()) {
        Ok(s) => s,
        Err(d) => {
            assert!(!d.file.as_os_str().is_empty());
            return;
        }
    };
    match front_matter::split(&source.text, FILE) {
        Ok(split) => {
            // Where the quick YAML reader answers, it answers as the full
            // parser does (compared as debug text, which shows key order).
            if let Some(quick) = simple_yaml::parse(split.yaml) {
                let full = serde_yaml::from_str::<serde_yaml::Value>(split.yaml);
                assert_eq!(
                    Some(format!("{quick:?}")),
                    full.ok().map(|v| format!("{v:?}")),
                    "the quick YAML reader differs from the full parser on:\n{}",
                    split.yaml
                );
            }
            let (_fm, diags) = front_matter::parse(
                &split,
                &source.text,
                FILE,
                &["ngo", "sector", "program", "country", "tags"],
            );
            for d in diags {
                assert!(!d.file.as_os_str().is_empty());
            }
        }
        Err(d) => assert!(!d.file.as_os_str().is_empty()),
    }
}

/// Arbitrary Markdown renders under a subpath with `@/` links resolved, and
/// with raw HTML off no script element or script link comes out.
pub fn markdown(data: &[u8]) {
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = HashMap::new();
    sources.insert(
        "case-studies/a.md".to_string(),
        "case-studies/a/".to_string(),
    );
    sources.insert("reports/r.md".to_string(), "reports/r/".to_string());
    for unsafe_html in [false, true] {
        let cx = MarkdownContext {
            unsafe_html,
            base_path: "/learning/",
            sources: &sources,
            html: true,
            photos: None,
        };
        let out = render(body, 5, &cx);
        let _ = out.keywords();
        if !unsafe_html {
            // With raw HTML off every `<` of the writer's text is escaped, so each
            // `<` left in the output opens a tag casebook wrote. Text may say
            // `href="javascript:` harmlessly; a tag may not.
            let lower = out.html.to_ascii_lowercase();
            for tag in tags(&lower) {
                assert!(!tag.starts_with("<script"), "script element from {body:?}");
                for attr in [
                    "href=\"javascript:",
                    "src=\"javascript:",
                    "href=\"vbscript:",
                    "href=\"data:",
                ] {
                    assert!(!tag.contains(attr), "{attr} in {tag} from {body:?}");
                }
            }
        }
    }
}

/// The tags in `html`, each from its `<` to its `>` (or the end).
fn tags(html: &str) -> impl Iterator<Item = &str> {
    html.match_indices('<').map(move |(i, _)| {
        let end = html[i..].find('>').map_or(html.len(), |e| i + e + 1);
        &html[i..end]
    })
}

/// Any text slugifies to one safe path segment.
pub fn slug(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let slug = slugify(s);
    assert!(
        !slug.contains('/') && !slug.contains('\\') && !slug.contains('\0'),
        "{slug:?}"
    );
    assert!(slug != "." && !slug.contains(".."), "{slug:?}");
    if !slug.is_empty() {
        assert!(
            check_segment(&slug).is_ok(),
            "slugify({s:?}) = {slug:?} is not a valid segment"
        );
    }
    let _ = check_segment(s);
}
