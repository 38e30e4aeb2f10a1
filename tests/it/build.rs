//! `casebook build` on fixture sites: the URLs a reader expects exist, terms
//! group the way writers spell them, pagination, drafts, escaping, subpaths,
//! theme overrides, and bad input leaving the previous output alone.

use crate::common;

use std::path::Path;

use common::{Site, attr_values, card_titles, stderr, stdout};

#[test]
fn every_url_of_the_design_exists() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    for path in [
        "index.html",
        "404.html",
        "case-studies/index.html",
        "case-studies/page/2/index.html",
        "case-studies/chatbot/index.html",
        "case-studies/data-culture/index.html",
        "case-studies/network/index.html",
        "reports/index.html",
        "reports/year-2024/index.html",
        "about/index.html",
        "ngo/index.html",
        "ngo/search/index.html",
        "sector/index.html",
        "sector/mental-health/index.html",
        "program/fractional-cxo/index.html",
        "country/kenya/index.html",
        "tags/index.html",
        "tags/dashboards/index.html",
        "style.css",
    ] {
        assert!(site.exists(path), "missing {path}; have {:?}", site.files());
    }
    // No `page/1/`: the first page is the listing itself.
    assert!(!site.exists("case-studies/page/1/index.html"));
}

#[test]
fn summary_line_counts_pages_terms_and_time() {
    let site = Site::from_fixture("basic");
    let out = site.build(&[]);
    let line = stdout(&out);
    assert!(line.contains("3 case studies"), "{line}");
    assert!(line.contains("1 report"), "{line}");
    assert!(
        line.contains("ngo 3, sector 4, program 2, country 3, tags 3"),
        "{line}"
    );
    assert!(line.contains(" ms"), "{line}");
    // The memory the build took, in whole MiB, on the same line.
    let mib: Option<u64> = line
        .split("peak memory ")
        .nth(1)
        .and_then(|rest| rest.split(" MiB").next())
        .and_then(|n| n.parse().ok());
    assert!(mib.is_some_and(|m| m > 0), "{line}");
    // --timings adds a line per stage.
    let timed = stdout(&site.build(&["--timings"]));
    for stage in ["read", "parse", "render and write"] {
        assert!(
            timed
                .lines()
                .any(|l| l.trim_start().starts_with(stage) && l.ends_with(" ms")),
            "{stage} missing from {timed}"
        );
    }
}

#[test]
fn taxonomy_index_lists_terms_with_counts() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let html = site.read("tags/index.html");
    // "Dashboards" and "dashboards" are one term with two case studies,
    // shown capitalised when the spellings are equally common.
    assert!(
        html.contains(
            "href=\"/tags/dashboards/\">Dashboards</a> <span class=\"count\">2 case studies</span>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "href=\"/tags/chatbots/\">chatbots</a> <span class=\"count\">1 case study</span>"
        ),
        "{html}"
    );
    assert_eq!(html.matches("/tags/dashboards/").count(), 1);
}

#[test]
fn term_pages_list_case_studies_newest_first() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let html = site.read("program/fractional-cxo/index.html");
    assert_eq!(
        card_titles(&html),
        [
            "A mental-health chatbot in Gadchiroli",
            "A data culture in a gender programme"
        ]
    );
}

#[test]
fn reports_show_their_case_studies_and_case_studies_link_back() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let report = site.read("reports/year-2024/index.html");
    assert_eq!(
        card_titles(&report),
        [
            "A mental-health chatbot in Gadchiroli",
            "A data culture in a gender programme"
        ]
    );
    assert!(report.contains("SHOFCO"), "cards show the NGO");
    assert!(report.contains("Gender"), "cards show the sector");
    assert!(
        report.contains("Dashboards the field team trusts."),
        "cards show the summary"
    );
    let cs = site.read("case-studies/chatbot/index.html");
    assert!(
        cs.contains("href=\"/reports/year-2024/\""),
        "case study links to its report"
    );
    let other = site.read("case-studies/network/index.html");
    assert!(
        !other.contains("/reports/year-2024/\">A year"),
        "no report, no link"
    );
}

