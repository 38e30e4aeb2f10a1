//! Front matter: splitting the YAML block off a file, parsing it, and reading
//! each field into a typed value with a diagnostic (file, line, column) for
//! every field that is wrong — not just the first.
//!
//! We parse into `serde_yaml::Value` and read fields by hand rather than
//! deriving `Deserialize`: derive stops at the first bad field and cannot say
//! which line a missing or misspelt key is on.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_yaml::Value;

use super::consent::Consent;
use super::date::Date;
use crate::diagnostic::Diagnostic;
use crate::text::line_col;

/// The three parts of a source file.
#[derive(Debug)]
pub struct Split<'a> {
    /// The YAML between the `---` lines.
    pub yaml: &'a str,
    /// 1-based line of the file on which `yaml` starts.
    pub yaml_line: usize,
    /// Everything after the closing `---`.
    pub body: &'a str,
    /// 1-based line of the file on which `body` starts.
    pub body_line: usize,
    /// The text from the start of the file to the end of the front matter,
    /// kept so later stages can quote a line in a diagnostic.
    pub head: &'a str,
}

fn is_fence(line: &str, fence: &str) -> bool {
    line.trim_end_matches(['\n', '\r', ' ', '\t']) == fence
}

/// Splits `text` (with any byte-order mark already removed) into front matter
/// and body.
pub fn split<'a>(text: &'a str, file: &str) -> Result<Split<'a>, Diagnostic> {
    let first_end = text.find('\n').map_or(text.len(), |i| i + 1);
    let first = &text[..first_end];
    if !is_fence(first, "---") {
        let d = Diagnostic::error(file, "this file has no front matter").at(text, 1, 1);
        let d = if text.trim().is_empty() {
            Diagnostic {
                message: "this file is empty".into(),
                ..d
            }
        } else {
            d
        };
        return Err(d.with_hint(
            "start the file with a line `---`, then fields such as `title: ...`, then another `---`",
        ));
    }
    let mut offset = first_end;
    let mut line_no = 2;
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map_or(text.len(), |i| offset + i + 1);
        let line = &text[offset..end];
        if is_fence(line, "---") || is_fence(line, "...") {
            return Ok(Split {
                yaml: &text[first_end..offset],
                yaml_line: 2,
                body: &text[end..],
                body_line: line_no + 1,
                head: &text[..end],
            });
        }
        offset = end;
        line_no += 1;
    }
    Err(Diagnostic::error(file, "the front matter is never closed")
        .at(text, 1, 1)
        .with_hint("add a line `---` after the last front-matter field, before the text"))
}

/// An outcome: a number a case study reports, which the site adds up.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// What is counted, e.g. "People reached".
    pub metric: String,
    /// The number.
    pub value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// What it is counted in, e.g. "%" or "US$", when the metric name does not say.
    pub unit: Option<String>,
}

/// The largest outcome value, either way from zero. Totals add values up
/// as 64-bit floats, which hold whole numbers exactly up to 2^53 (about
/// 9 * 10^15): a million case studies of this size add up without loss,
/// where `1e308` or two would overflow to infinity.
pub const MAX_OUTCOME: f64 = 1e15;

/// The most values one page may give one taxonomy. Each value is a term
/// page and a feed that lists the page, so a page's share of the output
/// grows with its number of terms; without a limit, 100,000 tags on one
/// page made 67 GB of feeds.
pub const MAX_TERMS: usize = 50;

/// A front-matter value and the line it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    /// The value as written.
    pub value: T,
    /// Its line in the file, 1-based.
    pub line: usize,
    /// Its column, 1-based.
    pub column: usize,
}

