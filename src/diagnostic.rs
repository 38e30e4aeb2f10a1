//! One type for every problem casebook finds in a site, so that a broken
//! front matter, a misspelt sector and a dead link all reach the writer the
//! same way: file, line, column, what is wrong and what to do about it.
//!
//! The pipeline collects diagnostics instead of stopping at the first one; the
//! CLI prints them (rustc-style, see [`Diagnostic::render`]) and picks the exit
//! code. Nothing here prints.

use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is. Errors stop a build; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops the build.
    Error,
    /// Reported; the build goes on.
    Warning,
}

impl Severity {
    fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A problem in one place of one file.
///
/// `line` and `column` are 1-based and point into the file as the writer sees
/// it in an editor; 0 means "the whole file" (or "the whole line").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Path relative to the site root, e.g. `content/case-studies/x.md`.
    pub file: PathBuf,
    /// The line, 1-based; 0 for the whole file.
    pub line: usize,
    /// The column, 1-based, in characters; 0 for the whole line.
    pub column: usize,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to do about it, when casebook can tell.
    pub hint: Option<String>,
    /// How many characters the caret underlines; 0 means "the word at the
    /// column".
    pub width: usize,
    /// The text of `line`, kept so the message can show it without reading
    /// the file again (it may have changed or gone by the time we print).
    pub source_line: Option<String>,
    /// How many characters of the line were left off before
    /// `source_line`, which then starts with `…` (a very long line is
    /// quoted around the column only).
    pub source_from: usize,
}

/// The longest line quoted whole, in characters. A longer one is quoted
/// from a little before the column to a little after it.
const QUOTE_MAX: usize = 240;
const QUOTE_BEFORE: usize = 80;

impl Diagnostic {
    /// An error in `file`, with no position yet (see [`Diagnostic::at`]).
    pub fn error(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            hint: None,
            width: 0,
            source_line: None,
            source_from: 0,
        }
    }

    /// A warning in `file`, with no position yet.
    pub fn warning(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(file, message)
        }
    }

    /// Points the diagnostic at `line`:`column` of `source` (the whole file's
    /// text), keeping a copy of that line for display.
    pub fn at(mut self, source: &str, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        match source.lines().nth(line.wrapping_sub(1)) {
            Some(text) if line > 0 => self.with_source_line(text.trim_end_matches('\r')),
            _ => {
                self.source_line = None;
                self
            }
        }
    }

    /// Keeps `text`, the line the diagnostic points at, to quote: whole
    /// if it is short, else the part around the column.
    pub fn with_source_line(mut self, text: &str) -> Self {
        let long = text.len() > QUOTE_MAX && text.chars().nth(QUOTE_MAX).is_some();
        if !long {
            self.source_line = Some(text.to_string());
            self.source_from = 0;
            return self;
        }
        let from = self.column.saturating_sub(1).saturating_sub(QUOTE_BEFORE);
        let mut shown: String = if from > 0 {
            "…".into()
        } else {
            String::new()
        };
        let mut chars = text.chars().skip(from);
        shown.extend(chars.by_ref().take(QUOTE_MAX));
        if chars.next().is_some() {
            shown.push('…');
        }
        self.source_line = Some(shown);
        self.source_from = from;
        self
    }

    /// Points the diagnostic at a line without keeping its text.
    pub fn at_line(mut self, line: usize, column: usize) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    /// Underlines `width` characters from the column.
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }

    /// Adds what to do about the problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Whether this stops a build.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col`, or fewer parts when line or column are unknown.
    pub fn location(&self) -> String {
        let file = display_path(&self.file);
        match (self.line, self.column) {
            (0, _) => file,
            (l, 0) => format!("{file}:{l}"),
            (l, c) => format!("{file}:{l}:{c}"),
        }
    }

    /// Renders the diagnostic the way rustc does:
    ///
    /// ```text
    /// error: unknown sector "Heath"
    ///   --> content/case-studies/x.md:5:9
    ///    |
    ///  5 | sector: Heath
    ///    |         ^^^^^
    ///    = help: did you mean "Health"?
    /// ```
    ///
    /// With `color`, ANSI colours mark severity and the caret.
    pub fn render(&self, color: bool) -> String {
        let (sev_on, bold, blue, off) = if color {
            let sev = match self.severity {
                Severity::Error => "\x1b[1;31m",
                Severity::Warning => "\x1b[1;33m",
            };
            (sev, "\x1b[1m", "\x1b[1;34m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        let mut out = format!(
            "{sev_on}{}{off}{bold}: {}{off}\n",
            self.severity.label(),
            escape_controls(&self.message)
        );
        let gutter = if self.line > 0 {
            self.line.to_string().len()
        } else {
            1
        };
        let pad = " ".repeat(gutter);
        out.push_str(&format!(
            "{pad}{blue}-->{off} {}\n",
            escape_controls(&self.location())
        ));
        if let Some(src) = &self.source_line {
            // As the terminal will show it: tabs as four spaces, control
            // characters as escapes; the caret is placed on what is shown.
            let shown = |s: &str| escape_controls(&s.replace('\t', "    ")).into_owned();
            out.push_str(&format!("{pad} {blue}|{off}\n"));
            out.push_str(&format!(
                "{blue}{}{off} {blue}|{off} {}\n",
                self.line,
                shown(src)
            ));
            if self.column > 0 {
                // The column within what is quoted, past its `…`.
                let col = self.column - self.source_from + usize::from(self.source_from > 0);
                let prefix: String = src.chars().take(col.saturating_sub(1)).collect();
                let rest: String = src.chars().skip(col.saturating_sub(1)).collect();
                let width = if self.width > 0 {
                    self.width.min(rest.chars().count().max(1))
                } else {
                    caret_width(&rest)
                };
                let underlined: String = rest.chars().take(width).collect();
                out.push_str(&format!(
                    "{pad} {blue}|{off} {}{sev_on}{}{off}\n",
                    " ".repeat(shown(&prefix).chars().count()),
                    "^".repeat(shown(&underlined).chars().count().max(1))
                ));
            }
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!(
                "{pad} {blue}={off} {bold}help{off}: {}\n",
                escape_controls(hint)
            ));
        }
        out
    }
}

