//! A quick reader for the plain YAML that front matter is nearly always
//! written in, so that most pages never reach the full parser.
//!
//! libyaml (through yaml_serde) spent about a tenth of a whole build's
//! instructions on the twenty-odd lines of each page's front matter: it
//! reads a character at a time through several layers, for a language far
//! larger than `title: "…"` and `tags: [a, b]`. This reader knows only that
//! plain part: `key: value` lines; double- or single-quoted values without
//! escapes; bare words, whole numbers and dates; `[a, b]` lists; and `- `
//! lists of values or of `key: value` groups, and indented `key: value`
//! groups under a key, one level deep.
//!
//! It answers `None` for anything else and for anything it is not sure of
//! (escapes, a `#` or `:` in a bare value, numbers with a sign, a point or
//! a leading zero, anchors, tags, block text, tabs, carriage returns, a
//! repeated key, deeper nesting). The caller then asks the full parser,
//! which also words every error message. When it does answer, the answer is
//! the full parser's: `tests` compare the two on hand-written and generated
//! documents, and the `front_matter` fuzz target compares them on whatever
//! it finds.

use serde_yaml::{Mapping, Number, Value};

/// The value yaml_serde would give for `yaml`, if `yaml` keeps to the plain
/// part of YAML this reader knows; `None` otherwise.
pub fn parse(yaml: &str) -> Option<Value> {
    if !all_plain_characters(yaml) {
        return None;
    }
    let lines: Vec<&str> = yaml.split('\n').collect();
    let mut map = Mapping::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_skipped(line) {
            i += 1;
            continue;
        }
        // A top-level line starts with its key: an indented line here would
        // continue the value above it.
        let (key, rest) = key_of(line)?;
        let value = if rest.is_empty() {
            let (value, next) = block_value(&lines, i + 1)?;
            i = next;
            value
        } else {
            i += 1;
            value_of(rest, false)?
        };
        if map.insert(Value::String(key.to_owned()), value).is_some() {
            return None;
        }
    }
    if map.is_empty() {
        return None;
    }
    Some(Value::Mapping(map))
}

/// Newlines and the printable ASCII characters, and any character beyond
/// ASCII that YAML reads as an ordinary printable one (not C1 controls,
/// which include NEL, not the line and paragraph separators libyaml breaks
/// lines at, and not a byte-order mark or a non-character).
fn all_plain_characters(yaml: &str) -> bool {
    if yaml
        .bytes()
        .all(|b| b == b'\n' || (b' '..=b'~').contains(&b))
    {
        return true;
    }
    yaml.chars().all(|c| match c {
        '\n' | ' '..='~' => true,
        '\u{0}'..='\u{9F}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}' => {
            false
        }
        _ => true,
    })
}

/// Blank lines and comment lines, which YAML ignores wherever they are.
fn is_skipped(line: &str) -> bool {
    let rest = line.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// The value of a word YAML reads as null or true/false rather than text.
fn special_word(w: &str) -> Option<Value> {
    match w {
        "null" | "Null" | "NULL" => Some(Value::Null),
        "true" | "True" | "TRUE" => Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => Some(Value::Bool(false)),
        _ => None,
    }
}

/// `key: rest` -> (`key`, `rest` without the spaces around it), for a key
/// made of letters, digits, `_` and `-` that starts with a letter or `_`
/// and is read as text.
fn key_of(line: &str) -> Option<(&str, &str)> {
    let b = line.as_bytes();
    if !b
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    let end = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))?;
    // libyaml refuses a key over 1,024 characters; long keys, rare
    // anyway, are left to it well short of that.
    if b[end] != b':' || end > 200 {
        return None;
    }
    let key = &line[..end];
    if special_word(key).is_some() {
        return None;
    }
    let rest = &line[end + 1..];
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_matches(' ')))
}