/// Every field casebook knows, typed; anything else is kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FrontMatter {
    /// `title:`.
    pub title: Option<Located<String>>,
    /// `date:`, when the page was published.
    pub date: Option<Located<Date>>,
    /// `updated:`, when it last changed.
    pub updated: Option<Located<Date>>,
    /// `draft: true` keeps the page out of builds.
    pub draft: bool,
    /// `summary:`, a sentence for cards, feeds and search results.
    pub summary: Option<Located<String>>,
    /// `slug:`, the last part of the URL, instead of one made from the file name.
    pub slug: Option<Located<String>>,
    /// `report:`, the slug of the report the case study belongs to.
    pub report: Option<Located<String>>,
    /// `authors:`.
    pub authors: Vec<String>,
    /// `outcomes:`, the numbers the case study reports.
    pub outcomes: Vec<Located<Outcome>>,
    /// `aliases:`, old URLs that redirect here.
    pub aliases: Vec<Located<String>>,
    /// `image:`, for link previews.
    pub image: Option<Located<String>>,
    /// `image_alt:`, the image described for people who cannot see it.
    pub image_alt: Option<String>,
    /// `image_caption:`, shown under the lead photo.
    pub image_caption: Option<String>,
    /// `image_credit:`, who took the lead photo.
    pub image_credit: Option<String>,
    /// `image_consent:`, the consent of the people in the lead photo.
    pub image_consent: Option<Consent>,
    /// `consent:`, the consent of the people the story tells of or quotes:
    /// one record, or a list of them, one per person.
    pub consent: Vec<Consent>,
    /// `photo_consent:`, the consent for each photo in the text, by the
    /// address it is written with (`photo_consent: { training.jpg: {...} }`).
    pub photo_consent: BTreeMap<String, Consent>,
    /// Values of the taxonomy fields, by front-matter key.
    pub taxonomies: BTreeMap<String, Located<Vec<String>>>,
    /// Every other key, with its value and line: fields the site declares in
    /// its schema (checked and shown to templates as `page.extra`) or
    /// unknown ones (warned about by validate).
    pub extra: BTreeMap<String, Located<Value>>,
    /// Line of every top-level key, for "missing"/"wrong" messages later.
    pub key_lines: BTreeMap<String, usize>,
}

/// Where each top-level key is written, as (line, column of its value).
fn key_positions(split: &Split) -> BTreeMap<String, (usize, usize)> {
    let mut out = BTreeMap::new();
    for (i, line) in split.yaml.lines().enumerate() {
        if line.starts_with([' ', '\t', '#', '-']) {
            continue;
        }
        if let Some((key, rest)) = line.split_once(':') {
            let key = key.trim().trim_matches(['"', '\'']);
            if key.is_empty() {
                continue;
            }
            let value_col = line.len() - rest.trim_start().len() + 1;
            let col = line[..value_col - 1].chars().count() + 1;
            out.entry(key.to_string())
                .or_insert((split.yaml_line + i, col));
        }
    }
    out
}

