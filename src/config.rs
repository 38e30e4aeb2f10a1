//! `site.toml` into a typed [`Config`]: the one file a maintainer edits.
//!
//! Everything has a default so a site can start with a title and a base URL;
//! unknown keys are errors with a did-you-mean, because a misspelt option that
//! is silently ignored costs an afternoon.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::text::{self, slug};

/// URL segments the built-in pages use; a taxonomy cannot take one of them.
pub const RESERVED_SEGMENTS: &[&str] = &[
    "case-studies",
    "reports",
    "explore",
    "outcomes",
    "page",
    "static",
    "atom.xml",
    "sitemap.xml",
    "robots.txt",
    "404.html",
    "processed-images",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub title: String,
    pub description: String,
    /// `https://example.org/learning/`, always ending in `/`.
    pub base_url: String,
    /// The path part of `base_url`: `/learning/`, or `/` at a domain root.
    pub base_path: String,
    pub language: String,
    pub author: Option<String>,
    /// Who publishes the site, for printed pages; the title when unset.
    pub organisation: Option<String>,
    /// The theme folder under `themes/` whose templates and static files
    /// override the built-in ones; `None` uses the built-in theme only.
    pub theme: Option<String>,
    pub paginate_by: usize,
    /// How many of the newest entries each Atom feed carries.
    pub feed_limit: usize,
    pub markdown: MarkdownConfig,
    pub taxonomies: Vec<TaxonomyConfig>,
    pub schema: Schema,
    pub related: RelatedConfig,
    pub outcomes: OutcomesConfig,
    /// How photos are resized and encoded: `[images]`.
    pub images: ImagesConfig,
    /// What consent photos and stories need: `[consent]`.
    pub consent: ConsentConfig,
    /// How heavy a page may be: `[budget]`.
    pub budget: BudgetConfig,
    /// The day consent is judged on: `SOURCE_DATE_EPOCH` when set (for
    /// reproducible builds and tests), else today in UTC.
    pub today: crate::content::date::Date,
}

/// `[images]` in site.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagesConfig {
    /// The widths, in pixels, each photo is made at; a photo is never
    /// made wider than it is.
    #[serde(default = "default_widths")]
    pub widths: Vec<u32>,
    /// WebP and JPEG quality, 1 to 100.
    #[serde(default = "default_quality")]
    pub quality: u8,
}

fn default_widths() -> Vec<u32> {
    vec![480, 960, 1600]
}
fn default_quality() -> u8 {
    75
}

impl Default for ImagesConfig {
    fn default() -> Self {
        ImagesConfig {
            widths: default_widths(),
            quality: default_quality(),
        }
    }
}

/// `[consent]` in site.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentConfig {
    /// How many days ahead `check` warns of a consent that expires.
    #[serde(default = "default_warn_days")]
    pub warn_days: u32,
    /// Every photo needs a consent record; one without is left out.
    #[serde(default)]
    pub required: bool,
    /// Every case study needs a consent record for the people in it; one
    /// without is left out.
    #[serde(default)]
    pub case_studies: bool,
}

fn default_warn_days() -> u32 {
    60
}

impl Default for ConsentConfig {
    fn default() -> Self {
        ConsentConfig {
            warn_days: default_warn_days(),
            required: false,
            case_studies: false,
        }
    }
}

/// `[budget]` in site.toml: what `casebook check --budget` allows a page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// The most a page may weigh, compressed, in kilobytes (1,000 bytes).
    #[serde(default = "default_page_kb")]
    pub page_kb: u32,
    /// The link speed load times are estimated for, in kilobits a second.
    #[serde(default = "default_kbps")]
    pub kbps: u32,
}

fn default_page_kb() -> u32 {
    500
}
fn default_kbps() -> u32 {
    400
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            page_kb: default_page_kb(),
            kbps: default_kbps(),
        }
    }
}

/// How related case studies are chosen: `[related]` in site.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelatedConfig {
    /// How many to show under each case study.
    #[serde(default = "default_related_limit")]
    pub limit: usize,
    /// Weight of a shared term, by taxonomy name; taxonomies not listed
    /// weigh 1, and 0 leaves a taxonomy out.
    #[serde(default)]
    pub weights: BTreeMap<String, u32>,
}

fn default_related_limit() -> usize {
    4
}

impl Default for RelatedConfig {
    fn default() -> Self {
        RelatedConfig {
            limit: default_related_limit(),
            weights: BTreeMap::new(),
        }
    }
}

impl RelatedConfig {
    /// The weight of a shared term in taxonomy `name`: site.toml's, or the
    /// default (the same NGO counts most, then sector, then country).
    pub fn weight(&self, name: &str) -> u32 {
        self.weights.get(name).copied().unwrap_or(match name {
            "ngo" => 4,
            "sector" => 3,
            "country" => 2,
            _ => 1,
        })
    }
}

