//! Generates the benchmark corpus for `benches/compare.sh`: N case studies,
//! deterministic from a seed, written twice — as a casebook site and as the
//! same site for Hugo — so both tools can build the same content.
//!
//! ```text
//! cargo run --release --example gen_corpus -- --n 10000 --out target/bench/10000 [--seed 42]
//! ```
//!
//! `OUT/casebook/` holds `site.toml` (four taxonomies: ngo, sector, program,
//! tags; no pagination) and `content/case-studies/cs-000001.md` ...;
//! `OUT/hugo/` holds `hugo.toml`, minimal layouts doing the same template
//! work as casebook's theme, and byte-identical copies of the same files.
//!
//! Each case study has YAML front matter (title, date, ngo — one of about
//! N/8, so NGOs repeat —, 1–2 of 12 sectors, one of 8 programmes, 2–5 of 200
//! tags, a one-sentence summary, 1–3 outcomes, `draft: false`; no `country`,
//! no `report`) and a body of about 800 words with 3–5 `##` headings, a
//! bulleted list, an ordered list, inline links, a blockquote and a table.
//! Every taxonomy term is plain ASCII letters, digits and single spaces, so
//! casebook's slugs and Hugo's `urlize` agree and both sites have the same
//! pages: home, 404, the case-study list, every case study, four taxonomy
//! lists and one page per term.
//!
//! OUT is deleted and recreated. Only std is used (and clap for arguments).