#[test]
fn home_page_has_intro_latest_reports_and_taxonomies() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let home = site.read("index.html");
    assert!(home.contains("<h1>Welcome to the fixture</h1>"), "{home}");
    assert!(home.contains("This site exists so tests can <strong>build</strong> it."));
    assert_eq!(
        card_titles(&home),
        [
            "A mental-health chatbot in Gadchiroli",
            "A data culture in a gender programme",
            "Local stories from a network summit",
            "A year in review, 2024",
        ]
    );
    for t in ["/ngo/", "/sector/", "/program/", "/country/", "/tags/"] {
        assert!(
            attr_values(&home, "href").iter().any(|h| h == t),
            "home links to {t}"
        );
    }
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    assert!(!site.exists("case-studies/unfinished/index.html"));
    assert!(
        !site
            .read("sector/health/index.html")
            .contains("An unfinished draft")
    );
    assert!(!site.exists("ngo/draft-ngo/index.html"));

    site.build(&["--drafts"]);
    assert!(site.exists("case-studies/unfinished/index.html"));
    assert!(
        site.read("sector/health/index.html")
            .contains("An unfinished draft")
    );
    assert!(site.exists("ngo/draft-ngo/index.html"));
}

#[test]
fn markdown_links_resolve_source_files_and_site_paths() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let about = site.read("about/index.html");
    assert!(
        about.contains("href=\"/case-studies/chatbot/#what-changed\""),
        "{about}"
    );
    assert!(about.contains("href=\"/sector/health/\""), "{about}");
}

/// Every root-relative URL in every page, with the base path it must start with.
fn check_all_links_under(site: &Site, base: &str) {
    let mut checked = 0;
    for file in site.files().iter().filter(|f| f.ends_with(".html")) {
        let html = site.read(file);
        for attr in ["href", "src", "action"] {
            for v in attr_values(&html, attr) {
                if v.starts_with('#') || v.starts_with("http") || v.starts_with("mailto:") {
                    continue;
                }
                assert!(
                    v.starts_with(base),
                    "{file}: {attr}=\"{v}\" is outside {base}"
                );
                // And it points at a file we wrote.
                let path = v[base.len()..]
                    .split(['?', '#'])
                    .next()
                    .unwrap()
                    .to_string();
                let target = if path.is_empty() || path.ends_with('/') {
                    format!("{path}index.html")
                } else {
                    path
                };
                assert!(
                    site.exists(&target),
                    "{file}: {attr}=\"{v}\" points at nothing"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} links checked");
}

#[test]
fn links_work_at_a_domain_root() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    check_all_links_under(&site, "/");
}

#[test]
fn links_stay_under_a_subpath() {
    let site = Site::from_fixture("basic");
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    check_all_links_under(&site, "/learning/");
    let about = site.read("about/index.html");
    assert!(
        about.contains("href=\"/learning/sector/health/\""),
        "site-relative Markdown link gets the base path"
    );
    assert!(about.contains("href=\"/learning/case-studies/chatbot/#what-changed\""));
}

#[test]
fn subpath_from_site_toml() {
    let site = Site::from_fixture("basic");
    let toml = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write(
        "site.toml",
        &toml.replace("https://fixture.example/", "https://ngo.example/learning"),
    );
    site.build(&[]);
    check_all_links_under(&site, "/learning/");
}

#[test]
fn theme_override_wins_and_the_rest_falls_back() {
    let site = Site::from_fixture("basic");
    site.append("site.toml", "theme = \"custom\"\n");
    site.write(
        "themes/custom/templates/case-study.html",
        "{% extends \"base.html\" %}{% block content %}<p class=\"custom\">Custom: {{ page.title }}</p>{% endblock content %}",
    );
    site.write("themes/custom/static/extra.css", "body{}");
    site.build(&[]);
    let cs = site.read("case-studies/chatbot/index.html");
    assert!(
        cs.contains("<p class=\"custom\">Custom: A mental-health chatbot in Gadchiroli</p>"),
        "{cs}"
    );
    // Other templates still come from the built-in theme.
    assert!(
        site.read("reports/year-2024/index.html")
            .contains("Case studies in this report")
    );
    assert!(site.exists("extra.css"));
    assert!(site.exists("style.css"));
}

/// casebook writes the built-in theme's cards itself; a theme that changes
/// the `card` component gets its own card in every list instead.
#[test]
fn a_themes_card_component_shows_in_every_list() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let lists = [
        "index.html",
        "case-studies/index.html",
        "sector/health/index.html",
        "reports/year-2024/index.html",
    ];
    let default_cards: Vec<Vec<String>> =
        lists.iter().map(|l| card_titles(&site.read(l))).collect();
    for (l, cards) in lists.iter().zip(&default_cards) {
        assert!(!cards.is_empty(), "{l}");
        assert!(!site.read(l).contains("data-theme-card"), "{l}");
    }

    let components = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/components.html"),
    )
    .unwrap();
    let mine = components.replace(
        "<article class=\"card card-{{ c.kind }}{% if c.draft %} card-draft{% endif %}\">",
        "<article data-theme-card class=\"card card-{{ c.kind }}{% if c.draft %} card-draft{% endif %}\">",
    );
    assert_ne!(mine, components);
    site.write("themes/cards/templates/components.html", &mine);
    site.append("site.toml", "theme = \"cards\"\n");
    site.build(&[]);
    for (l, cards) in lists.iter().zip(&default_cards) {
        let html = site.read(l);
        assert_eq!(&card_titles(&html), cards, "{l}");
        assert_eq!(html.matches("data-theme-card").count(), cards.len(), "{l}");
    }
}

