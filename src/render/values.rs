//! The values templates see: serializable views of pages, cards, terms and
//! the site, borrowing from the indexed [`Site`](crate::index::Site) so that
//! building them copies as little as possible.

use std::collections::BTreeMap;

use serde::Serialize;

/// Formats an outcome figure for people: `1200` -> `1,200`, `3.50` -> `3.5`.
pub fn format_number(v: f64) -> String {
    let neg = v < 0.0;
    let v = v.abs();
    let rounded = (v * 100.0).round() / 100.0;
    let int = rounded.trunc() as u128;
    let frac = ((rounded - rounded.trunc()) * 100.0).round() as u32;
    let digits = int.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let mut s = if neg { format!("-{grouped}") } else { grouped };
    if frac > 0 {
        let f = format!("{frac:02}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

#[derive(Serialize)]
pub(crate) struct LinkV<'a> {
    pub(crate) name: &'a str,
    pub(crate) url: String,
}

#[derive(Serialize)]
pub(crate) struct TaxonomyTermsV<'a> {
    pub(crate) name: &'a str,
    pub(crate) title: &'a str,
    pub(crate) singular: &'a str,
    pub(crate) url: String,
    /// `{name, url}` of each term: the links shared by every card and
    /// page (see `Renderer::terms_value`), cloned, not serialised again.
    pub(crate) terms: Vec<tera::Value>,
}

#[derive(Serialize)]
pub(crate) struct OutcomeV<'a> {
    pub(crate) metric: &'a str,
    pub(crate) value: f64,
    /// `1,200`, or `45%` for percentages.
    pub(crate) value_display: String,
    pub(crate) unit: Option<&'a str>,
    /// What the figure counts, for under the number: the metric, with the
    /// unit added when the metric does not already say it.
    pub(crate) label: String,
}

pub(crate) fn is_percent(unit: &str) -> bool {
    matches!(
        unit.trim().to_lowercase().as_str(),
        "%" | "percent" | "per cent" | "percentage"
    )
}

/// The sign written before an amount of money in `unit` ("US$", "€"), or
/// for other currencies their code and a no-break space ("KES "); `None`
/// when the unit names no currency.
pub(crate) fn currency(unit: &str) -> Option<&'static str> {
    let u = unit.trim();
    let sign = match u.to_lowercase().as_str() {
        "usd" | "us$" | "$" | "us dollars" | "dollars" | "us dollar" => "US$",
        "eur" | "€" | "euro" | "euros" => "€",
        "gbp" | "£" | "pounds" | "pounds sterling" => "£",
        "inr" | "₹" | "rupees" => "₹",
        "jpy" | "¥" | "yen" => "¥",
        "cad" | "ca$" => "CA$",
        "aud" | "a$" => "A$",
        "chf" => "CHF\u{a0}",
        "kes" | "ksh" => "KES\u{a0}",
        "ngn" | "₦" => "₦",
        "zar" => "R\u{a0}",
        "brl" | "r$" => "R$",
        "mxn" => "MX$",
        "ugx" => "UGX\u{a0}",
        "tzs" => "TZS\u{a0}",
        "ghs" => "GH₵",
        "pkr" => "PKR\u{a0}",
        "bdt" | "৳" => "৳",
        "php" | "₱" => "₱",
        "idr" => "Rp\u{a0}",
        "clp" => "CLP\u{a0}",
        "cop" => "COP\u{a0}",
        "etb" => "ETB\u{a0}",
        "rwf" => "RWF\u{a0}",
        "xof" => "CFA\u{a0}",
        "egp" => "EGP\u{a0}",
        "sek" => "SEK\u{a0}",
        "nok" => "NOK\u{a0}",
        "dkk" => "DKK\u{a0}",
        "nzd" => "NZ$",
        _ => return None,
    };
    Some(sign)
}