/// Parses the YAML of `split` and reads every field. `taxonomy_fields` are the
/// front-matter keys the site's taxonomies read. Returns the front matter
/// (with whatever could be read) and the problems found.
pub fn parse(
    split: &Split,
    text: &str,
    file: &str,
    taxonomy_fields: &[&str],
) -> (Option<FrontMatter>, Vec<Diagnostic>) {
    let mut fm = FrontMatter::default();
    let mut diags = Vec::new();
    // Most front matter is plain enough for the quick reader; anything it
    // is unsure of, and every error, is the full parser's.
    let value: Value = match super::simple_yaml::parse(split.yaml) {
        Some(v) => v,
        None => match serde_yaml::from_str(split.yaml) {
            Ok(v) => v,
            Err(e) => {
                diags.push(yaml_error(&e, split, text, file));
                return (None, diags);
            }
        },
    };
    let map = match value {
        Value::Mapping(m) => m,
        Value::Null => Default::default(),
        other => {
            diags.push(
                Diagnostic::error(
                    file,
                    format!(
                        "the front matter must be a list of `key: value` fields, not {}",
                        describe(&other)
                    ),
                )
                .at(text, split.yaml_line, 1),
            );
            return (None, diags);
        }
    };
    let positions = key_positions(split);
    fm.key_lines = positions
        .iter()
        .map(|(k, (l, _))| (k.clone(), *l))
        .collect();
    let pos = |key: &str| positions.get(key).copied().unwrap_or((split.yaml_line, 1));

    for (k, v) in map {
        let Some(key) = k.as_str().map(str::to_string) else {
            let (l, c) = (split.yaml_line, 1);
            diags.push(
                Diagnostic::error(
                    file,
                    format!("front-matter keys must be words, not {}", describe(&k)),
                )
                .at(text, l, c),
            );
            continue;
        };
        let (line, column) = pos(&key);
        let err = |msg: String| Diagnostic::error(file, msg).at(text, line, column);
        let located = |value: String| Located {
            value,
            line,
            column,
        };
        match key.as_str() {
            "title" | "summary" | "slug" | "report" | "image" | "image_alt" | "image_caption"
            | "image_credit" => {
                match scalar_string(&v) {
                    Some(s) => match key.as_str() {
                        "image_caption" => fm.image_caption = Some(s),
                        "image_credit" => fm.image_credit = Some(s),
                        "title" => fm.title = Some(located(s)),
                        "summary" => fm.summary = Some(located(s)),
                        "slug" => fm.slug = Some(located(s)),
                        "report" => fm.report = Some(located(s)),
                        "image" => fm.image = Some(located(s)),
                        "image_alt" => fm.image_alt = Some(s),
                        _ => {}
                    },
                    None => diags.push(err(format!("`{key}` must be text, not {}", describe(&v)))),
                }
            }
            "date" | "updated" => match scalar_string(&v) {
                Some(s) => match Date::parse(&s) {
                    Ok(d) => {
                        if key == "date" {
                            fm.date = Some(Located { value: d, line, column });
                        } else {
                            fm.updated = Some(Located { value: d, line, column });
                        }
                    }
                    Err(m) => diags.push(err(format!("`{key}`: {m}"))),
                },
                None => diags.push(
                    err(format!("`{key}` must be a date, not {}", describe(&v)))
                        .with_hint("write it as YYYY-MM-DD, for example 2024-12-10"),
                ),
            },
            "draft" => match v {
                Value::Bool(b) => fm.draft = b,
                Value::Null => {}
                other => diags.push(
                    err(format!("`draft` must be true or false, not {}", describe(&other)))
                        .with_hint("write `draft: true` to keep the page out of the site, `draft: false` to publish it"),
                ),
            },
            "authors" | "author" => match string_list(&v) {
                Some(list) => fm.authors.extend(list),
                None => diags.push(err(format!("`{key}` must be a name or a list of names, not {}", describe(&v)))),
            },
            "aliases" => match string_list(&v) {
                Some(list) => fm.aliases = list.into_iter().map(located).collect(),
                None => diags.push(err(format!("`aliases` must be a list of old URLs, not {}", describe(&v)))),
            },
            "consent" => match &v {
                Value::Sequence(items) => {
                    let lines = item_lines(split, line);
                    for (i, item) in items.iter().enumerate() {
                        let (l, c) = lines.get(i).copied().unwrap_or((line, column));
                        if let Some(record) = consent_at(item, &key, split, text, file, l, c, &mut diags) {
                            fm.consent.push(record);
                        }
                    }
                }
                _ => fm.consent.extend(consent_at(&v, &key, split, text, file, line, column, &mut diags)),
            },
            "image_consent" => {
                fm.image_consent = consent_at(&v, &key, split, text, file, line, column, &mut diags);
            }
            "photo_consent" => match &v {
                Value::Mapping(m) => {
                    for (photo, record) in m {
                        let Some(photo) = photo.as_str() else { continue };
                        if let Some(c) =
                            consent_at(record, &key, split, text, file, line, column, &mut diags)
                        {
                            let (l, c2) = nested_position(split, line, photo).unwrap_or((line, column));
                            fm.photo_consent.insert(
                                photo.to_string(),
                                Consent {
                                    line: l,
                                    column: c2,
                                    ..c
                                },
                            );
                        }
                    }
                }
                other => diags.push(
                    err(format!("`photo_consent` must list photos with their consent, not {}", describe(other)))
                        .with_hint("write `photo_consent:` and below it, indented, `training.jpg: { given: 2025-03-01, expires: 2027-03-01 }`"),
                ),
            },
            "outcomes" => read_outcomes(&v, split, text, file, line, &mut fm, &mut diags),
            _ if taxonomy_fields.contains(&key.as_str()) => match string_list(&v) {
                Some(list) => {
                    if let Value::String(one) = &v
                        && one.contains(',')
                        && !written_quoted(text, line, column)
                    {
                        let parts: Vec<&str> = one.split(',').map(str::trim).collect();
                        diags.push(
                            Diagnostic::warning(
                                file,
                                format!("`{key}: {one}` is one value, \"{one}\", not {}", parts.len()),
                            )
                            .at(text, line, column)
                            .with_width(one.chars().count())
                            .with_hint(format!(
                                "for {} values write `{key}: [{}]`; if the comma is part of the name, put it in quotes: `{key}: \"{one}\"`",
                                parts.len(),
                                parts.join(", ")
                            )),
                        );
                    }
                    let mut list: Vec<String> = list.into_iter().filter(|s| !s.trim().is_empty()).collect();
                    if list.len() > MAX_TERMS {
                        diags.push(
                            err(format!(
                                "`{key}` has {} values; a page may have at most {MAX_TERMS} in one taxonomy",
                                list.len()
                            ))
                            .with_hint("keep the ones a reader would browse by; every value makes a page and a feed"),
                        );
                        list.truncate(MAX_TERMS);
                    }
                    fm.taxonomies.insert(key.clone(), Located { value: list, line, column });
                }
                None => diags.push(
                    err(format!("`{key}` must be a name or a list of names, not {}", describe(&v)))
                        .with_hint(format!("write `{key}: Health` or `{key}: [Health, Education]`")),
                ),
            },
            _ => {
                fm.extra.insert(key.clone(), Located { value: v, line, column });
            }
        }
    }
    (Some(fm), diags)
}

