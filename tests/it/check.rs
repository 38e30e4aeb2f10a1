//! `casebook check` and the diagnostics a writer reads: every problem in
//! every file in one run, rustc-style, with the exact text for the broken
//! fixture kept in `tests/expected/broken/check.stderr`, so a change in
//! wording is a visible diff.
//!
//! After an intended change to the messages:
//! `SNAPSHOTS=overwrite cargo test --test it check::` (see
//! [`crate::common::snapshot`]).

use std::path::Path;

use crate::common;

use common::{Site, snapshot, stderr, stdout};

#[test]
fn broken_site_reports_everything_at_once() {
    let (site, out) = snapshot::check("broken");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "", "check writes its findings to stderr");
    // check wrote nothing.
    assert!(!site.out().exists());
}

#[test]
fn diagnostics_are_sorted_by_file_and_line_and_counted() {
    let site = Site::from_fixture("broken");
    let err = stderr(&site.run(&["check"]));
    let locations: Vec<(String, usize)> = err
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|loc| {
            let mut parts = loc.split(':');
            (
                parts.next().unwrap().to_string(),
                parts.next().and_then(|n| n.parse().ok()).unwrap_or(0),
            )
        })
        .collect();
    let mut sorted = locations.clone();
    sorted.sort();
    assert_eq!(locations, sorted);
    let files: std::collections::BTreeSet<_> = locations.iter().map(|l| &l.0).collect();
    assert!(files.len() >= 14, "{files:?}");
    let last = err.lines().last().unwrap();
    assert!(
        last.ends_with(&format!("in {} files", files.len())),
        "{last}"
    );
    assert!(last.contains(" errors, "), "{last}");
}

#[test]
fn build_refuses_the_broken_site_with_the_same_diagnostics() {
    let site = Site::from_fixture("broken");
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let expected =
        std::fs::read_to_string(snapshot::expected_dir("broken").join("check.stderr")).unwrap();
    let err = stderr(&out);
    assert!(
        err.starts_with(&expected),
        "build prints what check prints, then says nothing was written:\n{err}"
    );
    assert!(err.contains("nothing was written"));
    assert!(!site.out().exists());
}

#[test]
fn a_clean_site_checks_clean() {
    let site = Site::from_fixture("basic");
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No problems found in 3 case studies and 1 report."),
        "{}",
        stdout(&out)
    );
    assert!(!site.out().exists(), "check writes nothing");
}

#[test]
fn warnings_alone_pass_unless_denied() {
    let site = Site::from_fixture("basic");
    let text =
        std::fs::read_to_string(site.root().join("content/case-studies/chatbot.md")).unwrap();
    site.write(
        "content/case-studies/chatbot.md",
        &text.replace("country: India", "country: India\nfunder: Someone"),
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("warning: unknown field `funder`"), "{err}");
    assert!(err.contains("0 errors, 1 warning in 1 file"), "{err}");
    let out = site.run(&["check", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(1));
    // Declaring the field in the schema makes it known, and typed.
    let toml = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write(
        "site.toml",
        &format!("{toml}\n[schema.case-study]\nfields = {{ funder = \"string\" }}\n"),
    );
    let out = site.run(&["check", "--deny-warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn declared_fields_reach_templates_as_extra() {
    let site = Site::from_fixture("basic");
    let toml = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write(
        "site.toml",
        &format!("{toml}\ntheme = \"t\"\n[schema.case-study]\nrequired = [\"title\", \"date\", \"ngo\", \"sector\", \"program\", \"summary\", \"budget\"]\nfields = {{ budget = \"number\" }}\n"),
    );
    site.write(
        "themes/t/templates/case-study.html",
        "{% extends \"base.html\" %}{% block content %}<p id=\"budget\">{{ page.extra.budget }}</p>{% endblock content %}",
    );
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1), "budget is now required");
    assert!(stderr(&out).contains("this case study has no `budget`, which is required"));
    assert!(stderr(&out).contains("`budget: 100`"), "{}", stderr(&out));
    for f in ["chatbot", "data-culture", "network"] {
        let p = site.root().join(format!("content/case-studies/{f}.md"));
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(&p, t.replacen("---\n", "---\nbudget: 25000\n", 1)).unwrap();
    }
    site.build(&[]);
    assert!(
        site.read("case-studies/chatbot/index.html")
            .contains("<p id=\"budget\">25000</p>")
    );
}

#[test]
fn closed_vocabulary_shows_the_canonical_spelling() {
    let site = Site::from_fixture("basic");
    site.write(
        "site.toml",
        "title = \"V\"\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\", \"Mental Health\", \"Gender\", \"Civil Society\"]\naliases = { \"Mental health care\" = \"Mental Health\" }\n[[taxonomies]]\nname = \"ngo\"\n[[taxonomies]]\nname = \"program\"\n",
    );
    let p = site.root().join("content/case-studies/chatbot.md");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        t.replace(
            "sector: [Health, Mental Health]",
            "sector: [health, Mental health care]",
        ),
    )
    .unwrap();
    site.build(&[]);
    let html = site.read("case-studies/chatbot/index.html");
    assert!(
        html.contains("<a href=\"/sector/health/\">Health</a>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"/sector/mental-health/\">Mental Health</a>"),
        "{html}"
    );
    assert!(!site.exists("sector/mental-health-care/index.html"));
}

