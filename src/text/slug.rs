//! Slugs: the URL segment for a case study, report or taxonomy term.
//!
//! Terms are grouped by slug, so "Mental Health", "mental health" and
//! "mental-health" land on one page. Unicode is transliterated rather than
//! percent-encoded, so "Fundación Niños" reads as `fundacion-ninos` in a URL a
//! person can type and say aloud.

/// Lower-case ASCII letters and digits separated by single hyphens; never
/// contains `/`, `.` or anything else with meaning in a path. Can be empty
/// (for input with no letters or digits at all): callers decide what that
/// means.
pub fn slugify(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_dash = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_dash = true;
        }
    };
    let mut prev: Option<char> = None;
    for c in input.chars() {
        // `C++`, `A+` and `C#` name things of their own: said as words, so
        // they do not fall together with `C` and `A`. A `+` or `#` that is
        // not written straight after a letter or digit (`a + b`, `#data`)
        // separates words like other punctuation.
        let after_word = prev.is_some_and(|p| p.is_alphanumeric() || (c == '+' && p == '+'));
        prev = Some(c);
        if after_word && (c == '+' || c == '#') {
            let word = if c == '+' { " plus " } else { " sharp " };
            for wc in word.chars() {
                push(wc, &mut out);
            }
            continue;
        }
        if c.is_ascii() {
            push(c, &mut out);
        } else {
            // deunicode gives "Ri Ben " for 日本 and "n" for ñ; the separators
            // it adds between words become hyphens like any other.
            for tc in deunicode::deunicode_char(c).unwrap_or(" ").chars() {
                push(tc, &mut out);
            }
        }
    }
    out
}

/// A slug given by hand (`slug:` in front matter) is used as written if it is
/// a safe single path segment; this says why it is not.
pub fn check_segment(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the slug is empty".into());
    }
    if s == "." || s == ".." || s.contains("..") {
        return Err(format!("the slug \"{s}\" contains \"..\""));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the slug \"{s}\" contains {}, which cannot be part of a URL segment",
            describe_char(c)
        ));
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    match c {
        '/' => "\"/\"".into(),
        '\\' => "\"\\\"".into(),
        ' ' => "a space".into(),
        '\0' => "a NUL byte".into(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("\"{c}\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_spellings() {
        assert_eq!(slugify("Mental Health"), "mental-health");
        assert_eq!(slugify("mental health"), "mental-health");
        assert_eq!(slugify("mental-health"), "mental-health");
        assert_eq!(slugify("  Mental   Health!! "), "mental-health");
    }

    #[test]
    fn plus_and_sharp_after_a_word_are_words() {
        assert_eq!(slugify("C++"), "c-plus-plus");
        assert_eq!(slugify("C#"), "c-sharp");
        assert_eq!(slugify("F# and C"), "f-sharp-and-c");
        assert_eq!(slugify("A+ rating"), "a-plus-rating");
        assert_eq!(slugify("Health + Education"), "health-education");
        assert_eq!(slugify("#data"), "data");
        assert_eq!(slugify("C"), "c");
    }

    #[test]
    fn transliterates() {
        assert_eq!(slugify("Fundación Niños"), "fundacion-ninos");
        assert_eq!(slugify("São Tomé and Príncipe"), "sao-tome-and-principe");
        assert_eq!(slugify("Côte d’Ivoire"), "cote-d-ivoire");
        assert_eq!(slugify("日本"), "ri-ben");
    }

    #[test]
    fn hostile_input_is_a_plain_segment() {
        for s in [
            "../../etc/passwd",
            "a/b",
            "%2e%2e",
            "..\\..\\x",
            "a\0b",
            "/abs",
        ] {
            let slug = slugify(s);
            assert!(
                check_segment(&slug).is_ok() || slug.is_empty(),
                "{s} -> {slug}"
            );
            assert!(!slug.contains('/') && !slug.contains(".."));
        }
        assert_eq!(slugify("!!!"), "");
    }

    #[test]
    fn checks_hand_written_slugs() {
        assert!(check_segment("shofco-2024").is_ok());
        assert!(check_segment("../x").is_err());
        assert!(check_segment("a/b").is_err());
        assert!(check_segment("a b").is_err());
        assert!(check_segment("").is_err());
    }
}