use clap::Parser;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    about = "Write a benchmark corpus as a casebook site (OUT/casebook) and a Hugo site (OUT/hugo)"
)]
struct Args {
    /// Number of case studies
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Output folder (deleted and recreated)
    #[arg(long)]
    out: PathBuf,
    /// Seed of the pseudo-random generator; the same seed gives the same corpus
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// splitmix64: small, fast, and the same sequence on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// A number in 0..n (the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A number in lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------- word lists

const NOUNS: &[&str] = &[
    "programme",
    "team",
    "field staff",
    "community",
    "clinic",
    "school",
    "survey",
    "partner",
    "volunteer",
    "budget",
    "system",
    "dashboard",
    "report",
    "district office",
    "health worker",
    "family",
    "mother",
    "farmer",
    "referral",
    "visit",
    "phone",
    "message",
    "form",
    "spreadsheet",
    "database",
    "vendor",
    "contract",
    "board",
    "strategy",
    "roadmap",
    "pilot",
    "rollout",
    "record",
    "process",
    "helpline",
    "case worker",
    "donor",
    "grant",
    "workshop",
    "checklist",
    "pipeline",
    "website",
    "chatbot",
    "map",
    "registry",
    "training plan",
    "feedback loop",
    "toolkit",
    "server",
];
const VERBS: &[&str] = &[
    "built",
    "tested",
    "changed",
    "replaced",
    "reduced",
    "improved",
    "started",
    "reviewed",
    "measured",
    "trained",
    "connected",
    "simplified",
    "documented",
    "shared",
    "planned",
    "moved",
    "rebuilt",
    "checked",
    "published",
    "automated",
    "cleaned",
    "merged",
    "retired",
    "funded",
];
const ADJECTIVES: &[&str] = &[
    "new",
    "better",
    "simpler",
    "shared",
    "local",
    "weekly",
    "monthly",
    "reliable",
    "open",
    "small",
    "careful",
    "practical",
    "clear",
    "useful",
    "early",
    "cheaper",
    "faster",
    "secure",
    "paper",
    "manual",
    "digital",
    "regional",
    "national",
    "first",
    "second",
    "old",
    "slow",
    "costly",
];
const ADVERBS: &[&str] = &[
    "quickly",
    "carefully",
    "together",
    "slowly",
    "again",
    "openly",
    "gradually",
    "finally",
    "first",
    "later",
    "quietly",
    "jointly",
];
const PREPOSITIONS: &[&str] = &[
    "with",
    "for",
    "across",
    "in",
    "from",
    "behind",
    "alongside",
    "before",
    "after",
    "without",
];
const SUBJECTS: &[&str] = &[
    "The team",
    "The NGO",
    "Field staff",
    "The programme lead",
    "Our fellow",
    "The board",
    "Volunteers",
    "The data officer",
    "The director",
    "Partners",
    "The new hire",
    "Everyone",
];
const CONNECTORS: &[&str] = &[
    "Then",
    "Later",
    "At first",
    "Within a month",
    "By the second quarter",
    "In the end",
    "Meanwhile",
    "Before the rollout",
    "After the pilot",
    "Over the year",
];

const SECTORS: &[&str] = &[
    "Health",
    "Mental Health",
    "Education",
    "Gender",
    "Livelihoods",
    "Agriculture",
    "Water and Sanitation",
    "Climate",
    "Civil Society",
    "Disaster Relief",
    "Child Protection",
    "Nutrition",
];
const PROGRAMS: &[&str] = &[
    "Fractional CxO",
    "Tech4Impact",
    "TechSoup Global Network",
    "Data Fellows",
    "Product Studio",
    "Open Source Sprint",
    "Digital Skills",
    "Systems Clinic",
];
const METRICS: &[(&str, &str)] = &[
    ("People reached", "people"),
    ("Staff trained", "people"),
    ("Hours saved per month", "hours"),
    ("Records digitised", "records"),
    ("Cost saved", "USD"),
    ("Volunteers onboarded", "people"),
    ("Districts covered", "districts"),
    ("Response time cut", "percent"),
    ("Net Promoter Score", "points"),
    ("Messages answered", "messages"),
    ("Schools connected", "schools"),
    ("Farmers registered", "people"),
    ("Referrals completed", "referrals"),
    ("Forms replaced", "forms"),
    ("Data errors reduced", "percent"),
];
const NGO_FIRST: &[&str] = &[
    "Asha", "Bright", "Common", "Delta", "Early", "Fair", "Green", "Harbor", "Inner", "Joint",
    "Kind", "Lantern", "Maple", "North", "Open", "Prairie", "Quiet", "River", "Steady", "True",
    "Upland", "Valley", "West", "Young",
];
const NGO_SECOND: &[&str] = &[
    "Futures", "Hands", "Roots", "Bridges", "Voices", "Paths", "Circles", "Harvest", "Wells",
    "Lights", "Steps", "Homes", "Fields", "Threads", "Springs", "Seeds",
];
/// Tags are "<first> <second>": 20 × 10 = 200 distinct tags.
const TAG_FIRST: &[&str] = &[
    "data",
    "mobile",
    "cloud",
    "open",
    "digital",
    "community",
    "field",
    "remote",
    "shared",
    "offline",
    "low cost",
    "youth",
    "rural",
    "urban",
    "public",
    "donor",
    "volunteer",
    "local",
    "safe",
    "team",
];
const TAG_SECOND: &[&str] = &[
    "culture",
    "tools",
    "skills",
    "security",
    "reporting",
    "outreach",
    "finance",
    "governance",
    "design",
    "learning",
];

// ------------------------------------------------------------------- prose

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// One English-like sentence of roughly 10–20 words.
fn sentence(rng: &mut Rng) -> String {
    let mut s = String::new();
    if rng.below(3) == 0 {
        let _ = write!(s, "{}, ", rng.pick(CONNECTORS));
        // "The team" -> "the team" after a connector.
        let subj = rng.pick(SUBJECTS);
        s.push_str(&subj[..1].to_lowercase());
        s.push_str(&subj[1..]);
    } else {
        s.push_str(rng.pick(SUBJECTS));
    }
    let _ = write!(
        s,
        " {} the {} {} {} the {} {}",
        rng.pick(VERBS),
        rng.pick(ADJECTIVES),
        rng.pick(NOUNS),
        rng.pick(PREPOSITIONS),
        rng.pick(ADJECTIVES),
        rng.pick(NOUNS),
    );
    match rng.below(3) {
        0 => {
            let _ = write!(s, " and {} {}", rng.pick(VERBS), rng.pick(ADVERBS));
        }
        1 => {
            let _ = write!(
                s,
                ", so that every {} could use the {} {}",
                rng.pick(NOUNS),
                rng.pick(ADJECTIVES),
                rng.pick(NOUNS)
            );
        }
        _ => {
            let _ = write!(s, " {}", rng.pick(ADVERBS));
        }
    }
    s.push('.');
    s
}

fn paragraph(rng: &mut Rng, sentences: usize) -> String {
    let v: Vec<String> = (0..sentences).map(|_| sentence(rng)).collect();
    v.join(" ")
}

/// A short phrase for headings, list items and table cells.
fn phrase(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        rng.pick(ADJECTIVES),
        rng.pick(NOUNS),
        rng.pick(ADVERBS)
    )
}