/// How outcomes are added up: `[outcomes]` in site.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomesConfig {
    /// Taxonomies the totals are broken down by on /outcomes/. When
    /// site.toml does not say, sector and program, where the site has them.
    #[serde(default = "default_breakdown")]
    pub breakdown: Vec<String>,
    /// How a metric's figures are put together, by metric name (spelling
    /// and spacing as grouping sees them): `"Countries reached" = "max"`.
    /// A metric not named here is inferred from its unit.
    #[serde(default)]
    pub aggregate: BTreeMap<String, Aggregate>,
    #[serde(skip)]
    explicit: bool,
}

/// How a metric's figures across case studies become one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// Amounts (people, money, hours): added up. The default.
    Sum,
    /// The largest figure of any case study ("Countries reached", where
    /// two case studies may count the same countries).
    Max,
    /// Rates and scores (percent, "per week", a score): averaged.
    Mean,
    /// Not put together at all (NPS, a ranking): each case study shows its
    /// own figure, and no total is made.
    None,
}

fn default_breakdown() -> Vec<String> {
    vec!["sector".into(), "program".into()]
}

impl Default for OutcomesConfig {
    fn default() -> Self {
        OutcomesConfig {
            breakdown: default_breakdown(),
            aggregate: BTreeMap::new(),
            explicit: false,
        }
    }
}

/// The default required fields of each kind of page.
fn default_required(kind: &str) -> Vec<String> {
    let v: &[&str] = match kind {
        "case-study" => &["title", "date", "ngo", "sector", "program", "summary"],
        "report" => &["title", "date"],
        // An about page or a methodology note has no date to give.
        _ => &["title"],
    };
    v.iter().map(|s| s.to_string()).collect()
}

impl Config {
    /// The schema of a kind of page (`case-study`, `report`, `page`).
    pub fn kind_schema(&self, kind: &str) -> &KindSchema {
        match kind {
            "case-study" => &self.schema.case_study,
            "report" => &self.schema.report,
            _ => &self.schema.page,
        }
    }

    /// Fields a kind of page must have: site.toml's list, or the defaults.
    pub fn required_fields(&self, kind: &str) -> Vec<String> {
        self.kind_schema(kind)
            .required
            .clone()
            .unwrap_or_else(|| default_required(kind))
    }

    /// The type of a field on a kind of page, if the field is known at all:
    /// built in, a taxonomy, or declared in `[schema.<kind>] fields`.
    pub fn field_type(&self, kind: &str, field: &str) -> Option<FieldType> {
        BUILTIN_FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, t)| *t)
            .or_else(|| {
                self.taxonomies
                    .iter()
                    .any(|t| t.field == field)
                    .then_some(FieldType::List)
            })
            .or_else(|| self.kind_schema(kind).fields.get(field).copied())
    }
}

/// The type a front-matter field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Text (numbers are accepted and read as text).
    String,
    /// A list of texts; a single text is accepted as a list of one.
    List,
    /// A calendar date, `2024-12-10`.
    Date,
    Number,
    /// `true` or `false`.
    Bool,
    /// A list of `metric`/`value`/`unit` items.
    Outcomes,
    /// A consent record: `{ given, expires, scope, withdrawn }`.
    Consent,
}

impl FieldType {
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::String => "text",
            FieldType::List => "a list of names",
            FieldType::Date => "a date (YYYY-MM-DD)",
            FieldType::Number => "a number",
            FieldType::Bool => "true or false",
            FieldType::Outcomes => "a list of outcomes",
            FieldType::Consent => "a consent record",
        }
    }
}

/// What one kind of page must and may have in its front matter.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindSchema {
    /// Fields that must be present and not empty.
    pub required: Option<Vec<String>>,
    /// Extra fields the site uses (beyond the built-in ones and the
    /// taxonomies), with their types. Templates see them as `page.extra`.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldType>,
}

/// Per kind of page: `[schema.case-study]`, `[schema.report]`, `[schema.page]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    #[serde(default, rename = "case-study")]
    pub case_study: KindSchema,
    #[serde(default)]
    pub report: KindSchema,
    #[serde(default)]
    pub page: KindSchema,
}