/// Where `key:` is written inside the block that starts at `line` (the
/// line of its top-level key): the first more-indented line that starts
/// with it, as (line, column of the key).
fn nested_position(split: &Split, line: usize, key: &str) -> Option<(usize, usize)> {
    let first = line.checked_sub(split.yaml_line)?;
    for (i, l) in split.yaml.lines().enumerate().skip(first) {
        if i > first && !l.starts_with([' ', '\t']) && !l.trim().is_empty() {
            break;
        }
        let trimmed = l.trim_start();
        let bare = trimmed.trim_start_matches(['{', ' ', '"', '\'']);
        if let Some(at) = l.find(key)
            && (bare.starts_with(key) || i == first)
            && l[at + key.len()..]
                .trim_start_matches(['"', '\''])
                .starts_with(':')
        {
            return Some((split.yaml_line + i, l[..at].chars().count() + 1));
        }
    }
    None
}

/// Where each `- ` item of the list under the key on `line` starts, as
/// (line, column of its first key).
fn item_lines(split: &Split, line: usize) -> Vec<(usize, usize)> {
    let Some(first) = line.checked_sub(split.yaml_line) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, l) in split.yaml.lines().enumerate().skip(first + 1) {
        if !l.starts_with([' ', '\t', '-']) && !l.trim().is_empty() {
            break;
        }
        let trimmed = l.trim_start();
        if let Some(rest) = trimmed.strip_prefix("- ") {
            let column = l.len() - rest.len() + 1;
            out.push((split.yaml_line + i, column));
        }
    }
    out
}