fn link(rng: &mut Rng) -> String {
    let noun = rng.pick(NOUNS);
    format!(
        "[the {noun} notes](https://example.org/{}/{})",
        noun.replace(' ', "-"),
        rng.below(1000)
    )
}

// -------------------------------------------------------------- case study

struct CaseStudy {
    slug: String,
    text: String,
}

fn ngo_name(k: usize) -> String {
    let a = NGO_FIRST.len();
    let b = NGO_SECOND.len();
    let mut name = format!("{} {}", NGO_FIRST[k % a], NGO_SECOND[(k / a) % b]);
    if k >= a * b {
        let _ = write!(name, " {}", k / (a * b) + 1);
    }
    name
}

fn case_study(rng: &mut Rng, i: usize, n: usize) -> CaseStudy {
    let ngo = ngo_name(rng.below((n / 8).max(1)));
    let mut sectors = vec![rng.pick(SECTORS)];
    if rng.below(2) == 0 {
        let s = rng.pick(SECTORS);
        if !sectors.contains(&s) {
            sectors.push(s);
        }
    }
    let program = rng.pick(PROGRAMS);
    let mut tags: Vec<String> = Vec::new();
    let want = rng.range(2, 5);
    while tags.len() < want {
        let t = format!("{} {}", rng.pick(TAG_FIRST), rng.pick(TAG_SECOND));
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let date = format!(
        "{}-{:02}-{:02}",
        2017 + rng.below(8),
        rng.range(1, 12),
        rng.range(1, 28)
    );
    let title = format!(
        "{ngo} {} its {} {}",
        rng.pick(VERBS),
        rng.pick(ADJECTIVES),
        rng.pick(NOUNS)
    );
    let summary = sentence(rng);

    let quoted = |v: &[&str]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut t = String::from("---\n");
    let _ = writeln!(t, "title: \"{title}\"");
    let _ = writeln!(t, "date: {date}");
    let _ = writeln!(t, "ngo: \"{ngo}\"");
    let _ = writeln!(t, "sector: [{}]", quoted(&sectors));
    let _ = writeln!(t, "program: \"{program}\"");
    let tag_refs: Vec<&str> = tags.iter().map(String::as_str).collect();
    let _ = writeln!(t, "tags: [{}]", quoted(&tag_refs));
    let _ = writeln!(t, "summary: \"{summary}\"");
    t.push_str("outcomes:\n");
    let mut metrics: Vec<usize> = Vec::new();
    let want = rng.range(1, 3);
    while metrics.len() < want {
        let m = rng.below(METRICS.len());
        if !metrics.contains(&m) {
            metrics.push(m);
        }
    }
    for m in metrics {
        let (metric, unit) = METRICS[m];
        let _ = writeln!(
            t,
            "  - metric: \"{metric}\"\n    value: {}\n    unit: \"{unit}\"",
            rng.range(5, 50_000)
        );
    }
    t.push_str("draft: false\n---\n\n");

    // The body: an introduction, then 3–5 sections. The bulleted list, the
    // ordered list, the blockquote and the table go in the first sections;
    // each section has a link or two. About 800 words in all.
    t.push_str(&paragraph(rng, 5));
    t.push_str("\n\n");
    let sections = rng.range(3, 5);
    let per_section = 38 / sections; // sentences per section, about 720 words of prose in all
    for s in 0..sections {
        let _ = writeln!(t, "## {}\n", capitalise(&phrase(rng)));
        let first = per_section / 2;
        t.push_str(&paragraph(rng, first));
        let _ = write!(t, " See {}", link(rng));
        if rng.below(2) == 0 {
            let _ = write!(t, " and {}", link(rng));
        }
        t.push_str(".\n\n");
        match s {
            0 => {
                for _ in 0..rng.range(3, 5) {
                    let _ = writeln!(t, "- {}", capitalise(&phrase(rng)));
                }
                t.push('\n');
            }
            1 => {
                for k in 1..=rng.range(3, 5) {
                    let _ = writeln!(t, "{k}. {}", sentence(rng));
                }
                t.push('\n');
                let _ = writeln!(t, "> {}\n", sentence(rng));
            }
            2 => {
                t.push_str("| Measure | Before | After |\n|---|---:|---:|\n");
                for _ in 0..rng.range(3, 5) {
                    let _ = writeln!(
                        t,
                        "| {} | {} | {} |",
                        capitalise(rng.pick(NOUNS)),
                        rng.below(1000),
                        rng.below(1000)
                    );
                }
                t.push('\n');
            }
            _ => {}
        }
        t.push_str(&paragraph(rng, per_section - first));
        t.push_str("\n\n");
    }
    CaseStudy {
        slug: format!("cs-{:06}", i + 1),
        text: t,
    }
}

// ------------------------------------------------------------------- sites

const CASEBOOK_TOML: &str = r#"# Generated by examples/gen_corpus.rs for benches/compare.sh.
title = "Benchmark corpus"
base_url = "https://bench.example/"
paginate_by = 1000000

[[taxonomies]]
name = "ngo"
title = "NGOs"
singular = "NGO"

[[taxonomies]]
name = "sector"
title = "Sectors"
singular = "Sector"

[[taxonomies]]
name = "program"
title = "Programmes"
singular = "Programme"

[[taxonomies]]
name = "tags"
title = "Tags"
singular = "Tag"
"#;

// `paginate` (Hugo < 0.128) is left out on purpose: Hugo 0.140+ stops with
// "ERROR deprecated: site config key paginate". No layout below calls
// .Paginate or .Paginator, so no Hugo version paginates this site;
// `pagination.pagerSize` is set for Hugo >= 0.128 all the same.
const HUGO_TOML: &str = r#"# Generated by examples/gen_corpus.rs for benches/compare.sh.
baseURL = "https://bench.example/"
title = "Benchmark corpus"
languageCode = "en"
disableKinds = ["RSS", "sitemap", "robotsTXT"]

[pagination]
pagerSize = 1000000

[taxonomies]
ngo = "ngo"
sector = "sector"
program = "program"
tag = "tags"

[markup.goldmark.renderer]
unsafe = false
"#;

const HUGO_BASEOF: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ .Site.Title }}{{ else }}{{ .Title }} · {{ .Site.Title }}{{ end }}</title>
<meta name="description" content="{{ with .Params.summary }}{{ . }}{{ else }}{{ .Site.Title }}{{ end }}">
<link rel="canonical" href="{{ .Permalink }}">
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ .Site.Title }}</a>
<nav><ul>
<li><a href="{{ "case-studies/" | relURL }}">Case studies</a></li>
{{ range $plural, $terms := .Site.Taxonomies }}<li><a href="{{ printf "%s/" $plural | relURL }}">{{ $plural }}</a></li>
{{ end }}</ul></nav>
</header>
<main>
{{ block "main" . }}{{ end }}
</main>
<footer><p>{{ .Site.Title }}</p></footer>
</body>
</html>
"#;