/// Built-in front-matter fields and their types.
pub const BUILTIN_FIELDS: &[(&str, FieldType)] = &[
    ("title", FieldType::String),
    ("date", FieldType::Date),
    ("updated", FieldType::Date),
    ("draft", FieldType::Bool),
    ("summary", FieldType::String),
    ("slug", FieldType::String),
    ("report", FieldType::String),
    ("authors", FieldType::List),
    ("author", FieldType::List),
    ("outcomes", FieldType::Outcomes),
    ("aliases", FieldType::List),
    ("image", FieldType::String),
    ("image_alt", FieldType::String),
    ("image_caption", FieldType::String),
    ("image_credit", FieldType::String),
    ("image_consent", FieldType::Consent),
    ("consent", FieldType::Consent),
    ("photo_consent", FieldType::Consent),
];

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkdownConfig {
    /// Raw HTML in Markdown is escaped unless this is on: content written by
    /// many hands should not be able to inject script into the site.
    #[serde(default)]
    pub unsafe_html: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonomyConfig {
    /// The URL segment (`/sector/`) and the name templates use.
    pub name: String,
    /// The front-matter key it reads; defaults to `name`.
    #[serde(default)]
    pub field: String,
    /// Heading for the index page, e.g. "Sectors".
    #[serde(default)]
    pub title: String,
    /// Label for one term, e.g. "Sector".
    #[serde(default)]
    pub singular: String,
    /// Whether each term gets an Atom feed.
    #[serde(default = "yes")]
    pub feed: bool,
    /// A closed vocabulary: the only values allowed, spelt as they should be
    /// shown. Empty means any value is allowed.
    #[serde(default)]
    pub values: Vec<String>,
    /// Other spellings that mean one of `values`: "Mental health care" ->
    /// "Mental Health".
    #[serde(default)]
    pub aliases: BTreeMap<String, String>,
    /// A sentence or two about a term, shown on the taxonomy's index and
    /// the term's page: term name (any spelling of it) -> text.
    #[serde(default)]
    pub descriptions: BTreeMap<String, String>,
    /// slug of an allowed value or alias -> the value to show. Built from
    /// `values` and `aliases` when the config is loaded.
    #[serde(skip)]
    lookup: BTreeMap<String, String>,
    /// slug of a term -> (its description, the line of site.toml it is on).
    #[serde(skip)]
    described: BTreeMap<String, (String, usize)>,
}

/// Whether a value belongs to a taxonomy's vocabulary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VocabularyMatch<'a> {
    /// The vocabulary is open: any value goes, shown as written.
    Open,
    /// An allowed value (in any spelling with the same slug) or an alias of
    /// one; shown as this.
    Known(&'a str),
    /// Not allowed.
    Unknown,
}

impl TaxonomyConfig {
    pub fn is_closed(&self) -> bool {
        !self.values.is_empty()
    }

    /// How a value is shown: the vocabulary's spelling when the taxonomy has
    /// one (aliases resolved), otherwise as written with surrounding and
    /// repeated white space removed.
    pub fn shown(&self, value: &str) -> String {
        match self.lookup(value) {
            VocabularyMatch::Known(v) => v.to_string(),
            _ => value.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    /// Looks a value up in the vocabulary, by slug, so case and spacing do
    /// not matter.
    /// The description site.toml gives the term with this slug.
    pub fn description(&self, slug: &str) -> Option<&str> {
        self.described
            .get(slug)
            .map(|(d, _)| d.as_str())
            .filter(|d| !d.is_empty())
    }

    /// Terms site.toml describes, as (slug, name as written, line).
    pub fn described_terms(&self) -> impl Iterator<Item = (String, &str, usize)> {
        self.descriptions.keys().map(|name| {
            let slug = slug::slugify(name);
            let line = self.described.get(&slug).map_or(0, |(_, l)| *l);
            (slug, name.as_str(), line)
        })
    }

    pub fn lookup(&self, value: &str) -> VocabularyMatch<'_> {
        if !self.is_closed() {
            return VocabularyMatch::Open;
        }
        match self.lookup.get(&slug::slugify(value)) {
            Some(v) => VocabularyMatch::Known(v),
            None => VocabularyMatch::Unknown,
        }
    }
}

fn yes() -> bool {
    true
}

impl TaxonomyConfig {
    fn new(name: &str, title: &str, singular: &str) -> Self {
        TaxonomyConfig {
            name: name.into(),
            field: name.into(),
            title: title.into(),
            singular: singular.into(),
            feed: true,
            values: Vec::new(),
            aliases: BTreeMap::new(),
            descriptions: BTreeMap::new(),
            described: BTreeMap::new(),
            lookup: BTreeMap::new(),
        }
    }
}

/// A `[[taxonomies]]` entry as written: every key but `name` may be left
/// out, and what is left out keeps the default taxonomy's value (or the
/// built-in default, for a new taxonomy).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    name: String,
    field: Option<String>,
    title: Option<String>,
    singular: Option<String>,
    feed: Option<bool>,
    values: Option<Vec<String>>,
    aliases: Option<BTreeMap<String, String>>,
    descriptions: Option<BTreeMap<String, String>>,
    /// `false` removes the taxonomy (a default one) from the site.
    enabled: Option<bool>,
}

impl RawTaxonomy {
    /// `base` with what this entry says laid over it.
    fn over(self, mut base: TaxonomyConfig) -> TaxonomyConfig {
        base.name = self.name;
        if let Some(v) = self.field {
            base.field = v;
        }
        if let Some(v) = self.title {
            base.title = v;
        }
        if let Some(v) = self.singular {
            base.singular = v;
        }
        if let Some(v) = self.feed {
            base.feed = v;
        }
        if let Some(v) = self.values {
            base.values = v;
        }
        if let Some(v) = self.aliases {
            base.aliases = v;
        }
        if let Some(v) = self.descriptions {
            base.descriptions = v;
        }
        base
    }
}

/// The site's taxonomies: the defaults amended by name by what site.toml
/// declares (a default's title changed, `values` added), new names added
/// after them in the order written, `enabled = false` taking one away;
/// with `taxonomies_replace_defaults`, only the declared ones, in their
/// order. `Err` has the name at fault and the message.
fn merge_taxonomies(
    declared: Vec<RawTaxonomy>,
    replace_defaults: bool,
) -> Result<Vec<TaxonomyConfig>, (String, String)> {
    let defaults = default_taxonomies();
    let mut list: Vec<TaxonomyConfig> = if replace_defaults {
        Vec::new()
    } else {
        defaults.clone()
    };
    let mut seen: Vec<String> = Vec::new();
    for d in declared {
        if seen.contains(&d.name) {
            return Err((
                d.name.clone(),
                format!("taxonomy \"{}\" is declared twice", d.name),
            ));
        }
        seen.push(d.name.clone());
        let enabled = d.enabled.unwrap_or(true);
        match list.iter().position(|t| t.name == d.name) {
            Some(i) if !enabled => {
                list.remove(i);
            }
            Some(i) => {
                let base = list[i].clone();
                list[i] = d.over(base);
            }
            None if !enabled => {
                if !replace_defaults {
                    let names: Vec<&str> = defaults.iter().map(|t| t.name.as_str()).collect();
                    let hint = did_you_mean(&d.name, names.iter().copied())
                        .map(|s| format!(" (did you mean \"{s}\"?)"))
                        .unwrap_or_default();
                    return Err((
                        d.name.clone(),
                        format!(
                            "`enabled = false` turns off a default taxonomy, and \"{}\" is not one{hint}; the defaults are {}",
                            d.name,
                            names.join(", ")
                        ),
                    ));
                }
            }
            None => {
                let base = defaults
                    .iter()
                    .find(|t| t.name == d.name)
                    .cloned()
                    .unwrap_or_else(|| TaxonomyConfig::new(&d.name, "", ""));
                list.push(d.over(base));
            }
        }
    }
    Ok(list)
}

/// The taxonomies a site gets when `site.toml` declares none.
pub fn default_taxonomies() -> Vec<TaxonomyConfig> {
    vec![
        TaxonomyConfig::new("ngo", "NGOs", "NGO"),
        TaxonomyConfig::new("sector", "Sectors", "Sector"),
        TaxonomyConfig::new("program", "Programmes", "Programme"),
        TaxonomyConfig::new("country", "Countries", "Country"),
        TaxonomyConfig::new("tags", "Tags", "Tag"),
    ]
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default = "default_base_url")]
    base_url: String,
    #[serde(default = "default_language")]
    language: String,
    author: Option<String>,
    organisation: Option<String>,
    theme: Option<String>,
    #[serde(default = "default_paginate_by")]
    paginate_by: usize,
    #[serde(default = "default_feed_limit")]
    feed_limit: usize,
    #[serde(default)]
    markdown: MarkdownConfig,
    #[serde(default)]
    taxonomies: Vec<RawTaxonomy>,
    /// With `true`, the declared taxonomies are the site's only ones;
    /// otherwise they amend the defaults by name and add to them.
    #[serde(default)]
    taxonomies_replace_defaults: bool,
    #[serde(default)]
    schema: Schema,
    #[serde(default)]
    related: RelatedConfig,
    outcomes: Option<OutcomesConfig>,
    #[serde(default)]
    images: ImagesConfig,
    #[serde(default)]
    consent: ConsentConfig,
    #[serde(default)]
    budget: BudgetConfig,
}

