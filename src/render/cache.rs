//! What the preview server keeps between rebuilds so that an edit costs
//! what it changes: each page's fingerprints, the cards and term totals
//! made before, and the keys they are kept under.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, OnceLock};

use tera::Value;

use super::Renderer;
use super::explorer::INDEX_KEYWORDS;
use super::rows::{RowCache, Rows};
use crate::content::Page;

/// Fingerprints of one page, worked out once when the preview server
/// parses it, so that after an edit it can tell which output files the edit
/// reaches by comparing a few numbers per page instead of hashing the
/// whole site again. Each part covers what one kind of output shows of the
/// page; a body edit changes `source` and perhaps `keywords`, and leaves
/// every listing the page's card sits in alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PageHashes {
    /// Everything: the page's source file (its path and text) and its
    /// rendered body.
    pub source: u64,
    /// What its card and its related-case-study entry show.
    pub card: u64,
    /// What totals show of it: its outcomes and, since a small figure
    /// lists the case studies behind it, its title and URL.
    pub outcomes: u64,
    /// What the open data files and /outcomes/ show of it: front matter.
    pub data: u64,
    /// Where the sitemap puts it and when it says it changed.
    pub place: u64,
    /// What the search index holds of its body.
    pub keywords: u64,
}

impl PageHashes {
    /// The fingerprints of `page`, whose source file hashes to `source`.
    pub fn of(page: &Page, source: u64) -> PageHashes {
        let finish = |f: &dyn Fn(&mut DefaultHasher)| {
            let mut h = DefaultHasher::new();
            f(&mut h);
            h.finish()
        };
        let outcomes = finish(&|h| {
            for o in &page.outcomes {
                (&o.metric, &o.unit, o.value.to_bits()).hash(h);
            }
            // A page without outcomes is behind no figure.
            if !page.outcomes.is_empty() {
                (&page.title, &page.path).hash(h);
            }
        });
        PageHashes {
            // The body as rendered, not only its text: an `@/` link in it
            // resolves to where another page is now.
            // The lead photo too: its copies' names change with its bytes.
            source: finish(&|h| (source, &page.body.html, &page.photo).hash(h)),
            card: finish(&|h| {
                (page.kind, &page.title, &page.path, page.date, &page.summary).hash(h);
                page.photo.hash(h);
                page.terms.hash(h);
                page.outcomes
                    .first()
                    .map(|o| (&o.metric, &o.unit, o.value.to_bits()))
                    .hash(h);
            }),
            outcomes,
            data: finish(&|h| {
                (&page.title, &page.path, &page.slug, page.date, page.updated).hash(h);
                (&page.summary, &page.authors, &page.terms, outcomes).hash(h);
            }),
            place: finish(&|h| (&page.path, page.date, page.updated).hash(h)),
            keywords: finish(&|h| {
                page.body
                    .keywords()
                    .iter()
                    .take(INDEX_KEYWORDS)
                    .for_each(|(w, _)| w.hash(h))
            }),
        }
    }

    /// For a file that is not a page (it failed to parse, or is a draft).
    pub fn unparsed(source: u64) -> PageHashes {
        PageHashes {
            source,
            ..PageHashes::default()
        }
    }
}

/// Cards (a case study's or report's summary in a list, with its HTML)
/// kept across rebuilds of the preview server, by a key that changes when
/// anything on the card could: see [`Renderer::with_card_cache`]. Term
/// pages' outcome totals are kept in it too, under keys of their own.
pub type CardCache = Mutex<HashMap<u64, Value, IdHash>>;

/// Hashing for maps keyed by a hash already made (the caches' keys): the
/// key is its own hash. SipHash again on each lookup cost a tenth of a
/// preview rebuild's time in the list of 10,000 cards.
pub type IdHash = std::hash::BuildHasherDefault<KeyHasher>;

#[derive(Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed with this; anything else still spreads.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The preview server's cache of data-file rows, each page's front-matter
/// and keyword fingerprints, and the rows' keys made from them.
pub(super) struct RowKeys<'s> {
    cache: &'s RowCache,
    hashes: Vec<(u64, u64)>,
    keys: OnceLock<Vec<u64>>,
}

impl<'s> Renderer<'s> {
    /// Reuses cards from earlier rebuilds: a card's key covers everything
    /// it shows (its page's card fingerprint, its terms' names, its
    /// report's size, the templates).
    pub fn with_card_cache(mut self, cache: &'s CardCache, page_hashes: &'s [PageHashes]) -> Self {
        let keys = (0..self.site.pages.len())
            .map(|i| {
                let mut h = DefaultHasher::new();
                (
                    self.values.theme_hash,
                    page_hashes[i].card,
                    self.values.page_term_hashes[i],
                    self.site.members[i].len(),
                )
                    .hash(&mut h);
                h.finish()
            })
            .collect();
        self.shared = Some((cache, keys, page_hashes));
        self
    }

    /// Reuses rows of the data files (`RowCache`) from earlier
    /// rebuilds: a row's key covers everything the row shows (its page's
    /// front matter and keywords, the indices and names of its terms, its
    /// report, and everything global, such as the site's URL).
    pub fn with_row_cache(mut self, cache: &'s RowCache, page_hashes: &[PageHashes]) -> Self {
        self.rows = Some(RowKeys {
            cache,
            hashes: page_hashes.iter().map(|h| (h.data, h.keywords)).collect(),
            keys: OnceLock::new(),
        });
        self
    }

    pub(super) fn rows(&self) -> Rows<'_> {
        let Some(r) = &self.rows else {
            return Rows::default();
        };
        // Worked out only when a data file is rendered: most edits leave
        // all four alone.
        let keys = r.keys.get_or_init(|| {
            let site = self.site;
            r.hashes
                .iter()
                .enumerate()
                .map(|(i, hashes)| {
                    let mut h = DefaultHasher::new();
                    (
                        self.values.theme_hash,
                        hashes,
                        self.values.page_term_hashes[i],
                        &site.page_terms[i],
                        site.report_of[i].map(|r| &site.pages[r].slug),
                    )
                        .hash(&mut h);
                    h.finish()
                })
                .collect()
        });
        Rows::cached(r.cache, keys)
    }
}