/// Reads a consent record, reporting each problem at its own key.
#[allow(clippy::too_many_arguments)]
fn consent_at(
    v: &Value,
    key: &str,
    split: &Split,
    text: &str,
    file: &str,
    line: usize,
    column: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Consent> {
    let (c, problems) = Consent::read(v);
    for (sub, message) in problems {
        let (l, col) = if sub.is_empty() {
            (line, column)
        } else {
            nested_position(split, line, &sub).unwrap_or((line, column))
        };
        let what = if sub.is_empty() {
            format!("`{key}`")
        } else {
            format!("`{key}` {sub}")
        };
        diags.push(
            Diagnostic::error(file, format!("{what} {message}"))
                .at(text, l, col)
                .with_hint("a consent record reads `{ given: 2025-03-01, expires: 2027-03-01, scope: [web, print], withdrawn: false }`"),
        );
    }
    c.map(|c| Consent { line, column, ..c })
}

/// Control characters that the front matter's YAML writes with escapes
/// (`"a\0b"`, `"\e[2J"`, `"\x07"`): one error per top-level field that
/// holds one, at the field. Only needed when the text itself has none.
pub fn escaped_controls(split: &Split, text: &str, file: &str) -> Vec<Diagnostic> {
    if !split.yaml.contains('\\') {
        return Vec::new();
    }
    let Ok(Value::Mapping(map)) = serde_yaml::from_str::<Value>(split.yaml) else {
        return Vec::new();
    };
    fn first_control(v: &Value) -> Option<char> {
        match v {
            Value::String(s) => s.chars().find(|&c| super::is_forbidden_control(c)),
            Value::Sequence(items) => items.iter().find_map(first_control),
            Value::Mapping(m) => m
                .iter()
                .find_map(|(k, v)| first_control(k).or_else(|| first_control(v))),
            Value::Tagged(t) => first_control(&t.value),
            _ => None,
        }
    }
    let positions = key_positions(split);
    map.iter()
        .filter_map(|(k, v)| {
            let c = first_control(k).or_else(|| first_control(v))?;
            let key = k.as_str().unwrap_or("?");
            let (line, col) = positions.get(key).copied().unwrap_or((split.yaml_line, 1));
            Some(
                Diagnostic::error(
                    file,
                    format!(
                        "`{key}` holds a control character, {}, written as an escape",
                        super::describe_control(c)
                    ),
                )
                .at(text, line, col)
                .with_hint("remove the escape (`\\0`, `\\e`, `\\x..`, `\\u00..`): such characters are invisible on the page"),
            )
        })
        .collect()
}

/// Whether the value at `line`:`column` of `text` is written in quotes.
fn written_quoted(text: &str, line: usize, column: usize) -> bool {
    text.lines()
        .nth(line.saturating_sub(1))
        .map(|l| l.chars().skip(column.saturating_sub(1)).collect::<String>())
        .is_some_and(|v| v.trim_start().starts_with(['"', '\'']))
}

/// "... at line 2 column 5" -> (2, 5).
fn line_column_after(s: &str) -> Option<(usize, usize)> {
    let rest = s.split(" at line ").nth(1)?;
    let mut it = rest.split(" column ");
    let line = it.next()?.trim().parse().ok()?;
    let col = it
        .next()?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()?;
    Some((line, col))
}

/// Turns a YAML parser error into a diagnostic a writer can act on. libyaml
/// notices an unclosed `[` or quote only where the text stops making sense,
/// often a line later; its "while parsing ... at line N" names where the
/// unclosed thing began, which is where the writer must look.
fn yaml_error(e: &serde_yaml::Error, split: &Split, text: &str, file: &str) -> Diagnostic {
    let full = e.to_string();
    let (problem, context) = match full.split_once(", while ") {
        Some((p, c)) => (p, Some(c)),
        None => (full.as_str(), None),
    };
    let problem_text = problem.split(" at line ").next().unwrap_or(problem).trim();
    let yaml_lines = split.yaml.lines().count().max(1);
    let clamp = |(l, c): (usize, usize)| {
        if l > yaml_lines {
            (yaml_lines, 1)
        } else {
            (l.max(1), c.max(1))
        }
    };
    let at_problem = e.location().map(|l| (l.line(), l.column())).map(clamp);
    let at_context = context.and_then(line_column_after).map(clamp);
    // The parser stops where the text stops making sense, often lines
    // after the mistake: look for the usual ones up to there first.
    let upto = at_problem.map_or(yaml_lines, |(l, _)| l);
    if let Some((line, col, message, hint)) = usual_mistake(split.yaml, upto) {
        let d = Diagnostic::error(
            file,
            format!("the front matter is not valid YAML: {message}"),
        )
        .at(text, split.yaml_line + line - 1, col)
        .with_hint(hint);
        // An empty `[]` is underlined whole.
        let width = if d
            .source_line
            .as_deref()
            .is_some_and(|l| l.trim_end().ends_with("[]"))
        {
            2
        } else {
            0
        };
        return d.with_width(width);
    }
    let (message, hint, at) = match context.map(|c| c.split(" at line ").next().unwrap_or(c)) {
        Some("parsing a flow sequence") => (
            "a list opened with `[` is not closed".to_string(),
            "add the closing `]`, e.g. `sector: [Health, Education]`".to_string(),
            at_context,
        ),
        Some("parsing a flow mapping") => (
            "a group opened with `{` is not closed".to_string(),
            "add the closing `}`, or remove the `{`".to_string(),
            at_context,
        ),
        Some(c) if c.starts_with("scanning a quoted scalar") => (
            "a quoted value is not closed".to_string(),
            "add the closing quote at the end of the value".to_string(),
            at_context,
        ),
        _ if problem_text.contains("repetition limit exceeded")
            || problem_text.contains("recursion limit exceeded") =>
        {
            (
                "it repeats or nests values too deeply (YAML anchors `&name` and aliases `*name`)"
                    .to_string(),
                "front matter does not need anchors or aliases: write each value out".to_string(),
                at_problem,
            )
        }
        _ if problem_text.contains("mapping values are not allowed") => (
            "a value contains `: ` and must be quoted".to_string(),
            "put the value in double quotes, e.g. `title: \"Kenya: one year on\"`".to_string(),
            at_problem,
        ),
        _ if split.yaml.contains('\t') => (
            "a line is indented with a tab".to_string(),
            "YAML allows only spaces for indentation: replace the tab with spaces".to_string(),
            at_problem,
        ),
        _ => (
            problem_text.to_string(),
            "check the quoting and indentation on this line or the one before it".to_string(),
            at_problem,
        ),
    };
    let (line, col) = at.or(at_problem).unwrap_or((1, 1));
    Diagnostic::error(
        file,
        format!("the front matter is not valid YAML: {message}"),
    )
    .at(text, split.yaml_line + line - 1, col)
    .with_hint(hint)
}

/// The value of a `key: value` line (the part after `key:`), and the
/// column it starts at, 1-based; list items (`- key: value`) too.
fn value_of(line: &str) -> Option<(&str, usize)> {
    let body = line.trim_start();
    let body = body.strip_prefix("- ").unwrap_or(body);
    let key_len = body
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-')))
        .filter(|&i| i > 0 && body[i..].starts_with(':'))?;
    let after = &body[key_len + 1..];
    let value = after.trim_start();
    let at = line.len() - value.len();
    Some((value, line[..at].chars().count() + 1))
}

/// The mistakes writers make most in front matter, found on their own
/// line, up to line `upto` of `yaml` (1-based, where the parser gave up):
/// (line, column, what is wrong, what to do).
fn usual_mistake(yaml: &str, upto: usize) -> Option<(usize, usize, String, String)> {
    let lines: Vec<&str> = yaml.lines().collect();
    for (i, line) in lines.iter().enumerate().take(upto) {
        let n = i + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') || trimmed.is_empty() {
            continue;
        }
        // `ngo:SEARCH`: a word, a colon and no space.
        let body = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        if let Some(colon) = body.find(':') {
            let key = &body[..colon];
            let rest = &body[colon + 1..];
            if !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-'))
                && !rest.is_empty()
                && !rest.starts_with([' ', '\t'])
                && !rest.starts_with("//")
                && n + 1 >= upto
            {
                let col = line.len() - body.len() + colon + 2;
                return Some((
                    n,
                    line[..col - 1].chars().count() + 1,
                    format!("`{key}:{rest}` needs a space after the colon"),
                    format!("write `{key}: {rest}`"),
                ));
            }
        }
        let Some((value, col)) = value_of(line) else {
            continue;
        };
        // `outcomes: []` with the items below it.
        if (value == "[]" || value == "{}")
            && lines.get(i + 1).is_some_and(|next| {
                let indent = |l: &str| l.len() - l.trim_start().len();
                next.trim_start().starts_with('-') || indent(next) > indent(line)
            })
        {
            let key = trimmed.split(':').next().unwrap_or("");
            return Some((
                n,
                col,
                format!(
                    "`{key}: {value}` is an empty list, and the lines under it are a second value"
                ),
                format!("remove the `{value}`: write `{key}:` and the items under it"),
            ));
        }
        let unescaped_quotes = |v: &str| {
            let mut count = 0;
            let mut escaped = false;
            for c in v.chars() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => count += 1,
                    _ => escaped = false,
                }
                if c != '\\' {
                    escaped = false;
                }
            }
            count
        };
        if value.starts_with('"') && unescaped_quotes(value) % 2 == 1 && n < upto {
            return Some((
                n,
                col,
                "a quoted value is not closed".into(),
                "add the closing `\"` at the end of the value".into(),
            ));
        }
        if let Some(inner) = value.strip_prefix('\'') {
            // `''` is a quote inside single quotes; one alone ends the value.
            let mut chars = inner.char_indices().peekable();
            let mut end = None;
            while let Some((at, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                        chars.next();
                    } else {
                        end = Some(at);
                        break;
                    }
                }
            }
            match end {
                None if n < upto => {
                    return Some((
                        n,
                        col,
                        "a quoted value is not closed".into(),
                        "add the closing `'` at the end of the value".into(),
                    ));
                }
                Some(at) => {
                    let after = inner[at + 1..].trim_start();
                    if !after.is_empty() && !after.starts_with('#') {
                        return Some((
                            n,
                            col,
                            "an apostrophe inside '...' ends the value early".into(),
                            format!(
                                "write the apostrophe twice (`'{}'`), or put the value in double quotes",
                                inner
                                    .trim_end()
                                    .strip_suffix('\'')
                                    .unwrap_or(inner.trim_end())
                                    .replace('\'', "''")
                            ),
                        ));
                    }
                }
                None => {}
            }
        }
    }
    None
}