#[test]
fn colour_only_on_a_terminal() {
    let site = Site::from_fixture("broken");
    // Captured output is not a terminal: no escape codes, even without NO_COLOR.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["check", "--root"])
        .arg(site.root())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains('\x1b'));
}

#[test]
fn check_finds_the_template_errors_build_would_fail_on() {
    let site = Site::from_fixture("basic");
    site.append("site.toml", "theme = \"mine\"\n");
    let builtin = |name: &str| {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("themes/default/templates")
                .join(name),
        )
        .unwrap()
    };
    let cases = [
        // A tag never closed.
        (
            "case-study.html",
            builtin("case-study.html")
                .replace("<h1>{{ page.title }}</h1>", "<h1>{{ page.title </h1>"),
            "error: the template does not compile:",
            "themes/mine/templates/case-study.html:11:23",
        ),
        // A filter that does not exist.
        (
            "page.html",
            builtin("page.html").replace("{{ page.title }}", "{{ page.title | shout }}"),
            "error: the template does not compile: Unknown filter `shout`",
            "themes/mine/templates/page.html:6:25",
        ),
        // Fine for most pages, broken on the one whose field is missing.
        (
            "report.html",
            builtin("report.html").replace(
                "<h1>{{ page.title }}</h1>",
                "<h1>{{ page.title }} {{ page.extra.budget.amount }}</h1>",
            ),
            "error: the template failed while rendering: Field `budget` is not defined.",
            "themes/mine/templates/report.html:",
        ),
    ];
    for (name, text, message, place) in cases {
        let _ = std::fs::remove_dir_all(site.root().join("themes"));
        site.write(&format!("themes/mine/templates/{name}"), &text);
        let checked = site.run(&["check"]);
        let err = stderr(&checked);
        assert_eq!(checked.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(message), "{name}: {err}");
        assert!(err.contains(place), "{name}: {err}");
        // And build fails the same way.
        let built = site.run(&["build"]);
        assert_eq!(built.status.code(), Some(1), "{name}");
        assert!(
            stderr(&built).contains(message),
            "{name}: {}",
            stderr(&built)
        );
    }
}

