//! Markdown body to HTML, with the site's rules applied on the way:
//!
//! - raw HTML is shown as text unless `[markdown] unsafe_html = true`;
//! - `javascript:`, `vbscript:` and `data:` links are never rendered as links;
//! - `/path` links are site-relative: the base path goes in front, so the same
//!   Markdown works at a domain root and under `/learning/`;
//! - `@/case-studies/x.md` names a source file and becomes that page's URL;
//! - headings get stable ids and make up the table of contents.
//!
//! Every internal link is recorded with its line so `check` can say where a
//! dead one is.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use pulldown_cmark::{
    CodeBlockKind, CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd,
};
use serde::Serialize;

use super::slug::slugify;

/// One entry of a page's table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// A link or image in the body that points inside the site, kept for checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRef {
    /// 1-based line and column in the whole file.
    pub line: usize,
    pub column: usize,
    /// The destination as written, e.g. `@/case-studies/x.md#outcomes`.
    pub target: String,
    pub kind: LinkKind,
    pub is_image: bool,
    /// The text of the line it is on, to quote in a diagnostic (shared
    /// by the links on one line).
    pub line_text: Arc<str>,
    /// Length of the link's Markdown on that line, in characters.
    pub width: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// `@/case-studies/x.md`, resolved (or not) against the source files.
    Source,
    /// `/case-studies/x/`: a path inside the site.
    SiteRelative,
    /// `../x/` or `x.png`: relative to the page's own URL.
    Relative,
    /// `#heading` on the same page.
    Fragment,
}

/// What rendering one body produced.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<Heading>,
    pub word_count: usize,
    pub links: Vec<LinkRef>,
    /// Links past [`MAX_LINKS`], rendered but not recorded or checked.
    pub links_not_checked: usize,
    /// `@/` links whose file does not exist: (line, column, width, target).
    pub unresolved: Vec<(usize, usize, usize, String)>,
    /// Links dropped because their scheme can run script: (line, column, target).
    pub unsafe_links: Vec<(usize, usize, String)>,
    /// Images with no alt text, or a placeholder for one (`image`, the
    /// file's name): (line, column, source, the line's text).
    pub images_without_alt: Vec<(usize, usize, String, Arc<str>)>,
    /// Photos in the text shown as `<picture>`s.
    pub photos: Vec<Arc<crate::images::Photo>>,
    /// Photos in the text left out or unreadable.
    pub photo_notes: Vec<PhotoNote>,
    /// The body's most frequent words, worked out from `html` the first
    /// time the search index asks (see [`Rendered::keywords`]): `casebook
    /// check` never needs them, and the preview server keeps them for every
    /// page an edit did not touch.
    pub keywords: std::sync::OnceLock<Vec<(String, u32)>>,
}

/// The most links and images of one page that are recorded and checked.
/// A case study has dozens; a body of nothing but links (a few bytes
/// each) would otherwise hold millions of records.
pub const MAX_LINKS: usize = 10_000;

/// The most lines and Markdown marks one page may have. The Markdown
/// reader builds a tree of the whole body before the first event, about
/// 200 bytes per mark at its peak: a 31 MB body of `*a* ` took 6 GB. A
/// case study has a few hundred; this allows prose of tens of megabytes.
pub const MAX_MARKUP: usize = 1_000_000;

/// What [`MAX_MARKUP`] counts: line ends and the bytes that can open or
/// close Markdown (emphasis, code, links, images, HTML, tables, escapes,
/// entities), each of which may become a node of the reader's tree. A body
/// shorter than the limit cannot exceed it and is not scanned.
pub fn markup_count(body: &str) -> usize {
    if body.len() <= MAX_MARKUP {
        return 0;
    }
    const MARKS: [bool; 256] = {
        let mut t = [false; 256];
        let marks = b"\n*_`[]!<>|~&\\";
        let mut i = 0;
        while i < marks.len() {
            t[marks[i] as usize] = true;
            i += 1;
        }
        t
    };
    body.bytes().filter(|&b| MARKS[usize::from(b)]).count()
}

/// How many problems of one kind with one page's links and images are
/// reported one by one; the rest are counted.
pub const PROBLEMS_SHOWN: usize = 50;

/// How many candidate keywords a page keeps.
const KEYWORDS: usize = 24;

/// Words too common to help a search, in sorted order (a test checks:
/// `STOP_WORDS_BY_LETTER` depends on it).
const STOP_WORDS: &[&str] = &[
    "about", "after", "also", "and", "are", "been", "before", "but", "can", "could", "did", "does",
    "each", "for", "from", "had", "has", "have", "her", "his", "how", "into", "its", "more",
    "most", "not", "now", "one", "only", "other", "our", "out", "over", "same", "she", "should",
    "some", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they",
    "this", "those", "through", "too", "two", "under", "very", "was", "were", "what", "when",
    "where", "which", "while", "who", "why", "will", "with", "would", "you", "your",
];

/// The longest stop word's length (a test checks).
const STOP_WORD_MAX: usize = 7;

/// For each first letter, the range of `STOP_WORDS` starting with it.
const STOP_WORDS_BY_LETTER: [(usize, usize); 26] = {
    let mut ranges = [(0, 0); 26];
    let mut i = 0;
    while i < STOP_WORDS.len() {
        let letter = (STOP_WORDS[i].as_bytes()[0] - b'a') as usize;
        if ranges[letter].1 == 0 {
            ranges[letter].0 = i;
        }
        ranges[letter].1 = i + 1;
        i += 1;
    }
    ranges
};

/// Whether `w` is on the stop list: the few words sharing its first letter
/// and length are compared, not the whole list.
fn is_stop_word(w: &str) -> bool {
    is_stop_word_bytes(w.as_bytes())
}

fn is_stop_word_bytes(b: &[u8]) -> bool {
    if b.len() > STOP_WORD_MAX || b.is_empty() || !b[0].is_ascii_lowercase() {
        return false;
    }
    let (from, to) = STOP_WORDS_BY_LETTER[usize::from(b[0] - b'a')];
    STOP_WORDS[from..to].iter().any(|s| s.as_bytes() == b)
}

fn is_keyword(w: &str) -> bool {
    w.chars().count() >= 3 && !w.bytes().all(|b| b.is_ascii_digit()) && !is_stop_word(w)
}

/// [`is_keyword`] for a word's bytes (whole characters): an ASCII word's
/// length is its character count, so only other words are decoded.
fn is_keyword_bytes(w: &[u8]) -> bool {
    if w.is_ascii() {
        w.len() >= 3 && !w.iter().all(u8::is_ascii_digit) && !is_stop_word_bytes(w)
    } else {
        std::str::from_utf8(w).is_ok_and(is_keyword)
    }
}