/// A card, as casebook's `card` component: NGO, title link, summary, first
/// outcome, sectors, date. The names come from `.Params`, not `.GetTerms`:
/// the card links to no term page, and in Hugo 0.111 `.GetTerms` costs about
/// 1 ms a call, which at 80,000 cards would make Hugo's build five times
/// slower than a Hugo user's card would be.
const HUGO_CARD: &str = r#"<article class="card">
{{ with .Params.ngo }}<p>{{ . }}</p>{{ end }}
<h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
{{ with .Params.summary }}<p>{{ . }}</p>{{ end }}
{{ with .Params.outcomes }}{{ with index . 0 }}<p><strong>{{ .value }}</strong> {{ .metric }}</p>{{ end }}{{ end }}
<p>{{ with .Params.sector }}<span>{{ delimit . ", " }}</span>{{ end }}
<time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time></p>
</article>
"#;

const HUGO_SINGLE: &str = r#"{{ define "main" }}
<article>
<header>
{{ with .GetTerms "ngo" }}<p>{{ range $i, $t := . }}{{ if $i }}, {{ end }}<a href="{{ $t.RelPermalink }}">{{ $t.LinkTitle }}</a>{{ end }}</p>{{ end }}
<h1>{{ .Title }}</h1>
{{ with .Params.summary }}<p class="lede">{{ . }}</p>{{ end }}
<dl>
{{ range $tax := slice "sector" "program" "tags" }}{{ with $.GetTerms $tax }}
<div><dt>{{ $tax }}</dt><dd>{{ range $i, $t := . }}{{ if $i }}, {{ end }}<a href="{{ $t.RelPermalink }}">{{ $t.LinkTitle }}</a>{{ end }}</dd></div>
{{ end }}{{ end }}
<div><dt>Published</dt><dd><time datetime="{{ .Date.Format "2006-01-02" }}">{{ .Date.Format "2 January 2006" }}</time></dd></div>
</dl>
</header>
{{ with .Params.outcomes }}
<section>
<h2>Outcomes</h2>
<table>
<tr><th>Metric</th><th>Value</th><th>Unit</th></tr>
{{ range . }}<tr><td>{{ .metric }}</td><td>{{ .value }}</td><td>{{ .unit }}</td></tr>
{{ end }}</table>
</section>
{{ end }}
<div class="prose">
{{ .Content }}
</div>
</article>
{{ end }}
"#;

