//! Snapshots: a fixture's whole output, or its diagnostics, compared with
//! what is kept for it under `tests/expected/<fixture>/`, printing a line
//! diff of each file that differs ([snapbox]).
//!
//! - `public/` and `files.txt`: what `casebook build` writes
//!   ([`build`]). `files.txt` lists every output path, one a line, so a
//!   file that appears or goes missing fails the test.
//! - `check.stderr`: what `casebook check` prints ([`check`]).
//!
//! Adding a behaviour: a site in `tests/fixtures/<name>/` and a test that
//! calls [`build`] or [`check`] with its name; run it once with
//! `SNAPSHOTS=overwrite` to write `tests/expected/<name>/`, and review it.
//!
//! After an intended change to the output, accept it with
//!
//! ```text
//! SNAPSHOTS=overwrite cargo test --test it
//! ```
//!
//! (a failing test prints the same command narrowed to itself) and review
//! `git diff tests/expected`. Overwriting replaces `public/`
//! and `files.txt` whole, so files the build no longer writes go too.

use std::path::{Path, PathBuf};
use std::process::Output;

use snapbox::Data;
use snapbox::assert::Action;
use snapbox::dir::PathDiff;
use snapbox::report::Palette;

use super::{Site, copy_dir, list_files, stderr};

/// The variable that says to overwrite the snapshots, snapbox's own.
const ACTION_ENV: &str = snapbox::assert::DEFAULT_ACTION_ENV;

/// `tests/expected/<name>/`.
pub fn expected_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expected")
        .join(name)
}

fn overwriting() -> bool {
    Action::with_env_var(ACTION_ENV) == Some(Action::Overwrite)
}

/// Builds the fixture `name` and compares its output with
/// `tests/expected/<name>/public/`, and the list of its output files with
/// `tests/expected/<name>/files.txt`. Returns the built site for any
/// further checks.
///
/// The built-in theme's static files (`themes/default/static/`: the
/// style sheet, the explorer's script, the icons) are not kept in
/// `public/`: each one in the output must be the theme's own file byte
/// for byte, and is then left out of the comparison, so the expected tree
/// holds only what casebook makes. Links to them carry a version from
/// their content (`/style.css?v=989857c7b9`), compared as
/// `?v=[theme-hash]` so editing the theme does not change every expected
/// page. `files.txt` still lists them.
#[track_caller]
pub fn build(name: &str) -> Site {
    let site = Site::from_fixture(name);
    site.build(&[]);
    let expected = expected_dir(name);
    let mut failures = Vec::new();

    let files = list_files(&site.out());
    let listing = files.iter().map(|f| format!("{f}\n")).collect::<String>();

    // The output as compared: without the theme's files, their versions
    // redacted.
    let staged = tempfile::tempdir().unwrap();
    let actual = staged.path().join("public");
    copy_dir(&site.out(), &actual);
    let mut versions = Vec::new();
    for (rel, theirs) in theme_statics() {
        let Ok(ours) = std::fs::read(actual.join(&rel)) else {
            continue;
        };
        if ours == theirs {
            std::fs::remove_file(actual.join(&rel)).unwrap();
            versions.push(rel);
        } else if !overrides(name, &rel) {
            failures.push(format!(
                "{rel} in the output is not themes/default/static/{rel} byte for byte \
                 ({} bytes, the theme's {})",
                ours.len(),
                theirs.len()
            ));
        }
    }
    for rel in list_files(&actual) {
        let path = actual.join(rel);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let redacted = versions
                .iter()
                .fold(text.clone(), |t, rel| redact_version(&t, rel));
            if redacted != text {
                std::fs::write(&path, redacted).unwrap();
            }
        }
    }

    if overwriting() {
        let _ = std::fs::remove_dir_all(expected.join("public"));
        copy_dir(&actual, &expected.join("public"));
        write_whole(&expected.join("files.txt"), &listing);
    }

    if let Err(diff) = text_diff(
        &expected.join("files.txt"),
        "casebook build: its output files",
        &listing,
    ) {
        failures.push(diff);
    }
    let public = expected.join("public");
    if !public.is_dir() {
        failures.push(format!("{} does not exist", public.display()));
    } else {
        for check in PathDiff::subset_eq_iter(&public, &actual) {
            if let Err(diff) = check {
                let mut text = String::new();
                diff.write(&mut text, Palette::plain()).unwrap();
                failures.push(text.trim_end().to_string());
            }
        }
    }
    if !failures.is_empty() {
        panic!(
            "the output of the `{name}` fixture is not tests/expected/{name}/:\n\n{}\n\n{}",
            failures.join("\n\n"),
            how_to_accept(name)
        );
    }
    site
}