/// An amount of money as a publication writes it: `US$1.9\u{a0}m`,
/// `€250,000`. Millions and billions are shortened, to two decimals at most.
fn money(sign: &str, v: f64) -> String {
    let minus = if v < 0.0 { "-" } else { "" };
    let v = v.abs();
    let figure = if v >= 1e9 {
        format!("{}\u{a0}bn", format_number(v / 1e9))
    } else if v >= 1e6 {
        format!("{}\u{a0}m", format_number(v / 1e6))
    } else {
        format_number(v)
    };
    format!("{minus}{sign}{figure}")
}

/// Whether a metric's name already says its unit: each word of the unit,
/// singular or plural, begins a word of the name ("Hours volunteered per
/// week" says "hours per week"; "Countries reached" says "country").
fn says_unit(metric: &str, unit: &str) -> bool {
    let metric = metric.to_lowercase();
    let unit = unit.to_lowercase();
    if metric.contains(&unit) {
        return true;
    }
    let words: Vec<&str> = metric.split(|c: char| !c.is_alphanumeric()).collect();
    let stem = |w: &str| -> String {
        w.strip_suffix("ies").map_or_else(
            || w.strip_suffix('s').unwrap_or(w).to_string(),
            |s| format!("{s}y"),
        )
    };
    unit.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|u| {
            let u = stem(u);
            words.iter().any(|w| stem(w) == u)
        })
}

pub(crate) fn outcome_v(o: &crate::content::front_matter::Outcome) -> OutcomeV<'_> {
    let mut value_display = format_number(o.value);
    let mut label = o.metric.clone();
    if let Some(unit) = o.unit.as_deref() {
        if is_percent(unit) {
            value_display.push('%');
        } else if let Some(sign) = currency(unit) {
            value_display = money(sign, o.value);
        } else if !says_unit(&o.metric, unit) {
            label = format!("{} ({unit})", o.metric);
        }
    }
    OutcomeV {
        metric: &o.metric,
        value: o.value,
        value_display,
        unit: o.unit.as_deref(),
        label,
    }
}

#[derive(Serialize)]
pub(crate) struct DateV {
    pub(crate) iso: String,
    pub(crate) human: String,
    pub(crate) rfc3339: String,
}

pub(crate) fn date_v(d: Option<crate::content::date::Date>) -> Option<DateV> {
    d.map(|d| DateV {
        iso: d.iso_date(),
        human: d.human(),
        rfc3339: d.rfc3339(),
    })
}

/// What a card (a case study or report in a list) shows.
#[derive(Serialize)]
pub(crate) struct CardV<'a> {
    pub(crate) kind: &'static str,
    /// Marked `draft: true`: shown only in the preview.
    pub(crate) draft: bool,
    pub(crate) title: &'a str,
    pub(crate) url: String,
    pub(crate) date: Option<DateV>,
    pub(crate) summary: &'a str,
    pub(crate) first_outcome: Option<OutcomeV<'a>>,
    /// Number of case studies (reports only).
    pub(crate) case_study_count: usize,
    /// By taxonomy name (every declared taxonomy has a key), from the term
    /// links shared by every card and page: see `Renderer::terms_value`. A
    /// template value in a serialised struct is cloned, not serialised
    /// again.
    pub(crate) terms: tera::Value,
    /// The lead photo, for `picture(photo=card.photo, ...)`.
    pub(crate) photo: Option<&'a crate::images::PhotoV>,
    // Lists also see `html`, the card as the theme's `card` component
    // renders it, marked safe: added by `Renderer::make_card`.
}

