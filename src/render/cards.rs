//! Cards: a case study's or report's summary as lists show it, rendered
//! once through the theme's `card` component and shared by every list the
//! page is in.

use tera::{Context, Value};

use super::Renderer;
use super::reads::{self, Read, pid, record};
use super::templates::template_diagnostic;
use super::values::*;
use crate::content::Page;
use crate::diagnostic::Diagnostic;

/// The heading level of cards in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    /// On listing pages, where the cards are the page's sections.
    H2 = 0,
    /// Under a section heading: the home page, a report's case studies.
    H3 = 1,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::H2 => "h2",
            Level::H3 => "h3",
        }
    }
}

impl<'s> Renderer<'s> {
    /// The card of page `i` for a list whose cards are headed by `level`
    /// (h2 on listing pages, h3 where the list sits under a section heading),
    /// made on first use.
    pub(super) fn card_value(&self, i: usize, level: Level) -> Result<Value, Diagnostic> {
        if reads::on() {
            let p = pid(&self.site.pages[i].rel);
            record(|| Read::Card(p));
            record(|| Read::TermNames(p));
            record(|| Read::Members(p));
        }
        if let Some((cache, keys, _)) = &self.shared {
            let key = keys[i] ^ level as u64;
            if let Some(v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
                return Ok(v.clone());
            }
            let v = self.make_card(i, level)?;
            cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key, v.clone());
            return Ok(v);
        }
        self.cards[i][level as usize]
            .get_or_init(|| self.make_card(i, level))
            .clone()
    }

    pub(super) fn cards_of(&self, items: &[usize], level: Level) -> Result<Vec<Value>, Diagnostic> {
        items.iter().map(|&i| self.card_value(i, level)).collect()
    }

    /// A card's data, with its HTML as the theme's `card` component renders
    /// it, under `html`.
    pub(super) fn make_card(&self, i: usize, level: Level) -> Result<Value, Diagnostic> {
        // Made into a template value once: the component sees it, and then
        // it takes its HTML as one more key.
        let cv = self.card(i);
        let card = Value::from_serializable(&cv);
        let mut cx = Context::new();
        cx.insert_value("c", card.clone());
        cx.insert("heading", level.tag());
        let html = self
            .tera
            .render_component("card", &cx, None, true)
            .map_err(|e| template_diagnostic(self.theme, "components.html", &e))?;
        // The context's copy goes first, so the map is not copied again.
        drop(cx);
        let mut map = card.into_map().expect("a card is a map");
        map.insert("html".into(), Value::safe_string(&html));
        Ok(Value::from(map))
    }

    /// Page `i`'s terms by taxonomy name (every declared taxonomy has a
    /// key), from the links shared by every card and page.
    pub(super) fn terms_value(&self, i: usize) -> Value {
        let v = &self.values;
        let mut map = tera::Map::default();
        for (t, key) in v.tax_keys.iter().enumerate() {
            let links: Vec<Value> = self.site.page_terms[i][t]
                .iter()
                .map(|&ti| v.term_links[t][ti].clone())
                .collect();
            map.insert(key.clone(), Value::from(links));
        }
        Value::from(map)
    }

    pub(super) fn card(&self, i: usize) -> CardV<'s> {
        let p: &'s Page = &self.site.pages[i];
        CardV {
            kind: p.kind.name(),
            draft: p.draft,
            title: &p.title,
            url: self.site.config.url(&p.path),
            date: date_v(p.date),
            summary: &p.summary,
            first_outcome: p.outcomes.first().map(outcome_v),
            case_study_count: self.site.members[i].len(),
            terms: self.terms_value(i),
            photo: p.photo.as_deref(),
        }
    }
}