fn default_base_url() -> String {
    "/".into()
}
fn default_language() -> String {
    "en".into()
}
fn default_paginate_by() -> usize {
    20
}
fn default_feed_limit() -> usize {
    50
}

/// The site's configuration file, at the root of the site.
pub const FILE: &str = "site.toml";

impl Config {
    /// Reads `site.toml` from the site root.
    pub fn load(root: &Path) -> Result<Config, Diagnostic> {
        let path = root.join(FILE);
        let bytes = std::fs::read(&path).map_err(|e| {
            let d = Diagnostic::error(FILE, format!("cannot read site.toml: {e}"));
            if e.kind() == std::io::ErrorKind::NotFound {
                d.with_hint(format!(
                    "{} is not a casebook site; run `casebook init` to create one, or pass --root",
                    root.display()
                ))
            } else {
                d
            }
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Diagnostic::error(FILE, "site.toml is not valid UTF-8 text"))?;
        Config::parse(&text)
    }

    /// Parses the text of a `site.toml`.
    pub fn parse(text: &str) -> Result<Config, Diagnostic> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_diagnostic(text, &e))?;
        escaped_control(text)?;
        let at_key = |key: &str, msg: String| {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with(key))
                .map_or(0, |i| i + 1);
            Diagnostic::error(FILE, msg).at(text, line, 1)
        };

        let (base_url, base_path) =
            normalise_base_url(&raw.base_url).map_err(|m| at_key("base_url", m))?;
        if raw.paginate_by == 0 {
            return Err(at_key(
                "paginate_by",
                "paginate_by must be at least 1".to_string(),
            ));
        }
        if let Some(theme) = &raw.theme {
            slug::check_segment(theme).map_err(|m| at_key("theme", format!("theme name: {m}")))?;
        }

        let mut taxonomies = merge_taxonomies(raw.taxonomies, raw.taxonomies_replace_defaults)
            .map_err(|(name, message)| {
                let line = text
                    .lines()
                    .position(|l| {
                        l.trim_start().starts_with("name")
                            && l.split_once('=')
                                .is_some_and(|(_, v)| v.trim().trim_matches(['"', '\'']) == name)
                    })
                    .map_or(0, |i| i + 1);
                Diagnostic::error(FILE, message).at(text, line, 1)
            })?;
        for t in &mut taxonomies {
            if slug::check_segment(&t.name).is_err() || t.name != slug::slugify(&t.name) {
                return Err(at_key(
                    "name",
                    format!(
                        "taxonomy name \"{}\" must be lower-case letters, digits and hyphens (it becomes the URL /{}/)",
                        t.name,
                        slug::slugify(&t.name)
                    ),
                ));
            }
            if RESERVED_SEGMENTS.contains(&t.name.as_str()) {
                return Err(at_key(
                    "name",
                    format!(
                        "taxonomy name \"{}\" is taken by a built-in page; choose another",
                        t.name
                    ),
                ));
            }
            if t.field.is_empty() {
                t.field = t.name.clone();
            }
            if t.title.is_empty() {
                t.title = title_case(&t.name);
            }
            if t.singular.is_empty() {
                t.singular = t.title.clone();
            }
            for v in &t.values {
                if slug::slugify(v).is_empty() {
                    return Err(at_key(
                        "values",
                        format!(
                            "taxonomy \"{}\": the value \"{v}\" has no letters or digits",
                            t.name
                        ),
                    ));
                }
                t.lookup.insert(slug::slugify(v), v.clone());
            }
            for (alias, target) in &t.aliases {
                let Some(canonical) = t.lookup.get(&slug::slugify(target)).cloned() else {
                    let hint = did_you_mean(target, t.values.iter().map(String::as_str))
                        .map(|s| format!(" (did you mean \"{s}\"?)"))
                        .unwrap_or_default();
                    return Err(at_key(
                        alias,
                        format!(
                            "taxonomy \"{}\": the alias \"{alias}\" points to \"{target}\", which is not one of its values{hint}",
                            t.name
                        ),
                    ));
                };
                t.lookup.entry(slug::slugify(alias)).or_insert(canonical);
            }
            for (term, description) in &t.descriptions {
                let line = text
                    .lines()
                    .position(|l| {
                        let l = l.trim_start();
                        l.starts_with(&format!("\"{term}\""))
                            || l.starts_with(&format!("{term} "))
                            || l.contains(&format!("\"{term}\" ="))
                    })
                    .map_or(0, |i| i + 1);
                t.described
                    .insert(slug::slugify(term), (description.trim().to_string(), line));
            }
        }

        let outcomes = match raw.outcomes {
            Some(o) => OutcomesConfig {
                explicit: true,
                ..o
            },
            None => {
                let mut o = OutcomesConfig::default();
                o.breakdown
                    .retain(|b| taxonomies.iter().any(|t| &t.name == b));
                o
            }
        };
        let explicit_breakdown = outcomes.breakdown.iter().filter(|_| outcomes.explicit);
        for name in raw.related.weights.keys().chain(explicit_breakdown) {
            if !taxonomies.iter().any(|t| &t.name == name) {
                let names: Vec<&str> = taxonomies.iter().map(|t| t.name.as_str()).collect();
                let d = at_key(
                    name,
                    format!("\"{name}\" is not one of the site's taxonomies"),
                );
                return Err(match did_you_mean(name, names.iter().copied()) {
                    Some(s) => d.with_hint(format!("did you mean \"{s}\"?")),
                    None => d.with_hint(format!("the taxonomies are: {}", names.join(", "))),
                });
            }
        }

        let images = raw.images;
        if images.widths.is_empty() || images.widths.iter().any(|&w| !(16..=8192).contains(&w)) {
            return Err(at_key(
                "widths",
                "[images] widths must list widths from 16 to 8192 pixels, e.g. widths = [480, 960, 1600]".into(),
            ));
        }
        if !(1..=100).contains(&images.quality) {
            return Err(at_key(
                "quality",
                format!(
                    "[images] quality must be from 1 to 100, not {}",
                    images.quality
                ),
            ));
        }
        let mut images = images;
        images.widths.sort_unstable();
        images.widths.dedup();

        // A required field must be one the site knows, or it could never be
        // satisfied; catch the typo here rather than on every page.
        for (kind, ks) in [
            ("case-study", &raw.schema.case_study),
            ("report", &raw.schema.report),
            ("page", &raw.schema.page),
        ] {
            for field in ks.required.iter().flatten() {
                let known = BUILTIN_FIELDS.iter().any(|(f, _)| f == field)
                    || taxonomies.iter().any(|t| &t.field == field)
                    || ks.fields.contains_key(field);
                if !known {
                    let candidates: Vec<&str> = BUILTIN_FIELDS
                        .iter()
                        .map(|(f, _)| *f)
                        .chain(taxonomies.iter().map(|t| t.field.as_str()))
                        .chain(ks.fields.keys().map(String::as_str))
                        .collect();
                    let mut d = at_key(
                        "required",
                        format!(
                            "[schema.{kind}] requires `{field}`, which is not a field casebook or this site knows"
                        ),
                    );
                    d = match did_you_mean(field, candidates) {
                        Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                        None => d.with_hint(format!("declare it in [schema.{kind}] fields, e.g. fields = {{ {field} = \"string\" }}")),
                    };
                    return Err(d);
                }
            }
        }

        Ok(Config {
            title: raw.title,
            description: raw.description,
            base_url,
            base_path,
            language: raw.language,
            author: raw.author,
            organisation: raw.organisation.filter(|o| !o.trim().is_empty()),
            theme: raw.theme,
            paginate_by: raw.paginate_by,
            feed_limit: raw.feed_limit.max(1),
            markdown: raw.markdown,
            taxonomies,
            schema: raw.schema,
            related: raw.related,
            outcomes,
            images,
            consent: raw.consent,
            budget: raw.budget,
            today: crate::content::date::Date::today(),
        })
    }

    /// Replaces the base URL (the `--base-url` option).
    pub fn with_base_url(mut self, url: &str) -> Result<Config, Diagnostic> {
        let (base_url, base_path) =
            normalise_base_url(url).map_err(|m| Diagnostic::error("--base-url", m))?;
        self.base_url = base_url;
        self.base_path = base_path;
        Ok(self)
    }

    /// The absolute URL of a site path (`case-studies/x/` -> `https://example.org/learning/case-studies/x/`).
    /// When the base URL has no host (`/`), the result is root-relative.
    pub fn permalink(&self, path: &str) -> String {
        [self.base_url.as_str(), path.trim_start_matches('/')].concat()
    }

    /// The root-relative URL of a site path, with the base path in front:
    /// `case-studies/x/` -> `/learning/case-studies/x/`.
    pub fn url(&self, path: &str) -> String {
        // Not `format!`: a build makes a hundred thousand of these, and
        // the formatting machinery cost ten times the copying.
        [self.base_path.as_str(), path.trim_start_matches('/')].concat()
    }
}

