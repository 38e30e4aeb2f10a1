//! The built-in theme's templates are the only description of its output:
//! an edit to any of them shows in every output file that uses it. Each
//! template is edited in a copy of the example site (a marker put where it
//! prints), the site is built, and the marker is looked for in every file.

use crate::common;

use common::*;

/// Which templates make the output file at `path` (relative to the output
/// folder), the built-in theme's own layout: kinds by where they are.
fn templates_of(path: &str, taxonomies: &[String]) -> Vec<&'static str> {
    let parts: Vec<&str> = path.trim_end_matches("index.html").split('/').collect();
    let parts: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    let paged = parts.len() >= 2 && parts[parts.len() - 2] == "page";
    let own: &[&str] = match (path, parts.as_slice()) {
        ("robots.txt", _) => &["robots.txt"],
        ("sitemap.xml", _) => &["sitemap.xml"],
        (p, _) if p.ends_with("atom.xml") => &["atom.xml"],
        (p, _) if !p.ends_with(".html") => &[],
        ("404.html", _) => &["404.html", "base.html"],
        (_, []) => &["index.html", "base.html", "components.html"],
        (_, ["old", "moved"]) => &["alias.html"],
        (_, ["explore"]) => &["explore.html", "base.html"],
        (_, ["outcomes"]) => &["outcomes.html", "base.html"],
        (_, ["case-studies"]) => &["list.html", "base.html", "components.html"],
        (_, ["case-studies", "page", _]) => &["list.html", "base.html", "components.html"],
        (_, ["case-studies", _]) => &["case-study.html", "base.html"],
        (_, ["reports"]) => &["reports.html", "base.html", "components.html"],
        (_, ["reports", _]) => &["report.html", "base.html", "components.html"],
        (_, [t]) if taxonomies.iter().any(|x| x == t) => &["taxonomy.html", "base.html"],
        (_, [t, ..]) if taxonomies.iter().any(|x| x == t) => {
            let _ = paged;
            &["term.html", "base.html", "components.html"]
        }
        _ => &["page.html", "base.html"],
    };
    own.to_vec()
}

/// `source` with `mark` put where the template prints it on every use.
fn marked(name: &str, source: &str, mark: &str) -> String {
    let before = |s: &str, at: &str, put: &str| -> Option<String> {
        let i = s.rfind(at)?;
        Some(format!("{}{put}{}", &s[..i], &s[i..]))
    };
    let comment = format!("<!-- {mark} -->");
    let done = match name {
        "components.html" => before(source, "{%- endcomponent card %}", mark),
        "atom.xml" => before(source, "</feed>", &comment),
        "sitemap.xml" => before(source, "</urlset>", &comment),
        "robots.txt" => Some(format!("{source}# {mark}\n")),
        "base.html" | "alias.html" => before(source, "</body>", mark),
        _ => before(source, "{% endblock content %}", mark),
    };
    done.unwrap_or_else(|| panic!("no place for a marker in {name}"))
}

#[test]
fn an_edit_to_any_built_in_template_shows_in_every_output_that_uses_it() {
    let theme = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates");
    let mut names: Vec<String> = std::fs::read_dir(&theme)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 15, "the built-in templates: {names:?}");
    for name in &names {
        let site = example_site();
        // A redirect, so alias.html has an output.
        let cs = "content/case-studies/cdi-chile-virtual-event.md";
        let text = site
            .source(cs)
            .replacen("---\n", "---\naliases: [/old/moved/]\n", 1);
        site.write(cs, &text);
        let rel = format!("themes/default/templates/{name}");
        let mark = format!("MARK-{}", name.replace('.', "-"));
        site.write(&rel, &marked(name, &site.source(&rel), &mark));
        let out = site.build(&[]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let taxonomies: Vec<String> = ["ngo", "sector", "program", "country", "tags"]
            .iter()
            .filter(|t| site.exists(&format!("{t}/index.html")))
            .map(|t| t.to_string())
            .collect();
        let mut users = 0;
        for file in site.files() {
            let uses = templates_of(&file, &taxonomies).contains(&name.as_str());
            let bytes = std::fs::read(site.out().join(&file)).unwrap();
            let shows = String::from_utf8_lossy(&bytes).contains(&mark);
            if uses {
                users += 1;
                assert!(shows, "editing {name} did not change {file}");
            } else {
                assert!(
                    !shows,
                    "editing {name} changed {file}, which does not use it"
                );
            }
        }
        assert!(users > 0, "no output uses {name}");
    }
}