#[derive(Serialize)]
pub(crate) struct PageV<'a> {
    pub(crate) kind: &'static str,
    pub(crate) title: &'a str,
    pub(crate) url: String,
    pub(crate) permalink: String,
    pub(crate) path: &'a str,
    pub(crate) slug: &'a str,
    pub(crate) source: &'a str,
    pub(crate) date: Option<DateV>,
    pub(crate) updated: Option<DateV>,
    pub(crate) summary: &'a str,
    pub(crate) toc: &'a [crate::content::markdown::Heading],
    pub(crate) word_count: usize,
    pub(crate) reading_minutes: usize,
    pub(crate) authors: &'a [String],
    /// Non-empty taxonomies of this page, in site order.
    pub(crate) taxonomies: Vec<TaxonomyTermsV<'a>>,
    pub(crate) outcomes: Vec<OutcomeV<'a>>,
    /// Related case studies (case studies only), most related first.
    pub(crate) related: Vec<RelatedV<'a>>,
    pub(crate) report: Option<LinkV<'a>>,
    pub(crate) image: Option<String>,
    pub(crate) image_alt: Option<&'a str>,
    /// The lead photo, for `picture(photo=page.photo, ...)`, with its
    /// caption and credit.
    pub(crate) photo: Option<&'a crate::images::PhotoV>,
    /// Fields beyond the built-in ones (declare them in `[schema]`).
    pub(crate) extra: &'a BTreeMap<String, serde_yaml::Value>,
    /// As in [`CardV`].
    pub(crate) draft: bool,
    /// As in [`CardV`].
    pub(crate) terms: tera::Value,
    /// The body's HTML, marked safe.
    pub(crate) content: tera::Value,
}

#[derive(Serialize)]
pub(crate) struct PagerLinkV {
    pub(crate) number: usize,
    pub(crate) url: String,
    pub(crate) current: bool,
}

#[derive(Serialize)]
pub(crate) struct PaginatorV {
    pub(crate) current: usize,
    pub(crate) total_pages: usize,
    pub(crate) total_items: usize,
    pub(crate) first_item: usize,
    pub(crate) last_item: usize,
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
    pub(crate) pages: Vec<PagerLinkV>,
}

#[derive(Serialize)]
pub(crate) struct TermV<'a> {
    pub(crate) name: &'a str,
    pub(crate) slug: &'a str,
    pub(crate) url: String,
    pub(crate) count: usize,
    /// The term's Atom feed, if its taxonomy has feeds.
    pub(crate) feed_url: Option<String>,
    /// From the taxonomy's `descriptions` in site.toml.
    pub(crate) description: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct TaxonomyV<'a> {
    pub(crate) name: &'a str,
    pub(crate) title: &'a str,
    pub(crate) singular: &'a str,
    pub(crate) url: String,
    pub(crate) count: usize,
    pub(crate) terms: Vec<TermV<'a>>,
}

#[derive(Serialize)]
pub(crate) struct NavV {
    pub(crate) title: String,
    pub(crate) url: String,
    /// A taxonomy index: the theme groups these under "Browse".
    pub(crate) browse: bool,
}

#[derive(Serialize)]
pub(crate) struct SiteV<'a> {
    pub(crate) title: &'a str,
    pub(crate) description: &'a str,
    pub(crate) language: &'a str,
    pub(crate) author: Option<&'a str>,
    pub(crate) base_url: &'a str,
    pub(crate) base_path: &'a str,
    pub(crate) home_url: &'a str,
    pub(crate) css_url: String,
    /// `print.js`: the print date and full link addresses on paper.
    pub(crate) print_js_url: String,
    /// Who publishes the site (`organisation` in site.toml), else its title.
    pub(crate) organisation: &'a str,
    pub(crate) favicon_url: String,
    /// The site's Atom feed.
    pub(crate) feed_url: String,
    pub(crate) case_study_count: usize,
    pub(crate) report_count: usize,
    pub(crate) nav: Vec<NavV>,
    /// Every taxonomy with its terms (the terms sorted by name).
    pub(crate) taxonomies: Vec<TaxonomyV<'a>>,
    pub(crate) pages: Vec<NavV>,
    pub(crate) generator: &'static str,
}

