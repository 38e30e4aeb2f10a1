//! Discovery outputs, checked on a built fixture: related case studies, the
//! outcomes page and term totals, the explorer's index and the open data
//! files (parsed back and compared with what the case studies say).

use crate::common;

use common::Site;
use serde_json::Value;

fn explore_site() -> Site {
    let site = Site::from_fixture("explore");
    site.build(&[]);
    site
}

/// The HTML between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in:\n{html}"));
    let rest = &html[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Text of every `<a ...>text</a>` in `html`, with its href.
fn links(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<a href=\"") {
        rest = &rest[i + 9..];
        let href_end = rest.find('"').unwrap();
        let href = rest[..href_end].to_string();
        let text_start = rest.find('>').unwrap() + 1;
        let text_end = rest.find("</a>").unwrap();
        out.push((href, rest[text_start..text_end].to_string()));
        rest = &rest[text_end..];
    }
    out
}

#[test]
fn related_case_studies_share_terms_and_say_which() {
    let site = explore_site();
    let html = site.read("case-studies/mothers/index.html");
    let related = between(&html, "<aside class=\"related\"", "</aside>");
    let titles: Vec<String> = links(related).into_iter().map(|(_, t)| t).collect();
    // Clinics shares the sector (weight 3) and programme (1); counselling the
    // country (2) and programme (1); tutors the country (2). The library and
    // the farmers share nothing, and the page is never its own relation.
    assert_eq!(
        titles,
        [
            "Clinic records move to tablets",
            "Counselling rosters without spreadsheets",
            "Homework help for rural schools"
        ]
    );
    assert!(
        related.contains("also: Health · Fractional CxO"),
        "{related}"
    );
    assert!(
        related.contains("also: India · Fractional CxO"),
        "{related}"
    );
    assert!(related.contains("also: India</span>"), "{related}");
    assert!(!related.contains("expecting mothers"));
}

#[test]
fn related_weights_come_from_site_toml() {
    let site = Site::from_fixture("explore");
    let toml = std::fs::read_to_string(site.root().join("site.toml")).unwrap();
    site.write(
        "site.toml",
        &format!("{toml}\n[related]\nlimit = 1\nweights = {{ program = 10 }}\n"),
    );
    site.build(&[]);
    let html = site.read("case-studies/mothers/index.html");
    let related = between(&html, "<aside class=\"related\"", "</aside>");
    // With the programme weighing most, the newest case study sharing it wins.
    let titles: Vec<String> = links(related).into_iter().map(|(_, t)| t).collect();
    assert_eq!(titles, ["Clinic records move to tablets"]);
}

#[test]
fn outcomes_are_added_up_by_metric_and_unit() {
    let site = explore_site();
    let html = site.read("outcomes/index.html");
    let people = between(&html, "id=\"m-people-reached-people\"", "</section>");
    // 1,200 + 300 + 500 people; the 40 households are never added to them.
    assert!(
        people.contains("<strong>2,000</strong> in total, from <a href=\"/learning/explore/?outcome=people-reached-people\">3 case studies</a>"),
        "{people}"
    );
    let households = between(&html, "id=\"m-people-reached-households\"", "</section>");
    assert!(
        households.contains("<strong>40</strong> in total"),
        "{households}"
    );
    let satisfaction = between(&html, "id=\"m-satisfaction-percent\"", "</section>");
    assert!(
        satisfaction.contains("<strong>80%</strong> on average"),
        "{satisfaction}"
    );

    // Broken down by sector, in a chart and a table, largest first, with
    // links to the term pages and the case studies behind each number.
    let by_sector = between(people, "by sector</figcaption>", "</figure>");
    assert!(by_sector.contains("<svg class=\"bars\""), "{by_sector}");
    let table = between(by_sector, "<table", "</table>");
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert!(
        rows[0].contains("/learning/sector/health/\">Health</a>") && rows[0].contains(">1,500<"),
        "{table}"
    );
    assert!(
        rows[1].contains("/learning/sector/education/\">Education</a>")
            && rows[1].contains(">500<"),
        "{table}"
    );
    assert!(
        rows[0].contains("/learning/case-studies/mothers/")
            && rows[0].contains("/learning/case-studies/clinics/"),
        "{table}"
    );
    // The bars are to scale: Health is the longest, Education a third of it.
    assert!(by_sector.contains("width=\"100.0%\""), "{by_sector}");
    assert!(by_sector.contains("width=\"33.3%\""), "{by_sector}");
    assert!(between(people, "by programme</figcaption>", "</figure>").contains("Fractional CxO"));
}

#[test]
fn term_pages_show_their_outcome_totals() {
    let site = explore_site();
    let html = site.read("sector/health/index.html");
    let totals = between(&html, "<section class=\"totals\"", "</section>");
    assert!(
        totals.contains("<strong>1,500</strong> <span class=\"metric\">People reached</span>"),
        "{totals}"
    );
    assert!(totals.contains("from <a href=\"/learning/explore/?outcome=people-reached-people&amp;sector=health\">2 case studies</a>"), "{totals}");
    assert!(
        totals.contains(
            "<strong>80%</strong> <span class=\"metric\">Satisfaction, on average</span>"
        ),
        "{totals}"
    );
    // A term whose case studies report nothing shows no totals section.
    assert!(
        !site
            .read("sector/agriculture/index.html")
            .contains("class=\"totals\"")
    );
}