/// Underline the token the column points at: up to the end of a value, or
/// one character when there is nothing word-like there.
fn caret_width(rest: &str) -> usize {
    let trimmed = rest.trim_end();
    let n = trimmed
        .chars()
        .take_while(|c| !matches!(c, '#' | ',' | ']' | '}'))
        .count();
    let word = trimmed.chars().take(n).collect::<String>();
    word.trim_end().chars().count().max(1)
}

/// Whether a terminal would act on `c` instead of printing it: control
/// characters (ESC starts colour, cursor and title sequences; CR and
/// backspace overwrite what was printed; NUL, BEL, DEL and the C1 controls)
/// and the marks that reorder text from right to left, which can make a
/// line read otherwise than it is. Tabs print as space.
fn acts_on_terminal(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every character a terminal would act on written as an escape
/// (`\u{1b}`), so that text from a site's files (a value, a quoted line, a
/// file name) cannot clear the screen, move the cursor or forge a line of
/// `check` output. Everything else is left as it is.
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if acts_on_terminal(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Paths are shown with forward slashes on every platform so messages (and
/// the expected-output files in tests) read the same everywhere.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            escape_controls(&self.location()),
            self.severity.label(),
            escape_controls(&self.message)
        )?;
        if let Some(h) = &self.hint {
            write!(f, " ({})", escape_controls(h))?;
        }
        Ok(())
    }
}

/// Sorts diagnostics by file, line and column so output is stable and a
/// writer can work through them top to bottom.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.severity, &b.message))
    });
}

/// "3 errors, 2 warnings in 4 files".
pub fn summary(diags: &[Diagnostic]) -> String {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let mut files: Vec<&PathBuf> = diags.iter().map(|d| &d.file).collect();
    files.sort();
    files.dedup();
    format!(
        "{}, {} in {}",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
        plural(files.len(), "file", "files")
    )
}