fn title_case(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f
            .to_uppercase()
            .chain(c)
            .collect::<String>()
            .replace('-', " "),
        None => String::new(),
    }
}

/// `https://example.org/learning` -> (`https://example.org/learning/`, `/learning/`).
fn normalise_base_url(url: &str) -> Result<(String, String), String> {
    let url = url.trim();
    let bad = |why: &str| {
        format!(
            "base_url \"{url}\" {why}; write it as https://example.org/ or https://example.org/learning/"
        )
    };
    if url.chars().any(|c| {
        c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>' | '\\' | '?' | '#')
    }) {
        return Err(bad("contains characters that cannot be in a URL"));
    }
    let path = if let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    {
        let (host, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, "/"),
        };
        if host.is_empty() {
            return Err(bad("has no host"));
        }
        path
    } else if url.starts_with('/') && !url.starts_with("//") {
        url
    } else {
        return Err(bad("must start with http://, https:// or /"));
    };
    if path.split('/').any(|seg| seg == ".." || seg == ".") {
        return Err(bad("contains \"..\" or \".\" segments"));
    }
    let mut path = path.to_string();
    while path.contains("//") {
        path = path.replace("//", "/");
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    let base = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            let host_end = after.find('/').map_or(url.len(), |j| i + 3 + j);
            format!("{}{}", &url[..host_end], path)
        }
        None => path.clone(),
    };
    Ok((base, path))
}

