//! What a static host, a feed reader, a search engine and a link-preview bot
//! get: feeds, sitemap, robots.txt, page metadata, redirects for renamed
//! pages, versioned assets — correct at a domain root and under a subpath.

use crate::common;

use common::{Site, attr_values, stderr};

/// The text between `open` and `close` after each occurrence of `open`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(open) {
        rest = &rest[i + open.len()..];
        match rest.find(close) {
            Some(j) => {
                out.push(&rest[..j]);
                rest = &rest[j..];
            }
            None => break,
        }
    }
    out
}

fn meta_content(html: &str, key: &str) -> Option<String> {
    let needle = format!("{key}\" content=\"");
    html.find(&needle).map(|i| {
        let rest = &html[i + needle.len()..];
        rest[..rest.find('"').unwrap()].to_string()
    })
}

#[test]
fn site_and_term_feeds() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let feed = site.read("atom.xml");
    assert!(feed.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    let entries = between(&feed, "<entry>", "</entry>");
    assert_eq!(entries.len(), 4, "three case studies and one report");
    for e in &entries {
        for tag in [
            "<title>",
            "<id>https://fixture.example/",
            "<updated>",
            "<author><name>",
            "<summary>",
            "<link rel=\"alternate\" type=\"text/html\" href=\"https://fixture.example/",
            "<category term=",
        ] {
            assert!(e.contains(tag), "entry lacks {tag}:\n{e}");
        }
    }
    assert!(feed.contains("<link rel=\"self\" type=\"application/atom+xml\" href=\"https://fixture.example/atom.xml\"/>"));
    assert!(
        feed.contains("<updated>2024-12-20T00:00:00Z</updated>"),
        "the feed's date is its newest entry's"
    );

    let health = site.read("sector/health/atom.xml");
    let entries = between(&health, "<entry>", "</entry>");
    assert_eq!(entries.len(), 1);
    assert!(entries[0].contains("<title>A mental-health chatbot in Gadchiroli</title>"));
    assert!(health.contains("href=\"https://fixture.example/sector/health/atom.xml\""));

    // Linked from every page's head, and term pages add their own feed.
    let page = site.read("case-studies/chatbot/index.html");
    assert!(page.contains("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Basic fixture: everything new\" href=\"/atom.xml\">"));
    let term = site.read("sector/health/index.html");
    assert!(term.contains("type=\"application/atom+xml\" title=\"Basic fixture: Health\" href=\"/sector/health/atom.xml\""), "{term}");
}

#[test]
fn feeds_can_be_turned_off_per_taxonomy_and_limited() {
    let site = Site::from_fixture("basic");
    site.write(
        "site.toml",
        "title = \"F\"\nbase_url = \"https://f.example/\"\nfeed_limit = 2\n[[taxonomies]]\nname = \"sector\"\n[[taxonomies]]\nname = \"tags\"\nfeed = false\n[[taxonomies]]\nname = \"ngo\"\n[[taxonomies]]\nname = \"program\"\n",
    );
    site.build(&[]);
    assert!(site.exists("sector/health/atom.xml"));
    assert!(!site.exists("tags/dashboards/atom.xml"));
    assert_eq!(
        between(&site.read("atom.xml"), "<entry>", "</entry>").len(),
        2
    );
}

#[test]
fn sitemap_robots_and_404() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let sitemap = site.read("sitemap.xml");
    let locs = between(&sitemap, "<loc>", "</loc>");
    for path in [
        "",
        "case-studies/",
        "case-studies/chatbot/",
        "reports/year-2024/",
        "about/",
        "sector/",
        "sector/health/",
        "tags/dashboards/",
    ] {
        let url = format!("https://fixture.example/{path}");
        assert!(locs.contains(&url.as_str()), "sitemap lacks {url}");
    }
    assert!(
        !locs
            .iter()
            .any(|l| l.contains("404") || l.contains("/page/")),
        "no 404 or later listing pages"
    );
    assert_eq!(
        between(&sitemap, "<lastmod>", "</lastmod>").len(),
        locs.len(),
        "every URL has a date"
    );
    assert!(sitemap.contains("<loc>https://fixture.example/case-studies/network/</loc>\n    <lastmod>2021-07-30</lastmod>"));
    // Every page a reader can land on is listed: every HTML page of the
    // build but the 404 page, redirects and later pages of lists.
    let listed: std::collections::BTreeSet<String> = locs
        .iter()
        .map(|l| l.trim_start_matches("https://fixture.example/").to_string())
        .collect();
    for f in site.files() {
        let Some(dir) = f.strip_suffix("index.html") else {
            continue;
        };
        if dir.contains("page/") || site.read(&f).contains("http-equiv=\"refresh\"") {
            continue;
        }
        assert!(listed.contains(dir), "the sitemap lacks /{dir}");
    }
    assert!(listed.contains("outcomes/") && listed.contains("explore/"));
    // Every page in the sitemap exists.
    for loc in &locs {
        let path = loc.trim_start_matches("https://fixture.example/");
        assert!(site.exists(&format!("{path}index.html")), "{loc}");
    }
    assert_eq!(
        site.read("robots.txt"),
        "User-agent: *\nAllow: /\n\nSitemap: https://fixture.example/sitemap.xml\n"
    );
    let not_found = site.read("404.html");
    assert!(not_found.contains("Page not found"));
    assert!(not_found.contains("<meta name=\"robots\" content=\"noindex\">"));
}

