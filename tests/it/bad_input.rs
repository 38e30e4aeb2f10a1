//! Broken input gets a message naming the file and line, exit code 1, and
//! the previous output stays exactly as it was.

use crate::common;

use common::{Site, list_files, stderr};

fn snapshot(site: &Site) -> Vec<(String, Vec<u8>)> {
    list_files(&site.out())
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(site.out().join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn broken_yaml_fails_with_file_and_line_and_keeps_the_old_site() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let before = snapshot(&site);
    assert!(!before.is_empty());

    site.write(
        "content/case-studies/chatbot.md",
        "---\ntitle: A chatbot\ndate: 2024-12-10\nsummary: \"an unclosed quote\nngo: SEARCH\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("content/case-studies/chatbot.md:"), "{err}");
    assert!(err.contains("not valid YAML"), "{err}");
    assert!(
        err.contains("nothing was written; the previous output is unchanged"),
        "{err}"
    );
    assert_eq!(
        snapshot(&site),
        before,
        "the previous output must be untouched"
    );
    // No staging folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("casebook-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_yaml_error_line_is_the_line_in_the_file() {
    let site = Site::from_fixture("basic");
    // Line 4 of the file has the bad indentation.
    site.write(
        "content/case-studies/chatbot.md",
        "---\ntitle: A chatbot\ndate: 2024-12-10\n  ngo: SEARCH\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--> content/case-studies/chatbot.md:4:"),
        "{err}"
    );
    assert!(err.contains("4 |   ngo: SEARCH"), "{err}");
}

#[test]
fn every_broken_file_is_reported_in_one_run() {
    let site = Site::from_fixture("basic");
    site.write("content/case-studies/chatbot.md", "no front matter here\n");
    site.write("content/case-studies/network.md", "---\ntitle: x\n");
    std::fs::write(
        site.root().join("content/about.md"),
        b"---\ntitle: caf\xe9\n---\n",
    )
    .unwrap();
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("content/case-studies/chatbot.md:1:1"), "{err}");
    assert!(err.contains("this file has no front matter"), "{err}");
    assert!(err.contains("content/case-studies/network.md:1:1"), "{err}");
    assert!(err.contains("the front matter is never closed"), "{err}");
    assert!(err.contains("content/about.md:2:11"), "{err}");
    assert!(err.contains("not valid UTF-8"), "{err}");
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn missing_required_fields_name_the_field() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/chatbot.md",
        "---\ntitle: A chatbot\ndate: 2024-12-10\nngo: SEARCH\nsector: Health\nprogram: P\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("this case study has no `summary`, which is required"),
        "{err}"
    );
}

#[test]
fn impossible_dates_and_unknown_reports_are_errors() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/chatbot.md",
        "---\ntitle: A chatbot\ndate: 2024-13-45\nngo: SEARCH\nsector: Health\nprogram: P\nsummary: S\nreport: year-2042\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("chatbot.md:3:7"), "{err}");
    assert!(err.contains("month 13"), "{err}");
    assert!(err.contains("`report: year-2042` names no report"), "{err}");
    assert!(err.contains("did you mean `year-2024`?"), "{err}");
}

#[test]
fn windows_line_endings_and_byte_order_marks_build() {
    let site = Site::from_fixture("basic");
    let text =
        std::fs::read_to_string(site.root().join("content/case-studies/chatbot.md")).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(crlf.as_bytes());
    std::fs::write(site.root().join("content/case-studies/chatbot.md"), bytes).unwrap();
    site.build(&[]);
    let html = site.read("case-studies/chatbot/index.html");
    assert!(
        html.contains("<h1>A mental-health chatbot in Gadchiroli</h1>"),
        "{html}"
    );
    assert!(
        html.contains("<h2 id=\"what-changed\">What changed</h2>"),
        "{html}"
    );
}

#[test]
fn dead_source_links_are_errors() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/about.md",
        "---\ntitle: About\ndate: 2024-01-01\n---\nSee [this](@/case-studies/renamed.md).\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("content/about.md:5:5"), "{err}");
    assert!(
        err.contains("link to `@/case-studies/renamed.md`: there is no such file"),
        "{err}"
    );
}

#[test]
fn duplicate_urls_name_both_files() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/chatbot-copy.md",
        "---\ntitle: Copy\ndate: 2024-12-10\nngo: SEARCH\nsector: Health\nprogram: P\nsummary: S\nslug: chatbot\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("two pages would be written to /case-studies/chatbot/: this one and content/case-studies/chatbot.md"),
        "{err}"
    );
}

