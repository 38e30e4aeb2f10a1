//! Photos: where a page's photos are, what size they are, which of them
//! its consent records let it show, and the `<picture>` markup that offers
//! each at a few widths as WebP with a JPEG or PNG fallback.
//!
//! A photo lives in `static/` (`/images/clinic.jpg`) or beside its page in a
//! bundle (`content/case-studies/x/index.md` with `photo.jpg`). Its
//! processed copies are named by a hash of its bytes and the settings
//! (`processed-images/clinic.3fa2b1c94e07.960.webp`), so they are made once
//! ([`process`]) and kept in `.casebook-cache/` between builds. No output
//! image carries the original's metadata ([`strip`]).
//!
//! The markup is written here, once, for photos in the text and for the
//! theme (its `picture()` function), so the two never drift apart.

pub mod process;
pub mod strip;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::config::{Config, ImagesConfig};
use crate::content::Asset;
use crate::content::consent::Consent;
use crate::render::theme::StaticSource;

/// The folder of the output processed photos go in.
pub const OUTPUT_DIR: &str = "processed-images";

/// The cache folder, in the site's root.
pub const CACHE_DIR: &str = ".casebook-cache";

/// Bumped when the processing changes, so cached copies made the old way
/// are not reused.
const PROCESS_VERSION: &[u8] = b"casebook-images-1";

/// The formats casebook processes. Others (SVG, GIF) are published as
/// they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    /// From a file name's extension.
    pub fn of(name: &str) -> Option<Format> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "jpg" | "jpeg" => Some(Format::Jpeg),
            "png" => Some(Format::Png),
            "webp" => Some(Format::Webp),
            _ => None,
        }
    }
}

/// One photo file, read once: its size as shown (after its EXIF
/// orientation) and the names of its processed copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// Where it is, for messages: `static/images/x.jpg`.
    pub shown: String,
    /// The file.
    pub path: PathBuf,
    pub format: Format,
    /// Width and height as shown, in pixels.
    pub width: u32,
    pub height: u32,
    /// Whether it has transparency (its fallback is then PNG).
    pub alpha: bool,
    /// Hash of its bytes and the settings: part of every copy's name.
    pub key: String,
    /// Its file name without extension, as a slug: the readable part of the
    /// copies' names.
    pub stem: String,
    /// The widths it is made at, smallest first; never wider than itself.
    pub widths: Vec<u32>,
}