/// The value of a key whose line ends after its `:`: nothing (null), or a
/// `- ` list on the lines after it. Returns the value and the line after it.
fn block_value(lines: &[&str], from: usize) -> Option<(Value, usize)> {
    let Some(first) = (from..lines.len()).find(|&j| !is_skipped(lines[j])) else {
        return Some((Value::Null, lines.len()));
    };
    let k = indent(lines[first]);
    if !lines[first][k..].starts_with("- ") {
        if k == 0 {
            // The next key: null here.
            return Some((Value::Null, first));
        }
        // An indented group of `key: value` lines, one level deep (a
        // consent record).
        let mut group = Mapping::new();
        let mut j = first;
        loop {
            let line = lines[j];
            if indent(line) != k {
                return None;
            }
            let (key, rest) = key_of(&line[k..])?;
            if group
                .insert(Value::String(key.to_owned()), item_value(rest)?)
                .is_some()
            {
                return None;
            }
            match (j + 1..lines.len()).find(|&q| !is_skipped(lines[q])) {
                None => return Some((Value::Mapping(group), lines.len())),
                Some(next) if indent(lines[next]) == 0 => {
                    return Some((Value::Mapping(group), next));
                }
                Some(next) => j = next,
            }
        }
    }
    let mut items = Vec::new();
    let mut j = first;
    loop {
        let content = &lines[j][k + 2..];
        if content.starts_with(' ') {
            return None;
        }
        j += 1;
        match key_of(content) {
            Some((key, rest)) => {
                // A group: `- key: value`, then `key: value` lines indented
                // to line up with the first key.
                let mut group = Mapping::new();
                group.insert(Value::String(key.to_owned()), item_value(rest)?);
                while let Some(next) = (j..lines.len()).find(|&q| !is_skipped(lines[q])) {
                    if indent(lines[next]) != k + 2 {
                        break;
                    }
                    let (key, rest) = key_of(&lines[next][k + 2..])?;
                    if group
                        .insert(Value::String(key.to_owned()), item_value(rest)?)
                        .is_some()
                    {
                        return None;
                    }
                    j = next + 1;
                }
                items.push(Value::Mapping(group));
            }
            None => items.push(value_of(content.trim_matches(' '), false)?),
        }
        let Some(next) = (j..lines.len()).find(|&q| !is_skipped(lines[q])) else {
            return Some((Value::Sequence(items), lines.len()));
        };
        let line = lines[next];
        let ind = indent(line);
        if ind == k && line[k..].starts_with("- ") {
            j = next;
        } else if ind == 0 {
            return Some((Value::Sequence(items), next));
        } else {
            return None;
        }
    }
}

/// A value inside a `- ` group must be on its key's line.
fn item_value(rest: &str) -> Option<Value> {
    if rest.is_empty() {
        return None;
    }
    value_of(rest, false)
}

/// A value written on one line: quoted text, a `[…]` list (not inside
/// another) or a bare scalar.
fn value_of(s: &str, in_list: bool) -> Option<Value> {
    let b = s.as_bytes();
    match *b.first()? {
        q @ (b'"' | b'\'') => {
            if b.len() < 2 || b[b.len() - 1] != q {
                return None;
            }
            let inner = &s[1..s.len() - 1];
            // No escapes: `\` in double quotes, a doubled quote in single.
            if inner.bytes().any(|c| c == q || (q == b'"' && c == b'\\')) {
                return None;
            }
            Some(Value::String(inner.to_owned()))
        }
        b'[' if !in_list => {
            if b[b.len() - 1] != b']' {
                return None;
            }
            list(&s[1..s.len() - 1])
        }
        _ => bare(s, in_list),
    }
}