#[test]
fn hostile_slugs_are_refused() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/evil.md",
        "---\ntitle: Evil\ndate: 2024-12-10\nngo: N\nsector: Health\nprogram: P\nsummary: S\nslug: ../../../etc\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("`slug`: the slug \"../../../etc\" contains \"..\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_missing_site_toml_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["build", "--root"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot read site.toml"), "{err}");
    assert!(err.contains("casebook init"), "{err}");
}

#[test]
fn output_folder_cannot_be_the_site_itself() {
    let site = Site::from_fixture("basic");
    for bad in [".", "content", ".."] {
        let out = site.run(&["build", "--output", bad]);
        assert_eq!(out.status.code(), Some(1), "--output {bad}");
        assert!(
            stderr(&out).contains("refusing to write the site into"),
            "{}",
            stderr(&out)
        );
    }
    assert!(site.root().join("content/case-studies/chatbot.md").exists());
}

/// What a terminal would act on in `text`: any control character but the
/// line end.
fn terminal_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect()
}

const CASE: &str = "date: 2024-01-01\nngo: N\nsector: S\nprogram: P\nsummary: s\n";

#[test]
fn control_characters_are_errors_at_their_place_and_never_reach_the_terminal() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let before = snapshot(&site);
    // In the text itself, in a value written with YAML escapes, and in a
    // file's name: a clear-screen, a bell, a carriage return that would
    // print a forged line over the real one, a NUL.
    site.write(
        "content/case-studies/raw.md",
        &format!(
            "---\ntitle: Raw\n{CASE}---\nBody with a \0 NUL and \x1b[2J\rerror: forged \x07.\n"
        ),
    );
    site.write(
        "content/case-studies/escaped.md",
        &format!("---\ntitle: \"a\\0b \\e[2J\"\n{CASE}---\nBody.\n"),
    );
    site.write(
        "content/case-studies/name\x1b[2J\x07.md",
        "---\ntitle: Named\n---\nNo required fields.\n",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out) + &common::stdout(&out);
    assert_eq!(terminal_controls(&err), Vec::<char>::new(), "{err:?}");
    assert!(
        !err.lines().any(|l| l.starts_with("error: forged")),
        "{err}"
    );
    for expected in [
        "a control character, U+0000 (NUL), is in the text",
        "--> content/case-studies/raw.md:9:13",
        "a control character, U+001B (ESC), is in the text",
        "--> content/case-studies/raw.md:9:23",
        "9 | Body with a \\u{0} NUL and \\u{1b}[2J\\u{d}error: forged \\u{7}.",
        "`title` holds a control character, U+0000 (NUL), written as an escape",
        "--> content/case-studies/escaped.md:2:8",
        "content/case-studies/name\\u{1b}[2J\\u{7}.md",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert_eq!(snapshot(&site), before, "the last good output stays");

    // `check` says the same, and an escape in site.toml is caught too.
    std::fs::remove_file(site.root().join("content/case-studies/raw.md")).unwrap();
    std::fs::remove_file(site.root().join("content/case-studies/escaped.md")).unwrap();
    std::fs::remove_file(site.root().join("content/case-studies/name\x1b[2J\x07.md")).unwrap();
    let toml = site.source("site.toml");
    site.write(
        "site.toml",
        &toml.replacen(
            "title = ",
            "author = \"\\u001b]0;owned\\u0007\"\ntitle = ",
            1,
        ),
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("`author` holds a control character, U+001B (ESC)"),
        "{err}"
    );
    assert!(err.contains("--> site.toml:1"), "{err}");
}