/// A word's hash: the FxHash multiply over eight bytes at a time, reading
/// a short word as two overlapping loads instead of copying its tail into a
/// buffer (a `memcpy` call per word). Keys are a page's own words, not an
/// attack surface worth SipHash's cost; nothing in the output depends on
/// the hash.
#[inline]
fn word_hash(b: &[u8]) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let n = b.len();
    let mut h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            h = (h ^ load8(b, i)).wrapping_mul(K);
            i += 8;
        }
        h = (h ^ load8(b, n - 8)).wrapping_mul(K);
    } else if n >= 4 {
        let x = (u64::from(load4(b, 0)) << 32) | u64::from(load4(b, n - 4));
        h = (h ^ x).wrapping_mul(K);
    } else if n > 0 {
        let x = (u64::from(b[0]) << 16) | (u64::from(b[n / 2]) << 8) | u64::from(b[n - 1]);
        h = (h ^ x).wrapping_mul(K);
    }
    // The multiply leaves its best bits at the top; the table picks
    // buckets with the low ones.
    h ^ (h >> 32)
}

#[inline]
fn load8(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

#[inline]
fn load4(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

/// `a == b` for words, inline: the same loads as [`word_hash`], where the
/// slice comparison calls `memcmp` for every word.
#[inline]
fn same_word(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if load8(a, i) != load8(b, i) {
                return false;
            }
            i += 8;
        }
        load8(a, n - 8) == load8(b, n - 8)
    } else if n >= 4 {
        load4(a, 0) == load4(b, 0) && load4(a, n - 4) == load4(b, n - 4)
    } else {
        a == b
    }
}

/// What a byte can be in a word (zero: it ends one): a lower-case letter
/// or digit, an upper-case letter, or part of a non-ASCII character.
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const NON_ASCII: u8 = 4;
const WORD_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            LOWER
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c >= 0x80 {
            NON_ASCII
        } else {
            0
        };
        b += 1;
    }
    t
};

/// One word of a page's text, as counted.
struct Word {
    hash: u64,
    /// Where its (lower-case) bytes are: in the HTML, or, with
    /// [`LOWERED`] set, in the counter's buffer of lowered words.
    at: u32,
    len: u32,
    /// Occurrences; zero marks a stop word or other non-keyword, so that
    /// the next "the" costs one lookup, not a scan of the stop list.
    count: u32,
    /// Order of first appearance: ties go to the earlier word.
    order: u32,
}

/// The bit of [`Word::at`] that says the bytes are in the lowered buffer.
const LOWERED: u32 = 1 << 31;

/// Word `w`'s bytes, from the page's `html` or the `lowered` buffer.
fn word_bytes<'a>(html: &'a [u8], lowered: &'a [u8], w: &Word) -> &'a [u8] {
    let (at, len) = ((w.at & !LOWERED) as usize, w.len as usize);
    if w.at & LOWERED != 0 {
        &lowered[at..at + len]
    } else {
        &html[at..at + len]
    }
}

/// A page's words and their counts. Words already lower case in the HTML
/// (most of them) are kept as places in it; the others are lowered once,
/// into one buffer, when first seen: no allocation per word.
struct Counts<'h> {
    html: &'h [u8],
    lowered: Vec<u8>,
    words: hashbrown::HashTable<Word>,
}

impl<'h> Counts<'h> {
    fn new(html: &'h str) -> Self {
        Counts {
            html: html.as_bytes(),
            lowered: Vec::new(),
            words: hashbrown::HashTable::with_capacity(512),
        }
    }

    fn bytes(&self, w: &Word) -> &[u8] {
        word_bytes(self.html, &self.lowered, w)
    }

    /// The word `key` (lower case, hashed to `hash`), if counted.
    fn find(&mut self, hash: u64, key: &[u8]) -> Option<&mut Word> {
        let (html, lowered) = (self.html, &self.lowered);
        self.words
            .find_mut(hash, |w| same_word(word_bytes(html, lowered, w), key))
    }

    fn text(&self, w: &Word) -> &str {
        std::str::from_utf8(self.bytes(w)).expect("words are cut at character boundaries")
    }

    /// Whether word `w` is not all ASCII, without decoding it.
    fn non_ascii(&self, w: &Word) -> bool {
        !self.bytes(w).is_ascii()
    }

    /// Counts `key` (lower case): `in_html` is its place in the HTML when
    /// it is a slice of it, else it is copied into the buffer if new.
    fn add(&mut self, key: &[u8], in_html: Option<usize>) {
        let hash = word_hash(key);
        if let Some(w) = self.find(hash, key) {
            if w.count > 0 {
                w.count += 1;
            }
            return;
        }
        let count = u32::from(is_keyword_bytes(key));
        let at = match in_html {
            Some(at) => at as u32,
            None => {
                let at = self.lowered.len() as u32 | LOWERED;
                self.lowered.extend_from_slice(key);
                at
            }
        };
        let order = self.words.len() as u32;
        self.insert(Word {
            hash,
            at,
            len: key.len() as u32,
            count,
            order,
        });
    }

    fn insert(&mut self, w: Word) {
        self.words.insert_unique(w.hash, w, |w| w.hash);
    }
}

/// Counts the keywords of the text in `html` (tags and character
/// references skipped). Most words are already lower case and are counted
/// as slices of the HTML; a capitalised ASCII word is lowered into a buffer
/// on the stack and only copied when it is new.
fn count_keywords(html: &str) -> Counts<'_> {
    let mut counts = Counts::new(html);
    let bytes = html.as_bytes();
    // Longer words (rare: URLs spelled out, chemical names) are lowered on
    // the heap.
    let mut lower = [0u8; 64];
    let mut add = |counts: &mut Counts<'_>, from: usize, to: usize, upper: bool, ascii: bool| {
        let w = &html[from..to];
        if w.len() < 3 {
            return;
        }
        if !ascii || w.len() > lower.len() {
            counts.add(w.to_lowercase().as_bytes(), None);
        } else if !upper {
            counts.add(w.as_bytes(), Some(from));
        } else {
            let buf = &mut lower[..w.len()];
            buf.copy_from_slice(w.as_bytes());
            buf.make_ascii_lowercase();
            counts.add(buf, None);
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if WORD_BYTE[usize::from(b)] != 0 {
            let start = i;
            // The classes of the word's bytes, or-ed: one table lookup a
            // byte instead of four range tests.
            let mut seen = 0;
            while i < bytes.len() {
                let class = WORD_BYTE[usize::from(bytes[i])];
                if class == 0 {
                    break;
                }
                seen |= class;
                i += 1;
            }
            add(
                &mut counts,
                start,
                i,
                seen & UPPER != 0,
                seen & NON_ASCII == 0,
            );
            continue;
        }
        match b {
            b'<' => {
                i += bytes[i..]
                    .iter()
                    .position(|&c| c == b'>')
                    .unwrap_or(bytes.len() - i)
            }
            b'&' => {
                let end = bytes[i..].iter().take(12).position(|&c| c == b';');
                i += end.unwrap_or(0);
            }
            _ => {}
        }
        i += 1;
    }
    // Non-ASCII runs may hold punctuation (“quotes”, dashes): split them
    // again by character. In the order the words came, not the table's:
    // the parts of two words take the first one's place whatever the
    // hasher.
    let mut split: Vec<(u64, u32, u32, u32, u32)> = counts
        .words
        .iter()
        .filter(|w| counts.non_ascii(w) && counts.text(w).chars().any(|c| !c.is_alphanumeric()))
        .map(|w| (w.hash, w.at, w.len, w.count, w.order))
        .collect();
    split.sort_unstable_by_key(|&(.., order)| order);
    for (hash, at, len, n, order) in split {
        // Non-ASCII words are always lowered, so they live in the buffer,
        // which only grows: their parts are places in it too.
        debug_assert!(at & LOWERED != 0);
        if let Ok(e) = counts.words.find_entry(hash, |w| w.at == at) {
            e.remove();
        }
        let from = (at & !LOWERED) as usize;
        let whole = std::str::from_utf8(&counts.lowered[from..from + len as usize])
            .expect("words are cut at character boundaries")
            .to_owned();
        for part in whole.split(|c: char| !c.is_alphanumeric()) {
            // A part is a slice of `whole`, a copy of the buffer from `from`.
            let part_at = from + (part.as_ptr() as usize - whole.as_ptr() as usize);
            if part.len() < 3 {
                continue;
            }
            // A part counts the whole word's occurrences (at least one),
            // unless it is no keyword; a new part takes the word's place.
            let add = if is_keyword(part) { n.max(1) } else { 0 };
            let hash = word_hash(part.as_bytes());
            match counts.find(hash, part.as_bytes()) {
                Some(w) => w.count += add,
                None => counts.insert(Word {
                    hash,
                    at: part_at as u32 | LOWERED,
                    len: part.len() as u32,
                    count: add,
                    order,
                }),
            }
        }
    }
    counts
}