/// A control character written into a site.toml value with an escape
/// (`"\u0000"`, `"\u001b[2J"`): TOML refuses them written out, but not
/// escaped, and the site's title and description are on every page.
fn escaped_control(text: &str) -> Result<(), Diagnostic> {
    if !text.contains('\\') {
        return Ok(());
    }
    fn find(key: &str, v: &toml::Value) -> Option<(String, char)> {
        match v {
            toml::Value::String(s) => s
                .chars()
                .find(|&c| text::is_forbidden_control(c))
                .map(|c| (key.to_string(), c)),
            toml::Value::Array(items) => items.iter().find_map(|i| find(key, i)),
            toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
                k.chars()
                    .find(|&c| text::is_forbidden_control(c))
                    .map(|c| (k.clone(), c))
                    .or_else(|| find(k, v))
            }),
            _ => None,
        }
    }
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Ok(());
    };
    let Some((key, c)) = find("", &toml::Value::Table(table)) else {
        return Ok(());
    };
    let line = text
        .lines()
        .position(|l| {
            l.trim_start()
                .trim_start_matches(['{', ',', ' '])
                .starts_with(key.as_str())
                || l.contains(&format!(" {key} ="))
        })
        .map_or(0, |i| i + 1);
    Err(Diagnostic::error(
        FILE,
        format!(
            "`{key}` holds a control character, {}, written as an escape",
            text::describe_control(c)
        ),
    )
    .at(text, line, 1)
    .with_hint("remove the escape: such characters are invisible on the page"))
}