#[test]
fn outcome_values_that_cannot_be_added_up_are_errors() {
    let site = Site::from_fixture("basic");
    let outcome = |v: &str| format!("outcomes:\n  - metric: People reached\n    value: {v}\n");
    for (name, value) in [("nan", ".nan"), ("inf", "-.inf"), ("huge", "1e308")] {
        site.write(
            &format!("content/case-studies/{name}.md"),
            &format!("---\ntitle: {name}\n{CASE}{}---\nBody.\n", outcome(value)),
        );
    }
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for expected in [
        "error: outcome value is not a number (.nan)\n  --> content/case-studies/nan.md:10:12",
        "error: outcome value is infinite\n  --> content/case-studies/inf.md:10:12",
        "error: outcome value 1e308 is too large to add up\n  --> content/case-studies/huge.md:10:12",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
    assert!(!err.contains("has no `value`"), "{err}");

    // The largest allowed values, many times over, and zeros: every total
    // and chart is a number.
    for name in ["nan", "inf", "huge"] {
        std::fs::remove_file(site.root().join(format!("content/case-studies/{name}.md"))).unwrap();
    }
    for n in 0..4 {
        site.write(
            &format!("content/case-studies/big-{n}.md"),
            &format!("---\ntitle: Big {n}\n{CASE}{}---\nBody.\n", outcome("1e15")),
        );
        site.write(
            &format!("content/case-studies/zero-{n}.md"),
            &format!(
                "---\ntitle: Zero {n}\n{CASE}outcomes:\n  - metric: Nothing yet\n    value: 0\n    unit: percent\n---\nBody.\n"
            ),
        );
    }
    site.build(&[]);
    for f in site.files() {
        if f.ends_with(".html")
            || f.ends_with(".json")
            || f.ends_with(".csv")
            || f.ends_with(".xml")
        {
            let text = site.read(&f);
            for bad in ["NaN", "inf%", "Infinity", "∞"] {
                assert!(!text.contains(bad), "{f} shows {bad}");
            }
        }
    }
}

#[test]
fn check_finds_every_output_that_would_collide_or_not_fit_on_disk() {
    let site = Site::from_fixture("basic");
    let case = |slug: &str, extra: &str| {
        format!(
            "---\ntitle: T\n{CASE}{}{extra}---\nBody.\n",
            if slug.is_empty() {
                String::new()
            } else {
                format!("slug: {slug}\n")
            }
        )
    };
    site.write("content/case-studies/listing.md", &case("index.html", ""));
    site.write(
        "content/case-studies/home.md",
        &case("", "aliases: [/index.html]\n"),
    );
    site.write(
        "content/case-studies/feed.md",
        &case("", "aliases: [/atom.xml/]\n"),
    );
    site.write("content/case-studies/long.md", &case(&"a".repeat(230), ""));
    site.write(
        "content/case-studies/tag.md",
        &case("", &format!("tags: [\"{}\"]\n", "word ".repeat(60))),
    );
    site.write("content/explore.md", "---\ntitle: Explore\n---\nMine.\n");
    site.write(
        "content/styles.md",
        "---\ntitle: S\nslug: style.css\n---\nBody.\n",
    );
    site.write("static/robots.txt", "User-agent: *\n");
    for cmd in ["check", "build"] {
        let out = site.run(&[cmd]);
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = stderr(&out);
        for expected in [
            "error: the page of content/case-studies/listing.md would need /case-studies/index.html to be a folder, but casebook's own /case-studies/ is the file /case-studies/index.html\n --> content/case-studies/listing.md:8",
            "error: alias `/index.html` would replace /index.html, which belongs to a page casebook makes\n --> content/case-studies/home.md:8:11",
            "error: the alias /atom.xml/ of content/case-studies/feed.md would need /atom.xml to be a folder, but casebook's own /atom.xml is the file /atom.xml\n --> content/case-studies/feed.md:8:11",
            "error: the page of content/case-studies/long.md would be written under a name of 230 bytes",
            "error: the tag \"word word",
            "would be written under a name of 299 bytes (\"word-word-word",
            "error: the page of content/explore.md would be written to /explore/index.html, where casebook's own /explore/ is written",
            "error: the page of content/styles.md would need /style.css to be a folder, but casebook's own /style.css is the file /style.css",
            "warning: this file replaces casebook's own /robots.txt\n --> static/robots.txt",
        ] {
            assert!(err.contains(expected), "{cmd}: {expected}\n{err}");
        }
        assert!(!err.contains("casebook-new"), "{err}");
        assert!(!err.contains("os error"), "{err}");
    }
    assert!(!site.out().exists());
}

#[test]
fn yaml_mistakes_are_reported_on_the_line_that_makes_them() {
    let site = Site::empty("title = \"T\"\n");
    // (file, front matter, where, what is said, what to do)
    let cases = [
        (
            "double",
            "title: A\nsummary: \"an unclosed quote\nngo: SEARCH\nsector: \"Health\"\nprogram: P\n",
            "double.md:4:10",
            "a quoted value is not closed",
            "add the closing `\"`",
        ),
        (
            "single",
            "title: A\nsummary: 'an unclosed quote\nngo: SEARCH\nsector: Health\n",
            "single.md:4:10",
            "a quoted value is not closed",
            "add the closing `'`",
        ),
        (
            "apostrophe",
            "title: A\nsummary: 'SHOFCO's data culture'\nngo: SEARCH\n",
            "apostrophe.md:4:10",
            "an apostrophe inside '...' ends the value early",
            "write the apostrophe twice (`'SHOFCO''s data culture'`)",
        ),
        (
            "bracket",
            "title: A\nsector: [Health, Education\nngo: [SEARCH]\nprogram: P\n",
            "bracket.md:4:9",
            "a list opened with `[` is not closed",
            "add the closing `]`",
        ),
        (
            "tab",
            "title: A\noutcomes:\n\t- metric: m\n\t  value: 1\n",
            "tab.md:5:1",
            "a line is indented with a tab",
            "replace the tab with spaces",
        ),
        (
            "colon",
            "title: A\nngo:SEARCH\nsector: Health\n",
            "colon.md:4:5",
            "`ngo:SEARCH` needs a space after the colon",
            "write `ngo: SEARCH`",
        ),
        (
            "empty",
            "title: A\noutcomes: []\n  - metric: People reached\n    value: 3\n",
            "empty.md:4:11",
            "`outcomes: []` is an empty list, and the lines under it are a second value",
            "remove the `[]`",
        ),
    ];
    for (name, yaml, _, _, _) in &cases {
        site.write(
            &format!("content/case-studies/{name}.md"),
            &format!("---\ndate: 2024-01-01\n{yaml}---\nBody.\n"),
        );
    }
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for (name, _, at, what, fix) in cases {
        let block = err
            .split("\n\n")
            .find(|b| b.contains(&format!("content/case-studies/{name}.md")))
            .unwrap_or_else(|| panic!("nothing about {name}:\n{err}"));
        assert!(
            block.contains(&format!("--> content/case-studies/{at}")),
            "{name}:\n{block}"
        );
        assert!(block.contains(what), "{name}:\n{block}");
        assert!(block.contains(fix), "{name}:\n{block}");
    }
}

#[test]
fn every_referenced_file_is_checked_with_a_did_you_mean() {
    let site = Site::from_fixture("basic");
    site.write("static/images/volunteers.png", "png");
    site.write(
        "content/case-studies/refs.md",
        &format!(
            "---\ntitle: Refs\n{CASE}image: /images/volunteer.png\nimage_alt: Volunteers\n---\n\
             ![Volunteers](static/images/volunteers.png)\n\n\
             ![Volunteers](/images/volunteers.pgn)\n\n\
             [The data culture story](@/case-studies/data-cultur.md)\n\n\
             [Gender](/sector/gendr/) and [a term nobody uses](/sector/transport/)\n"
        ),
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    for (what, help) in [
        (
            "image `/images/volunteer.png`: there is no such file in the site\n --> content/case-studies/refs.md:8:8",
            "did you mean `/images/volunteers.png`?",
        ),
        (
            "image `static/images/volunteers.png`: there is no such page or file in the site",
            "files in static/ are published at the site's root: write `/images/volunteers.png`",
        ),
        (
            "image `/images/volunteers.pgn`: there is no such page or file in the site",
            "did you mean `/images/volunteers.png`?",
        ),
        (
            "link to `@/case-studies/data-cultur.md`: there is no such file in content/",
            "did you mean `@/case-studies/data-culture.md`?",
        ),
        (
            "link `/sector/gendr/`: there is no such page or file in the site",
            "did you mean `/sector/gender/`?",
        ),
        (
            "link `/sector/transport/`: there is no such page or file in the site",
            "the site's terms are listed at /sector/",
        ),
    ] {
        let block = err
            .split("\n\n")
            .find(|b| b.contains(what))
            .unwrap_or_else(|| panic!("no {what:?} in:\n{err}"));
        assert!(block.contains(help), "{help}\n{block}");
    }
}

#[test]
fn a_missing_theme_folder_is_one_error() {
    let site = Site::from_fixture("basic");
    site.append("site.toml", "theme = \"ours\"\n");
    // Images the missing theme would have brought.
    site.append("content/about.md", "\n![Our logo](/images/logo.png)\n");
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("theme \"ours\" not found: there is no folder themes/ours/"),
        "{err}"
    );
    assert!(err.contains("1 error, 0 warnings in 1 file"), "{err}");
}