/// The items of a one-line `[a, "b", c]` list, between the brackets.
fn list(inner: &str) -> Option<Value> {
    let mut items = Vec::new();
    let mut rest = inner.trim_matches(' ');
    while !rest.is_empty() {
        let (item, after) = match rest.as_bytes()[0] {
            q @ (b'"' | b'\'') => {
                let close = rest[1..].find(char::from(q))? + 1;
                rest.split_at(close + 1)
            }
            _ => rest.split_at(rest.find(',').unwrap_or(rest.len())),
        };
        let item = item.trim_matches(' ');
        if item.is_empty() {
            return None;
        }
        items.push(value_of(item, true)?);
        let after = after.trim_start_matches(' ');
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(',')?.trim_start_matches(' ');
        // `[a, ]`: a trailing comma is left to the full parser.
        if rest.is_empty() {
            return None;
        }
    }
    Some(Value::Sequence(items))
}

/// A bare (unquoted) value: a word YAML reads as null or true/false, a
/// whole number, a date, or text that starts with a letter or digit and
/// holds nothing YAML gives a meaning to.
fn bare(s: &str, in_list: bool) -> Option<Value> {
    let first = s.chars().next()?;
    // A path (`/images/a.jpg`) is plain text too.
    if !(first.is_ascii_alphanumeric()
        || first == '/'
        || (!first.is_ascii() && first.is_alphabetic()))
    {
        return None;
    }
    if s.bytes().any(|c| {
        c == b':' || c == b'#' || (in_list && matches!(c, b'[' | b']' | b'{' | b'}' | b','))
    }) {
        return None;
    }
    if first.is_ascii_digit() {
        if s.bytes().all(|c| c.is_ascii_digit()) {
            // Leading zeros make text, more digits may not fit: not ours.
            if (s.len() > 1 && first == '0') || s.len() > 19 {
                return None;
            }
            return Some(Value::Number(Number::from(s.parse::<u64>().ok()?)));
        }
        return is_date(s).then(|| Value::String(s.to_owned()));
    }
    // Starting with a letter, it is no number: Rust's float parser takes
    // `inf` and `nan`, but yaml_serde keeps only finite ones.
    Some(special_word(s).unwrap_or_else(|| Value::String(s.to_owned())))
}