fn read_outcomes(
    v: &Value,
    split: &Split,
    text: &str,
    file: &str,
    key_line: usize,
    fm: &mut FrontMatter,
    diags: &mut Vec<Diagnostic>,
) {
    let items = match v {
        Value::Sequence(items) => items,
        Value::Null => return,
        other => {
            diags.push(
                Diagnostic::error(file, format!("`outcomes` must be a list, not {}", describe(other)))
                    .at(text, key_line, 1)
                    .with_hint("write each outcome as `- metric: People reached` with `value: 1200` on the next line"),
            );
            return;
        }
    };
    // Lines of each `- ` item under `outcomes:`, so messages point at the item.
    let item_lines: Vec<usize> = split
        .yaml
        .lines()
        .enumerate()
        .skip(key_line.saturating_sub(split.yaml_line) + 1)
        .take_while(|(_, l)| l.is_empty() || l.starts_with([' ', '-', '\t', '#']))
        .filter(|(_, l)| l.trim_start().starts_with('-'))
        .map(|(i, _)| split.yaml_line + i)
        .collect();
    for (n, item) in items.iter().enumerate() {
        let line = item_lines.get(n).copied().unwrap_or(key_line);
        // Where `field:` is written in this item, and where its value
        // starts: on the item's line or one of the few after it.
        let field_at = |field: &str| -> Option<(usize, usize, usize)> {
            for l in line..line + 6 {
                if let Some(src) = text.lines().nth(l - 1) {
                    if let Some(i) = src.find(&format!("{field}:")) {
                        let after = &src[i + field.len() + 1..];
                        let col = src.len() - after.trim_start().len();
                        return Some((
                            l,
                            src[..i].chars().count() + 1,
                            src[..col].chars().count() + 1,
                        ));
                    }
                    if l > line && src.trim_start().starts_with('-') {
                        break;
                    }
                }
            }
            None
        };
        let field_line = |field: &str| field_at(field).map_or((line, 1), |(l, _, c)| (l, c));
        let key_line = |field: &str| field_at(field).map_or((line, 1), |(l, c, _)| (l, c));
        let err = |(l, c): (usize, usize), msg: String| Diagnostic::error(file, msg).at(text, l, c);
        let Value::Mapping(m) = item else {
            diags.push(
                err(
                    (line, 1),
                    format!(
                        "outcome {} must have `metric` and `value`, not be {}",
                        n + 1,
                        describe(item)
                    ),
                )
                .with_hint(
                    "write `- metric: People reached` and, indented below it, `value: 1200`",
                ),
            );
            continue;
        };
        let metric = m.get("metric").and_then(scalar_string);
        let unit = m.get("unit").and_then(scalar_string);
        let value = match m.get("value") {
            Some(Value::Number(num)) => match num.as_f64() {
                Some(v) if v.is_finite() && v.abs() <= MAX_OUTCOME => Some(v),
                Some(v) => {
                    let (what, hint) = if v.is_nan() {
                        (
                            "is not a number (.nan)".to_string(),
                            "write the number that was measured",
                        )
                    } else if v.is_infinite() {
                        (
                            "is infinite".to_string(),
                            "write the number that was measured",
                        )
                    } else {
                        (
                            format!("{num} is too large to add up"),
                            "outcomes are added across case studies, exactly up to 10^15 (a thousand trillion); check the number, or report it in a larger unit",
                        )
                    };
                    diags.push(
                        err(field_line("value"), format!("outcome value {what}")).with_hint(hint),
                    );
                    continue;
                }
                None => None,
            },
            Some(other) => {
                let shown = scalar_string(other).unwrap_or_else(|| describe(other));
                let cleaned: String = shown
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
                    .collect();
                let mut d = err(
                    field_line("value"),
                    format!("outcome value \"{shown}\" is not a number"),
                )
                .with_width(shown.chars().count());
                if !cleaned.is_empty() && cleaned.parse::<f64>().is_ok() {
                    d = d.with_hint(format!(
                        "write the bare number, `value: {cleaned}`, and put any unit in `unit:`"
                    ));
                }
                diags.push(d);
                continue;
            }
            None => None,
        };
        if metric.as_deref().is_none_or(|s| s.trim().is_empty()) {
            diags.push(err(
                (line, 1),
                format!("outcome {} has no `metric` (what was measured)", n + 1),
            ));
            continue;
        }
        const KEYS: [&str; 3] = ["metric", "value", "unit"];
        let unknown: Vec<&str> = m
            .keys()
            .filter_map(|k| k.as_str())
            .filter(|k| !KEYS.contains(k))
            .collect();
        let Some(value) = value else {
            // `vaule: 3` is the value, misspelt.
            let mut d = err((line, 1), format!("outcome {} has no `value`", n + 1));
            if let Some(k) = unknown
                .iter()
                .find(|k| crate::diagnostic::did_you_mean(k, ["value"]).is_some())
            {
                let (l, c) = key_line(k);
                d = err((l, c), format!("outcome {} has no `value`", n + 1))
                    .with_width(k.chars().count())
                    .with_hint(format!("did you mean `value`? This one is written `{k}`"));
            }
            diags.push(d);
            continue;
        };
        for k in unknown {
            let (l, c) = key_line(k);
            let hint = match crate::diagnostic::did_you_mean(k, KEYS) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "an outcome has `metric`, `value` and optionally `unit`".to_string(),
            };
            diags.push(
                Diagnostic::warning(file, format!("outcome {}: unknown key `{k}`", n + 1))
                    .at(text, l, c)
                    .with_width(k.chars().count())
                    .with_hint(hint),
            );
        }
        let (l, c) = field_line("metric");
        fm.outcomes.push(Located {
            value: Outcome {
                metric: metric.unwrap_or_default().trim().to_string(),
                value,
                unit: unit.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
            },
            line: l,
            column: c,
        });
    }
}