fn toml_diagnostic(text: &str, e: &toml::de::Error) -> Diagnostic {
    let mut message = e.message().trim().to_string();
    let mut hint = None;
    // serde's "unknown field `x`, expected one of `a`, `b`" gets a did-you-mean.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, expected)) = rest.split_once('`')
    {
        let options: Vec<&str> = expected
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        hint = did_you_mean(field, options.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("known keys here: {}", options.join(", "))));
        message = format!("unknown key `{field}` in site.toml");
    }
    // "unknown variant `text`, expected one of `string`, `list`".
    if let Some(rest) = message.strip_prefix("unknown variant `")
        && let Some((value, expected)) = rest.split_once('`')
    {
        let options: Vec<&str> = expected
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        hint = did_you_mean(value, options.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some(format!("choose one of: {}", options.join(", "))));
        message = format!("`{value}` is not one of the allowed values here");
    }
    let mut d = Diagnostic::error(FILE, message);
    if let Some(span) = e.span() {
        let (line, col) = text::line_col(text, span.start);
        d = d.at(text, line, col);
    }
    if let Some(h) = hint {
        d = d.with_hint(h);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = Config::parse("title = \"T\"\n").unwrap();
        assert_eq!(c.base_url, "/");
        assert_eq!(c.base_path, "/");
        assert_eq!(c.paginate_by, 20);
        let names: Vec<_> = c.taxonomies.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["ngo", "sector", "program", "country", "tags"]);
        assert!(!c.markdown.unsafe_html);
    }

    #[test]
    fn base_urls() {
        let c =
            Config::parse("title = \"T\"\nbase_url = \"https://ngo.example/learning\"\n").unwrap();
        assert_eq!(c.base_url, "https://ngo.example/learning/");
        assert_eq!(c.base_path, "/learning/");
        assert_eq!(c.url("/case-studies/x/"), "/learning/case-studies/x/");
        assert_eq!(
            c.permalink("atom.xml"),
            "https://ngo.example/learning/atom.xml"
        );
        let c = c.with_base_url("http://127.0.0.1:8080").unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:8080/");
        assert_eq!(c.base_path, "/");
        assert!(Config::parse("title = \"T\"\nbase_url = \"ftp://x\"\n").is_err());
        assert!(Config::parse("title = \"T\"\nbase_url = \"https://x/a/../b\"\n").is_err());
    }

    #[test]
    fn unknown_keys_suggest() {
        let e = Config::parse("title = \"T\"\npaginte_by = 3\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.hint.as_deref(), Some("did you mean `paginate_by`?"));
    }

    #[test]
    fn closed_vocabularies_and_aliases() {
        let c = Config::parse(
            "title = \"T\"\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\", \"Mental Health\"]\naliases = { \"Mental health care\" = \"Mental Health\" }\n",
        )
        .unwrap();
        let t = c.taxonomies.iter().find(|t| t.name == "sector").unwrap();
        assert_eq!(t.lookup("health"), VocabularyMatch::Known("Health"));
        assert_eq!(
            t.lookup("mental-health"),
            VocabularyMatch::Known("Mental Health")
        );
        assert_eq!(
            t.lookup("Mental health  care"),
            VocabularyMatch::Known("Mental Health")
        );
        assert_eq!(t.lookup("Heath"), VocabularyMatch::Unknown);
        let e = Config::parse(
            "title = \"T\"\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\"]\naliases = { \"Care\" = \"Helth\" }\n",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("not one of its values (did you mean \"Health\"?)"),
            "{}",
            e.message
        );
    }

    #[test]
    fn schema_fields_and_required() {
        let c = Config::parse("title = \"T\"\n[schema.case-study]\nrequired = [\"title\", \"funder\"]\nfields = { funder = \"string\", budget = \"number\" }\n").unwrap();
        assert_eq!(c.required_fields("case-study"), ["title", "funder"]);
        assert_eq!(c.required_fields("report"), ["title", "date"]);
        assert_eq!(
            c.field_type("case-study", "budget"),
            Some(FieldType::Number)
        );
        assert_eq!(c.field_type("report", "budget"), None);
        assert_eq!(c.field_type("report", "sector"), Some(FieldType::List));
        let e = Config::parse("title = \"T\"\n[schema.case-study]\nrequired = [\"summry\"]\n")
            .unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean `summary`?"));
        let e = Config::parse("title = \"T\"\n[schema.case-study]\nfields = { x = \"text\" }\n")
            .unwrap_err();
        assert!(
            e.message
                .contains("`text` is not one of the allowed values"),
            "{}",
            e.message
        );
        assert!(
            e.hint.as_deref().unwrap().contains("string"),
            "{:?}",
            e.hint
        );
    }

    #[test]
    fn taxonomy_names_are_checked() {
        let e = Config::parse("title = \"T\"\n[[taxonomies]]\nname = \"reports\"\n").unwrap_err();
        assert!(
            e.message.contains("taken by a built-in page"),
            "{}",
            e.message
        );
        let e = Config::parse("title = \"T\"\n[[taxonomies]]\nname = \"../x\"\n").unwrap_err();
        assert!(e.message.contains("lower-case"), "{}", e.message);
        let c = Config::parse("title = \"T\"\n[[taxonomies]]\nname = \"region\"\n").unwrap();
        let region = c.taxonomies.last().unwrap();
        assert_eq!(region.field, "region");
        assert_eq!(region.title, "Region");
    }

    #[test]
    fn declared_taxonomies_amend_add_to_or_replace_the_defaults() {
        let names =
            |c: &Config| -> Vec<String> { c.taxonomies.iter().map(|t| t.name.clone()).collect() };
        // Amending one keeps the others, in their order.
        let c = Config::parse(
            "title = \"T\"\n[[taxonomies]]\nname = \"sector\"\nvalues = [\"Health\"]\n",
        )
        .unwrap();
        assert_eq!(names(&c), ["ngo", "sector", "program", "country", "tags"]);
        let sector = &c.taxonomies[1];
        assert_eq!(
            (sector.title.as_str(), sector.singular.as_str()),
            ("Sectors", "Sector")
        );
        assert!(sector.is_closed());
        // A new name is added; `enabled = false` takes a default away.
        let c = Config::parse(
            "title = \"T\"\n[[taxonomies]]\nname = \"region\"\ntitle = \"Regions\"\n[[taxonomies]]\nname = \"tags\"\nenabled = false\n[[taxonomies]]\nname = \"ngo\"\ntitle = \"Partners\"\n",
        )
        .unwrap();
        assert_eq!(names(&c), ["ngo", "sector", "program", "country", "region"]);
        assert_eq!(c.taxonomies[0].title, "Partners");
        assert_eq!(c.taxonomies[0].singular, "NGO");
        // Replacing the defaults: only what is declared, in its order.
        let c = Config::parse(
            "title = \"T\"\ntaxonomies_replace_defaults = true\n[[taxonomies]]\nname = \"sector\"\n[[taxonomies]]\nname = \"ngo\"\n",
        )
        .unwrap();
        assert_eq!(names(&c), ["sector", "ngo"]);
        assert_eq!(c.taxonomies[1].title, "NGOs");
        // Turning off what is not a default is a mistake worth saying.
        let e = Config::parse("title = \"T\"\n[[taxonomies]]\nname = \"tag\"\nenabled = false\n")
            .unwrap_err();
        assert!(
            e.message.contains("(did you mean \"tags\"?)"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 3);
    }
}
