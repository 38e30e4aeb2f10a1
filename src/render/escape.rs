//! Escaping for the contexts templates cannot escape for themselves: JSON
//! inside a script element, HTML inside an XML CDATA section, and text in
//! XML, which must not hold the control characters XML 1.0 forbids.

use std::borrow::Cow;

/// JSON to put inside `<script type="application/ld+json">`: escaped so no
/// value can close the element, open a comment or break a line in old
/// parsers.
pub fn script_json(v: &serde_json::Value) -> String {
    script_safe(serde_json::to_string(v).unwrap_or_else(|_| "{}".into()))
}

/// JSON text made safe for a script element (see [`script_json`]).
pub(super) fn script_safe(s: String) -> String {
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

/// Appends `s`.
pub(crate) fn put(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

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