/// `text` with every version in a link to `rel` (`rel?v=` and hex digits)
/// replaced by `[theme-hash]`. That the version follows the file's content
/// is `build::stylesheet_url_carries_a_content_version`'s to check.
fn redact_version(text: &str, rel: &str) -> String {
    let marker = format!("{rel}?v=");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let after = &rest[at + marker.len()..];
        let hex = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_hexdigit())
                .len();
        out.push_str(&rest[..at + marker.len()]);
        out.push_str(if hex > 0 { "[theme-hash]" } else { "" });
        rest = &after[hex..];
    }
    out.push_str(rest);
    out
}

/// The built-in theme's static files: output path, bytes.
fn theme_statics() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/static");
    list_files(&dir)
        .into_iter()
        .map(|rel| {
            let bytes = std::fs::read(dir.join(&rel)).unwrap();
            (rel, bytes)
        })
        .collect()
}

/// Whether the fixture `name` has a file of its own at the theme's output
/// path `rel`, in its `static/` or a theme's `static/`.
fn overrides(name: &str, rel: &str) -> bool {
    let site = super::fixture(name);
    let in_themes = std::fs::read_dir(site.join("themes")).is_ok_and(|themes| {
        themes
            .flatten()
            .any(|t| t.path().join("static").join(rel).exists())
    });
    in_themes || site.join("static").join(rel).exists()
}

/// Runs `casebook check` on the fixture `name` and compares what it prints
/// on stderr with `tests/expected/<name>/check.stderr`. Returns the site and
/// the run for any further checks.
#[track_caller]
pub fn check(name: &str) -> (Site, Output) {
    let site = Site::from_fixture(name);
    let out = site.run(&["check"]);
    let path = expected_dir(name).join("check.stderr");
    if overwriting() {
        write_whole(&path, &stderr(&out));
    }
    if let Err(diff) = text_diff(&path, "casebook check: stderr", &stderr(&out)) {
        panic!(
            "`casebook check` on the `{name}` fixture does not print \
             tests/expected/{name}/check.stderr:\n\n{diff}\n\n{}",
            how_to_accept(name)
        );
    }
    (site, out)
}

/// The command that overwrites this test's snapshot (the harness names a
/// test's thread after the test).
fn how_to_accept(name: &str) -> String {
    let test = std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map_or(String::new(), |n| format!(" -- --exact {n}"));
    format!(
        "If the change is intended: SNAPSHOTS=overwrite cargo test --test it{test}, \
         then review `git diff tests/expected/{name}`"
    )
}

/// A line diff of `actual` (called `what`) against the file `expected`, if
/// they differ. Compared exactly (no wildcards), line endings aside.
fn text_diff(expected: &Path, what: &str, actual: &str) -> Result<(), String> {
    snapbox::Assert::new()
        .action(Action::Verify)
        .palette(Palette::plain())
        .try_eq(
            Some(&what),
            Data::text(actual),
            Data::read_from(expected, None).raw(),
        )
        .map_err(|e| e.to_string().trim_end().to_string())
}

/// Writes `path` by renaming a finished file over it, so a test reading it
/// at the same time (another test's, while overwriting) never sees half.
fn write_whole(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let part = path.with_extension("part");
    std::fs::write(&part, text).unwrap();
    std::fs::rename(&part, path).unwrap();
}