#[test]
fn page_metadata_for_people_search_engines_and_link_previews() {
    let site = Site::from_fixture("basic");
    let p = site.root().join("content/case-studies/chatbot.md");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        t.replace(
            "summary:",
            "image: /images/chatbot.png\nimage_alt: The chatbot on a phone\nsummary:",
        ),
    )
    .unwrap();
    let mut png = Vec::new();
    image::DynamicImage::new_rgb8(64, 40)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::create_dir_all(site.root().join("static/images")).unwrap();
    std::fs::write(site.root().join("static/images/chatbot.png"), png).unwrap();
    site.build(&[]);
    let html = site.read("case-studies/chatbot/index.html");
    assert!(html.contains("<title>A mental-health chatbot in Gadchiroli · Basic fixture</title>"));
    assert_eq!(
        meta_content(&html, "name=\"description").as_deref(),
        Some("A WhatsApp assistant answers questions between clinic visits.")
    );
    assert!(html.contains(
        "<link rel=\"canonical\" href=\"https://fixture.example/case-studies/chatbot/\">"
    ));
    assert_eq!(
        meta_content(&html, "property=\"og:type").as_deref(),
        Some("article")
    );
    assert_eq!(
        meta_content(&html, "property=\"og:title").as_deref(),
        Some("A mental-health chatbot in Gadchiroli")
    );
    // A photo's preview is its widest processed copy (here its own width).
    let og_image = meta_content(&html, "property=\"og:image").unwrap();
    assert!(
        og_image.starts_with("https://fixture.example/processed-images/chatbot.")
            && og_image.ends_with(".64.jpg"),
        "{og_image}"
    );
    assert_eq!(
        meta_content(&html, "property=\"og:image:alt").as_deref(),
        Some("The chatbot on a phone")
    );
    assert_eq!(
        meta_content(&html, "name=\"twitter:card").as_deref(),
        Some("summary_large_image")
    );
    let ld = between(&html, "<script type=\"application/ld+json\">", "</script>");
    assert_eq!(ld.len(), 1);
    let v: serde_json::Value = serde_json::from_str(ld[0]).unwrap();
    assert_eq!(v["@type"], "Article");
    assert_eq!(v["headline"], "A mental-health chatbot in Gadchiroli");
    assert_eq!(v["about"]["@type"], "Organization");
    assert_eq!(v["about"]["name"], "SEARCH");
    assert_eq!(v["datePublished"], "2024-12-10");
    assert_eq!(v["image"], og_image.as_str());

    let report = site.read("reports/year-2024/index.html");
    let v: serde_json::Value = serde_json::from_str(
        between(
            &report,
            "<script type=\"application/ld+json\">",
            "</script>",
        )[0],
    )
    .unwrap();
    assert_eq!(v["@type"], "Article");
    assert_eq!(v["author"][0]["name"], "A. Writer");
    let home = site.read("index.html");
    assert!(home.contains("<title>Basic fixture</title>"));
    assert!(home.contains("\"@type\":\"WebSite\""));
    let term = site.read("sector/health/index.html");
    assert!(
        term.contains("<title>Health · Sectors · Basic fixture</title>"),
        "{term}"
    );
    assert!(
        term.contains("<link rel=\"canonical\" href=\"https://fixture.example/sector/health/\">")
    );
}

