//! The rows of the machine-readable outputs (the explorer's index and the
//! open data files), kept by the preview server between rebuilds: after an
//! edit to one case study each file is one new row and the rest copied.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// The data files as the preview server last wrote them, with where each
/// case study's row sits in them and the key it was made under: after a
/// front-matter edit, each file is one new row and 9,999 copied ones.
///
/// Rows are looked for first at the same place as last time, so an edit
/// that moves no case study reads the old file front to back instead of
/// looking each row up (at 10,000 case studies the lookups, each a miss in
/// the processor's cache, cost more than copying the bytes).
#[derive(Default)]
pub struct RowCache(Mutex<[Slot; 4]>);

/// One file's rows, and the buffer of the rows before them: the next
/// rebuild writes into it, already grown to size, instead of growing a new
/// one (which cost more than the copying).
#[derive(Default)]
pub(super) struct Slot {
    kept: Option<Kept>,
    spare: Vec<u8>,
}

impl RowCache {
    /// Forgets every row: after a change to what every row shows.
    pub fn clear(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
    }

    /// The file's rows from the last rebuild, and an empty buffer to write
    /// the new ones into.
    pub(super) fn take(&self, file: File) -> (Option<Kept>, Vec<u8>) {
        let mut files = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut files[file as usize];
        let mut spare = std::mem::take(&mut slot.spare);
        spare.clear();
        (slot.kept.take(), spare)
    }

    pub(super) fn put(&self, file: File, kept: Kept, spare: Vec<u8>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner())[file as usize] = Slot {
            kept: Some(kept),
            spare,
        };
    }

    /// How many rows are kept, over all four files.
    #[cfg(test)]
    pub(super) fn rows(&self) -> usize {
        let files = self.0.lock().unwrap();
        files
            .iter()
            .filter_map(|s| s.kept.as_ref())
            .map(|k| k.keys.len())
            .sum()
    }
}

/// The largest buffer kept spare for a data file's next rebuild.
const SPARE_LIMIT: usize = 32 * 1024 * 1024;

/// One data file as last written: its bytes, and each row's key and span.
#[derive(Default)]
pub(super) struct Kept {
    bytes: Vec<u8>,
    keys: Vec<u64>,
    spans: Vec<(usize, usize)>,
}

/// Where the rows of the data files come from: made afresh (a build), or,
/// in the preview server, from the [`RowCache`] when their key is there.
#[derive(Clone, Copy, Default)]
pub(crate) struct Rows<'a> {
    /// The cache, and each page's key: everything its rows show.
    cache: Option<(&'a RowCache, &'a [u64])>,
}

/// Which file a row belongs to.
#[derive(Clone, Copy)]
pub(super) enum File {
    Index,
    Json,
    Csv,
    OutcomesCsv,
}

impl<'a> Rows<'a> {
    pub(crate) fn cached(cache: &'a RowCache, keys: &'a [u64]) -> Rows<'a> {
        Rows {
            cache: Some((cache, keys)),
        }
    }

    /// A writer of `file` into `out`.
    pub(super) fn writer<'w>(&self, file: File, out: &'w mut dyn Write) -> RowWriter<'w>
    where
        'a: 'w,
    {
        RowWriter {
            out,
            keep: self.cache.map(|(cache, keys)| {
                let (old, mut bytes) = cache.take(file);
                let size = old.as_ref().map_or(0, |o| o.bytes.len());
                bytes.reserve(size + size / 8);
                Keeping {
                    cache,
                    file,
                    keys,
                    old,
                    by_key: OnceLock::new(),
                    new: Kept {
                        bytes,
                        ..Kept::default()
                    },
                }
            }),
        }
    }
}

/// Writes one data file: straight to its output in a build (no copy kept:
/// at 100,000 case studies the files run to tens of MB), and in the
/// preview server into a copy kept for the next rebuild, written out whole
/// at the end.
pub(super) struct RowWriter<'w> {
    out: &'w mut dyn Write,
    keep: Option<Keeping<'w>>,
}

pub(super) struct Keeping<'w> {
    cache: &'w RowCache,
    file: File,
    keys: &'w [u64],
    old: Option<Kept>,
    /// The old rows by key, made the first time a row is not where it was.
    by_key: OnceLock<HashMap<u64, usize, super::IdHash>>,
    new: Kept,
}

impl Keeping<'_> {
    /// Where in the old file the row kept for the `n`th row, under `key`,
    /// is.
    pub(super) fn find(&self, n: usize, key: u64) -> Option<(usize, usize)> {
        let old = self.old.as_ref()?;
        let m = if old.keys.get(n) == Some(&key) {
            n
        } else {
            *self
                .by_key
                .get_or_init(|| old.keys.iter().enumerate().map(|(m, &k)| (k, m)).collect())
                .get(&key)?
        };
        Some(old.spans[m])
    }
}

impl RowWriter<'_> {
    /// Bytes between rows.
    pub(super) fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.keep {
            Some(k) => {
                k.new.bytes.extend_from_slice(bytes);
                Ok(())
            }
            None => self.out.write_all(bytes),
        }
    }

    /// The key of case study `i`'s row; `extra` is what the row shows
    /// beyond the page's key.
    pub(super) fn key(&self, i: usize, extra: &[usize]) -> u64 {
        let Some(k) = &self.keep else { return 0 };
        if extra.is_empty() {
            return k.keys[i];
        }
        let mut h = DefaultHasher::new();
        (k.keys[i], extra).hash(&mut h);
        h.finish()
    }

    /// Whether the `n`th row can be copied from the last rebuild (the
    /// search index makes the others in parallel before writing any).
    pub(super) fn has(&self, n: usize, key: u64) -> bool {
        self.keep.as_ref().is_some_and(|k| k.find(n, key).is_some())
    }

    /// The next row, under `key`: copied from the last rebuild if it is
    /// there, else made by `make`.
    pub(super) fn row(
        &mut self,
        key: u64,
        make: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(k) = &mut self.keep else {
            return make(self.out);
        };
        let n = k.new.keys.len();
        let start = k.new.bytes.len();
        match k.find(n, key) {
            Some((s, e)) => {
                let old = k.old.as_ref().expect("found in the old rows");
                k.new.bytes.extend_from_slice(&old.bytes[s..e]);
            }
            None => make(&mut k.new.bytes)?,
        }
        k.new.keys.push(key);
        k.new.spans.push((start, k.new.bytes.len()));
        Ok(())
    }

    /// Writes what is kept and keeps it for the next rebuild.
    pub(super) fn finish(self) -> std::io::Result<()> {
        if let Some(k) = self.keep {
            self.out.write_all(&k.new.bytes)?;
            // A second copy of a file this size is worth keeping; of the
            // 90 MB `case-studies.json` of 100,000 case studies, it is not.
            let spare = k
                .old
                .map(|o| o.bytes)
                .filter(|b| b.capacity() <= SPARE_LIMIT)
                .unwrap_or_default();
            k.cache.put(k.file, k.new, spare);
        }
        Ok(())
    }
}