#[test]
fn fields_and_folders_mean_what_they_look_like() {
    let site = Site::from_fixture("basic");
    // A plain page needs a title, nothing more.
    site.write(
        "content/methodology.md",
        "---\ntitle: How we work\n---\nText.\n",
    );
    // A folder named almost like case-studies/.
    site.write(
        "content/case_studies/lost.md",
        "---\ntitle: Lost\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\n---\nBody.\n",
    );
    // A case study naming a report that is still a draft.
    site.write(
        "content/reports/next-year.md",
        "---\ntitle: Next year\ndate: 2025-01-01\ndraft: true\n---\nSoon.\n",
    );
    site.write(
        "content/case-studies/early.md",
        "---\ntitle: Early\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\nreport: next-year\n---\nBody.\n",
    );
    let out = site.run(&["check"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("methodology.md"), "{err}");
    assert!(
        err.contains("warning: this file is in content/case_studies/, so it is published as a plain page, not as a case study"),
        "{err}"
    );
    assert!(
        err.contains("help: case studies live in content/case-studies/: move it there"),
        "{err}"
    );
    assert!(
        err.contains("error: `report: next-year` names a report that is a draft\n --> content/case-studies/early.md:8:9"),
        "{err}"
    );

    // `new` offers only published reports, writes what [schema] requires,
    // refuses what a report cannot use, and holds closed vocabularies.
    site.append(
        "site.toml",
        "[schema.case-study]\nrequired = [\"title\", \"date\", \"ngo\", \"sector\", \"program\", \"summary\", \"funder\", \"budget\"]\nfields = { funder = \"string\", budget = \"number\" }\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\", \"Mental Health\", \"Gender\", \"Civil Society\", \"Education\"]\n",
    );
    let out = site.run(&[
        "new",
        "case-study",
        "A new one",
        "--sector",
        "health, Gendr",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("\"Gendr\" is not one of the site's sectors"),
        "{err}"
    );
    assert!(err.contains("did you mean \"Gender\"?"), "{err}");
    assert!(
        !site
            .root()
            .join("content/case-studies/a-new-one.md")
            .exists()
    );
    assert!(!err.contains("nothing was written"), "{err}");

    let out = site.run(&[
        "new",
        "case-study",
        "A new one",
        "--sector",
        "health, gender",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = site.source("content/case-studies/a-new-one.md");
    assert!(text.contains("sector: [\"Health\", \"Gender\"]"), "{text}");
    assert!(text.contains("funder: \"\""), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("budget:") && !l.contains("\"\"")),
        "{text}"
    );
    let report_line = text.lines().find(|l| l.starts_with("report:")).unwrap();
    assert!(
        report_line.contains("year-2024") && !report_line.contains("next-year"),
        "{report_line}"
    );

    let out = site.run(&[
        "new",
        "report",
        "Another year",
        "--ngo",
        "SEARCH",
        "--program",
        "P",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("a report has no `ngo` (its case studies do), so `casebook new report` does not take --ngo"),
        "{}",
        stderr(&out)
    );
    assert!(!site.root().join("content/reports/another-year.md").exists());
}

#[test]
fn commands_find_the_site_from_inside_it() {
    let site = Site::from_fixture("basic");
    let inside = site.root().join("content/case-studies");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(args)
            .current_dir(&inside)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = run(&["check"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("No problems found"),
        "{}",
        stdout(&out)
    );
    let out = run(&["new", "case-study", "From inside"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        site.root()
            .join("content/case-studies/from-inside.md")
            .is_file()
    );
    let out = run(&["build"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(site.root().join("public/index.html").is_file());
    assert!(!inside.join("public").exists());
    // Outside any site, the message says what to do.
    let nowhere = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("check")
        .current_dir(nowhere.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a casebook site"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn messages_read_well() {
    // "1 report", not "1 reports".
    let site = Site::from_fixture("basic");
    let out = site.run(&["check"]);
    assert!(
        stdout(&out).contains("No problems found in 3 case studies and 1 report."),
        "{}",
        stdout(&out)
    );
    // `new` without the kind says what to write.
    let out = site.run(&["new", "SHOFCO education data pilot"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("write `casebook new case-study \"SHOFCO education data pilot\"`"),
        "{}",
        stderr(&out)
    );
    // init's errors do not speak of an output.
    let full = tempfile::tempdir().unwrap();
    std::fs::write(full.path().join("notes.txt"), "x").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("init")
        .arg(full.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !stderr(&out).contains("nothing was written"),
        "{}",
        stderr(&out)
    );
    // Carets under a quoted and a multi-word value; a did-you-mean inside
    // an outcome.
    site.append(
        "site.toml",
        "[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\", \"Mental Health\", \"Gender\", \"Civil Society\"]\n",
    );
    site.write(
        "content/case-studies/typos.md",
        "---\ntitle: T\ndate: 2024-01-01\nngo: N\nsector: [\"Heath\", Mental Helth]\nprogram: P\nsummary: S\noutcomes:\n  - metric: People reached\n    vaule: 3\n---\nBody.\n",
    );
    let err = stderr(&site.run(&["check"]));
    for expected in [
        "5 | sector: [\"Heath\", Mental Helth]\n  |           ^^^^^\n",
        "5 | sector: [\"Heath\", Mental Helth]\n  |                   ^^^^^^^^^^^^\n",
        "error: outcome 1 has no `value`\n  --> content/case-studies/typos.md:10:5",
        "did you mean `value`? This one is written `vaule`",
    ] {
        assert!(err.contains(expected), "{expected}\n{err}");
    }
}