#[test]
fn metadata_values_stay_data_in_every_context() {
    let site = Site::from_fixture("basic");
    let nasty = r#"Q&A "quoted" </script><script>alert(1)</script> <!-- x"#;
    let p = site.root().join("content/case-studies/chatbot.md");
    let t = std::fs::read_to_string(&p).unwrap();
    let yaml = nasty.replace('\\', "\\\\").replace('"', "\\\"");
    std::fs::write(
        &p,
        t.replace(
            "title: A mental-health chatbot in Gadchiroli",
            &format!("title: \"{yaml}\""),
        )
        .replace("ngo: SEARCH", &format!("ngo: \"{yaml}\""))
        .replace(
            "summary: A WhatsApp assistant answers questions between clinic visits.",
            &format!("summary: \"{yaml}\""),
        ),
    )
    .unwrap();
    site.build(&[]);
    let html = site.read("case-studies/chatbot/index.html");
    assert_eq!(
        html.matches("<script").count(),
        2,
        "only the JSON-LD script element and the theme's print.js:\n{html}"
    );
    assert_eq!(html.matches("<script src=\"/print.js?v=").count(), 1);
    let ld = between(&html, "<script type=\"application/ld+json\">", "</script>");
    assert_eq!(ld.len(), 1, "the JSON-LD element is not cut short");
    let v: serde_json::Value = serde_json::from_str(ld[0]).unwrap();
    assert_eq!(v["headline"], nasty, "the JSON holds the exact value");
    assert_eq!(v["about"]["name"], nasty);
    // In attributes, the quote cannot end the attribute.
    let og = meta_content(&html, "property=\"og:title").unwrap();
    assert_eq!(
        og,
        "Q&amp;A &quot;quoted&quot; &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;!-- x"
    );
    // In the feed, still well-formed text.
    let feed = site.read("atom.xml");
    assert!(
        feed.contains("<title>Q&amp;A &quot;quoted&quot; &lt;/script&gt;"),
        "{feed}"
    );
}

#[test]
fn aliases_redirect_old_addresses() {
    let site = Site::from_fixture("basic");
    let p = site.root().join("content/case-studies/chatbot.md");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        t.replace(
            "summary:",
            "aliases: [/stories/search-chatbot/, /old-chatbot.html]\nsummary:",
        ),
    )
    .unwrap();
    site.build(&[]);
    for path in ["stories/search-chatbot/index.html", "old-chatbot.html"] {
        let html = site.read(path);
        assert!(
            html.contains(
                "<meta http-equiv=\"refresh\" content=\"0; url=/case-studies/chatbot/\">"
            ),
            "{html}"
        );
        assert!(html.contains(
            "<link rel=\"canonical\" href=\"https://fixture.example/case-studies/chatbot/\">"
        ));
        assert!(html.contains(
            "<a href=\"/case-studies/chatbot/\">A mental-health chatbot in Gadchiroli</a>"
        ));
    }
    // Under a subpath the redirect stays inside it.
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    assert!(
        site.read("stories/search-chatbot/index.html")
            .contains("url=/learning/case-studies/chatbot/\"")
    );
}

#[test]
fn bad_aliases_are_refused() {
    let site = Site::from_fixture("basic");
    let p = site.root().join("content/case-studies/chatbot.md");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        t.replace(
            "summary:",
            "aliases: [../../etc/, /%2e%2e/x/, /about/]\nsummary:",
        ),
    )
    .unwrap();
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("alias `../../etc/` is not a path inside the site"),
        "{err}"
    );
    assert!(
        err.contains("alias `/%2e%2e/x/` is not a path inside the site"),
        "{err}"
    );
    assert!(
        err.contains(
            "alias `/about/` would replace /about/index.html, which belongs to content/about.md"
        ),
        "{err}"
    );
    assert!(!site.root().join("etc").exists());
}

#[test]
fn assets_are_versioned_and_there_is_a_favicon() {
    let site = Site::from_fixture("basic");
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    let html = site.read("index.html");
    let hrefs = attr_values(&html, "href");
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("/learning/style.css?v=")),
        "{hrefs:?}"
    );
    assert!(
        hrefs
            .iter()
            .any(|h| h.starts_with("/learning/favicon.svg?v=")),
        "{hrefs:?}"
    );
    assert!(site.exists("favicon.svg") && site.exists("favicon.ico"));
}

#[test]
fn absolute_urls_use_the_base_url_under_a_subpath() {
    let site = Site::from_fixture("basic");
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    for file in site.files() {
        if !(file.ends_with(".html") || file.ends_with(".xml") || file.ends_with(".txt")) {
            continue;
        }
        let text = site.read(&file);
        for url in text
            .split(['"', '<', '>', ' ', '\n'])
            .filter(|w| w.starts_with("https://"))
        {
            if url.starts_with("https://schema.org") || url.starts_with("https://example.org") {
                continue;
            }
            assert!(
                url.starts_with("https://ngo.example/learning/"),
                "{file}: {url}"
            );
        }
    }
    assert!(
        site.read("robots.txt")
            .contains("Sitemap: https://ngo.example/learning/sitemap.xml")
    );
}