/// A related case study, with the terms it shares with the page.
#[derive(Serialize)]
pub(crate) struct RelatedV<'a> {
    pub(crate) title: &'a str,
    pub(crate) url: String,
    pub(crate) date: Option<DateV>,
    pub(crate) summary: &'a str,
    /// The shared terms, heaviest taxonomy first.
    pub(crate) shared: Vec<&'a str>,
    /// The shared terms joined for reading: `Health · India`.
    pub(crate) reason: String,
}

/// A case study in a list of links behind a number.
#[derive(Serialize)]
pub(crate) struct PageLinkV<'a> {
    pub(crate) title: &'a str,
    pub(crate) url: String,
}

/// An outcome metric added up over some case studies.
#[derive(Serialize)]
pub(crate) struct TotalV<'a> {
    /// An id for the metric's section: its name and unit, slugified.
    pub(crate) id: String,
    pub(crate) metric: &'a str,
    pub(crate) unit: Option<&'a str>,
    /// What the figure counts: the metric, with its unit when the name
    /// does not say it.
    pub(crate) label: String,
    /// The total (or for percentages and scores, the average), formatted.
    pub(crate) value_display: String,
    pub(crate) value: f64,
    /// True when the figure is an average (percentages, scores).
    pub(crate) average: bool,
    /// True when the figure is the largest of any one case study
    /// (`aggregate = "max"` in site.toml).
    pub(crate) highest: bool,
    /// How many case studies report it.
    pub(crate) count: usize,
    /// The explorer, filtered to the case studies behind the figure.
    pub(crate) explore_url: String,
    /// The case studies behind the figure, when there are only a few
    /// (otherwise follow `explore_url`).
    pub(crate) pages: Vec<PageLinkV<'a>>,
    /// Per breakdown taxonomy (outcomes page only).
    pub(crate) breakdowns: Vec<BreakdownV<'a>>,
}

/// A metric broken down by the terms of one taxonomy.
#[derive(Serialize)]
pub(crate) struct BreakdownV<'a> {
    pub(crate) name: &'a str,
    pub(crate) title: &'a str,
    pub(crate) singular: &'a str,
    pub(crate) rows: Vec<BarV<'a>>,
}

/// One bar of a breakdown chart.
#[derive(Serialize)]
pub(crate) struct BarV<'a> {
    pub(crate) name: &'a str,
    /// The term's page.
    pub(crate) url: String,
    pub(crate) value_display: String,
    pub(crate) value: f64,
    pub(crate) count: usize,
    /// Length of the bar, 0 to 100 (the largest row is 100).
    pub(crate) bar: f64,
    pub(crate) explore_url: String,
    pub(crate) pages: Vec<PageLinkV<'a>>,
}

/// The figure and label of a metric's total, formatted as a case study's
/// outcome would be.
pub(crate) fn total_display(name: &str, unit: Option<&str>, value: f64) -> (String, String) {
    let o = crate::content::front_matter::Outcome {
        metric: name.to_string(),
        value,
        unit: unit.map(str::to_string),
    };
    let v = outcome_v(&o);
    (v.value_display, v.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_with_its_sign_and_shortened_from_a_million() {
        assert_eq!(money("US$", 1_900_000.0), "US$1.9\u{a0}m");
        assert_eq!(money("€", 250_000.0), "€250,000");
        assert_eq!(money("KES\u{a0}", 3_250_000_000.0), "KES\u{a0}3.25\u{a0}bn");
        assert_eq!(money("£", -1_500.5), "-£1,500.5");
        assert_eq!(currency("usd"), Some("US$"));
        assert_eq!(currency("people"), None);
    }

    #[test]
    fn a_label_does_not_repeat_a_unit_it_already_says() {
        assert!(says_unit("Countries reached", "countries"));
        assert!(says_unit("Countries reached", "country"));
        assert!(says_unit("Hours volunteered per week", "hours per week"));
        assert!(says_unit("Hours volunteered per week", "hours/week"));
        assert!(!says_unit("Time to move online", "months"));
        assert!(!says_unit("Learners", "people"));
    }
}