impl Photo {
    /// The fallback format's extension: PNG for transparent photos, else JPEG.
    pub fn fallback_ext(&self) -> &'static str {
        if self.alpha { "png" } else { "jpg" }
    }

    /// The height of the copy `width` pixels wide.
    pub fn height_at(&self, width: u32) -> u32 {
        ((u64::from(self.height) * u64::from(width) + u64::from(self.width) / 2)
            / u64::from(self.width.max(1)))
        .max(1) as u32
    }

    /// The file name of one copy.
    pub fn copy_name(&self, width: u32, ext: &str) -> String {
        format!("{}.{}.{width}.{ext}", self.stem, self.key)
    }

    /// Every copy: (output path, width, extension).
    pub fn copies(&self) -> Vec<(String, u32, &'static str)> {
        let mut out = Vec::new();
        for &w in &self.widths {
            for ext in ["webp", self.fallback_ext()] {
                out.push((format!("{OUTPUT_DIR}/{}", self.copy_name(w, ext)), w, ext));
            }
        }
        out
    }

    /// The values markup is written from, for `alt` and the rest.
    pub fn markup(&self, base_path: &str, alt: &str) -> PhotoV {
        let url = |w: u32, ext: &str| format!("{base_path}{OUTPUT_DIR}/{}", self.copy_name(w, ext));
        let set = |ext: &str| {
            self.widths
                .iter()
                .map(|&w| format!("{} {w}w", url(w, ext)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The `src` for browsers without srcset: the copy nearest a
        // column's width.
        let middle = self
            .widths
            .iter()
            .copied()
            .filter(|&w| w <= 960)
            .max()
            .unwrap_or(self.widths[0]);
        let largest = *self.widths.last().expect("a photo has a width");
        PhotoV {
            src: url(middle, self.fallback_ext()),
            srcset: set(self.fallback_ext()),
            webp_srcset: set("webp"),
            largest: url(largest, self.fallback_ext()),
            fallback_type: if self.alpha {
                "image/png"
            } else {
                "image/jpeg"
            }
            .into(),
            width: self.width.min(largest),
            height: self.height_at(self.width.min(largest)),
            alt: alt.to_string(),
            caption: None,
            credit: None,
            print: true,
            social: true,
        }
    }
}

/// A photo as the theme sees it (`page.image`, `card.image`) and as
/// [`picture`] writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhotoV {
    /// The fallback copy for browsers without srcset.
    pub src: String,
    /// The fallback copies at every width, for `srcset`.
    pub srcset: String,
    /// The WebP copies at every width.
    pub webp_srcset: String,
    /// The widest fallback copy (link previews use it).
    pub largest: String,
    /// `image/jpeg` or `image/png`.
    pub fallback_type: String,
    /// The size of the widest copy, so the page does not shift as it loads.
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub caption: Option<String>,
    pub credit: Option<String>,
    /// Whether its consent covers print (else the theme hides it in print).
    pub print: bool,
    /// Whether its consent covers social media (else no link preview).
    pub social: bool,
}

/// Text for an HTML attribute or element.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The `<picture>` for a photo: WebP and fallback at every width, its
/// size, and `sizes` for how wide it is shown. The lead photo (`lead`)
/// loads at once and first; every other loads as it nears the screen.
pub fn picture(p: &PhotoV, sizes: &str, lead: bool, title: Option<&str>) -> String {
    let mut out = String::with_capacity(600);
    out.push_str("<picture");
    if !p.print {
        out.push_str(" class=\"no-print\"");
    }
    out.push_str("><source type=\"image/webp\" srcset=\"");
    out.push_str(&esc(&p.webp_srcset));
    out.push_str("\" sizes=\"");
    out.push_str(&esc(sizes));
    out.push_str("\"><img src=\"");
    out.push_str(&esc(&p.src));
    out.push_str("\" srcset=\"");
    out.push_str(&esc(&p.srcset));
    out.push_str("\" sizes=\"");
    out.push_str(&esc(sizes));
    out.push_str(&format!(
        "\" width=\"{}\" height=\"{}\" alt=\"{}\"",
        p.width,
        p.height,
        esc(&p.alt)
    ));
    if let Some(t) = title.filter(|t| !t.is_empty()) {
        out.push_str(&format!(" title=\"{}\"", esc(t)));
    }
    if lead {
        out.push_str(" fetchpriority=\"high\" decoding=\"async\"></picture>");
    } else {
        out.push_str(" loading=\"lazy\" decoding=\"async\"></picture>");
    }
    out
}

/// How wide a photo in the text is shown: the reading column.
pub const BODY_SIZES: &str = "(min-width: 48rem) 42rem, calc(100vw - 2rem)";

/// Photos already read, by file, size and time of change: a preview that
/// re-renders a page does not read its photos again.
type Memo = Mutex<HashMap<(PathBuf, u64, std::time::SystemTime, String), Arc<Photo>>>;
fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(Default::default)
}

/// Every photo file of the site by its site path (`images/x.jpg`,
/// `case-studies/x/photo.jpg`), and the settings they are processed with.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Site path -> (shown path, file).
    files: BTreeMap<String, (String, PathBuf)>,
    settings: ImagesConfig,
}

/// What an image address in a page names.
#[derive(Debug, Clone)]
pub enum Found {
    /// A photo casebook processes.
    Photo(Arc<Photo>),
    /// A photo file that cannot be read: why.
    Unreadable(String, String),
    /// Anything else (a web address, an SVG, a missing file): left as it is.
    Other,
}

impl Catalogue {
    /// The catalogue of `files`: (site path, shown path, file) of every file
    /// the site publishes; those in a processed format are kept.
    pub fn new(
        config: &Config,
        files: impl IntoIterator<Item = (String, String, PathBuf)>,
    ) -> Catalogue {
        Catalogue {
            files: files
                .into_iter()
                .filter(|(site, _, _)| Format::of(site).is_some())
                .map(|(site, shown, path)| (site, (shown, path)))
                .collect(),
            settings: config.images.clone(),
        }
    }

    /// The site path an image address on the page at `page_path` names,
    /// without the base path; `None` for web addresses.
    pub fn site_path(page_path: &str, src: &str) -> Option<String> {
        let src = src.split(['?', '#']).next().unwrap_or(src);
        if src.contains("://") || src.starts_with("//") || src.contains(':') {
            return None;
        }
        let decoded = crate::content::markdown::percent_decode(src)?;
        match decoded.strip_prefix('/') {
            Some(rest) => Some(rest.to_string()),
            None => crate::text::join_url(page_path, &decoded),
        }
    }

    /// What the address `src`, written on the page at `page_path`, names.
    pub fn find(&self, page_path: &str, src: &str) -> Found {
        let Some(site) = Self::site_path(page_path, src) else {
            return Found::Other;
        };
        let Some((shown, path)) = self.files.get(&site) else {
            return Found::Other;
        };
        match self.read(shown, path) {
            Ok(p) => Found::Photo(p),
            Err(m) => Found::Unreadable(shown.clone(), m),
        }
    }