#[test]
fn search_index_is_compact_and_relative_to_the_base_path() {
    let site = explore_site();
    let index: Value = serde_json::from_str(&site.read("search-index.json")).unwrap();
    let facets: Vec<&str> = index["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        facets,
        ["ngo", "sector", "program", "country", "tags", "outcome"]
    );
    let docs = index["docs"].as_array().unwrap();
    assert_eq!(docs.len(), 6, "case studies only");
    let tutors = docs
        .iter()
        .find(|d| d[1] == "Homework help for rural schools")
        .unwrap();
    assert_eq!(tutors[0], "case-studies/tutors/");
    assert_eq!(tutors[2], "2024-04-01");
    // Body words are searchable: "marathi" is only in the body.
    assert!(
        tutors[5]
            .as_str()
            .unwrap()
            .split(' ')
            .any(|w| w == "marathi")
    );
    // Terms by index into each facet.
    let sector = &index["facets"][1]["terms"];
    let t = tutors[4][1][0].as_u64().unwrap() as usize;
    assert_eq!(sector[t][0], "Education");
    assert_eq!(sector[t][1], "education");
    let page = site.read("explore/index.html");
    assert!(page.contains("data-index=\"/learning/search-index.json\""));
    assert!(page.contains("<script src=\"/learning/explore.js?v="));
}

#[test]
fn open_data_parses_back_to_what_the_case_studies_say() {
    let site = explore_site();
    let json: Value = serde_json::from_str(&site.read("case-studies.json")).unwrap();
    let rows = json["case_studies"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    let mothers = &rows[0];
    assert_eq!(mothers["title"], "A chatbot for expecting mothers");
    assert_eq!(
        mothers["url"],
        "https://fixture.example/learning/case-studies/mothers/"
    );
    assert_eq!(mothers["date"], "2024-06-01");
    assert_eq!(mothers["sector"], serde_json::json!(["Health"]));
    assert_eq!(mothers["report"], "year-2024");
    assert_eq!(mothers["outcomes"][0]["metric"], "People reached");
    // A whole number is a JSON integer, as a typed loader expects a count.
    assert!(
        mothers["outcomes"][0]["value"].is_i64(),
        "{}",
        mothers["outcomes"][0]["value"]
    );
    assert_eq!(mothers["outcomes"][0]["value"], 1200);
    assert_eq!(mothers["outcomes"][0]["unit"], "people");

    let csv_text = site.read("case-studies.csv");
    assert!(
        csv_text.starts_with('\u{feff}'),
        "a BOM, so spreadsheets read UTF-8"
    );
    let mut reader = csv::Reader::from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "title", "url", "date", "ngo", "sector", "program", "country", "tags", "report",
            "summary", "outcomes"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), rows.len());
    for (rec, row) in records.iter().zip(rows) {
        assert_eq!(&rec[0], row["title"].as_str().unwrap());
        assert_eq!(&rec[1], row["url"].as_str().unwrap());
        assert_eq!(&rec[2], row["date"].as_str().unwrap());
        let sectors: Vec<&str> = row["sector"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(&rec[4], sectors.join("; "));
        assert_eq!(&rec[9], row["summary"].as_str().unwrap());
    }

    let outcomes = site.read("outcomes.csv");
    let mut reader = csv::Reader::from_reader(outcomes.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 5, "one row per outcome");
    let first = &records[0];
    assert_eq!(&first[0], "A chatbot for expecting mothers");
    assert_eq!(
        (&first[8], &first[9], &first[10]),
        ("People reached", "1200", "people")
    );
}

#[test]
fn csv_quotes_commas_quotes_and_newlines_and_defuses_formulas() {
    let site = Site::empty("title = \"CSV\"\nbase_url = \"https://csv.example/\"\n");
    site.write(
        "content/case-studies/tricky.md",
        "---\ntitle: \"=HYPERLINK(\\\"http://evil.example\\\", \\\"click\\\")\"\ndate: 2024-01-01\nngo: \"Smith, Jones & \\\"Partners\\\"\"\nsector: Health\nprogram: P\nsummary: |\n  Two lines,\n  with \"quotes\".\noutcomes:\n  - metric: \"@cost, total\"\n    value: -5\n---\nBody.\n",
    );
    site.build(&[]);
    let text = site.read("case-studies.csv");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rec = reader.records().next().unwrap().unwrap();
    assert_eq!(&rec[0], "'=HYPERLINK(\"http://evil.example\", \"click\")");
    assert_eq!(&rec[3], "Smith, Jones & \"Partners\"");
    assert_eq!(&rec[9], "Two lines,\nwith \"quotes\".");
    let text = site.read("outcomes.csv");
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rec = reader.records().next().unwrap().unwrap();
    assert_eq!(&rec[8], "'@cost, total");
    assert_eq!(&rec[9], "-5", "numbers stay numbers");
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
}

#[test]
fn nav_and_footer_lead_to_discovery_pages() {
    let site = explore_site();
    let home = site.read("index.html");
    let hrefs: Vec<String> = links(&home).into_iter().map(|(h, _)| h).collect();
    for want in [
        "/learning/explore/",
        "/learning/outcomes/",
        "/learning/case-studies.csv",
        "/learning/outcomes.csv",
        "/learning/case-studies.json",
    ] {
        assert!(
            hrefs.iter().any(|h| h == want),
            "no link to {want} in {hrefs:?}"
        );
    }
}