/// The case-study section list and every term page: all their pages.
const HUGO_LIST: &str = r#"{{ define "main" }}
<h1>{{ .Title }}</h1>
<p>{{ len .Pages }} case studies</p>
{{ range .Pages }}{{ partial "card.html" . }}{{ end }}
{{ end }}
"#;

/// The home page, as casebook's: the 6 newest case studies, then the 12
/// biggest terms of each taxonomy with their counts.
const HUGO_HOME: &str = r#"{{ define "main" }}
<h1>{{ .Site.Title }}</h1>
<h2>Latest case studies</h2>
{{ $cs := where .Site.RegularPages "Section" "case-studies" }}
{{ range first 6 $cs.ByDate.Reverse }}{{ partial "card.html" . }}{{ end }}
<p><a href="{{ "case-studies/" | relURL }}">All {{ len $cs }} case studies</a></p>
<h2>Browse</h2>
{{ range $plural, $terms := .Site.Taxonomies }}
<section><h3><a href="{{ printf "%s/" $plural | relURL }}">{{ $plural }}</a></h3>
<ul>
{{ range first 12 $terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }} <span>{{ .Count }}</span></a></li>
{{ end }}</ul>
</section>
{{ end }}
{{ end }}
"#;

/// A taxonomy's list of terms: term and count.
const HUGO_TERMS: &str = r#"{{ define "main" }}
<h1>{{ .Title }}</h1>
<p>{{ len .Data.Terms }} terms</p>
<ul>
{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.LinkTitle }} <span>{{ .Count }}</span></a></li>
{{ end }}</ul>
{{ end }}
"#;

const HUGO_404: &str = r#"{{ define "main" }}
<h1>Page not found</h1>
<p>There is no page at this address.</p>
<ul><li><a href="{{ "/" | relURL }}">Go to the home page</a></li>
<li><a href="{{ "case-studies/" | relURL }}">Browse all case studies</a></li></ul>
{{ end }}
"#;

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let args = Args::parse();
    let out = &args.out;
    match std::fs::remove_dir_all(out) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("{}: {e}", out.display()),
    }
    let cb = out.join("casebook");
    let hugo = out.join("hugo");
    write(&cb.join("site.toml"), CASEBOOK_TOML);
    write(&hugo.join("hugo.toml"), HUGO_TOML);
    let layouts = hugo.join("layouts");
    write(&layouts.join("_default/baseof.html"), HUGO_BASEOF);
    write(&layouts.join("_default/single.html"), HUGO_SINGLE);
    write(&layouts.join("_default/list.html"), HUGO_LIST);
    write(&layouts.join("_default/term.html"), HUGO_LIST);
    write(&layouts.join("_default/terms.html"), HUGO_TERMS);
    write(&layouts.join("partials/card.html"), HUGO_CARD);
    write(&layouts.join("index.html"), HUGO_HOME);
    write(&layouts.join("404.html"), HUGO_404);
    write(
        &hugo.join("content/case-studies/_index.md"),
        "---\ntitle: \"Case studies\"\n---\n",
    );
    let cb_dir = cb.join("content/case-studies");
    let hugo_dir = hugo.join("content/case-studies");
    std::fs::create_dir_all(&cb_dir).unwrap();

    let mut rng = Rng(args.seed);
    let mut words = 0usize;
    for i in 0..args.n {
        let cs = case_study(&mut rng, i, args.n);
        let body = cs.text.splitn(3, "---\n").nth(2).unwrap_or("");
        words += body.split_whitespace().count();
        let name = format!("{}.md", cs.slug);
        write(&cb_dir.join(&name), &cs.text);
        write(&hugo_dir.join(&name), &cs.text);
    }
    println!(
        "wrote {} case studies (about {} words of body each) to {} and {}",
        args.n,
        words / args.n.max(1),
        cb.display(),
        hugo.display()
    );
}
