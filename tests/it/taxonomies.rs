//! Terms grouped by slug however writers spell them, and pagination at its
//! boundaries.

use crate::common;

use common::{Site, card_titles};

#[test]
fn terms_group_across_case_spacing_and_accents() {
    let site = Site::from_fixture("grouping");
    site.build(&[]);
    let files = site.files();
    let terms = |tax: &str| -> Vec<String> {
        files
            .iter()
            .filter_map(|f| f.strip_prefix(&format!("{tax}/")))
            .filter_map(|f| f.strip_suffix("/index.html"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(terms("sector"), ["mental-health"]);
    assert_eq!(terms("ngo"), ["fundacion-ninos"]);
    assert_eq!(terms("country"), ["cote-d-ivoire", "peru"]);

    let sector = site.read("sector/mental-health/index.html");
    assert!(
        sector.contains("<h1>Mental Health</h1>"),
        "most used spelling wins"
    );
    assert_eq!(card_titles(&sector).len(), 5);
    let ngo = site.read("ngo/fundacion-ninos/index.html");
    assert!(ngo.contains("<h1>Fundación Niños</h1>"), "{ngo}");
    // One each of Perú, Peru, PERÚ: the accented, not-shouting one is shown.
    let peru = site.read("country/peru/index.html");
    assert!(peru.contains("<h1>Perú</h1>"), "{peru}");
    assert_eq!(card_titles(&peru).len(), 3);
    // The case study page links the grouped term under its shown name.
    let story = site.read("case-studies/story-3/index.html");
    assert!(
        story.contains("<a href=\"/ngo/fundacion-ninos/\">Fundación Niños</a>"),
        "{story}"
    );
    assert!(
        story.contains("<a href=\"/country/peru/\">Perú</a>"),
        "{story}"
    );
}

fn site_with(n: usize, per_page: usize) -> Site {
    let site = Site::empty(&format!("title = \"Paging\"\npaginate_by = {per_page}\n"));
    for i in 0..n {
        site.write(
            &format!("content/case-studies/cs-{i:03}.md"),
            &format!(
                "---\ntitle: Case {i:03}\ndate: 2024-01-01T{:02}:{:02}:00Z\nngo: NGO\nsector: Health\nprogram: P\nsummary: S\n---\nBody\n",
                i / 60,
                i % 60
            ),
        );
    }
    site
}

fn listing_pages(site: &Site, base: &str) -> Vec<String> {
    site.files()
        .into_iter()
        .filter(|f| f.starts_with(base) && f.ends_with("index.html"))
        .filter(|f| f[base.len()..] == *"index.html" || f[base.len()..].starts_with("page/"))
        .collect()
}

#[test]
fn pagination_with_no_case_studies() {
    let site = site_with(0, 3);
    site.build(&[]);
    assert_eq!(
        listing_pages(&site, "case-studies/"),
        ["case-studies/index.html"]
    );
    let html = site.read("case-studies/index.html");
    assert!(html.contains("No case studies have been published yet."));
    assert!(!html.contains("class=\"pagination\""));
    assert!(!site.exists("sector/health/index.html"));
    assert!(
        site.read("sector/index.html")
            .contains("No case study has a sector yet.")
    );
}

#[test]
fn pagination_with_one_case_study() {
    let site = site_with(1, 3);
    site.build(&[]);
    assert_eq!(
        listing_pages(&site, "case-studies/"),
        ["case-studies/index.html"]
    );
    assert_eq!(
        card_titles(&site.read("case-studies/index.html")),
        ["Case 000"]
    );
    assert_eq!(
        listing_pages(&site, "sector/health/"),
        ["sector/health/index.html"]
    );
    assert!(
        !site
            .read("sector/health/index.html")
            .contains("class=\"pagination\"")
    );
}

#[test]
fn pagination_with_exactly_one_page() {
    let site = site_with(3, 3);
    site.build(&[]);
    assert_eq!(
        listing_pages(&site, "case-studies/"),
        ["case-studies/index.html"]
    );
    assert_eq!(
        card_titles(&site.read("case-studies/index.html")),
        ["Case 002", "Case 001", "Case 000"]
    );
    assert_eq!(
        listing_pages(&site, "sector/health/"),
        ["sector/health/index.html"]
    );
}

#[test]
fn pagination_with_one_more_than_a_page() {
    let site = site_with(4, 3);
    site.build(&[]);
    assert_eq!(
        listing_pages(&site, "case-studies/"),
        ["case-studies/index.html", "case-studies/page/2/index.html"]
    );
    let first = site.read("case-studies/index.html");
    assert_eq!(card_titles(&first), ["Case 003", "Case 002", "Case 001"]);
    assert!(
        first.contains("href=\"/case-studies/page/2/\" rel=\"next\""),
        "{first}"
    );
    assert!(first.contains("Showing 1–3 of 4"));
    let second = site.read("case-studies/page/2/index.html");
    assert_eq!(card_titles(&second), ["Case 000"]);
    assert!(
        second.contains("href=\"/case-studies/\" rel=\"prev\""),
        "{second}"
    );
    assert!(!second.contains("rel=\"next\""));
    assert!(second.contains("Showing 4–4 of 4"));

    assert_eq!(
        listing_pages(&site, "sector/health/"),
        [
            "sector/health/index.html",
            "sector/health/page/2/index.html"
        ]
    );
    let term2 = site.read("sector/health/page/2/index.html");
    assert_eq!(card_titles(&term2), ["Case 000"]);
    assert!(term2.contains("href=\"/sector/health/\" rel=\"prev\""));
}

#[test]
fn default_page_size_is_twenty() {
    let site = site_with(21, 20);
    site.write("site.toml", "title = \"Paging\"\n");
    site.build(&[]);
    assert_eq!(card_titles(&site.read("case-studies/index.html")).len(), 20);
    assert_eq!(
        card_titles(&site.read("case-studies/page/2/index.html")),
        ["Case 000"]
    );
}

/// The README's closed-vocabulary snippet, as a maintainer would paste it.
const VOCABULARY: &str = "\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\", \"Mental Health\", \"Education\", \"Gender\", \"Civil Society\"]\naliases = { \"Mental health care\" = \"Mental Health\" }\n";

#[test]
fn declaring_one_taxonomy_keeps_the_others() {
    let site = Site::from_fixture("basic");
    site.write(
        "site.toml",
        &format!("title = \"T\"\nbase_url = \"https://t.example/\"\n{VOCABULARY}"),
    );
    let out = site.build(&[]);
    let err = common::stderr(&out);
    assert!(!err.contains("unknown field"), "{err}");
    for page in [
        "ngo/index.html",
        "sector/index.html",
        "program/index.html",
        "country/index.html",
        "tags/index.html",
        "ngo/search/index.html",
        "tags/chatbots/index.html",
    ] {
        assert!(site.exists(page), "{page} is missing");
    }
    assert!(site.read("sector/index.html").contains("<h1>Sectors</h1>"));

    // `enabled = false` takes a default away, and says so when a page
    // still uses it.
    site.append(
        "site.toml",
        "[[taxonomies]]\nname = \"tags\"\nenabled = false\n",
    );
    let out = site.build(&[]);
    assert!(!site.exists("tags/index.html"));
    assert!(site.exists("country/index.html"));
    let err = common::stderr(&out);
    assert!(
        err.contains("the taxonomy `tags` is turned off in site.toml"),
        "{err}"
    );

    // Replacing the defaults keeps only what is declared.
    site.write(
        "site.toml",
        &format!("title = \"T\"\ntaxonomies_replace_defaults = true\n{VOCABULARY}"),
    );
    site.build(&[]);
    assert!(site.exists("sector/index.html"));
    assert!(!site.exists("ngo/index.html"));
}

#[test]
fn a_list_without_brackets_is_one_value_and_casebook_says_so() {
    let site = Site::from_fixture("basic");
    let path = "content/case-studies/lists.md";
    let text = "---\ntitle: Lists\ndate: 2024-01-01\nngo: N\nsector: X\nprogram: P\nsummary: S\n---\nBody.\n";
    let line = "sector: X";
    site.write(path, &text.replace(line, "sector: Gender, Education"));
    let out = site.build(&[]);
    let err = common::stderr(&out);
    assert!(
        err.contains(
            "warning: `sector: Gender, Education` is one value, \"Gender, Education\", not 2"
        ),
        "{err}"
    );
    assert!(err.contains("write `sector: [Gender, Education]`"), "{err}");
    assert!(site.exists("sector/gender-education/index.html"));
    // Brackets make two; quotes say the comma is meant.
    site.write(path, &text.replace(line, "sector: [Gender, Education]"));
    let err = common::stderr(&site.build(&[]));
    assert!(!err.contains("is one value"), "{err}");
    assert!(site.exists("sector/gender/index.html") && site.exists("sector/education/index.html"));
    site.write(
        path,
        &text.replace(line, "sector: \"Water, sanitation and hygiene\""),
    );
    let err = common::stderr(&site.build(&[]));
    assert!(!err.contains("is one value"), "{err}");
    assert!(site.exists("sector/water-sanitation-and-hygiene/index.html"));
}

#[test]
fn different_terms_never_share_a_page() {
    let site = Site::from_fixture("basic");
    let case = |title: &str, tags: &str| {
        format!(
            "---\ntitle: {title}\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\ntags: {tags}\n---\nBody.\n"
        )
    };
    site.write(
        "content/case-studies/cpp.md",
        &case("C plus plus", "[\"C++\", data]"),
    );
    site.write(
        "content/case-studies/csharp.md",
        &case("C sharp", "[\"C#\"]"),
    );
    site.write("content/case-studies/c.md", &case("C", "[C]"));
    site.build(&[]);
    for (page, name) in [
        ("tags/c-plus-plus/index.html", "C++"),
        ("tags/c-sharp/index.html", "C#"),
        ("tags/c/index.html", "C"),
    ] {
        assert!(
            site.read(page).contains(&format!("<h1>{name}</h1>")),
            "{page}"
        );
    }
    // Two names a URL spells alike: an error naming both files.
    site.write(
        "content/case-studies/beijing.md",
        &case("Beijing", "[北京]"),
    );
    site.write(
        "content/case-studies/background.md",
        &case("Background", "[背景]"),
    );
    let out = site.run(&["check"]);
    assert_eq!(out.status.code(), Some(1));
    let err = common::stderr(&out);
    assert!(
        err.contains("error: the tag \"北京\" here and \"背景\" in content/case-studies/background.md would share one page, /tags/bei-jing/, and one of them would vanish\n --> content/case-studies/beijing.md:8:8"),
        "{err}"
    );
}
