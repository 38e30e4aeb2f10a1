//! Rules about text that configuration, content and the checks share:
//! slugs, which control characters are refused, and where in a file a byte
//! offset or a front-matter value is (for messages). It depends on nothing
//! else in the crate, so each stage can use it without importing another.

pub mod slug;

/// A heading word as it reads inside a sentence: "Sectors" becomes
/// "sectors", but "NGOs", "M&E" and "eTools" stay as written. Only a first
/// capital followed by a small letter is lowered, so an acronym is never
/// turned into a word nobody wrote ("ngos").
pub fn in_sentence(word: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = word.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            let mut out: String = first.to_lowercase().collect();
            out.push_str(&word[first.len_utf8()..]);
            std::borrow::Cow::Owned(out)
        }
        _ => std::borrow::Cow::Borrowed(word),
    }
}

/// Whether `c` may not stand in a source file: a control character other
/// than tab and the line ends. It would be invisible to the writer and
/// reach pages, feeds and CSV cells as it is (a NUL ends a string in many
/// programs, an ESC drives a terminal, a form feed breaks XML).
pub fn is_forbidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// A control character's name, for messages: `U+001B (ESC)`.
pub fn describe_control(c: char) -> String {
    const C0: [&str; 32] = [
        "NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "TAB", "LF", "VT", "FF",
        "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM",
        "SUB", "ESC", "FS", "GS", "RS", "US",
    ];
    let code = u32::from(c);
    match C0.get(code as usize) {
        Some(name) => format!("U+{code:04X} ({name})"),
        None if c == '\u{7f}' => "U+007F (DEL)".to_string(),
        None => format!("U+{code:04X}"),
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let mut o = offset;
    while !text.is_char_boundary(o) {
        o -= 1;
    }
    let before = &text[..o];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Where `value` is written in the front matter, searching from the line of
/// its key to the next top-level key: (line, column), 1-based.
pub fn find_value(head: &str, key_line: usize, value: &str) -> (usize, usize) {
    for (i, line) in head.lines().enumerate().skip(key_line.saturating_sub(1)) {
        if i + 1 > key_line && !line.starts_with([' ', '\t', '-']) {
            break;
        }
        let from = if i + 1 == key_line {
            line.find(':').map_or(0, |c| c + 1)
        } else {
            0
        };
        if let Some(pos) = line[from..].find(value) {
            return (i + 1, line[..from + pos].chars().count() + 1);
        }
    }
    (key_line, 1)
}

/// Resolves a relative URL path against a page's folder (`case-studies/x/`).
/// `None` if it climbs above the site's root.
pub fn join_url(base_dir: &str, rel: &str) -> Option<String> {
    let mut segs: Vec<&str> = base_dir.split('/').filter(|s| !s.is_empty()).collect();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, seg) in parts.iter().enumerate() {
        match *seg {
            ".." => {
                segs.pop()?;
            }
            "." | "" if i + 1 < parts.len() => {}
            "." | "" => {}
            s => segs.push(s),
        }
    }
    let mut out = segs.join("/");
    if (rel.ends_with('/') || rel.ends_with("/.") || rel.ends_with("..") || rel == ".")
        && !out.is_empty()
    {
        out.push('/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::in_sentence;

    #[test]
    fn in_sentence_lowers_words_not_acronyms() {
        assert_eq!(in_sentence("Sectors"), "sectors");
        assert_eq!(in_sentence("Programmes"), "programmes");
        assert_eq!(in_sentence("NGOs"), "NGOs");
        assert_eq!(in_sentence("M&E"), "M&E");
        assert_eq!(in_sentence("Énergie"), "énergie");
        assert_eq!(in_sentence("x"), "x");
        assert_eq!(in_sentence(""), "");
    }
}