/// The `KEYWORDS` most frequent keywords, most frequent first (ties to the
/// word that comes first in the text, so the result does not depend on
/// hashing; strings are compared only between the parts of one split word,
/// which share a place).
fn top_keywords(counts: Counts<'_>) -> Vec<(String, u32)> {
    // Bytes compare as their text does: UTF-8 keeps the order of
    // characters. Only the winners are decoded.
    let mut ranked: Vec<(u32, u32, &[u8])> = counts
        .words
        .iter()
        .filter(|w| w.count > 0)
        .map(|w| (w.count, w.order, counts.bytes(w)))
        .collect();
    let order = |a: &(u32, u32, &[u8]), b: &(u32, u32, &[u8])| {
        b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then_with(|| a.2.cmp(b.2))
    };
    if ranked.len() > KEYWORDS {
        ranked.select_nth_unstable_by(KEYWORDS, order);
        ranked.truncate(KEYWORDS);
    }
    ranked.sort_unstable_by(order);
    // Kept for the whole build: exactly as long as needed.
    let mut keywords = Vec::with_capacity(ranked.len());
    keywords.extend(ranked.into_iter().map(|(n, _, w)| {
        let w = std::str::from_utf8(w).expect("words are cut at character boundaries");
        (w.to_owned(), n)
    }));
    keywords
}

impl Rendered {
    /// The body's most frequent words (lower case, no stop words or
    /// numbers), with their counts, most frequent first: what the search
    /// index holds of the body text. Worked out on first use.
    pub fn keywords(&self) -> &[(String, u32)] {
        self.keywords
            .get_or_init(|| top_keywords(count_keywords(&self.html)))
    }

    /// Calls `f` with the keywords, counting them if no one has yet but
    /// without keeping them: a build needs them once, for the search index,
    /// and at 100,000 pages keeping them would hold on to 150 MB.
    pub fn with_keywords<R>(&self, f: impl FnOnce(&[(String, u32)]) -> R) -> R {
        match self.keywords.get() {
            Some(k) => f(k),
            None => f(&top_keywords(count_keywords(&self.html))),
        }
    }

    pub fn anchors(&self) -> HashSet<&str> {
        self.toc.iter().map(|h| h.id.as_str()).collect()
    }
}