/// Strings, numbers and booleans read as text; anything else does not.
fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A single value or a list of them.
fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Sequence(items) => items.iter().map(scalar_string).collect(),
        Value::Null => Some(Vec::new()),
        other => scalar_string(other).map(|s| vec![s]),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "empty".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the text \"{s}\""),
        Value::Sequence(_) => "a list".into(),
        Value::Mapping(_) => "a group of fields".into(),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
    }
}

/// Line and column of a byte offset in the whole file.
pub fn locate(text: &str, offset: usize) -> (usize, usize) {
    line_col(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> (FrontMatter, Vec<Diagnostic>) {
        let s = split(text, "f.md").unwrap();
        let (fm, d) = parse(&s, text, "f.md", &["ngo", "sector", "tags"]);
        (fm.unwrap_or_default(), d)
    }

    #[test]
    fn splits() {
        let t = "---\ntitle: A\n---\nBody\n";
        let s = split(t, "f.md").unwrap();
        assert_eq!(s.yaml, "title: A\n");
        assert_eq!(s.body, "Body\n");
        assert_eq!(s.body_line, 4);
        let t = "---\r\ntitle: A\r\n---\r\nBody\r\n";
        let s = split(t, "f.md").unwrap();
        assert_eq!(s.yaml, "title: A\r\n");
        assert_eq!(s.body, "Body\r\n");
        assert!(split("no front matter", "f.md").is_err());
        assert!(
            split("---\ntitle: x\n", "f.md")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert!(
            split("---", "f.md")
                .unwrap_err()
                .message
                .contains("never closed")
        );
        assert!(split("", "f.md").unwrap_err().message.contains("empty"));
    }

    #[test]
    fn reads_fields() {
        let (fm, d) = parse_str(
            "---\ntitle: A\ndate: 2024-12-10\nngo: SHOFCO\nsector: [Gender, Health]\noutcomes:\n  - metric: NGOs supported\n    value: 14\n    unit: organisations\ndraft: true\nsecotr: x\n---\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(fm.title.unwrap().value, "A");
        assert_eq!(fm.date.unwrap().value.iso_date(), "2024-12-10");
        assert_eq!(fm.taxonomies["ngo"].value, ["SHOFCO"]);
        assert_eq!(fm.taxonomies["sector"].value, ["Gender", "Health"]);
        assert_eq!(fm.outcomes[0].value.value, 14.0);
        assert_eq!(fm.outcomes[0].line, 7);
        assert!(fm.draft);
        assert_eq!(fm.extra["secotr"].value, Value::String("x".into()));
        assert_eq!(fm.extra["secotr"].line, 11);
    }

    #[test]
    fn reports_every_bad_field_with_its_line() {
        let text = "---\ntitle: [a, b]\ndate: 2024-13-45\ndraft: maybe\noutcomes:\n  - metric: People\n    value: 1,200\n---\n";
        let (_, d) = parse_str(text);
        let got: Vec<_> = d.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].0, 2);
        assert_eq!(got[1].0, 3);
        assert!(got[1].1.contains("month 13"));
        assert_eq!(got[2].0, 4);
        assert_eq!(got[3].0, 7);
        assert!(d[3].hint.as_deref().unwrap().contains("value: 1200"));
    }

    #[test]
    fn yaml_errors_point_where_the_writer_must_look() {
        let cases = [
            (
                "---\ntitle: [unclosed\ndate: 2024-12-10\n---\n",
                2,
                8,
                "`[` is not closed",
            ),
            (
                "---\ntitle: ok\nsummary: \"unclosed\ndate: 2024-12-10\n---\n",
                3,
                10,
                "quoted value is not closed",
            ),
            (
                "---\ntitle: Kenya: one year on\n---\n",
                2,
                13,
                "must be quoted",
            ),
            (
                "---\ntitle: x\nsector:\n\t- Health\n---\n",
                4,
                1,
                "not valid YAML",
            ),
        ];
        for (text, line, col, msg) in cases {
            let (_, d) = parse_str(text);
            assert_eq!(d.len(), 1, "{text:?}: {d:?}");
            assert_eq!(
                (d[0].line, d[0].column),
                (line, col),
                "{text:?}: {}",
                d[0].render(false)
            );
            assert!(d[0].message.contains(msg), "{text:?}: {}", d[0].message);
        }
        let (_, d) = parse_str("---\ntitle: x\nsector:\n\t- Health\n---\n");
        assert!(d[0].hint.as_deref().unwrap().contains("replace the tab"));
    }

    #[test]
    fn yaml_errors_point_into_the_file() {
        let text = "---\ntitle: ok\nsummary: \"unclosed\n---\nbody\n";
        let (_, d) = parse_str(text);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, 3, "{:?}", d[0]);
        assert!(d[0].message.contains("not valid YAML"));
    }
}