/// The example site as a reader sees it: one date format everywhere (the
/// explorer's results take theirs from the index, written by the same code
/// as the pages), taxonomy names as site.toml spells them inside sentences
/// ("All 17 NGOs", not "ngos"), and tags as their writers wrote them.
#[test]
fn words_and_dates_read_the_same_everywhere() {
    let site = common::example_site();
    let out = site.build(&[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let index: serde_json::Value = serde_json::from_str(&site.read("search-index.json")).unwrap();
    let docs = index["docs"].as_array().unwrap();
    assert!(!docs.is_empty());
    for d in docs {
        let (url, iso, day) = (
            d[0].as_str().unwrap(),
            d[2].as_str().unwrap(),
            d[6].as_str().unwrap(),
        );
        let page = site.read(&format!("{url}index.html"));
        assert!(
            page.contains(&format!("<time datetime=\"{iso}\">{day}</time>")),
            "{url}: the index's date {day:?} is not the one on the page"
        );
    }
    let ngo = index["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ngo")
        .unwrap();
    assert_eq!(ngo["title_in_text"], "NGOs");
    let sector = index["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "sector")
        .unwrap();
    assert_eq!(sector["title_in_text"], "sectors");

    let home = site.read("index.html");
    assert!(home.contains(">All 17 NGOs</a>"), "{home}");
    let explore = site.read("explore/index.html");
    assert!(!explore.contains(" ngos"), "explorer lowers an acronym");
    assert!(
        explore.contains("by NGO, sector"),
        "the description keeps NGO as written"
    );

    // Tags: the name a writer typed, with its capitals and spaces.
    let tags = site.read("tags/index.html");
    for written in ["COVID-19", "remote delivery", "WhatsApp"] {
        assert!(
            tags.contains(&format!(">{written}</a> <span class=\"count\">")),
            "{written}: {tags}"
        );
    }
    assert!(!tags.contains(">remote-delivery<"));
}

/// Every `href` and `src` in every feed is absolute, and each one on the
/// site leads to a file the build wrote: a feed reader shows the entries
/// away from the site, where `../b/` or `/learning/ngo/x/` lead nowhere.
#[test]
fn feed_links_are_absolute_and_lead_somewhere() {
    let site = Site::empty(
        "title = \"Feeds\"\nbase_url = \"https://feeds.example/learning/\"\n\
         [[taxonomies]]\nname = \"sector\"\nfeed = true\n",
    );
    site.write(
        "content/case-studies/a.md",
        "---\ntitle: A\ndate: 2024-01-02\nngo: N\nsector: Water\nprogram: P\nsummary: A.\n---\n\
         ## Results\n\n\
         See [b](../b/), [its NGO](/ngo/n/), [this](#results), [the other](@/case-studies/b.md)\n\
         and [elsewhere](https://other.example/x). ![The logo](/favicon.svg)\n",
    );
    site.write(
        "content/case-studies/b.md",
        "---\ntitle: B\ndate: 2024-01-01\nngo: N\nsector: Water\nprogram: P\nsummary: B.\n---\nB.\n",
    );
    let out = site.build(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let base = "https://feeds.example/learning/";
    let mut checked = 0;
    for feed in site.files().iter().filter(|f| f.ends_with("atom.xml")) {
        let xml = site.read(feed);
        // The entries' HTML is in CDATA sections: its attributes as written.
        for attr in ["href", "src"] {
            for v in between(&xml, &format!(" {attr}=\""), "\"") {
                assert!(
                    v.starts_with("https://"),
                    "{feed}: {attr}=\"{v}\" is not absolute"
                );
                let Some(path) = v.strip_prefix(base) else {
                    continue;
                };
                let path = path.split(['#', '?']).next().unwrap();
                let file = if path.is_empty() || path.ends_with('/') {
                    format!("{path}index.html")
                } else {
                    path.to_string()
                };
                assert!(site.exists(&file), "{feed}: {v} leads to no file ({file})");
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "only {checked} links checked");
    let feed = site.read("atom.xml");
    for want in [
        "href=\"https://feeds.example/learning/case-studies/b/\"",
        "href=\"https://feeds.example/learning/ngo/n/\"",
        "href=\"https://feeds.example/learning/case-studies/a/#results\"",
        "src=\"https://feeds.example/learning/favicon.svg\"",
        "href=\"https://other.example/x\"",
    ] {
        assert!(feed.contains(want), "{want} missing from {feed}");
    }
}