/// `t.split_whitespace().count()`, eight bytes at a time when `t` is ASCII
/// (nearly always): decoding every character of every page's text was a
/// twentieth of a build's instructions, and testing byte by byte still
/// 4%. In ASCII, Unicode's white space is tab, line feed, vertical tab,
/// form feed, carriage return and space.
fn count_words(t: &str) -> usize {
    if !t.is_ascii() {
        return t.split_whitespace().count();
    }
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` set where the byte is at least `k`:
    // with every byte below 0x80, adding 0x80 - k never carries over.
    let at_least = |x: u64, k: u64| x.wrapping_add(LOW * (0x80 - k));
    let spaces = |x: u64| {
        let tab_to_cr = at_least(x, 0x09) & !at_least(x, 0x0e);
        let space = at_least(x, 0x20) & !at_least(x, 0x21);
        (tab_to_cr | space) & HIGH
    };
    let bytes = t.as_bytes();
    let mut words = 0;
    // The high bit of byte 0 set when the byte before it is white space
    // (or there is none).
    let mut before = 0x80;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let s = spaces(x);
        // A word starts at a byte that is not space after one that is.
        let starts = !s & HIGH & ((s << 8) | before);
        words += starts.count_ones() as usize;
        before = s >> 56;
    }
    let mut after_space = before != 0;
    for &b in chunks.remainder() {
        let space = matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
        words += usize::from(after_space & !space);
        after_space = space;
    }
    words
}

/// What the renderer needs to know about the site.
#[derive(Clone, Copy)]
pub struct MarkdownContext<'a> {
    /// Whether site.toml allows raw HTML in Markdown (`unsafe_html = true`).
    pub unsafe_html: bool,
    /// The base path, `/` or `/learning/`.
    pub base_path: &'a str,
    /// `case-studies/x.md` (relative to `content/`) -> site path `case-studies/x/`.
    pub sources: &'a HashMap<String, String>,
    /// Whether to make the HTML at all: `casebook check` only needs the
    /// links, headings and problems.
    pub html: bool,
    /// The site's photos and the page's consent records, to write photos
    /// in the text as `<picture>`s (or leave them out); `None` writes a
    /// plain `<img>`.
    pub photos: Option<PhotoContext<'a>>,
}

/// What rendering one page's photos needs.
#[derive(Clone, Copy)]
pub struct PhotoContext<'a> {
    pub catalogue: &'a crate::images::Catalogue,
    pub config: &'a crate::config::Config,
    /// The page's site path, which relative addresses are resolved against.
    pub page_path: &'a str,
    /// The page's `photo_consent:`.
    pub consent: &'a std::collections::BTreeMap<String, super::consent::Consent>,
}

/// What happened to a photo in the text that is not simply shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoNote {
    pub line: usize,
    pub column: usize,
    /// The address as written.
    pub src: String,
    /// Left out (`true`, with why) or unreadable (`false`, with the
    /// decoder's words).
    pub left_out: bool,
    pub why: String,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// True for destinations a browser would run as script (or that can smuggle
/// a document in), however they are spelt: browsers ignore ASCII whitespace
/// and control characters inside the scheme, and schemes are case-insensitive.
pub fn is_unsafe_url(dest: &str) -> bool {
    // The first characters that are not white space or control characters,
    // lowered; only as many as the longest scheme (every link of every page
    // comes through here: no allocation).
    const SCHEMES: [&[u8]; 3] = [b"javascript:", b"vbscript:", b"data:"];
    let mut kept = [0u8; 11];
    let mut n = 0;
    for c in dest.chars() {
        if c.is_ascii_whitespace() || c.is_control() {
            continue;
        }
        // Any other character than ASCII matches no scheme.
        kept[n] = if c.is_ascii() {
            (c as u8).to_ascii_lowercase()
        } else {
            0xff
        };
        n += 1;
        if n == kept.len() {
            break;
        }
    }
    SCHEMES.iter().any(|s| kept[..n].starts_with(s))
}

/// Decodes `%XX` escapes in a URL path. `None` for malformed escapes or
/// bytes that are not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn has_scheme(dest: &str) -> bool {
    match dest.find(':') {
        Some(i) => {
            let scheme = &dest[..i];
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

fn classify(dest: &str) -> Option<LinkKind> {
    if dest.starts_with("@/") {
        Some(LinkKind::Source)
    } else if dest.starts_with("//") || has_scheme(dest) {
        None
    } else if dest.starts_with('/') {
        Some(LinkKind::SiteRelative)
    } else if dest.starts_with('#') {
        Some(LinkKind::Fragment)
    } else if dest.is_empty() {
        None
    } else {
        Some(LinkKind::Relative)
    }
}

/// Byte offsets where each line starts, to turn parser offsets into lines.
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(v)
    }
    /// The text of 1-based line `line` of the body.
    fn text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        let start = self.0[line - 1];
        let end = self.0.get(line).map_or(text.len(), |e| e - 1);
        text.get(start..end).unwrap_or("").trim_end_matches('\r')
    }
    /// 1-based (line, column) of `offset` within the body.
    fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.0.partition_point(|&s| s <= offset);
        let start = self.0[line - 1];
        let end = offset.min(text.len());
        let col = text.get(start..end).map_or(1, |s| s.chars().count() + 1);
        (line, col)
    }
}

/// Renders a Markdown body. `first_line` is the 1-based line of the file at
/// which the body starts, so recorded positions point into the whole file.
pub fn render(body: &str, first_line: usize, cx: &MarkdownContext) -> Rendered {
    let lines = Lines::new(body);
    let mut out = Rendered::default();
    // Events on their way to the HTML writer. Only a heading's are held
    // (its id is made from its text, which comes after its start); the
    // rest pass straight through, so memory does not grow with the body.
    let mut events: VecDeque<Event> = VecDeque::new();
    // The last line a link was on, shared by the links on it: one long
    // line of links is kept once, not once per link.
    let mut shared_line: Option<(usize, Arc<str>)> = None;
    let lines_ref = &lines;
    let mut line_of = move |l: usize| -> Arc<str> {
        match &shared_line {
            Some((at, text)) if *at == l => Arc::clone(text),
            _ => {
                let text: Arc<str> = Arc::from(lines_ref.text(body, l));
                shared_line = Some((l, Arc::clone(&text)));
                text
            }
        }
    };
    let mut used_ids: HashSet<String> = HashSet::new();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    // Links whose Start we dropped, so the matching End is dropped too.
    let mut link_stack: Vec<bool> = Vec::new();
    // An open heading: where its Start sits in `events`, and its text so far.
    let mut heading: Option<(usize, String)> = None;
    // Inside an image, its alt text is text events we must not count twice;
    // the open image's position, source and alt text so far.
    let mut image_depth = 0usize;
    let mut image: Option<(usize, String, String)> = None;
    // An image that is one of the site's photos: written as a whole at its
    // end (or left out), its own events dropped. (photo, title, shown)
    let mut photo: Option<(Arc<crate::images::Photo>, String, bool)> = None;
    let mut footnote_ids = FootnoteIds::default();

    let resolve = |dest: CowStr<'_>,
                   is_image: bool,
                   range: std::ops::Range<usize>,
                   out: &mut Rendered,
                   line_of: &mut dyn FnMut(usize) -> Arc<str>|
     -> Option<String> {
        let (l, c) = lines.locate(body, range.start);
        let (line, column) = (l + first_line - 1, c);
        // The link's Markdown, up to the end of its line.
        let width = body
            .get(range.clone())
            .map_or(1, |t| t.lines().next().unwrap_or("").chars().count())
            .max(1);
        if is_unsafe_url(&dest) {
            out.unsafe_links.push((line, column, dest.to_string()));
            return None;
        }
        let Some(kind) = classify(&dest) else {
            return Some(dest.to_string());
        };
        if out.links.len() < MAX_LINKS {
            let line_text = line_of(l);
            out.links.push(LinkRef {
                line,
                column,
                target: dest.to_string(),
                kind,
                is_image,
                line_text,
                width,
            });
        } else {
            out.links_not_checked += 1;
        }
        match kind {
            LinkKind::Source => {
                let rest = &dest[2..];
                let (file, frag) = match rest.split_once('#') {
                    Some((f, h)) => (f, Some(h)),
                    None => (rest, None),
                };
                match cx.sources.get(file) {
                    Some(path) => {
                        let mut url = format!("{}{}", cx.base_path, path);
                        if let Some(h) = frag {
                            url.push('#');
                            url.push_str(h);
                        }
                        Some(url)
                    }
                    None => {
                        out.unresolved.push((line, column, width, dest.to_string()));
                        Some(dest.to_string())
                    }
                }
            }
            LinkKind::SiteRelative => Some(format!("{}{}", cx.base_path, &dest[1..])),
            _ => Some(dest.to_string()),
        }
    };

    // A photo left out or unreadable, at its place in the file.
    let note = |offset: usize, src: &str, left_out: bool, why: String| {
        let (l, c) = lines.locate(body, offset);
        PhotoNote {
            line: l + first_line - 1,
            column: c,
            src: src.to_string(),
            left_out,
            why,
        }
    };
    let mut parser = Parser::new_ext(body, options()).into_offset_iter();
    let out_ref = &mut out;
    let stream = std::iter::from_fn(|| {
        loop {
            if heading.is_none()
                && let Some(e) = events.pop_front()
            {
                return Some(e);
            }
            let Some((event, range)) = parser.next() else {
                return events.pop_front();
            };
            let out = &mut *out_ref;
            // Inside a photo's alt text: only its words are kept (as alt).
            if photo.is_some()
                && !matches!(
                    event,
                    Event::End(TagEnd::Image) | Event::Text(_) | Event::Code(_)
                )
            {
                if let Event::Start(Tag::Image { .. }) = event {
                    image_depth += 1;
                }
                continue;
            }
            let event = match event {
                Event::Start(Tag::Link {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    if matches!(link_type, LinkType::Email) {
                        link_stack.push(true);
                        Event::Start(Tag::Link {
                            link_type,
                            dest_url,
                            title,
                            id,
                        })
                    } else {
                        match resolve(dest_url, false, range.clone(), out, &mut line_of) {
                            Some(url) => {
                                link_stack.push(true);
                                Event::Start(Tag::Link {
                                    link_type,
                                    dest_url: url.into(),
                                    title,
                                    id,
                                })
                            }
                            None => {
                                link_stack.push(false);
                                continue;
                            }
                        }
                    }
                }
                Event::End(TagEnd::Link) => {
                    if link_stack.pop().unwrap_or(false) {
                        Event::End(TagEnd::Link)
                    } else {
                        continue;
                    }
                }
                Event::Start(Tag::Image {
                    link_type,
                    dest_url,
                    title,
                    id,
                }) => {
                    image_depth += 1;
                    image = Some((range.start, dest_url.to_string(), String::new()));
                    if image_depth == 1
                        && let Some(pc) = &cx.photos
                    {
                        match pc.catalogue.find(pc.page_path, &dest_url) {
                            crate::images::Found::Photo(p) => {
                                let record = pc.consent.get(dest_url.as_ref()).or_else(|| {
                                    let name = dest_url.rsplit('/').next().unwrap_or(&dest_url);
                                    pc.consent.get(name)
                                });
                                let shown = match crate::images::judge(record, pc.config) {
                                    Ok(()) => true,
                                    Err(why) => {
                                        out.photo_notes.push(note(
                                            range.start,
                                            &dest_url,
                                            true,
                                            why,
                                        ));
                                        false
                                    }
                                };
                                // Recorded for the link check as any image is.
                                resolve(dest_url, true, range.clone(), out, &mut line_of);
                                photo = Some((p, title.to_string(), shown));
                                continue;
                            }
                            crate::images::Found::Unreadable(_, why) => {
                                out.photo_notes
                                    .push(note(range.start, &dest_url, false, why));
                            }
                            crate::images::Found::Other => {}
                        }
                    }
                    let url = resolve(dest_url, true, range.clone(), out, &mut line_of)
                        .unwrap_or_default();
                    Event::Start(Tag::Image {
                        link_type,
                        dest_url: url.into(),
                        title,
                        id,
                    })
                }
                Event::End(TagEnd::Image) => {
                    image_depth = image_depth.saturating_sub(1);
                    if image_depth > 0 && photo.is_some() {
                        continue;
                    }
                    let mut alt_text = String::new();
                    if let Some((offset, src, alt)) = image.take() {
                        if crate::images::placeholder_alt(&alt, &src)
                            && out.images_without_alt.len() < MAX_LINKS
                        {
                            let (l, c) = lines.locate(body, offset);
                            let text = line_of(l);
                            out.images_without_alt
                                .push((l + first_line - 1, c, src, text));
                        }
                        alt_text = alt;
                    }
                    match photo.take() {
                        Some((p, title, true)) => {
                            let base = cx.base_path;
                            let v = p.markup(base, alt_text.trim());
                            out.photos.push(p);
                            Event::InlineHtml(
                                crate::images::picture(
                                    &v,
                                    crate::images::BODY_SIZES,
                                    false,
                                    Some(&title),
                                )
                                .into(),
                            )
                        }
                        Some((_, _, false)) => continue,
                        None => Event::End(TagEnd::Image),
                    }
                }
                Event::Start(Tag::Heading { .. }) => {
                    heading = Some((events.len(), String::new()));
                    event
                }
                Event::End(TagEnd::Heading(level)) => {
                    if let Some((start, text)) = heading.take()
                        && let Event::Start(Tag::Heading {
                            id, classes, attrs, ..
                        }) = std::mem::replace(&mut events[start], Event::SoftBreak)
                    {
                        let text = text.trim().to_string();
                        let base = match &id {
                            Some(id) if !id.is_empty() => safe_token(id),
                            _ => slugify(&text),
                        };
                        let base = if base.is_empty() {
                            "section".to_string()
                        } else {
                            base
                        };
                        // Repeated headings get -1, -2, ...; the next number to try
                        // is remembered per base, so a thousand "Notes" headings
                        // cost a thousand steps, not half a million.
                        let n = next_suffix.entry(base.clone()).or_insert(0);
                        let mut unique = if *n == 0 {
                            base.clone()
                        } else {
                            format!("{base}-{n}")
                        };
                        while !used_ids.insert(unique.clone()) {
                            *n += 1;
                            unique = format!("{base}-{n}");
                        }
                        *n += 1;
                        out.toc.push(Heading {
                            level: heading_level(level),
                            id: unique.clone(),
                            title: text,
                        });
                        // `{.class key=value}` after a heading: in safe mode only
                        // classes survive, in a safe character set; other
                        // attributes (`onfocus=`, `autofocus`, `style=`) would be
                        // markup the writer typed.
                        let (classes, attrs) = if cx.unsafe_html {
                            (classes, attrs)
                        } else {
                            let classes = classes
                                .iter()
                                .map(|c| safe_token(c))
                                .filter(|c| !c.is_empty())
                                .map(CowStr::from)
                                .collect();
                            (classes, Vec::new())
                        };
                        events[start] = Event::Start(Tag::Heading {
                            level,
                            id: Some(unique.into()),
                            classes,
                            attrs,
                        });
                    }
                    event
                }
                Event::Text(ref t) | Event::Code(ref t) => {
                    if let Some((_, h)) = heading.as_mut() {
                        h.push_str(t);
                    }
                    if image_depth == 0 {
                        out.word_count += count_words(t);
                    } else if let Some((_, _, alt)) = image.as_mut() {
                        alt.push_str(t);
                    }
                    if photo.is_some() {
                        continue;
                    }
                    event
                }
                // Footnote labels become ids and fragments, a code block's
                // language a class: both are kept to characters that need no
                // escaping, so what a writer types there stays a name.
                Event::FootnoteReference(label) => {
                    Event::FootnoteReference(footnote_ids.id(&label).into())
                }
                Event::Start(Tag::FootnoteDefinition(label)) => {
                    Event::Start(Tag::FootnoteDefinition(footnote_ids.id(&label).into()))
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                    let lang = info.split_whitespace().next().unwrap_or("");
                    let lang: String = lang
                        .chars()
                        .filter(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '#' | '.')
                        })
                        .collect();
                    Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang.into())))
                }
                Event::Html(t) | Event::InlineHtml(t) if !cx.unsafe_html => {
                    if let Some((_, h)) = heading.as_mut() {
                        h.push_str(&t);
                    }
                    Event::Text(t)
                }
                Event::Start(Tag::HtmlBlock) if !cx.unsafe_html => Event::Start(Tag::Paragraph),
                Event::End(TagEnd::HtmlBlock) if !cx.unsafe_html => Event::End(TagEnd::Paragraph),
                other => other,
            };
            // A heading's events wait for its end (see above); the rest go
            // straight on.
            if heading.is_none() && events.is_empty() {
                return Some(event);
            }
            events.push_back(event);
        }
    });
    let stream = Footnotes::new(stream);
    let html = if cx.html {
        let mut html = String::with_capacity(body.len() + body.len() / 2);
        pulldown_cmark::html::push_html(&mut html, stream);
        // Held until the site is written: at 100,000 pages the room left
        // over from the guess above comes to a few hundred MB.
        html.shrink_to_fit();
        html
    } else {
        stream.for_each(drop);
        String::new()
    };
    out.html = html;
    out
}

/// A hand-written id (`## Outcomes {#results}`, kept in its case) or class
/// name: ASCII letters, digits, `-` and `_`, nothing that needs escaping in
/// a URL fragment or could end an attribute and start another.
fn safe_token(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect()
}

/// Footnote labels as ids: each label gets [`safe_token`] of itself (`fn`
/// when nothing is left), numbered when two labels would share one, and
/// the same id every time it is seen, so references and definitions meet.
#[derive(Default)]
struct FootnoteIds {
    by_label: HashMap<String, String>,
    used: HashSet<String>,
}

impl FootnoteIds {
    fn id(&mut self, label: &str) -> String {
        if let Some(id) = self.by_label.get(label) {
            return id.clone();
        }
        let mut base = safe_token(label);
        if base.is_empty() {
            base = "fn".into();
        }
        let mut id = base.clone();
        let mut n = 1;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.by_label.insert(label.to_string(), id.clone());
        id
    }
}

/// Footnotes as readers expect them: numbered in the order the text cites
/// them, gathered at the end of the body in one list wherever they were
/// written, each with a link back to where it was cited. (The HTML writer
/// leaves a definition where it stands, without a way back.) Ids are
/// [`FootnoteIds`], so they need no escaping; `fn-` and `fnref-` keep them
/// apart from heading ids.
struct Footnotes<'a, I> {
    inner: I,
    /// The open definition: its id and events so far.
    open: Option<(CowStr<'a>, Vec<Event<'a>>)>,
    /// Definitions by id, as written.
    defs: HashMap<String, Vec<Event<'a>>>,
    /// Ids in the order first written: definitions never cited come last.
    written: Vec<String>,
    /// Ids in the order first cited, and how often each is cited.
    cited: Vec<(String, usize)>,
    /// The list, once the body has ended.
    tail: VecDeque<Event<'a>>,
    done: bool,
}