/// Case-study and term pages are written without Tera while the theme's
/// templates for them are the built-in ones; a theme that overrides any of
/// them (the page's own, or `base.html`) sees its template in the page.
#[test]
fn a_themes_page_templates_are_used_for_case_studies_and_terms() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let pages = [
        "case-studies/chatbot/index.html",
        "sector/health/index.html",
    ];
    let built_in: Vec<String> = pages.iter().map(|p| site.read(p)).collect();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates");
    let edited = |name: &str, from: &str, to: &str| {
        let source = std::fs::read_to_string(templates.join(name)).unwrap();
        let mine = source.replacen(from, to, 1);
        assert_ne!(mine, source, "{name}");
        mine
    };
    for (n, (name, from, to, shows_in)) in [
        ("case-study.html", "<h1>", "<h1 data-mine>", &pages[..1]),
        ("term.html", "<h1>", "<h1 data-mine>", &pages[1..]),
        ("base.html", "<main ", "<main data-mine ", &pages[..]),
    ]
    .into_iter()
    .enumerate()
    {
        let theme = format!("mine{n}");
        site.write(
            &format!("themes/{theme}/templates/{name}"),
            &edited(name, from, to),
        );
        site.write(
            "site.toml",
            &site
                .source("site.toml")
                .lines()
                .filter(|l| !l.starts_with("theme ="))
                .chain([format!("theme = \"{theme}\"").as_str()])
                .collect::<Vec<_>>()
                .join("\n"),
        );
        site.build(&[]);
        for (p, before) in pages.iter().zip(&built_in) {
            let html = site.read(p);
            if shows_in.contains(p) {
                assert_eq!(html.matches(" data-mine").count(), 1, "{name}: {p}");
                assert_eq!(html.replacen(" data-mine", "", 1), *before, "{name}: {p}");
            } else {
                assert_eq!(&html, before, "{name}: {p}");
            }
        }
    }
}