/// `1 case study`, `2 case studies`: `n` with the word for it.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Edit distance with swapped neighbours counted as one edit (the
/// optimal string alignment distance: `vaule` is one edit from `value`),
/// for "did you mean" hints on short strings (field names, vocabulary
/// terms). Quadratic, which is fine at these lengths.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // Three rows: two back, one back, this one.
    let mut two: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let cost = usize::from(a[i] != b[j]);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                cur[j + 1] = cur[j + 1].min(two[j - 1] + 1);
            }
        }
        std::mem::swap(&mut two, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if it is close enough to be a likely typo
/// (case-insensitive; at most a third of the word's length edited, and at
/// most 3 edits).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_rustc() {
        let src = "---\ntitle: x\nsector: Heath\n---\n";
        let d = Diagnostic::error("content/a.md", "unknown sector \"Heath\"")
            .at(src, 3, 9)
            .with_hint("did you mean \"Health\"?");
        assert_eq!(
            d.render(false),
            "error: unknown sector \"Heath\"\n --> content/a.md:3:9\n  |\n3 | sector: Heath\n  |         ^^^^^\n  = help: did you mean \"Health\"?\n"
        );
    }

    #[test]
    fn control_characters_are_shown_as_escapes_and_the_caret_still_fits() {
        let src = "---\nsector: \x1b[2J\rerror: forged\x07 Heath\n---\n";
        let d = Diagnostic::error(
            "content/a\x1b]0;x\x07.md",
            "unknown \"\x1b[2J\rerror: forged\"",
        )
        .at(src, 2, 29)
        .with_width(5)
        .with_hint("did you mean \u{202e}Health?");
        let text = d.render(false);
        assert!(
            !text.lines().any(|l| l.chars().any(acts_on_terminal)),
            "{text:?}"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("error: forged")),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "error: unknown \"\\u{1b}[2J\\u{d}error: forged\"");
        assert_eq!(lines[1], " --> content/a\\u{1b}]0;x\\u{7}.md:2:29");
        assert_eq!(
            lines[3],
            "2 | sector: \\u{1b}[2J\\u{d}error: forged\\u{7} Heath"
        );
        // Under "Heath" as shown: 8 + 6 + 3 + 5 + 13 + 5 + 1 characters in.
        assert_eq!(lines[4], format!("  | {}^^^^^", " ".repeat(41)));
        assert_eq!(lines[5], "  = help: did you mean \\u{202e}Health?");
        assert!(!d.to_string().chars().any(acts_on_terminal));
        assert_eq!(escape_controls("plain\ttext"), "plain\ttext");
    }

    #[test]
    fn a_long_line_is_quoted_around_the_column() {
        let line = format!("{}[x](/nope/){}", "a".repeat(1000), "b".repeat(1000));
        let src = format!("---\n{line}\n");
        let d = Diagnostic::error("f.md", "dead")
            .at(&src, 2, 1001)
            .with_width(11);
        let text = d.render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], " --> f.md:2:1001");
        let quoted = lines[3].strip_prefix("2 | ").unwrap();
        assert!(quoted.starts_with('…') && quoted.ends_with('…'), "{quoted}");
        assert_eq!(quoted.chars().count(), QUOTE_MAX + 2);
        // The caret is under the link as quoted.
        let caret = lines[4].strip_prefix("  | ").unwrap();
        let at = caret.chars().take_while(|c| *c == ' ').count();
        let under: String = quoted.chars().skip(at).take(11).collect();
        assert_eq!(under, "[x](/nope/)");
        assert_eq!(&caret[at..], "^^^^^^^^^^^");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("Heath", ["Health", "Education"]),
            Some("Health")
        );
        assert_eq!(
            did_you_mean("secotr", ["sector", "summary"]),
            Some("sector")
        );
        assert_eq!(did_you_mean("zzzzzz", ["sector", "summary"]), None);
        // Two letters swapped are one slip of the fingers.
        assert_eq!(
            did_you_mean("vaule", ["metric", "value", "unit"]),
            Some("value")
        );
        assert_eq!(
            did_you_mean("unti", ["metric", "value", "unit"]),
            Some("unit")
        );
        assert_eq!(edit_distance("ab", "ba"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn summary_counts_files() {
        let d = vec![
            Diagnostic::error("a.md", "x"),
            Diagnostic::warning("a.md", "y"),
            Diagnostic::error("b.md", "z"),
        ];
        assert_eq!(summary(&d), "2 errors, 1 warning in 2 files");
    }
}
