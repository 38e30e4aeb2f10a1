//! The preview server's incremental rebuilds must leave exactly the bytes a
//! clean `casebook build` writes, after any sequence of edits — and must
//! rewrite only what an edit touches.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use casebook::serve::{Changes, Session};
use casebook::{BuildOptions, Error};
use common::{Site, list_files};

const BASE: &str = "http://127.0.0.1:1111/";

/// Builds the site from scratch into `clean/` and compares every file with
/// the session's output.
fn assert_same_as_clean_build(site: &Site, out: &Path, step: &str) {
    let clean = site.root().join("clean");
    let _ = std::fs::remove_dir_all(&clean);
    let mut opts = BuildOptions::new(site.root());
    opts.output = clean.clone();
    opts.base_url = Some(BASE.to_string());
    casebook::build(&opts).unwrap_or_else(|e| panic!("{step}: clean build failed: {e:?}"));
    let a = list_files(out);
    let b = list_files(&clean);
    assert_eq!(a, b, "{step}: the set of files differs from a clean build");
    for f in &a {
        let x = std::fs::read(out.join(f)).unwrap();
        let y = std::fs::read(clean.join(f)).unwrap();
        assert!(x == y, "{step}: {f} differs from a clean build");
    }
}

fn changed(paths: &[&str]) -> Changes {
    let mut c = Changes::default();
    for p in paths {
        if *p == "site.toml" {
            c.config = true;
        } else if p.starts_with("themes/") {
            c.theme = true;
        } else if p.starts_with("static/") {
            c.statics = true;
        } else {
            c.content
                .insert(p.trim_start_matches("content/").to_string());
        }
    }
    c
}

struct Harness {
    site: Site,
    session: Session,
    out: std::path::PathBuf,
}

impl Harness {
    fn new() -> Harness {
        let site = Site::from_fixture("basic");
        let out = site.root().join("preview");
        let mut session = Session::new(site.root(), &out, BASE, false);
        session.rebuild(&Changes::all()).expect("first build");
        Harness { site, session, out }
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.site.root().join(rel)).unwrap()
    }

    /// Applies an edit and rebuilds; returns how many pages were rewritten,
    /// or the error.
    fn edit(&mut self, paths: &[&str], f: impl FnOnce(&Site)) -> Result<usize, Error> {
        f(&self.site);
        self.session
            .rebuild(&changed(paths))
            .map(|r| r.pages_written)
    }

    /// Whether the last rebuild wrote this output file.
    fn session_wrote(&self, path: &str) -> bool {
        self.session.last_written().iter().any(|p| p == path)
    }

    fn check(&self, step: &str) {
        assert_same_as_clean_build(&self.site, &self.out, step);
    }
}

#[test]
fn first_build_equals_a_clean_build() {
    let h = Harness::new();
    h.check("first build");
}

#[test]
fn editing_a_body_rewrites_only_that_page() {
    let mut h = Harness::new();
    let text = h.read("content/case-studies/chatbot.md").replace(
        "Answers arrive in minutes.",
        "Answers now arrive in seconds.",
    );
    let n = h
        .edit(&["content/case-studies/chatbot.md"], |s| {
            s.write("content/case-studies/chatbot.md", &text)
        })
        .unwrap();
    // Its own page and the feeds that carry its text; not the listings
    // that show its card (a card shows front matter only: the home page,
    // the report, the case-study list, its terms' pages), not the sitemap
    // (no date changed), not other pages.
    assert!(h.session_wrote("case-studies/chatbot/index.html"));
    assert!(h.session_wrote("atom.xml"));
    assert!(h.session_wrote("sector/health/atom.xml"));
    for listing in [
        "index.html",
        "case-studies/index.html",
        "reports/year-2024/index.html",
        "sector/health/index.html",
        "ngo/search/index.html",
        "sitemap.xml",
        "case-studies/network/index.html",
    ] {
        assert!(!h.session_wrote(listing), "a body edit rewrote {listing}");
    }
    let all = list_files(&h.out).len();
    assert!(n < all / 4, "rewrote {n} of {all} files for a body edit");
    let html = std::fs::read_to_string(h.out.join("case-studies/chatbot/index.html")).unwrap();
    assert!(html.contains("Answers now arrive in seconds."));
    h.check("body edit");
}

#[test]
fn an_unrelated_save_rewrites_nothing() {
    let mut h = Harness::new();
    let text = h.read("content/about.md");
    let n = h
        .edit(&["content/about.md"], |s| {
            s.write("content/about.md", &text)
        })
        .unwrap();
    assert_eq!(n, 0);
    h.check("no-op save");
}