#[test]
fn a_missing_theme_is_an_error() {
    let site = Site::from_fixture("basic");
    site.append("site.toml", "theme = \"nope\"\n");
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("theme \"nope\" not found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn site_static_files_are_copied() {
    let site = Site::from_fixture("basic");
    site.write(
        "static/images/logo.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    );
    site.write("static/downloads/report.pdf", "%PDF-1.4");
    site.build(&[]);
    assert!(site.exists("images/logo.svg"));
    assert_eq!(site.read("downloads/report.pdf"), "%PDF-1.4");
}

#[test]
fn stylesheet_url_carries_a_content_version() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let css = attr_values(&site.read("index.html"), "href")
        .into_iter()
        .find(|h| h.contains("style.css"))
        .unwrap();
    assert!(css.starts_with("/style.css?v="), "{css}");
    site.write("static/style.css", "body { color: red }");
    site.build(&[]);
    let css2 = attr_values(&site.read("index.html"), "href")
        .into_iter()
        .find(|h| h.contains("style.css"))
        .unwrap();
    assert_ne!(css, css2, "a changed stylesheet gets a new URL");
    assert_eq!(site.read("style.css"), "body { color: red }");
}

#[test]
fn output_is_reproducible() {
    let a = Site::from_fixture("basic");
    a.build(&[]);
    let b = Site::from_fixture("basic");
    b.build(&[]);
    assert_eq!(a.files(), b.files());
    for f in a.files() {
        assert_eq!(
            std::fs::read(a.out().join(&f)).unwrap(),
            std::fs::read(b.out().join(&f)).unwrap(),
            "{f} differs between two builds"
        );
    }
}

#[test]
fn the_example_site_builds_without_warnings() {
    let site = common::example_site();
    let out = site.build(&[]);
    // But one: the example of a photo whose consent has run out.
    let err = stderr(&out);
    let warnings: Vec<&str> = err.split("\n\n").filter(|b| !b.trim().is_empty()).collect();
    assert_eq!(
        warnings.len(),
        1,
        "the example site should build with one warning:\n{err}"
    );
    assert!(
        warnings[0].starts_with("warning: the photo `/images/field.jpg` is left out of the site: its consent expired on 10 April 2025"),
        "{err}"
    );
    assert!(stdout(&out).contains("left out for consent: 1 photo"));
    let summary = stdout(&out);
    let n: usize = summary
        .split(" case studies")
        .next()
        .and_then(|s| s.rsplit(['(', ' ']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    assert!(n >= 15, "at least 15 case studies: {summary}");
    assert!(
        site.files()
            .iter()
            .filter(|f| f.starts_with("reports/") && f.ends_with("/index.html"))
            .count()
            >= 3
    );
    check_all_links_under(&site, "/");
}

/// Files bigger than the buffer a page is gathered in (the open-data files
/// at scale, a page with a very long body) are written out as they are made;
/// they must still come out whole and parse.
#[test]
fn files_larger_than_the_write_buffer_come_out_whole() {
    let site = Site::from_fixture("basic");
    let long_summary = "A sentence about the work, long enough to add up. ".repeat(80);
    for n in 0..300 {
        site.write(
            &format!("content/case-studies/bulk-{n:03}.md"),
            &format!(
                "---\ntitle: Bulk case study {n}\ndate: 2023-01-01\nngo: Bulk NGO {n}\nsector: Health\nprogram: Fractional CxO\ncountry: Kenya\nsummary: \"{long_summary}{n}\"\n---\nBody {n}.\n"
            ),
        );
    }
    let body: String = (0..20_000)
        .map(|n| format!("Paragraph {n} of a very long account of one engagement.\n\n"))
        .collect();
    site.write(
        "content/case-studies/long.md",
        &format!(
            "---\ntitle: A long case study\ndate: 2022-01-01\nngo: Long NGO\nsector: Health\nprogram: Fractional CxO\ncountry: Kenya\nsummary: Long.\n---\n{body}"
        ),
    );
    let out = site.build(&[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let json = site.read("case-studies.json");
    assert!(json.len() > 1024 * 1024, "{}", json.len());
    let v: serde_json::Value = serde_json::from_str(&json).expect("case-studies.json parses");
    let rows = v["case_studies"].as_array().unwrap();
    assert_eq!(rows.len(), 304);
    let last = format!("{long_summary}299");
    assert!(
        rows.iter()
            .any(|r| r["summary"].as_str() == Some(last.trim()))
    );

    let csv = site.read("case-studies.csv");
    assert!(csv.len() > 1024 * 1024, "{}", csv.len());
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let records: Vec<_> = reader
        .records()
        .collect::<Result<_, _>>()
        .expect("the CSV parses");
    assert_eq!(records.len(), 304);

    let index: serde_json::Value =
        serde_json::from_str(&site.read("search-index.json")).expect("search index parses");
    assert_eq!(index["docs"].as_array().unwrap().len(), 304);

    let page = site.read("case-studies/long/index.html");
    assert!(page.len() > 1024 * 1024, "{}", page.len());
    assert!(page.contains("<p>Paragraph 0 of a very long account"));
    assert!(page.contains("<p>Paragraph 19999 of a very long account"));
    assert!(
        page.trim_end().ends_with("</html>"),
        "the page is cut short"
    );
}

/// A theme that loops over maps (`page.extra`, `page.terms`, `page`, `site`)
/// gets them in the same order in every build: extra fields by name,
/// taxonomies in the order site.toml declares them, fields of a value in
/// the order casebook documents them.
#[test]
fn a_theme_looping_over_maps_gets_the_same_order_every_build() {
    let site = Site::from_fixture("basic");
    site.append("site.toml", "theme = \"loops\"\n");
    let chatbot = site
        .source("content/case-studies/chatbot.md")
        .replacen(
            "---\n## The challenge",
            "zeta: 1\nalpha: 2\nmango: 3\nbanana: 4\nkiwi: 5\ncherry: 6\nlime: 7\n---\n## The challenge",
            1,
        );
    site.write("content/case-studies/chatbot.md", &chatbot);
    site.write(
        "themes/loops/templates/case-study.html",
        "{% extends \"base.html\" %}{% block content %}\
         <p id=\"extra\">{% for k, v in page.extra %}{{ k }}={{ v }};{% endfor %}</p>\
         <p id=\"terms\">{% for k, v in page.terms %}{{ k }}:{{ v | length }};{% endfor %}</p>\
         <p id=\"page\">{% for k, v in page %}{{ k }};{% endfor %}</p>\
         <p id=\"site\">{% for k, v in site %}{{ k }};{% endfor %}</p>\
         {% endblock content %}",
    );
    let mut outputs = Vec::new();
    for _ in 0..6 {
        site.build(&[]);
        outputs.push(site.read("case-studies/chatbot/index.html"));
    }
    for o in &outputs[1..] {
        assert_eq!(o, &outputs[0], "two builds of one site differ");
    }
    let html = &outputs[0];
    assert!(
        html.contains(
            "<p id=\"extra\">alpha=2;banana=4;cherry=6;kiwi=5;lime=7;mango=3;zeta=1;</p>"
        ),
        "{html}"
    );
    assert!(
        html.contains("<p id=\"terms\">ngo:1;sector:2;program:1;country:1;tags:2;</p>"),
        "{html}"
    );
    // The page's fields come in the order they are documented, and the
    // ones added after (terms, content) last.
    let fields = html.split("<p id=\"page\">").nth(1).unwrap();
    let fields = &fields[..fields.find("</p>").unwrap()];
    assert!(fields.starts_with("kind;title;url;"), "{fields}");
    assert!(fields.ends_with("terms;content;"), "{fields}");
}

/// Every page of a paginated term shows the totals of all the term's case
/// studies, not only of the cards on that page (the totals are added up
/// once per term and shared by its pages).
#[test]
fn every_page_of_a_paginated_term_shows_the_whole_terms_totals() {
    let site = Site::empty(
        "title = \"Totals\"\nbase_url = \"https://totals.example/\"\npaginate_by = 2\n",
    );
    for i in 1..=5 {
        site.write(
            &format!("content/case-studies/cs{i}.md"),
            &format!(
                "---\ntitle: Case {i}\ndate: 2024-01-0{i}\nngo: NGO {i}\nsector: Water\n\
                 program: Fellows\nsummary: Case {i}.\noutcomes:\n  - metric: Wells dug\n    \
                 value: {}\n---\nBody {i}.\n",
                i * 100
            ),
        );
    }
    site.build(&[]);
    let pages = [
        "sector/water/index.html",
        "sector/water/page/2/index.html",
        "sector/water/page/3/index.html",
    ];
    for p in pages {
        let html = site.read(p);
        // 100 + 200 + 300 + 400 + 500, on the last page too, which has
        // one card.
        assert!(html.contains("1,500"), "{p}: {html}");
        assert!(html.contains("Wells dug"), "{p}");
    }
}

/// Figures are put together only as their meaning allows: site.toml's
/// `[outcomes] aggregate` says `max` or `none` for a metric, and a unit
/// such as "hours per week" is averaged without being told. The outcomes
/// page and the term pages follow it alike.
#[test]
fn outcomes_aggregate_as_site_toml_declares_or_their_unit_implies() {
    let site = Site::empty(
        "title = \"Figures\"\nbase_url = \"https://figures.example/\"\n\
         [outcomes]\naggregate = { \"countries  REACHED\" = \"max\", \"Net promoter score\" = \"none\" }\n",
    );
    for (i, countries, hours, nps) in [(1, 4, 10, 40), (2, 7, 20, 60), (3, 5, 30, 50)] {
        site.write(
            &format!("content/case-studies/cs{i}.md"),
            &format!(
                "---\ntitle: Case {i}\ndate: 2024-01-0{i}\nngo: NGO {i}\nsector: Water\n\
                 program: Fellows\nsummary: Case {i}.\noutcomes:\n\
                 \x20 - metric: Countries reached\n    value: {countries}\n\
                 \x20 - metric: Volunteering\n    value: {hours}\n    unit: hours per week\n\
                 \x20 - metric: Net promoter score\n    value: {nps}\n\
                 \x20 - metric: People trained\n    value: {}\n---\nBody {i}.\n",
                i * 100
            ),
        );
    }
    let out = site.build(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for page in ["outcomes/index.html", "sector/water/index.html"] {
        let html = site.read(page);
        // 4, 7, 5 countries: the most one case study reached, not 16.
        assert!(html.contains("<strong>7</strong>"), "{page}: {html}");
        assert!(html.contains("the most in one case study"), "{page}");
        assert!(
            !html.contains("<strong>16</strong>"),
            "{page}: countries were summed"
        );
        // 10, 20, 30 hours per week: 20 on average, not 60.
        assert!(html.contains("<strong>20</strong>"), "{page}");
        assert!(
            !html.contains("<strong>60</strong>"),
            "{page}: a rate was summed"
        );
        // NPS is never added up or averaged.
        assert!(
            !html.contains("<strong>150</strong>") && !html.contains("<strong>50</strong>"),
            "{page}"
        );
        // People are counted: 600.
        assert!(html.contains("<strong>600</strong>"), "{page}");
    }
    // Each case study still shows its own score.
    assert!(
        site.read("case-studies/cs2/index.html")
            .contains("<strong>60</strong>")
    );

    // A way of combining casebook does not know is an error on its line.
    site.write(
        "site.toml",
        "title = \"Figures\"\n[outcomes]\naggregate = { \"Countries reached\" = \"average\" }\n",
    );
    let out = site.run(&["build"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("site.toml:3") && err.contains("`average`"),
        "{err}"
    );
    assert!(err.contains("sum, max, mean, none"), "{err}");
}

#[test]
fn money_has_its_currency_and_units_that_disagree_are_named() {
    let site = Site::empty("title = \"Money\"\nbase_url = \"https://money.example/\"\n");
    let cases = [
        (1, 1_900_000, "USD", "people"),
        (2, 250_000, "usd", "people"),
        (3, 0, "", "households"),
    ];
    for (i, money, unit, reached) in cases {
        let funds = if money > 0 {
            format!("  - metric: Funds raised\n    value: {money}\n    unit: {unit}\n")
        } else {
            String::new()
        };
        site.write(
            &format!("content/case-studies/cs{i}.md"),
            &format!(
                "---\ntitle: Case {i}\ndate: 2024-01-0{i}\nngo: NGO {i}\nsector: Water\n\
                 program: Fellows\nsummary: Case {i}.\noutcomes:\n{funds}\
                 \x20 - metric: People reached\n    value: {}\n    unit: {reached}\n\
                 \x20 - metric: Hours volunteered per week\n    value: 4\n    unit: hours per week\n\
                 ---\nBody {i}.\n",
                i * 100
            ),
        );
    }
    let out = site.build(&[]);
    let err = stderr(&out);
    // A case study shows money with its sign, shortened, never bracketed;
    // a label that says its unit does not repeat it.
    let cs1 = site.read("case-studies/cs1/index.html");
    assert!(cs1.contains("<strong>US$1.9\u{a0}m</strong>"), "{cs1}");
    assert!(!cs1.contains("(USD)"), "{cs1}");
    assert!(
        cs1.contains(">Hours volunteered per week<") && !cs1.contains("(hours per week)"),
        "{cs1}"
    );
    assert!(
        cs1.contains(">People reached<") && !cs1.contains("People reached (people)"),
        "{cs1}"
    );
    // The total is money too: 1,900,000 + 250,000.
    let outcomes = site.read("outcomes/index.html");
    assert!(outcomes.contains("US$2.15\u{a0}m"), "{outcomes}");
    assert!(
        site.read("case-studies/cs2/index.html")
            .contains("US$250,000")
    );
    // Open data keeps the number and its unit as written.
    let csv = site.read("outcomes.csv");
    assert!(csv.contains("1900000") && csv.contains("USD"), "{csv}");

    // People reached is in people twice and in households once: the odd
    // one out is named, with its file and the line of its unit.
    assert!(out.status.success(), "a warning, not an error: {err}");
    let warning = err
        .lines()
        .position(|l| l.contains("\"People reached\" has \"households\" here"))
        .unwrap_or_else(|| panic!("no warning for the unit: {err}"));
    let near = err
        .lines()
        .skip(warning)
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(near.contains("cs3.md:11:11"), "{near}");
    assert!(err.contains("\"people\" in 2 other case studies"), "{err}");
    assert!(
        !err.contains("cs1.md:") && !err.contains("cs2.md:"),
        "{err}"
    );
}

#[test]
fn terms_carry_the_descriptions_site_toml_gives_them() {
    let site = Site::empty(
        "title = \"Described\"\n\
         [[taxonomies]]\nname = \"sector\"\ntitle = \"Sectors\"\nsingular = \"Sector\"\n\
         [taxonomies.descriptions]\n\
         \"mental health\" = \"Counselling & helplines, <b>not</b> markup.\"\n\
         \"Helth\" = \"Misspelt, so shown nowhere.\"\n",
    );
    site.write(
        "content/case-studies/a.md",
        "---\ntitle: A\ndate: 2024-01-01\nngo: N\nsector: [Mental Health, Health]\n\
         program: P\nsummary: S.\n---\nA claim.[^src]\n\n[^src]: Where it comes from.\n",
    );
    let out = site.build(&[]);
    let err = stderr(&out);
    // Any spelling of the name finds the term; the text stays text.
    let described = "Counselling &amp; helplines, &lt;b&gt;not&lt;/b&gt; markup.";
    let index = site.read("sector/index.html");
    assert!(index.contains(described), "{index}");
    let term = site.read("sector/mental-health/index.html");
    assert!(
        term.contains(&format!("<p class=\"lede\">{described}</p>")),
        "{term}"
    );
    assert!(
        !site
            .read("sector/health/index.html")
            .contains("class=\"lede\""),
        "a term without a description has none"
    );
    // A description for no term is a warning on its line of site.toml.
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("the sector \"Helth\" has a description, but no page uses it"),
        "{err}"
    );
    assert!(err.contains("site.toml:8"), "{err}");
    assert!(err.contains("did you mean \"Health\"?"), "{err}");

    // The footnote is numbered, gathered at the end, with a way back.
    let page = site.read("case-studies/a/index.html");
    assert!(
        page.contains("<a href=\"#fn-src\" id=\"fnref-src\" role=\"doc-noteref\">1</a>"),
        "{page}"
    );
    assert!(
        page.contains("<li id=\"fn-src\">\n<p>Where it comes from. <a href=\"#fnref-src\""),
        "{page}"
    );
}