/// `2024-12-10`: YAML text, since yaml_serde has no date type.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The full parser's answer, as the debug text of the value (which
    /// shows the order of keys, unlike `==` on mappings).
    fn full(yaml: &str) -> Option<String> {
        serde_yaml::from_str::<Value>(yaml)
            .ok()
            .map(|v| format!("{v:?}"))
    }

    fn quick(yaml: &str) -> Option<String> {
        parse(yaml).map(|v| format!("{v:?}"))
    }

    /// Front matter as writers write it: read here, and the same as the
    /// full parser reads it.
    #[test]
    fn reads_what_writers_write_as_the_full_parser_does() {
        let docs = [
            concat!(
                "title: \"Open Hands merged its survey\"\n",
                "date: 2021-03-18\n",
                "ngo: \"Open Hands\"\n",
                "sector: [\"Climate\", \"Health\"]\n",
                "program: TechSoup Global Network\n",
                "tags: [community design, remote finance]\n",
                "summary: Later, partners tested it.\n",
                "outcomes:\n",
                "  - metric: \"Forms replaced\"\n",
                "    value: 986\n",
                "    unit: forms\n",
                "  - metric: Schools connected\n",
                "    value: 10773\n",
                "draft: false\n",
            ),
            concat!(
                "title: SHOFCO starts a data culture\n",
                "sector: Gender\n",
                "# one of the programmes\n",
                "program: Fractional CxO\n",
                "country: Kenya\n",
                "\n",
                "tags:\n",
                "- data-culture\n",
                "- dashboards\n",
                "report: fcxo-2024\n",
                "draft: true\n",
            ),
            concat!(
                "title: 'Single quotes: fine'\n",
                "summary: \"A colon: and a # inside quotes\"\n",
                "country: C\u{f4}te d\u{2019}Ivoire\n",
                "ngo: \u{d1}andut\u{ed}\n",
                "sector: []\n",
                "image:\n",
                "report: null\n",
            ),
            "title: Kenya, Uganda (and Rwanda) [draft] {x} it's \"fine\"\nauthors: [Ada, \"Lovelace, A.\"]\n",
            concat!(
                "outcomes:\n",
                "  - metric: People reached\n",
                "    value: 1200\n",
                "\n",
                "    # a comment\n",
                "    unit: people\n",
                "next: 0\n",
            ),
            "tags:\n  - a\n  - [b, c]\n  - 12\n  - true\n",
            "image: /images/a b.jpg\n",
            "image_consent:\n  given: 2024-10-01\n\n  # renewed\n  expires: 2027-10-01\n  scope: [web, print]\nnext: 1\n",
        ];
        for doc in docs {
            let quick = quick(doc);
            assert!(quick.is_some(), "not read:\n{doc}");
            assert_eq!(quick, full(doc), "differs from the full parser:\n{doc}");
        }
    }

    /// The example site's front matter, written as a writer would, is
    /// every bit of it read quickly, and read as the full parser reads it.
    #[test]
    fn reads_all_of_the_example_site() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
        let mut files = 0;
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let path = entry
                .expect("the example content can be listed")
                .into_path();
            if path.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("example files are UTF-8");
            let name = path.display().to_string();
            let split =
                crate::content::front_matter::split(&text, &name).expect("has front matter");
            let quick = quick(split.yaml);
            assert!(quick.is_some(), "{name} is left to the full parser");
            assert_eq!(quick, full(split.yaml), "{name} is read differently");
            files += 1;
        }
        assert!(files > 20, "only {files} example files found");
    }

    /// Everything it is not sure of goes to the full parser.
    #[test]
    fn leaves_the_rest_to_the_full_parser() {
        let docs = [
            "title: Issue #5\n",
            "title: Kenya: one year on\n",
            "title: \"escaped \\\" quote\"\n",
            "title: 'it''s'\n",
            "value: 007\n",
            "value: -5\n",
            "value: 1.5\n",
            "value: 1e3\n",
            "value: 0x1F\n",
            "value: +5\n",
            "value: 99999999999999999999\n",
            "value: ~\n",
            "value: .inf\n",
            "title: &a x\nother: *a\n",
            "title: !tag x\n",
            "summary: |\n  block text\n",
            "summary: >\n  folded text\n",
            "summary: long text\n  that goes on\n",
            "title: a\ntitle: b\n",
            "title:\ta\n",
            "title: a\r\n",
            "title: a\u{2028}b\n",
            "title: a\u{85}b\n",
            "tags: [a, ]\n",
            "tags: [a, [b]]\n",
            "tags: [a, {b: c}]\n",
            "tags: [a\n",
            "\"quoted key\": a\n",
            "true: a\n",
            "key:value\n",
            "key : value\n",
            "  indented: a\n",
            "- a\n- b\n",
            "outcomes:\n  - metric:\n      deeper: 1\n",
            "outcomes:\n  - metric: a\n    unit: b\n  stray: c\n",
            "outcomes:\n  -  metric: a\n",
            "outcomes:\n  - metric: a\n  - metric: b\n    metric: c\n",
            "group:\n  inner:\n    deeper: a\n",
            "",
            "# only a comment\n",
        ];
        for doc in docs {
            assert_eq!(quick(doc), None, "read, but should not be:\n{doc}");
        }
    }

    /// Documents pieced together from values and layouts chosen to be hard
    /// (quotes, colons, hashes, numbers of every shape, non-ASCII, lists at
    /// several indents): wherever the quick reader answers, the full parser
    /// answers the same.
    #[test]
    fn agrees_with_the_full_parser_on_generated_documents() {
        // Values writers write, then values that are hard to read right.
        let usual = [
            "plain words",
            "\"Quoted, with: colon\"",
            "'single'",
            "12",
            "2024-12-10",
            "true",
            "[a, b]",
            "[\"Health\", \"Mental Health\"]",
            "C\u{f4}te d\u{2019}Ivoire",
        ];
        let values = [
            "plain words",
            "\"quoted\"",
            "'single'",
            "\"a: b # c\"",
            "a #b",
            "a:b",
            "a: b",
            "12",
            "0",
            "007",
            "-3",
            "1.5",
            "1e9",
            "0x10",
            "2024-12-10",
            "2024-1-1",
            "true",
            "False",
            "yes",
            "no",
            "null",
            "~",
            "",
            "[]",
            "[a, b]",
            "[\"a, b\", c]",
            "[a,]",
            "[ a , 'b' ]",
            "[1, 2.5]",
            "Ñandú",
            "\u{a0}x",
            "x\u{a0}",
            "inf",
            "NaN",
            "\"\"",
            "''",
            "\"tab\there\"",
            "a\"b",
            "it's",
            "[a, [b]]",
            "{a: b}",
            "*x",
            "&x y",
            "|",
            "- x",
            "?",
            "%x",
            "@x",
            "`x`",
            "x  y",
            "18446744073709551615",
            "99999999999999999999",
        ];
        let usual_keys = ["title", "tags", "value", "x-y", "_k"];
        let keys = ["title", "null", "True", "2k", "a b", "k\u{e9}y"];
        let mut rng = Lcg(0x5eed);
        // One time in four a hard value or key, else a usual one.
        let value = |rng: &mut Lcg| {
            if rng.below(4) == 0 {
                values[rng.below(values.len())]
            } else {
                usual[rng.below(usual.len())]
            }
        };
        let key = |rng: &mut Lcg| {
            if rng.below(4) == 0 {
                keys[rng.below(keys.len())]
            } else {
                usual_keys[rng.below(usual_keys.len())]
            }
        };
        let (mut read, mut total) = (0, 0);
        for _ in 0..20_000 {
            let mut doc = String::new();
            for line in 0..1 + rng.below(5) {
                // Numbered, so that a repeated key (which the quick reader
                // leaves alone) is rare.
                let mut k = key(&mut rng).to_string();
                if rng.below(10) != 0 {
                    k.push_str(&line.to_string());
                }
                match rng.below(12) {
                    0 | 1 => {
                        // A `- ` list at some indent, of values or groups.
                        doc.push_str(&format!("{k}:\n"));
                        let pad = " ".repeat(rng.below(3));
                        for _ in 0..1 + rng.below(3) {
                            if rng.below(2) == 0 {
                                doc.push_str(&format!("{pad}- {}\n", value(&mut rng)));
                            } else {
                                let (metric, k2) = (value(&mut rng), key(&mut rng));
                                let v2 = value(&mut rng);
                                let more = ["  ", "  ", "  ", " ", "   "][rng.below(5)];
                                doc.push_str(&format!(
                                    "{pad}- metric: {metric}\n{pad}{more}{k2}: {v2}\n"
                                ));
                            }
                            if rng.below(8) == 0 {
                                doc.push_str(&format!("{}# note\n", " ".repeat(rng.below(4))));
                            }
                        }
                    }
                    2 => doc.push_str(&format!("{k}:{}\n", value(&mut rng))),
                    3 => doc.push('\n'),
                    _ => {
                        let v = value(&mut rng);
                        let end = [" ", "", "", "", "", "", "", "", "", "  # c"][rng.below(10)];
                        doc.push_str(&format!("{k}: {v}{end}\n"));
                    }
                }
            }
            total += 1;
            if let Some(q) = quick(&doc) {
                read += 1;
                assert_eq!(Some(q), full(&doc), "differs from the full parser:\n{doc}");
            }
        }
        // The test means something only if the quick reader answers often.
        assert!(read * 5 > total, "read only {read} of {total}");
    }

    /// A small deterministic generator, so a failure can be replayed.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) as usize) % n
        }
    }
}