impl<'a, I: Iterator<Item = Event<'a>>> Footnotes<'a, I> {
    fn new(inner: I) -> Self {
        Footnotes {
            inner,
            open: None,
            defs: HashMap::new(),
            written: Vec::new(),
            cited: Vec::new(),
            tail: VecDeque::new(),
            done: false,
        }
    }

    /// The notes, in citing order, as the events that end the body.
    fn finish(&mut self) {
        let mut order: Vec<(String, usize)> = self
            .cited
            .iter()
            .filter(|(id, _)| self.defs.contains_key(id))
            .cloned()
            .collect();
        for id in &self.written {
            if !self.cited.iter().any(|(c, _)| c == id) {
                order.push((id.clone(), 0));
            }
        }
        if order.is_empty() {
            return;
        }
        let tail = &mut self.tail;
        tail.push_back(Event::Html(
            "<section class=\"footnotes\" role=\"doc-endnotes\">\n<ol>\n".into(),
        ));
        for (id, times) in order {
            let mut events = self.defs.remove(&id).unwrap_or_default();
            let back: String = (1..=times)
                .map(|k| {
                    let from = if k == 1 { id.clone() } else { format!("{id}-{k}") };
                    format!(
                        " <a href=\"#fnref-{from}\" class=\"footnote-back\" role=\"doc-backlink\" aria-label=\"Back to the text\">↩\u{fe0e}</a>"
                    )
                })
                .collect();
            // The way back ends the note's last paragraph, not a line of its own.
            let at = match events.last() {
                Some(Event::End(TagEnd::Paragraph)) => events.len() - 1,
                _ => events.len(),
            };
            events.insert(at, Event::InlineHtml(back.into()));
            tail.push_back(Event::Html(format!("<li id=\"fn-{id}\">").into()));
            tail.extend(events);
            tail.push_back(Event::Html("</li>\n".into()));
        }
        tail.push_back(Event::Html("</ol>\n</section>\n".into()));
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Footnotes<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            if self.done {
                return self.tail.pop_front();
            }
            let Some(event) = self.inner.next() else {
                self.done = true;
                self.finish();
                continue;
            };
            match event {
                Event::Start(Tag::FootnoteDefinition(id)) => self.open = Some((id, Vec::new())),
                Event::End(TagEnd::FootnoteDefinition) => {
                    if let Some((id, events)) = self.open.take() {
                        let id = id.to_string();
                        if !self.defs.contains_key(&id) {
                            self.written.push(id.clone());
                            self.defs.insert(id, events);
                        }
                    }
                }
                e if self.open.is_some() => {
                    if let Some((_, events)) = self.open.as_mut() {
                        events.push(e);
                    }
                }
                Event::FootnoteReference(id) => {
                    let n = match self.cited.iter().position(|(c, _)| **c == *id) {
                        Some(n) => n,
                        None => {
                            self.cited.push((id.to_string(), 0));
                            self.cited.len() - 1
                        }
                    };
                    self.cited[n].1 += 1;
                    let k = self.cited[n].1;
                    let from = if k == 1 {
                        id.to_string()
                    } else {
                        format!("{id}-{k}")
                    };
                    return Some(Event::InlineHtml(
                        format!(
                            "<sup class=\"footnote-ref\"><a href=\"#fn-{id}\" id=\"fnref-{from}\" role=\"doc-noteref\">{}</a></sup>",
                            n + 1
                        )
                        .into(),
                    ));
                }
                other => return Some(other),
            }
        }
    }
}