    /// Every photo file, by site path.
    pub fn files(&self) -> impl Iterator<Item = (&String, &(String, PathBuf))> {
        self.files.iter()
    }

    /// Reads a photo's size and hash (memoised).
    fn read(&self, shown: &str, path: &Path) -> Result<Arc<Photo>, String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        let settings = format!("{:?}{}", self.settings.widths, self.settings.quality);
        let id = (
            path.to_path_buf(),
            meta.len(),
            meta.modified().unwrap_or(std::time::UNIX_EPOCH),
            settings.clone(),
        );
        if let Some(p) = memo().lock().expect("memo").get(&id) {
            return Ok(Arc::clone(p));
        }
        if meta.len() > process::MAX_PHOTO_BYTES {
            return Err(format!(
                "it is {} MB; casebook processes photos up to {} MB",
                meta.len() / 1_000_000,
                process::MAX_PHOTO_BYTES / 1_000_000
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let format = Format::of(shown).ok_or("not a photo format")?;
        let (width, height, alpha) = process::dimensions(&bytes, format)?;
        let mut keyed = bytes;
        keyed.extend_from_slice(PROCESS_VERSION);
        keyed.extend_from_slice(settings.as_bytes());
        let key = crate::render::theme::content_hash(&keyed)[..12].to_string();
        let name = shown.rsplit('/').next().unwrap_or(shown);
        let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
        let stem = crate::text::slug::slugify(stem);
        let stem = if stem.is_empty() {
            "photo".into()
        } else {
            stem
        };
        let largest = *self.settings.widths.last().expect("widths are checked");
        let mut widths: Vec<u32> = self
            .settings
            .widths
            .iter()
            .copied()
            .filter(|&w| w < width)
            .collect();
        if width <= largest && !widths.contains(&width) {
            widths.push(width);
        } else if width > largest {
            widths.retain(|&w| w <= largest);
            if !widths.contains(&largest) {
                widths.push(largest);
            }
        }
        widths.sort_unstable();
        let photo = Arc::new(Photo {
            shown: shown.to_string(),
            path: path.to_path_buf(),
            format,
            width,
            height,
            alpha,
            key,
            stem,
            widths,
        });
        memo().lock().expect("memo").insert(id, Arc::clone(&photo));
        Ok(photo)
    }
}

/// Whether an alt text says nothing: empty, a word such as "image" or
/// "photo", or the file's own name.
pub fn placeholder_alt(alt: &str, src: &str) -> bool {
    let alt = alt.trim().to_lowercase();
    if alt.is_empty() {
        return true;
    }
    const WORDS: &[&str] = &[
        "image",
        "img",
        "photo",
        "picture",
        "pic",
        "photograph",
        "alt",
        "alt text",
        "todo",
        "placeholder",
        "untitled",
        "screenshot",
    ];
    if WORDS.contains(&alt.as_str()) {
        return true;
    }
    let name = src.rsplit('/').next().unwrap_or(src).to_lowercase();
    let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
    alt == name || alt == stem || alt.replace([' ', '_'], "-") == stem.replace(['_', ' '], "-")
}

/// Whether a page may show a photo, by its consent record (`None` when it
/// has none): `Err` says why not.
pub fn judge(record: Option<&Consent>, config: &Config) -> Result<(), String> {
    match record {
        None if config.consent.required => Err(
            "it has no consent record, and site.toml's [consent] requires one for every photo"
                .into(),
        ),
        None => Ok(()),
        Some(c) => match c.status(&config.today, config.consent.warn_days).reason() {
            Some(why) => Err(why),
            None => Ok(()),
        },
    }
}

impl Catalogue {
    /// The catalogue of a site: the photos among its static files (the
    /// theme's and `static/`) and its bundles' assets, each at the site
    /// path it is published at (`bundles`: a bundle's folder under
    /// `content/` -> its page's site path).
    pub fn for_site(
        config: &Config,
        statics: &BTreeMap<String, StaticSource>,
        assets: &[Asset],
        bundles: &HashMap<String, String>,
    ) -> Catalogue {
        let from_static = statics.iter().filter_map(|(rel, src)| match src {
            StaticSource::File(path) => Some((rel.clone(), format!("static/{rel}"), path.clone())),
            StaticSource::Builtin(_) => None,
        });
        let from_bundles = assets.iter().filter_map(|a| {
            let (dir, name) = a.rel.rsplit_once('/')?;
            let page = bundles.get(dir)?;
            Some((
                format!("{page}{name}"),
                format!("content/{}", a.rel),
                a.path.clone(),
            ))
        });
        Catalogue::new(config, from_static.chain(from_bundles))
    }
}

/// What publishing the photos needs made before the site is written.
#[derive(Debug, Default)]
pub struct ToMake {
    /// Photos whose copies are shown.
    pub photos: Vec<Arc<Photo>>,
    /// Originals published as they are, without their metadata:
    /// (photo, cache file).
    pub originals: Vec<(Arc<Photo>, PathBuf)>,
}

/// Sets the files the site publishes for its photos in `statics`: every
/// shown photo's copies; each original without its metadata, or not at all
/// where a page's consent record leaves it out; the assets of published
/// bundles beside their pages. With `[consent] required = true`, a photo
/// no page shows with a consent record is not published at all. Returns
/// what must be made, and problems.
pub fn publish(
    root: &Path,
    config: &Config,
    catalogue: &Catalogue,
    pages: &[Arc<crate::content::Page>],
    assets: &[Asset],
    statics: &mut BTreeMap<String, StaticSource>,
) -> (ToMake, Vec<crate::diagnostic::Diagnostic>) {
    let cache = root.join(CACHE_DIR);
    let mut diags = Vec::new();
    let left_out: std::collections::BTreeSet<&str> = pages
        .iter()
        .flat_map(|p| p.photos_left_out.iter().map(String::as_str))
        .collect();
    // Bundle assets beside their (published) pages.
    let published: HashMap<&str, &str> = pages
        .iter()
        .filter_map(|p| Some((p.rel.strip_suffix("/index.md")?, p.path.as_str())))
        .collect();
    for a in assets {
        let Some((dir, name)) = a.rel.rsplit_once('/') else {
            continue;
        };
        if let Some(page) = published.get(dir) {
            statics.insert(format!("{page}{name}"), StaticSource::File(a.path.clone()));
        }
    }
    let shown_with_consent: std::collections::HashSet<&str> = pages
        .iter()
        .flat_map(|p| p.photos.iter().map(|ph| ph.shown.as_str()))
        .collect();
    let mut make = ToMake::default();
    for (site, (shown, path)) in catalogue.files() {
        if !statics.contains_key(site) {
            continue;
        }
        let unshown = config.consent.required && !shown_with_consent.contains(shown.as_str());
        if left_out.contains(site.as_str()) || unshown {
            statics.remove(site);
            continue;
        }
        match catalogue.read(shown, path) {
            Ok(p) => {
                let ext = shown.rsplit_once('.').map_or("jpg", |(_, e)| e);
                let file = cache.join("originals").join(format!(
                    "{}.{}.{}",
                    p.stem,
                    p.key,
                    ext.to_ascii_lowercase()
                ));
                statics.insert(site.clone(), StaticSource::File(file.clone()));
                make.originals.push((p, file));
            }
            Err(why) => {
                // Published as it is: a page that shows it has its own error.
                diags.push(
                    crate::diagnostic::Diagnostic::warning(
                        shown.clone(),
                        format!("this file cannot be read as a photo ({why}), so it is published as it is, with whatever metadata it holds"),
                    )
                    .with_hint("open it in an image editor and save it again as JPEG or PNG"),
                );
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for p in pages.iter().flat_map(|p| p.photos.iter()) {
        if seen.insert(p.key.clone()) {
            for (rel, _, _) in p.copies() {
                statics.insert(rel.clone(), StaticSource::File(cache.join(&rel)));
            }
            make.photos.push(Arc::clone(p));
        }
    }
    make.photos.sort_by(|a, b| a.key.cmp(&b.key));
    (make, diags)
}

/// Makes what [`publish`] asked for that the cache does not hold yet.
pub fn make(root: &Path, todo: &ToMake, quality: u8) -> Vec<crate::diagnostic::Diagnostic> {
    use rayon::prelude::*;
    let cache = root.join(CACHE_DIR);
    let mut problems = process::ensure(&todo.photos, &cache, quality);
    problems.extend(
        todo.originals
            .par_iter()
            .filter_map(|(p, file)| {
                if file.exists() {
                    return None;
                }
                let made = std::fs::read(&p.path)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| strip::clean(&bytes, p.format, quality))
                    .and_then(|clean| {
                        process::write_atomic(file, &clean).map_err(|e| e.to_string())
                    });
                made.err().map(|e| (p.shown.clone(), e))
            })
            .collect::<Vec<_>>(),
    );
    problems.sort();
    problems
        .into_iter()
        .map(|(shown, why)| {
            crate::diagnostic::Diagnostic::error(
                shown,
                format!("this photo could not be processed: {why}"),
            )
            .with_hint("open it in an image editor and save it again as JPEG or PNG")
        })
        .collect()
}