#[test]
fn a_failed_rebuild_keeps_the_last_good_output_and_recovers() {
    let mut h = Harness::new();
    let before = std::fs::read(h.out.join("case-studies/chatbot/index.html")).unwrap();
    let good = h.read("content/case-studies/chatbot.md");
    let err = h
        .edit(&["content/case-studies/chatbot.md"], |s| {
            s.write(
                "content/case-studies/chatbot.md",
                "---\ntitle: [broken\n---\n",
            )
        })
        .unwrap_err();
    match err {
        Error::Diagnostics(d) => assert!(
            d.iter()
                .any(|d| d.file.ends_with("chatbot.md") && d.line == 2),
            "{d:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(h.out.join("case-studies/chatbot/index.html")).unwrap(),
        before
    );
    let fixed = good.replace("The challenge", "The first challenge");
    h.edit(&["content/case-studies/chatbot.md"], |s| {
        s.write("content/case-studies/chatbot.md", &fixed)
    })
    .unwrap();
    h.check("after recovering from an error");
}

/// A deterministic sequence of the edits writers make, checked against a
/// clean build after each one.
#[test]
fn any_sequence_of_edits_matches_a_clean_build() {
    let mut h = Harness::new();
    let cs = |title: &str, sector: &str, extra: &str| {
        format!(
            "---\ntitle: {title}\ndate: 2024-06-01\nngo: New NGO\nsector: {sector}\nprogram: Fractional CxO\ncountry: Ghana\nsummary: A new one.\n{extra}---\nBody of {title}.\n\nSee [the chatbot](@/case-studies/chatbot.md).\n"
        )
    };
    type Step = (&'static str, Vec<&'static str>, Box<dyn Fn(&Site)>);
    let steps: Vec<Step> = vec![
        (
            "add a case study",
            vec!["content/case-studies/fresh.md"],
            Box::new(move |s: &Site| {
                s.write("content/case-studies/fresh.md", &cs("Fresh", "Health", ""))
            }),
        ),
        (
            "change its sector",
            vec!["content/case-studies/fresh.md"],
            Box::new(move |s: &Site| {
                s.write(
                    "content/case-studies/fresh.md",
                    &cs("Fresh", "Water and Sanitation", ""),
                )
            }),
        ),
        (
            "put it in the report",
            vec!["content/case-studies/fresh.md"],
            Box::new(move |s: &Site| {
                s.write(
                    "content/case-studies/fresh.md",
                    &cs("Fresh", "Water and Sanitation", "report: year-2024\n"),
                )
            }),
        ),
        (
            "retitle the report",
            vec!["content/reports/year-2024.md"],
            Box::new(|s: &Site| {
                let t =
                    std::fs::read_to_string(s.root().join("content/reports/year-2024.md")).unwrap();
                s.write(
                    "content/reports/year-2024.md",
                    &t.replace("A year in review, 2024", "The year 2024 in review"),
                );
            }),
        ),
        (
            "make it a draft",
            vec!["content/case-studies/fresh.md"],
            Box::new(move |s: &Site| {
                s.write(
                    "content/case-studies/fresh.md",
                    &cs("Fresh", "Health", "draft: true\n"),
                )
            }),
        ),
        (
            "publish it again under a new title",
            vec!["content/case-studies/fresh.md"],
            Box::new(move |s: &Site| {
                s.write(
                    "content/case-studies/fresh.md",
                    &cs("Fresher", "Health", ""),
                )
            }),
        ),
        (
            "rename the linked-to file",
            vec![
                "content/case-studies/chatbot.md",
                "content/case-studies/chatbot-renamed.md",
                "content/about.md",
                "content/case-studies/fresh.md",
            ],
            Box::new(move |s: &Site| {
                std::fs::rename(
                    s.root().join("content/case-studies/chatbot.md"),
                    s.root().join("content/case-studies/chatbot-renamed.md"),
                )
                .unwrap();
                let about = std::fs::read_to_string(s.root().join("content/about.md")).unwrap();
                s.write(
                    "content/about.md",
                    &about.replace("chatbot.md", "chatbot-renamed.md"),
                );
                s.write(
                    "content/case-studies/fresh.md",
                    &cs("Fresher", "Health", "").replace("chatbot.md", "chatbot-renamed.md"),
                );
            }),
        ),
        (
            "delete a case study",
            vec!["content/case-studies/network.md"],
            Box::new(|s: &Site| {
                std::fs::remove_file(s.root().join("content/case-studies/network.md")).unwrap()
            }),
        ),
        (
            "edit the home page",
            vec!["content/_index.md"],
            Box::new(|s: &Site| {
                s.write(
                    "content/_index.md",
                    "---\ntitle: A new welcome\n---\nNew intro.\n",
                )
            }),
        ),
        (
            "add a static file",
            vec!["static/img/logo.svg"],
            Box::new(|s: &Site| {
                s.write(
                    "static/img/logo.svg",
                    "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
                )
            }),
        ),
        (
            "override the stylesheet",
            vec!["static/style.css"],
            Box::new(|s: &Site| s.write("static/style.css", "body{color:red}")),
        ),
        (
            "change the site title",
            vec!["site.toml"],
            Box::new(|s: &Site| {
                let t = std::fs::read_to_string(s.root().join("site.toml")).unwrap();
                s.write("site.toml", &t.replace("Basic fixture", "Renamed fixture"));
            }),
        ),
        (
            "override a template",
            vec!["site.toml", "themes/mine/templates/page.html"],
            Box::new(|s: &Site| {
                let t = std::fs::read_to_string(s.root().join("site.toml")).unwrap();
                s.write("site.toml", &format!("{t}\ntheme = \"mine\"\n"));
                s.write("themes/mine/templates/page.html", "{% extends \"base.html\" %}{% block content %}<p>mine: {{ page.title }}</p>{% endblock content %}");
            }),
        ),
        (
            "say a metric is not added up",
            vec!["site.toml"],
            Box::new(|s: &Site| {
                let t = std::fs::read_to_string(s.root().join("site.toml")).unwrap();
                s.write(
                    "site.toml",
                    &format!("{t}\n[outcomes]\naggregate = {{ \"People reached\" = \"none\" }}\n"),
                );
            }),
        ),
        (
            "remove the static file",
            vec!["static/img/logo.svg"],
            Box::new(|s: &Site| {
                std::fs::remove_file(s.root().join("static/img/logo.svg")).unwrap()
            }),
        ),
        (
            "add a page in a new folder",
            vec!["content/guides"],
            Box::new(|s: &Site| {
                s.write(
                    "content/guides/how-to.md",
                    "---\ntitle: How to\ndate: 2024-01-01\n---\nSteps.\n",
                )
            }),
        ),
        (
            "remove that folder",
            vec!["content/guides"],
            Box::new(|s: &Site| std::fs::remove_dir_all(s.root().join("content/guides")).unwrap()),
        ),
    ];
    let mut seen = BTreeSet::new();
    for (name, paths, f) in steps {
        let r = h.edit(&paths, f);
        assert!(r.is_ok(), "{name}: {:?}", r.err());
        h.check(name);
        seen.insert(name);
    }
    assert_eq!(seen.len(), 17);
}

#[test]
fn broken_link_target_appearing_fixes_the_linking_page() {
    let mut h = Harness::new();
    // A page that links to a file that does not exist yet fails...
    let r = h.edit(&["content/case-studies/later.md"], |s| {
        s.write(
            "content/case-studies/later.md",
            "---\ntitle: Later\ndate: 2024-02-02\nngo: N\nsector: Health\nprogram: P\nsummary: S\n---\nSee [soon](@/case-studies/soon.md).\n",
        )
    });
    assert!(r.is_err());
    // ...until the file appears; only the new file changed on disk.
    h.edit(&["content/case-studies/soon.md"], |s| {
        s.write(
            "content/case-studies/soon.md",
            "---\ntitle: Soon\ndate: 2024-02-03\nngo: N\nsector: Health\nprogram: P\nsummary: S\n---\nHere.\n",
        )
    })
    .unwrap();
    let later = std::fs::read_to_string(h.out.join("case-studies/later/index.html")).unwrap();
    assert!(later.contains("href=\"/case-studies/soon/\""), "{later}");
    h.check("link target appeared");
}

#[test]
fn changing_a_static_file_only_copies_it() {
    let mut h = Harness::new();
    h.edit(&["static/docs/guide.txt"], |s| {
        s.write("static/docs/guide.txt", "v1")
    })
    .unwrap();
    h.site.write("static/docs/guide.txt", "v2");
    let r = h
        .session
        .rebuild(&changed(&["static/docs/guide.txt"]))
        .unwrap();
    assert_eq!(r.pages_written, 0, "no page depends on it");
    assert_eq!(r.static_copied, 1);
    assert_eq!(
        std::fs::read_to_string(h.out.join("docs/guide.txt")).unwrap(),
        "v2"
    );
    h.check("static edit");
}

/// Saves that change only words (the usual save) take the fast path, which
/// reuses the index and plan; it must still write exactly what a clean build
/// writes, through errors and back.
#[test]
fn word_edits_take_the_fast_path_and_still_match_a_clean_build() {
    let mut h = Harness::new();
    let path = "content/case-studies/chatbot.md";
    let original = h.read(path);
    type Edit = (&'static str, Box<dyn Fn(&str) -> String>, bool);
    let edits: Vec<Edit> = vec![
        (
            "change a sentence",
            Box::new(|t: &str| {
                t.replace(
                    "Answers arrive in minutes.",
                    "Answers arrive within the hour.",
                )
            }),
            true,
        ),
        (
            "change the summary",
            Box::new(|t: &str| t.replace("between clinic visits", "between visits to the clinic")),
            true,
        ),
        (
            "add an outcome figure",
            Box::new(|t: &str| t.replace("value: 1200", "value: 1500")),
            true,
        ),
        (
            "add an updated date",
            Box::new(|t: &str| {
                t.replace("date: 2024-12-10", "date: 2024-12-10\nupdated: 2025-01-15")
            }),
            true,
        ),
        (
            "write about a new subject at length",
            Box::new(|t: &str| {
                format!(
                    "{t}\n\nTelepsychiatry sessions, telepsychiatry referrals and telepsychiatry follow-ups.\n"
                )
            }),
            true,
        ),
        (
            "change the unit of the first outcome",
            Box::new(|t: &str| t.replace("unit: people", "unit: families")),
            true,
        ),
        (
            "rename a heading",
            Box::new(|t: &str| t.replace("## The challenge", "## The first challenge")),
            false,
        ),
        (
            "break the front matter",
            Box::new(|t: &str| {
                t.replace(
                    "title: A mental-health chatbot in Gadchiroli",
                    "title: [oops",
                )
            }),
            false,
        ),
        (
            "fix it with new words",
            Box::new(|t: &str| {
                t.replace(
                    "Counsellors were stretched.",
                    "Counsellors were stretched thin.",
                )
            }),
            true,
        ),
        (
            "change the title",
            Box::new(|t: &str| {
                t.replace(
                    "A mental-health chatbot in Gadchiroli",
                    "A chatbot for mental health in Gadchiroli",
                )
            }),
            false,
        ),
    ];
    let mut text = original.clone();
    for (name, edit, fast) in edits {
        text = edit(&text);
        h.site.write(path, &text);
        let r = h.session.rebuild(&changed(&[path]));
        if name == "break the front matter" {
            assert!(r.is_err(), "{name}");
            // The broken title goes; the other edits stay.
            text = text.replace(
                "title: [oops",
                "title: A mental-health chatbot in Gadchiroli",
            );
            continue;
        }
        let r = r.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let took_fast_path = r
            .timings
            .stages
            .iter()
            .any(|(s, _)| *s == "reuse the index");
        assert_eq!(took_fast_path, fast, "{name}: fast path expected {fast}");
        if name == "write about a new subject at length" {
            assert!(h.session_wrote("search-index.json"), "{name}");
            assert!(!h.session_wrote("case-studies.json"), "{name}");
        }
        if name == "change the unit of the first outcome" {
            assert!(h.session_wrote("outcomes/index.html"), "{name}");
            assert!(h.session_wrote("sector/health/index.html"), "{name}");
        }
        h.check(name);
    }
}

/// A page bigger than the buffer pages are gathered in is written out as
/// it is made, into a temporary file renamed over the old one: the preview
/// must still match a clean build, and leave no temporary file behind.
#[test]
fn a_page_larger_than_the_write_buffer_is_replaced_whole() {
    let mut h = Harness::new();
    let path = "content/case-studies/chatbot.md";
    let long: String = (0..20_000)
        .map(|n| format!("Paragraph {n} of a very long account of the work.\n\n"))
        .collect();
    let text = format!("{}\n{long}", h.read(path));
    h.edit(&[path], |s| s.write(path, &text)).unwrap();
    let html = std::fs::read_to_string(h.out.join("case-studies/chatbot/index.html")).unwrap();
    assert!(html.len() > 1024 * 1024, "{}", html.len());
    assert!(html.contains("Paragraph 19999 of a very long account of the work."));
    assert!(
        !list_files(&h.out)
            .iter()
            .any(|f| f.contains("casebook-tmp")),
        "a temporary file was left behind"
    );
    h.check("a page of more than 1 MB");
}

/// A term's outcome totals name the case studies behind a small figure on
/// every page of the term's list, not only on the page whose cards include
/// them: retitling the one case study behind a figure must reach them all.
#[test]
fn retitling_the_page_behind_a_figure_reaches_every_page_of_its_term() {
    let site = Site::empty("title = \"T\"\ntheme = \"behind\"\npaginate_by = 2\n");
    // The default theme shows the case studies behind a figure on
    // /outcomes/ only; a theme may show them on term pages too.
    site.write(
        "themes/behind/templates/term.html",
        "{% extends \"base.html\" %}{% block content %}<h1>{{ term.name }}</h1>\
         {% for m in outcomes %}<p>{{ m.metric }}:{% for p in m.pages %} <a href=\"{{ p.url }}\">{{ p.title }}</a>{% endfor %}</p>{% endfor %}\
         {% for c in items %}{{ c.html }}{% endfor %}{% endblock content %}",
    );
    let cs = |n: usize, title: &str, extra: &str| {
        format!(
            "---\ntitle: {title}\ndate: 2024-06-{:02}\nngo: NGO {n}\nsector: Health\nprogram: P\nsummary: S.\n{extra}---\nText.\n",
            10 - n
        )
    };
    for n in 0..4 {
        site.write(
            &format!("content/case-studies/c{n}.md"),
            &cs(n, &format!("Case {n}"), ""),
        );
    }
    let outcome = "outcomes:\n  - metric: wells dug\n    value: 3\n";
    // The oldest: its card is on the second page of the sector's list.
    site.write("content/case-studies/c4.md", &cs(4, "Case 4", outcome));
    let out = site.root().join("preview");
    let mut session = Session::new(site.root(), &out, BASE, false);
    session.rebuild(&Changes::all()).expect("first build");
    let first = std::fs::read_to_string(out.join("sector/health/index.html")).unwrap();
    assert!(
        first.contains("Case 4"),
        "the first page's totals name the case study"
    );
    assert!(!first.contains("Retitled"));

    site.write("content/case-studies/c4.md", &cs(4, "Retitled", outcome));
    session
        .rebuild(&changed(&["content/case-studies/c4.md"]))
        .expect("the edit builds");
    let first = std::fs::read_to_string(out.join("sector/health/index.html")).unwrap();
    assert!(first.contains("Retitled"), "{first}");
    assert_same_as_clean_build(&site, &out, "retitle");
}

#[test]
fn a_new_case_study_leaves_unrelated_pages_alone() {
    let mut h = Harness::new();
    let cs = |title: &str, sector: &str| {
        format!(
            "---\ntitle: {title}\ndate: 2024-07-01\nngo: Lone NGO {title}\nsector: {sector}\nprogram: Solo Programme\ncountry: Iceland\nsummary: Alone.\n---\nBody.\n"
        )
    };
    // Shares no term with any case study: no other page's related list,
    // terms or links change, only counts and listings.
    h.edit(&["content/case-studies/lone.md"], |s| {
        s.write("content/case-studies/lone.md", &cs("Lone", "Oceans"))
    })
    .unwrap();
    assert!(h.session_wrote("case-studies/lone/index.html"));
    assert!(h.session_wrote("case-studies/index.html"));
    assert!(h.session_wrote("atom.xml"));
    for path in [
        "case-studies/chatbot/index.html",
        "case-studies/data-culture/index.html",
        "case-studies/network/index.html",
        "sector/health/atom.xml",
        "program/fractional-cxo/atom.xml",
        "sector/health/index.html",
        "program/fractional-cxo/index.html",
    ] {
        assert!(h.out.join(path).is_file(), "{path} is not in the output");
        assert!(!h.session_wrote(path), "adding lone.md rewrote {path}");
    }
    h.check("add an unrelated case study");

    // Older case studies join its sector, which shows two a page: the
    // first page keeps its cards but not its count.
    let older = |title: &str, year: u32| {
        format!(
            "---\ntitle: {title}\ndate: {year}-01-01\nngo: Lone NGO\nsector: Oceans\nprogram: Solo Programme\ncountry: Iceland\nsummary: Older.\n---\nBody.\n"
        )
    };
    h.edit(&["content/case-studies/older-1.md"], |s| {
        s.write("content/case-studies/older-1.md", &older("Older one", 2020))
    })
    .unwrap();
    h.edit(&["content/case-studies/older-2.md"], |s| {
        s.write("content/case-studies/older-2.md", &older("Older two", 2019))
    })
    .unwrap();
    assert!(h.session_wrote("sector/oceans/index.html"));
    h.check("a term's first page keeps its cards");

    // Two new pages spell "Gender" in lower case, outnumbering the one
    // that capitalises it: the term's name changes on that page too, which
    // has nothing else new (with sectors left out of related case
    // studies, the new pages are not related to it).
    let toml = h.read("site.toml") + "\n[related]\nweights = { sector = 0 }\n";
    h.edit(&["site.toml"], |s| s.write("site.toml", &toml))
        .unwrap();
    h.edit(
        &["content/case-studies/one.md", "content/case-studies/two.md"],
        |s| {
            s.write("content/case-studies/one.md", &cs("One", "gender"));
            s.write("content/case-studies/two.md", &cs("Two", "gender"));
        },
    )
    .unwrap();
    // Its page, the feeds its entry is in (a category per term) and the
    // term pages showing its card.
    assert!(h.session_wrote("case-studies/data-culture/index.html"));
    assert!(h.session_wrote("program/fractional-cxo/atom.xml"));
    assert!(h.session_wrote("program/fractional-cxo/index.html"));
    let html = std::fs::read_to_string(h.out.join("case-studies/data-culture/index.html")).unwrap();
    assert!(
        html.contains(">gender</a>"),
        "the term's name did not change"
    );
    h.check("a term's name changes");
}

#[test]
fn a_saved_link_out_of_the_site_is_refused_by_the_preview_too() {
    let mut h = Harness::new();
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("story.md");
    std::fs::write(
        &secret,
        "---\ntitle: the secret\ndate: 2024-01-01\nngo: N\nsector: S\nprogram: P\nsummary: s\n---\nthe secret\n",
    )
    .unwrap();
    let err = h
        .edit(&["content/case-studies/story.md"], |site| {
            std::os::unix::fs::symlink(&secret, site.root().join("content/case-studies/story.md"))
                .unwrap()
        })
        .expect_err("a link out of the site is an error");
    let Error::Diagnostics(d) = err else {
        panic!("{err:?}")
    };
    assert!(
        d.iter()
            .any(|d| d.file == Path::new("content/case-studies/story.md")
                && d.message.starts_with("this is a symbolic link to")),
        "{d:?}"
    );
    let all: String = list_files(&h.out)
        .iter()
        .map(|f| std::fs::read_to_string(h.out.join(f)).unwrap_or_default())
        .collect();
    assert!(!all.contains("the secret"));
}

/// A small random number generator (xorshift), so the sequence below is the
/// same on every run and a failure can be replayed from its step number.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// What a random edit can change about one case study; written out whole
/// after every edit, so the file is always one a writer could have saved.
#[derive(Clone)]
struct Story {
    file: String,
    title: String,
    slug: Option<String>,
    sector: &'static str,
    country: &'static str,
    tags: Vec<&'static str>,
    report: bool,
    draft: bool,
    value: u32,
    body: Vec<String>,
    /// Other case studies' files it links to with `@/`.
    links: Vec<String>,
}

impl Story {
    fn text(&self) -> String {
        let mut t = format!(
            "---\ntitle: {}\ndate: 2024-05-{:02}\nngo: NGO {}\nsector: {}\nprogram: Fractional CxO\ncountry: {}\ntags: [{}]\nsummary: About {}.\n",
            self.title,
            1 + self.value % 28,
            self.file.len() % 3,
            self.sector,
            self.country,
            self.tags.join(", "),
            self.title
        );
        if let Some(slug) = &self.slug {
            t += &format!("slug: {slug}\n");
        }
        if self.report {
            t += "report: year-2024\n";
        }
        if self.draft {
            t += "draft: true\n";
        }
        t += &format!(
            "outcomes:\n  - metric: People reached\n    value: {}\n    unit: people\n---\n",
            self.value
        );
        for line in &self.body {
            t += &format!("{line}\n\n");
        }
        for l in &self.links {
            t += &format!("See [that story](@/case-studies/{l}).\n\n");
        }
        t
    }
}

/// At least 200 random edits of every kind a writer or designer makes —
/// bodies, titles, slugs, terms, reports, drafts, new files, deletions,
/// renames, links, templates, site.toml — each followed by a rebuild that
/// must leave exactly what a clean build makes. When an edit breaks the
/// site (a link to a deleted page), the preview must fail where the clean
/// build fails, and recover with the edit that mends it.
#[test]
fn two_hundred_random_edits_each_match_a_clean_build() {
    let site = Site::from_fixture("basic");
    // A theme on disk, so templates can be edited too.
    let theme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates");
    common::copy_dir(&theme, &site.root().join("themes/t/templates"));
    let toml = |title: &str, paginate: usize| {
        format!(
            "title = \"{title}\"\ndescription = \"A site edited at random.\"\nbase_url = \"https://fixture.example/\"\npaginate_by = {paginate}\ntheme = \"t\"\n"
        )
    };
    site.write("site.toml", &toml("Random fixture", 2));
    for f in [
        "chatbot.md",
        "data-culture.md",
        "network.md",
        "unfinished.md",
    ] {
        std::fs::remove_file(site.root().join("content/case-studies").join(f)).unwrap();
    }
    let sectors = ["Health", "Gender", "Water and Sanitation", "Education"];
    let countries = ["India", "Kenya", "Ghana", "Chile"];
    let tag_pool = ["dashboards", "whatsapp", "chatbots", "training", "Radio"];
    let mut stories: Vec<Story> = (0..6)
        .map(|i| Story {
            file: format!("story-{i}.md"),
            title: format!("Story {i}"),
            slug: None,
            sector: sectors[i % 4],
            country: countries[i % 3],
            tags: vec![tag_pool[i % 5]],
            report: i % 2 == 0,
            draft: false,
            value: 100 + i as u32,
            body: vec![format!("The body of story {i}.")],
            links: vec![],
        })
        .collect();
    for s in &stories {
        site.write(&format!("content/case-studies/{}", s.file), &s.text());
    }
    let about = |target: &str| {
        format!(
            "---\ntitle: About\ndate: 2024-01-01\nsummary: What this fixture is.\n---\nSee [a story](@/case-studies/{target}) and [all of them](/case-studies/).\n"
        )
    };
    let mut about_target = "story-0.md".to_string();
    site.write("content/about.md", &about(&about_target));

    let out = site.root().join("preview");
    let mut session = Session::new(site.root(), &out, BASE, false);
    session.rebuild(&Changes::all()).expect("first build");
    assert_same_as_clean_build(&site, &out, "first build");

    let templates = [
        ("base.html", "</body>"),
        ("case-study.html", "{% endblock content %}"),
        ("components.html", "{%- endcomponent card %}"),
        ("term.html", "{% endblock content %}"),
        ("list.html", "{% endblock content %}"),
        ("page.html", "{% endblock content %}"),
        ("atom.xml", "</feed>"),
        ("sitemap.xml", "</urlset>"),
        ("report.html", "{% endblock content %}"),
        ("index.html", "{% endblock content %}"),
    ];
    let mut rng = Rng(0x5eed_cafe);
    let mut kinds = BTreeSet::new();
    let (mut ok, mut failed) = (0, 0);
    let mut next_file = stories.len();
    for step in 0..220 {
        let mut paths: Vec<String> = Vec::new();
        let i = rng.below(stories.len());
        let cs = |f: &str| format!("content/case-studies/{f}");
        // A deletion or rename may leave links to the old file for one
        // step (the site fails to build); the writer then mends them.
        // (A draft is not published: a link to one is broken too.)
        if stories.iter().all(|s| s.draft) {
            stories[0].draft = false;
        }
        let files: Vec<String> = stories
            .iter()
            .filter(|s| !s.draft)
            .map(|s| s.file.clone())
            .collect();
        for s in &mut stories {
            s.links.retain(|l| files.contains(l));
        }
        if !files.contains(&about_target) {
            about_target = files[0].clone();
            site.write("content/about.md", &about(&about_target));
            paths.push("content/about.md".into());
        }
        let kind = match rng.below(15) {
            0 | 1 => {
                stories[i].body.push(format!("Step {step} added this."));
                "body"
            }
            2 => {
                stories[i].title = format!("Story retitled at {step}");
                "title"
            }
            3 => {
                stories[i].slug = match stories[i].slug {
                    None => Some(format!("slug-{step}")),
                    Some(_) if rng.below(2) == 0 => Some(format!("slug-{step}")),
                    Some(_) => None,
                };
                "slug"
            }
            4 => {
                stories[i].sector = *rng.pick(&sectors);
                stories[i].country = *rng.pick(&countries);
                "terms"
            }
            5 => {
                let tag = *rng.pick(&tag_pool);
                if let Some(at) = stories[i].tags.iter().position(|t| *t == tag) {
                    stories[i].tags.remove(at);
                } else {
                    stories[i].tags.push(tag);
                }
                "tags"
            }
            6 => {
                stories[i].report = !stories[i].report;
                "report"
            }
            7 => {
                stories[i].draft = !stories[i].draft;
                "draft"
            }
            8 => {
                stories[i].value = 50 + rng.below(5000) as u32;
                "outcome"
            }
            9 => {
                let target = rng.pick(&stories).file.clone();
                if stories[i].links.contains(&target) {
                    stories[i].links.retain(|l| *l != target);
                } else {
                    stories[i].links.push(target);
                }
                "link"
            }
            10 => {
                about_target = rng.pick(&stories).file.clone();
                site.write("content/about.md", &about(&about_target));
                paths.push("content/about.md".into());
                "about"
            }
            11 if stories.len() > 3 && rng.below(2) == 0 => {
                let gone = stories.remove(i);
                std::fs::remove_file(site.root().join(cs(&gone.file))).unwrap();
                paths.push(cs(&gone.file));
                if rng.below(3) > 0 {
                    for s in &mut stories {
                        s.links.retain(|l| *l != gone.file);
                    }
                }
                "delete"
            }
            11 => {
                let mut s = stories[i].clone();
                s.file = format!("story-{next_file}.md");
                s.title = format!("New story {next_file}");
                s.links.clear();
                s.slug = None;
                next_file += 1;
                stories.push(s);
                "add"
            }
            12 => {
                let old = stories[i].file.clone();
                stories[i].file = format!("story-{next_file}.md");
                next_file += 1;
                std::fs::remove_file(site.root().join(cs(&old))).unwrap();
                paths.push(cs(&old));
                if rng.below(3) > 0 {
                    let new = stories[i].file.clone();
                    for s in &mut stories {
                        for l in &mut s.links {
                            if *l == old {
                                *l = new.clone();
                            }
                        }
                    }
                    if about_target == old {
                        about_target = new;
                        site.write("content/about.md", &about(&about_target));
                        paths.push("content/about.md".into());
                    }
                }
                "rename"
            }
            13 => {
                let (name, anchor) = rng.pick(&templates);
                let rel = format!("themes/t/templates/{name}");
                let text = site.source(&rel);
                let at = text.rfind(anchor).unwrap();
                let mark = if name.ends_with(".xml") {
                    format!("<!-- step {step} -->")
                } else {
                    format!("<i>step {step}</i>")
                };
                site.write(&rel, &format!("{}{mark}{}", &text[..at], &text[at..]));
                paths.push(rel);
                "template"
            }
            _ => {
                let title = *rng.pick(&["Random fixture", "Renamed fixture", "Third name"]);
                site.write("site.toml", &toml(title, 1 + rng.below(3)));
                paths.push("site.toml".into());
                "site.toml"
            }
        };
        kinds.insert(kind);
        // Every story is written out again as the model says; only the
        // files whose text changed count as changed, as the watcher sees it.
        for s in &stories {
            let rel = cs(&s.file);
            let text = s.text();
            if !site.root().join(&rel).exists() || site.source(&rel) != text {
                site.write(&rel, &text);
                paths.push(rel);
            }
        }
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let what = format!("step {step} ({kind})");
        let preview = session.rebuild(&changed(&refs));
        let mut opts = BuildOptions::new(site.root());
        opts.output = site.root().join("clean");
        opts.base_url = Some(BASE.to_string());
        let clean = casebook::build(&opts);
        match (&preview, &clean) {
            (Ok(_), Ok(_)) => {
                ok += 1;
                assert_same_as_clean_build(&site, &out, &what);
                // `serve --verify` makes the same comparison itself.
                if step % 20 == 0 {
                    assert_eq!(session.verify().unwrap(), Vec::<String>::new(), "{what}");
                }
            }
            (Err(_), Err(_)) => failed += 1,
            _ => panic!(
                "{what}: the preview {} but a clean build {}",
                match &preview {
                    Ok(_) => "built".to_string(),
                    Err(e) => format!("failed ({e:?})"),
                },
                match &clean {
                    Ok(_) => "built".to_string(),
                    Err(e) => format!("failed ({e:?})"),
                },
            ),
        }
    }
    assert_eq!(kinds.len(), 15, "every kind of edit was made: {kinds:?}");
    assert!(ok >= 150, "only {ok} of 220 steps built ({failed} failed)");
    assert!(
        failed >= 3,
        "no edit broke the site: recovery went untested"
    );
}

/// Giving a page a `slug:` moves it; a page linking to it with `@/` must
/// follow in the preview as in a clean build.
#[test]
fn a_new_slug_moves_links_to_the_page() {
    let mut h = Harness::new();
    let text = h.read("content/case-studies/chatbot.md").replacen(
        "---\n",
        "---\nslug: whatsapp-helper\n",
        1,
    );
    h.edit(&["content/case-studies/chatbot.md"], |s| {
        s.write("content/case-studies/chatbot.md", &text)
    })
    .unwrap();
    let about = std::fs::read_to_string(h.out.join("about/index.html")).unwrap();
    assert!(
        about.contains("/case-studies/whatsapp-helper/#what-changed"),
        "about.md still links the old address"
    );
    h.check("a slug added to a linked page");
}

/// Photos in the preview: adding one to a page, its consent running out,
/// its file replaced by another photo. After each, the preview is the
/// clean build, byte for byte (copies, clean originals and all).
#[test]
fn photo_edits_leave_the_preview_equal_to_a_clean_build() {
    let mut h = Harness::new();
    let jpeg = |w: u32, h: u32, shade: u8| {
        let img = image::RgbImage::from_fn(w, h, |x, _| image::Rgb([shade, (x % 256) as u8, 90]));
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
            .encode_image(&img)
            .unwrap();
        out
    };
    let root = h.site.root().to_path_buf();
    std::fs::create_dir_all(root.join("static/images")).unwrap();
    std::fs::write(root.join("static/images/desk.jpg"), jpeg(700, 400, 10)).unwrap();
    let page = "content/case-studies/chatbot.md";
    let text = h.read(page).replace(
        "summary:",
        "image: /images/desk.jpg\nimage_alt: A help desk with a phone on it\nimage_consent:\n  given: 2024-01-01\n  expires: 2099-01-01\nsummary:",
    );
    let changes = Changes::from_paths(
        &root,
        [root.join("static/images/desk.jpg"), root.join(page)],
    );
    h.site.write(page, &text);
    h.session.rebuild(&changes).expect("photo added");
    assert!(
        h.read("preview/case-studies/chatbot/index.html")
            .contains("<picture>")
    );
    h.check("a photo added");

    // Its consent ends: gone from the page and from /images/.
    h.site
        .write(page, &text.replace("2099-01-01", "2020-01-01"));
    h.session
        .rebuild(&Changes::from_paths(&root, [root.join(page)]))
        .expect("consent ended");
    assert!(
        !h.read("preview/case-studies/chatbot/index.html")
            .contains("<picture>")
    );
    assert!(!root.join("preview/images/desk.jpg").exists());
    h.check("its consent ended");

    // Renewed, then the photo itself replaced: new copies, under new names.
    h.site.write(page, &text);
    h.session
        .rebuild(&Changes::from_paths(&root, [root.join(page)]))
        .expect("consent renewed");
    let before = h.read("preview/case-studies/chatbot/index.html");
    std::fs::write(root.join("static/images/desk.jpg"), jpeg(900, 500, 200)).unwrap();
    h.session
        .rebuild(&Changes::from_paths(
            &root,
            [root.join("static/images/desk.jpg")],
        ))
        .expect("photo replaced");
    let after = h.read("preview/case-studies/chatbot/index.html");
    assert_ne!(before, after, "the page names the new copies");
    h.check("the photo replaced");
}