fn heading_level(l: HeadingLevel) -> u8 {
    match l {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx<'a>(
        sources: &'a HashMap<String, String>,
        base: &'a str,
        unsafe_html: bool,
    ) -> MarkdownContext<'a> {
        MarkdownContext {
            unsafe_html,
            base_path: base,
            sources,
            html: true,
            photos: None,
        }
    }

    fn keywords_of(md: &str) -> Vec<(String, u32)> {
        let s = HashMap::new();
        render(md, 1, &cx(&s, "/", false)).keywords().to_vec()
    }

    #[test]
    fn keywords_are_the_most_frequent_words_of_the_text() {
        let k = keywords_of(
            "## Dashboards\n\nThe dashboards helped. Dashboards, DASHBOARDS and \
             dashboards: 2024 and 12345 are numbers, *the* and *with* are stop words.\n\n\
             [Mentors](https://example.org/mentorship-programme) met mentors &amp; \
             volunteers &mdash; volunteers.",
        );
        let words: Vec<&str> = k.iter().map(|(w, _)| w.as_str()).collect();
        // Capitalised and upper-case forms count as the same word; tags and
        // character references are not text; ties go to the earlier word.
        assert_eq!(k[0], ("dashboards".to_string(), 5), "{k:?}");
        assert_eq!(k[1], ("mentors".to_string(), 2), "{k:?}");
        assert_eq!(k[2], ("volunteers".to_string(), 2), "{k:?}");
        for gone in [
            "the",
            "with",
            "2024",
            "12345",
            "amp",
            "mdash",
            "href",
            "mentorship",
        ] {
            assert!(!words.contains(&gone), "{gone} in {k:?}");
        }
        assert!(words.contains(&"helped"), "{k:?}");
    }

    #[test]
    fn words_are_counted_as_split_whitespace_counts_them() {
        for t in [
            "",
            " ",
            "one",
            " one  two\tthree\nfour\r\nfive\u{b}six\u{c}seven ",
            "a\u{1c}b",
            "école   et\u{a0}maison\u{2003}ici",
            "   trailing and leading   ",
        ] {
            assert_eq!(count_words(t), t.split_whitespace().count(), "{t:?}");
        }
        // Words and spaces across every place in and between the eight-byte
        // steps, with the bytes on either side of each kind of white space.
        let alphabet = [
            b' ', b'\t', b'\n', 0x0b, 0x0c, b'\r', 0x08, 0x0e, 0x1f, b'!', b'a', 0x7f,
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..48 {
            for _ in 0..200 {
                let t: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x % alphabet.len() as u64) as usize]
                    })
                    .collect();
                let t = std::str::from_utf8(&t).unwrap();
                assert_eq!(count_words(t), t.split_whitespace().count(), "{t:?}");
            }
        }
    }

    #[test]
    fn word_comparison_sees_every_byte() {
        for len in 0..=40usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_word(&a, &a.clone()), "{len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] = b'#';
                assert!(!same_word(&a, &b), "{len} at {at}");
                assert_ne!(word_hash(&a), word_hash(&b), "{len} at {at}");
            }
            let mut longer = a.clone();
            longer.push(b'a');
            assert!(!same_word(&a, &longer), "{len}");
        }
    }

    #[test]
    fn words_differing_in_any_one_byte_are_counted_apart() {
        // Every length the counter reads differently (three bytes, two
        // overlapping four-byte loads, one or more eight-byte loads and an
        // overlapping last one), each word against copies of itself with
        // one byte changed, at the start, the middle and the end.
        let mut text = String::new();
        let mut expected = Vec::new();
        for len in [3usize, 4, 5, 7, 8, 9, 15, 16, 17, 24, 25] {
            let word: String = (0..len).map(|i| (b'k' + (i % 13) as u8) as char).collect();
            let mut variants = vec![word.clone()];
            for at in [0, len / 2, len - 1] {
                let mut v = word.clone().into_bytes();
                v[at] = b'b';
                variants.push(String::from_utf8(v).expect("ASCII"));
            }
            variants.dedup();
            // The word three times, once capitalised (lowered into the
            // counter's buffer, then met again in the text); each variant once.
            let mut cap = word.clone();
            cap[..1].make_ascii_uppercase();
            text.push_str(&format!("{word} {cap} {word} "));
            for v in &variants[1..] {
                text.push_str(&format!("{v} "));
                expected.push((v.clone(), 1));
            }
            expected.push((word, 3));
        }
        let s = HashMap::new();
        let rendered = render(&text, 1, &cx(&s, "/", false));
        let counts = count_keywords(&rendered.html);
        let counted: std::collections::BTreeMap<String, u32> = counts
            .words
            .iter()
            .filter(|w| w.count > 0)
            .map(|w| (counts.text(w).to_string(), w.count))
            .collect();
        for (w, n) in &expected {
            assert_eq!(counted.get(w), Some(n), "{w} in {counted:?}");
        }
        assert_eq!(counted.len(), expected.len(), "{counted:?}");
    }

    #[test]
    fn keywords_lower_unicode_and_long_words_and_split_on_unicode_punctuation() {
        let long = "Pneumonoultramicroscopicsilicovolcanoconiosis".repeat(2);
        let k = keywords_of(&format!(
            "ÉCOLE école «Ubuntu» ubuntu “Ubuntu” Nairobi—Kampala kampala {long} {}",
            long.to_lowercase()
        ));
        let get = |w: &str| k.iter().find(|(x, _)| x == w).map(|(_, n)| *n);
        assert_eq!(get("école"), Some(2), "{k:?}");
        assert_eq!(get("ubuntu"), Some(3), "{k:?}");
        assert_eq!(get("kampala"), Some(2), "{k:?}");
        assert_eq!(get("nairobi"), Some(1), "{k:?}");
        assert_eq!(get(&long.to_lowercase()), Some(2), "{k:?}");
        // Nothing with punctuation in it survives as a keyword.
        assert!(
            k.iter().all(|(w, _)| w.chars().all(char::is_alphanumeric)),
            "{k:?}"
        );
    }

    #[test]
    fn stop_words_are_sorted_for_the_lookup_by_first_letter() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(
            STOP_WORDS.iter().map(|w| w.len()).max(),
            Some(STOP_WORD_MAX)
        );
        for w in STOP_WORDS {
            assert!(!is_keyword(w), "{w}");
            assert!(is_stop_word(w), "{w}");
        }
        for w in [
            "th", "thee", "thence", "youth", "abouts", "zebra", "Éte", "",
        ] {
            assert!(!is_stop_word(w), "{w}");
        }
        assert!(is_keyword("dashboards"));
        assert!(!is_keyword("2024"));
    }

    #[test]
    fn keywords_keep_the_top_ones_only() {
        let md: String = (0..40)
            .map(|i| format!("word{i:02} ").repeat(if i == 30 { 3 } else { 1 }))
            .collect();
        let k = keywords_of(&md);
        assert_eq!(k.len(), KEYWORDS);
        assert_eq!(k[0], ("word30".to_string(), 3));
        let rest: Vec<&str> = k[1..].iter().map(|(w, _)| w.as_str()).collect();
        let expected: Vec<String> = (0..23).map(|i| format!("word{i:02}")).collect();
        assert_eq!(rest, expected);
    }

    #[test]
    fn raw_html_is_escaped_by_default() {
        let s = HashMap::new();
        let r = render(
            "<script>alert(1)</script>\n\nHi <b>there</b>",
            1,
            &cx(&s, "/", false),
        );
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;"), "{}", r.html);
        assert!(r.html.contains("&lt;b&gt;"), "{}", r.html);
        let r = render("Hi <b>there</b>", 1, &cx(&s, "/", true));
        assert!(r.html.contains("<b>there</b>"), "{}", r.html);
    }

    #[test]
    fn script_links_become_text() {
        let s = HashMap::new();
        for dest in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java%0ascript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let md = format!("[click]({dest}) and ![img]({dest})");
            let r = render(&md, 1, &cx(&s, "/", false));
            assert!(
                !r.html.to_lowercase().contains("href=\"javascript"),
                "{}",
                r.html
            );
            assert!(!r.html.contains("src=\"javascript"), "{}", r.html);
            if !dest.contains('%') {
                assert!(r.html.contains("click"), "{}", r.html);
                assert!(!r.html.contains("<a "), "{}", r.html);
            }
        }
        // Tab and newline inside the scheme still count as script.
        assert!(is_unsafe_url("java\tscript:alert(1)"));
        assert!(is_unsafe_url(" javascript:x"));
        assert!(!is_unsafe_url("https://example.org/javascript:"));
        // The same answers as the first way it was written: the characters
        // that are not white space or control characters, lowered.
        let reference = |dest: &str| {
            let cleaned = dest
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
                .take(16)
                .collect::<String>()
                .to_ascii_lowercase();
            ["javascript:", "vbscript:", "data:"]
                .iter()
                .any(|s| cleaned.starts_with(s))
        };
        let pieces = [
            "java", "JAVA", "script", "Script:", ":", "data", "DaTa:", "vb", "VBscript", " ", "\t",
            "\u{0}", "\u{85}", "\u{7f}", "é", "\u{a0}", "x", "/",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let dest = format!("{a}{b}{c}alert(1)");
                    assert_eq!(is_unsafe_url(&dest), reference(&dest), "{dest:?}");
                }
            }
        }
    }

    #[test]
    fn site_relative_and_source_links() {
        let mut s = HashMap::new();
        s.insert(
            "case-studies/a.md".to_string(),
            "case-studies/a/".to_string(),
        );
        let md = "[a](@/case-studies/a.md#outcomes) [b](/sector/health/) [c](@/nope.md) [d](https://x.org/) ![i](/img/x.png)";
        let r = render(md, 5, &cx(&s, "/learning/", false));
        assert!(
            r.html
                .contains("href=\"/learning/case-studies/a/#outcomes\""),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("href=\"/learning/sector/health/\""),
            "{}",
            r.html
        );
        assert!(r.html.contains("href=\"https://x.org/\""), "{}", r.html);
        assert!(r.html.contains("src=\"/learning/img/x.png\""), "{}", r.html);
        assert_eq!(r.unresolved, vec![(5, 56, 14, "@/nope.md".to_string())]);
        let kinds: Vec<_> = r.links.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                LinkKind::Source,
                LinkKind::SiteRelative,
                LinkKind::Source,
                LinkKind::SiteRelative
            ]
        );
    }

    #[test]
    fn headings_get_unique_ids() {
        let s = HashMap::new();
        let r = render(
            "## What changed\n\n## What changed\n\n### Numbers {#the-numbers}\n",
            1,
            &cx(&s, "/", false),
        );
        let ids: Vec<_> = r.toc.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["what-changed", "what-changed-1", "the-numbers"]);
        assert!(
            r.html.contains("<h2 id=\"what-changed\">What changed</h2>"),
            "{}",
            r.html
        );
        assert_eq!(r.toc[2].level, 3);
    }

    #[test]
    fn counts_words_and_lines() {
        let s = HashMap::new();
        let r = render(
            "one two three\n\nfour [five](/x/)\n",
            10,
            &cx(&s, "/", false),
        );
        assert_eq!(r.word_count, 5);
        assert_eq!(r.links[0].line, 12);
        assert_eq!(r.links[0].column, 6);
    }

    #[test]
    fn heading_attributes_keep_only_a_safe_id_and_classes_in_safe_mode() {
        let s = HashMap::new();
        let md = "## Hi {onfocus=alert(1) autofocus tabindex=0}\n\n## Two {#My_id .note .x\"y style=color:red}\n";
        let r = render(md, 1, &cx(&s, "/", false));
        assert!(r.html.contains("<h2 id=\"hi\">Hi</h2>"), "{}", r.html);
        assert!(
            r.html
                .contains("<h2 id=\"My_id\" class=\"note xy\">Two</h2>"),
            "{}",
            r.html
        );
        for bad in ["onfocus", "autofocus", "tabindex", "style"] {
            assert!(!r.html.contains(bad), "{bad}: {}", r.html);
        }
        // Raw HTML allowed: the writer may add attributes too.
        let r = render(md, 1, &cx(&s, "/", true));
        assert!(r.html.contains("tabindex=\"0\""), "{}", r.html);
    }

    #[test]
    fn footnotes_are_numbered_as_cited_and_gathered_at_the_end_with_a_way_back() {
        let s = HashMap::new();
        let md = "[^later]: Written first, cited second.\n\nOne[^first] and two[^later], one again[^first].\n\n[^first]: Cited first.\n\n## After\n\nThe end.\n";
        let r = render(md, 1, &cx(&s, "/", false));
        let h = &r.html;
        let notes = h.find("<section class=\"footnotes\"").expect(h);
        assert!(h.find("The end.").unwrap() < notes, "notes come last: {h}");
        assert!(
            h.contains("<a href=\"#fn-first\" id=\"fnref-first\" role=\"doc-noteref\">1</a>"),
            "{h}"
        );
        assert!(
            h.contains("<a href=\"#fn-later\" id=\"fnref-later\" role=\"doc-noteref\">2</a>"),
            "{h}"
        );
        assert!(
            h.contains("id=\"fnref-first-2\" role=\"doc-noteref\">1</a>"),
            "{h}"
        );
        let first = h.find("<li id=\"fn-first\">").expect(h);
        let later = h.find("<li id=\"fn-later\">").expect(h);
        assert!(first < later, "{h}");
        assert!(
            h.contains("Cited first. <a href=\"#fnref-first\" class=\"footnote-back\""),
            "{h}"
        );
        assert!(h.contains("href=\"#fnref-first-2\""), "{h}");
        assert_eq!(h.matches("Written first").count(), 1, "{h}");
    }

    #[test]
    fn footnote_labels_and_code_languages_stay_names() {
        let s = HashMap::new();
        let md = "A[^<b x=\"1\">] B[^1].\n\n[^<b x=\"1\">]: one\n\n[^1]: two\n\n```js\"><script>x onload=y\ncode\n```\n";
        let r = render(md, 1, &cx(&s, "/", false));
        assert!(r.html.contains("href=\"#fn-bx1\""), "{}", r.html);
        assert!(r.html.contains("id=\"fn-bx1\""), "{}", r.html);
        assert!(r.html.contains("href=\"#fn-1\""), "{}", r.html);
        assert!(
            r.html.contains("<code class=\"language-jsscriptx\">"),
            "{}",
            r.html
        );
        assert!(!r.html.contains("&lt;b"), "{}", r.html);
        assert!(!r.html.contains("onload"), "{}", r.html);
    }
}
