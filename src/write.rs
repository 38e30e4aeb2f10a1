//! The `write` stage: renders every job straight into its file, in parallel,
//! inside a fresh folder beside the output, and swaps that folder in only
//! when everything succeeded. A failed build never leaves a half-written
//! site, and the previous output stays as it was.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::Error;
use crate::diagnostic::Diagnostic;
use crate::index::Site;
use crate::render::theme::StaticSource;
use crate::render::{Job, OutputKind, RenderError, Renderer, Theme};

/// What a write produced, for the build summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Files written per kind of output.
    pub by_kind: BTreeMap<OutputKind, usize>,
    /// How many files were copied from `static/` and the theme.
    pub static_files: usize,
    /// How many bytes were written in all.
    pub bytes: u64,
}

impl Written {
    /// How many files were rendered, of every kind.
    pub fn pages(&self) -> usize {
        self.by_kind.values().sum()
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses output folders whose replacement would destroy something that is
/// not a build: the site itself, its sources, the home folder, the root,
/// and any existing file or folder casebook did not make.
pub fn check_output_dir(root: &Path, out: &Path) -> Result<(), Diagnostic> {
    let out_as_given = out;
    // Where a path really is: made absolute, `..` resolved, and symbolic
    // links in the part that exists followed, so that a link pointing into
    // the site cannot smuggle the output there.
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        let p = normalise(&p);
        let mut existing = p.as_path();
        let mut rest = Vec::new();
        while !existing.exists() {
            match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_owned());
                    existing = parent;
                }
                _ => return p,
            }
        }
        let mut real = existing
            .canonicalize()
            .unwrap_or_else(|_| existing.to_path_buf());
        real.extend(rest.iter().rev());
        real
    };
    let root = abs(root);
    let out = abs(out);
    let refuse = |why: String| {
        Err(Diagnostic::error(
            "--output",
            format!("refusing to write the site into {}: {why}", out.display()),
        )
        .with_hint("choose an empty folder or a new one, such as `public`"))
    };
    if out.parent().is_none() {
        return refuse("it is the root of the file system".into());
    }
    if root.starts_with(&out) {
        return refuse("it contains the site itself, which would be deleted".into());
    }
    for protected in ["content", "themes", "static", "site.toml"] {
        if out.starts_with(root.join(protected)) {
            return refuse(format!("it is inside the site's {protected}"));
        }
    }
    if let Some(home) = std::env::var_os("HOME").map(|h| abs(Path::new(&h)))
        && home.starts_with(&out)
    {
        return refuse("it is your home folder or one of its parents".into());
    }
    check_replaceable(out_as_given)
}

/// The file every output folder casebook writes carries, so that a folder
/// can be told apart from one casebook did not make: a build replaces its
/// output folder whole, and only ever one with this file in it, or an
/// empty one.
pub const STAMP: &str = ".casebook-output";

/// What the stamp says to whoever opens it.
const STAMP_TEXT: &str = "casebook made this folder and replaces it whole on every build.\nFiles put here by hand are deleted by the next build.\n";

/// Writes the stamp into a folder casebook is filling.
pub fn stamp(dir: &Path) -> Result<(), Error> {
    let path = dir.join(STAMP);
    std::fs::write(&path, STAMP_TEXT).map_err(io_err(&path))
}

/// Whether `dir` is a folder casebook made (it holds the stamp).
pub fn is_stamped(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(STAMP)).is_ok_and(|m| m.is_file())
}

/// Refuses an existing output that a build must not replace: a file, a
/// symbolic link, a read-only folder, or a folder with things in it that
/// casebook did not make. A folder that does not exist yet, an empty one
/// and an earlier build's are fine.
fn check_replaceable(out: &Path) -> Result<(), Diagnostic> {
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    let refuse = |why: String, hint: &str| {
        Err(Diagnostic::error(
            "--output",
            format!("refusing to write the site into {}: {why}", out.display()),
        )
        .with_hint(hint.to_string()))
    };
    if meta.file_type().is_symlink() {
        let to = std::fs::read_link(out).map_or_else(|_| "?".into(), |t| t.display().to_string());
        return refuse(
            format!(
                "it is a symbolic link (to {to}), and a build replaces its output folder whole"
            ),
            "give --output the folder itself, or a new folder",
        );
    }
    if !meta.is_dir() {
        return refuse(
            "it is a file, not a folder".into(),
            "choose a new folder, such as `public`",
        );
    }
    if meta.permissions().readonly() {
        return refuse(
            "it is read-only, so casebook will not replace it".into(),
            "make it writable (chmod u+w) if it is casebook's, or choose another folder",
        );
    }
    let empty = std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none());
    if empty || is_stamped(out) {
        return Ok(());
    }
    refuse(
        format!(
            "it already holds files, and casebook did not make it (it has no {STAMP} file): a build replaces its output folder whole, which would delete them"
        ),
        "choose a new or empty folder; if this one holds an earlier build, delete it yourself and build again",
    )
}

/// Resolves `.` and `..` without touching the disk (the folder may not exist).
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Renders `jobs` and copies static files into a staging folder, then swaps
/// it in as `out`.
pub fn write_site(
    site: &Site,
    renderer: &Renderer,
    theme: &Theme,
    jobs: &[Job],
    out: &Path,
) -> Result<Written, Error> {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "public".into());
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    remove_stale_staging(&parent, &name);
    let staging = parent.join(format!(".{name}.casebook-new-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(io_err(&staging))?;

    let result = stamp(&staging).and_then(|()| fill(site, renderer, theme, jobs, &staging));
    let written = match result {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            // The staging folder is ours alone: say where the file was to go.
            return Err(match e {
                Error::Io { path, source } => Error::Io {
                    path: path
                        .strip_prefix(&staging)
                        .map_or(path.clone(), |rel| out.join(rel)),
                    source,
                },
                other => other,
            });
        }
    };

    // Swap: the old output moves aside, the new one takes its name.
    let old = parent.join(format!(".{name}.casebook-old-{}", std::process::id()));
    let had_old = std::fs::symlink_metadata(out).is_ok();
    if had_old {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
        }
        std::fs::rename(out, &old).map_err(io_err(out))?;
    }
    if let Err(e) = std::fs::rename(&staging, out) {
        if had_old {
            let _ = std::fs::rename(&old, out);
        }
        let _ = std::fs::remove_dir_all(&staging);
        return Err(io_err(out)(e));
    }
    if had_old {
        // The old output is gone from view; failing to delete it is not a
        // failed build.
        let meta = std::fs::symlink_metadata(&old);
        let _ = match meta {
            Ok(m) if m.is_dir() => remove_tree(&old),
            _ => std::fs::remove_file(&old),
        };
    }
    Ok(written)
}

/// Whether the process `pid` may still be running. Where that cannot be
/// told, it may.
pub(crate) fn may_be_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Removes the staging and set-aside folders that builds of `name` killed
/// part-way (`kill -9`, a power cut) left in `parent`: only folders with
/// casebook's own names and stamp, whose build is no longer running.
fn remove_stale_staging(parent: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let pid = [".casebook-new-", ".casebook-old-"]
            .iter()
            .find_map(|kind| {
                file_name
                    .strip_prefix('.')?
                    .strip_prefix(name)?
                    .strip_prefix(kind)?
                    .parse::<u32>()
                    .ok()
            });
        let Some(pid) = pid else { continue };
        let path = entry.path();
        let ours = entry.file_type().is_ok_and(|t| t.is_dir()) && is_stamped(&path);
        if ours && pid != std::process::id() && !may_be_running(pid) {
            let _ = remove_tree(&path);
        }
    }
}

/// Deletes an output folder casebook made (one with its stamp), whole;
/// anything else is left alone.
pub fn remove_output(dir: &Path) -> std::io::Result<()> {
    if !is_stamped(dir) {
        return Err(std::io::Error::other(format!(
            "{} has no {STAMP}: not casebook's to delete",
            dir.display()
        )));
    }
    remove_tree(dir)
}

/// Deletes the folder `dir` and everything in it, on every core: a
/// 10,000-page site's old output is 13,000 files, and deleting them one
/// after another made a build over an earlier one take a third longer.
/// Like `remove_dir_all`, it removes symbolic links and never follows them.
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    // What is two levels down (`case-studies/x/`, `sector/health/`) is
    // where the many files are; each is removed whole, in parallel.
    let mut inner: Vec<(PathBuf, bool)> = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // A DirEntry's file type is the link's own, never its target's.
        if entry.file_type()?.is_dir() {
            for e in std::fs::read_dir(entry.path())? {
                let e = e?;
                inner.push((e.path(), e.file_type()?.is_dir()));
            }
        }
    }
    inner.par_iter().try_for_each(|(path, is_dir)| {
        if *is_dir {
            std::fs::remove_dir_all(path)
        } else {
            std::fs::remove_file(path)
        }
    })?;
    std::fs::remove_dir_all(dir)
}

const BUFFER_SIZE: usize = 64 * 1024;

thread_local! {
    static BUFFER: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(BUFFER_SIZE));
}

/// How a rendered file reaches the disk.
#[derive(Clone, Copy)]
enum Mode {
    /// Straight into a folder nobody reads yet (the staging folder).
    Fresh,
    /// Over a file someone may be reading: through a temporary file and a
    /// rename, so a reader sees the old page or the new one, never half.
    Replace,
}

fn fill(
    site: &Site,
    renderer: &Renderer,
    theme: &Theme,
    jobs: &[Job],
    dir: &Path,
) -> Result<Written, Error> {
    let (mut written, _) = render_jobs(site, renderer, theme, jobs, dir, Mode::Fresh)?;
    for (rel, src) in &theme.statics {
        let full = dir.join(rel);
        match src {
            StaticSource::Builtin(bytes) => std::fs::write(&full, bytes).map_err(io_err(&full))?,
            StaticSource::File(from) => {
                std::fs::copy(from, &full).map_err(io_err(from))?;
            }
        }
        written.static_files += 1;
    }
    Ok(written)
}

/// Creates, once and parents first, every folder the files go in, but for
/// the folders a job is left to make itself; returns, per job, whether it
/// is. A folder holding one job's file and nothing else (a page's own
/// folder, `case-studies/x/`) is made by that job just before its file is
/// written: on a disk, where a mkdir costs about as much as writing a small
/// file, the thousands of them then run beside the rendering, on every
/// core, instead of on one core before it starts.
fn create_dirs<'a>(
    dir: &Path,
    jobs: &[&'a str],
    statics: impl Iterator<Item = &'a str>,
) -> Result<Vec<bool>, Error> {
    // Per folder: how many job files it holds directly, and whether it must
    // be made here anyway (it holds folders or a static file).
    let mut dirs: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    fn ancestors<'a>(dirs: &mut BTreeMap<&'a str, (usize, bool)>, mut rest: &'a str) {
        while let Some((parent, _)) = rest.rsplit_once('/') {
            let entry = dirs.entry(parent).or_default();
            if entry.1 {
                // Its own parents were marked when it was.
                break;
            }
            entry.1 = true;
            rest = parent;
        }
    }
    for p in jobs {
        if let Some((parent, _)) = p.rsplit_once('/') {
            dirs.entry(parent).or_default().0 += 1;
            ancestors(&mut dirs, parent);
        }
    }
    for p in statics {
        ancestors(&mut dirs, p);
    }
    let left = |&(files, keep): &(usize, bool)| files == 1 && !keep;
    for (d, _) in dirs.iter().filter(|(_, e)| !left(e)) {
        let full = dir.join(d);
        std::fs::create_dir_all(&full).map_err(io_err(&full))?;
    }
    Ok(jobs
        .iter()
        .map(|p| {
            p.rsplit_once('/')
                .is_some_and(|(parent, _)| left(&dirs[parent]))
        })
        .collect())
}

/// Makes the folder `file` goes in, which only its job writes to (see
/// `create_dirs`). When replacing a page it is usually there already.
fn make_own_dir(file: &Path) -> Result<(), Error> {
    let Some(parent) = file.parent() else {
        return Ok(());
    };
    match std::fs::create_dir(parent) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(io_err(parent)(e)),
        _ => Ok(()),
    }
}

/// Where a file is written before it is renamed over `path`.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.casebook-tmp-{}", std::process::id()))
}

/// A page's bytes gather in the thread's buffer and reach the disk in one
/// write when it is done. A file that outgrows [`SPILL`] (the open-data
/// files, the search index, a list of every case study) is written out as
/// it is made instead, so that it never sits in memory whole; a piece as
/// big as [`SPILL`] (a page body of tens of MB) goes straight to the file,
/// so the buffer never grows past twice that.
struct Spill<'a> {
    buf: &'a mut Vec<u8>,
    path: &'a Path,
    file: Option<std::fs::File>,
    written: u64,
    /// The first write that failed: it, not whatever the renderer made of
    /// it, is what the build reports.
    error: Option<std::io::Error>,
}

const SPILL: usize = 1024 * 1024;

impl Spill<'_> {
    fn spill(&mut self) -> std::io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(std::fs::File::create(self.path)?),
        };
        file.write_all(self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left; returns the file's size.
    fn finish(mut self) -> std::io::Result<u64> {
        if self.file.is_none() {
            std::fs::write(self.path, &*self.buf)?;
            return Ok(self.buf.len() as u64);
        }
        self.spill()?;
        Ok(self.written)
    }

    /// Called millions of times a build with a few bytes each: kept small
    /// enough to inline, with the rare spill out of line.
    #[inline]
    fn push(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.len() >= SPILL {
            return self.pass_through(bytes);
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= SPILL {
            return self.spill_now();
        }
        Ok(())
    }

    #[cold]
    #[inline(never)]
    fn spill_now(&mut self) -> std::io::Result<()> {
        let r = self.spill();
        self.keep_error(r)
    }

    /// A piece bigger than the buffer (a data file the preview server
    /// keeps whole) goes to the file as it is, not through the buffer.
    #[cold]
    #[inline(never)]
    fn pass_through(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let r = self.spill().and_then(|()| {
            let file = self.file.as_mut().expect("spill opened the file");
            file.write_all(bytes)?;
            self.written += bytes.len() as u64;
            Ok(())
        });
        self.keep_error(r)
    }

    fn keep_error(&mut self, r: std::io::Result<()>) -> std::io::Result<()> {
        r.map_err(|e| {
            let shown = std::io::Error::new(e.kind(), e.to_string());
            self.error.get_or_insert(e);
            shown
        })
    }
}

impl Write for Spill<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.push(bytes).map(|()| bytes.len())
    }

    /// Templates write a page in many small pieces (every escaped
    /// character is one): taking each whole spares the retry loop of the
    /// default `write_all`.
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.push(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders jobs in parallel, each straight into its file under `dir`.
fn render_jobs(
    site: &Site,
    renderer: &Renderer,
    theme: &Theme,
    jobs: &[Job],
    dir: &Path,
    mode: Mode,
) -> Result<(Written, Vec<std::fs::File>), Error> {
    let paths: Vec<String> = jobs.iter().map(|j| j.output_path(site)).collect();
    let own_dir = create_dirs(
        dir,
        &paths.iter().map(String::as_str).collect::<Vec<_>>(),
        theme.statics.keys().map(String::as_str),
    )?;
    let results: Vec<Result<(u64, Option<std::fs::File>), Error>> = jobs
        .par_iter()
        .zip(paths.par_iter().zip(own_dir.par_iter()))
        .map(|(job, (path, &own_dir))| {
            BUFFER.with(|b| {
                let mut buf = b.borrow_mut();
                buf.clear();
                let full = dir.join(path);
                if own_dir {
                    make_own_dir(&full)?;
                }
                let target = match mode {
                    Mode::Fresh => full.clone(),
                    Mode::Replace => temporary_beside(&full),
                };
                let mut out = Spill {
                    buf: &mut buf,
                    path: &target,
                    file: None,
                    written: 0,
                    error: None,
                };
                let rendered = renderer.render(job, theme, &mut out);
                let done = match (rendered, out.error.take()) {
                    (_, Some(e)) | (Err(RenderError::Io(e)), None) => Err(io_err(&full)(e)),
                    (Err(RenderError::Template(d)), None) => Err(Error::Diagnostics(vec![d])),
                    (Ok(()), None) => out.finish().map_err(io_err(&full)),
                };
                let done = match (done, mode) {
                    (Ok(n), Mode::Replace) => {
                        // See `release`. Elsewhere than Unix an open file
                        // may not be renamed over.
                        let replaced = if cfg!(unix) {
                            std::fs::File::open(&full).ok()
                        } else {
                            None
                        };
                        std::fs::rename(&target, &full)
                            .map(|()| (n, replaced))
                            .map_err(io_err(&full))
                    }
                    (done, _) => done.map(|n| (n, None)),
                };
                if done.is_err() && matches!(mode, Mode::Replace) {
                    let _ = std::fs::remove_file(&target);
                }
                // A page written whole may have been huge (a 50 MB body):
                // the thread's buffer does not keep that much for the rest
                // of the build.
                if buf.capacity() > 2 * SPILL {
                    buf.clear();
                    buf.shrink_to(BUFFER_SIZE);
                }
                done
            })
        })
        .collect();
    let mut written = Written::default();
    let mut retired = Vec::new();
    let mut diags = Vec::new();
    for (job, r) in jobs.iter().zip(results) {
        match r {
            Ok((n, replaced)) => {
                written.bytes += n;
                retired.extend(replaced);
                *written.by_kind.entry(job.kind(site)).or_default() += 1;
            }
            Err(Error::Diagnostics(d)) => {
                // One broken template fails every page that uses it; say it once.
                for d in d {
                    if !diags.contains(&d) {
                        diags.push(d);
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    if !diags.is_empty() {
        return Err(Error::Diagnostics(diags));
    }
    Ok((written, retired))
}

/// Replaces `path` with `bytes` so that anyone reading it sees either the
/// old content or the new, never a mix: write beside it, then rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary_beside(path);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Renders `jobs` into an existing output folder, replacing each file
/// atomically (the preview server keeps serving while this runs).
pub fn write_in_place(
    site: &Site,
    renderer: &Renderer,
    theme: &Theme,
    jobs: &[Job],
    out: &Path,
) -> Result<Written, Error> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    if !is_stamped(out) {
        stamp(out)?;
    }
    let (written, replaced) = render_jobs(site, renderer, theme, jobs, out, Mode::Replace)?;
    release(replaced);
    Ok(written)
}

/// Lets go of the files a rebuild replaced, on a thread of its own.
///
/// Each one was opened just before the new file was renamed over it, so
/// the rename only unlinks it; the file system frees its blocks when the
/// last handle closes. That work is proportional to the old file's size
/// (a list of 10,000 cards is 5 MB, and a disk mounted with `discard`
/// trims every block as it is freed), and nobody is waiting for it: the
/// new files are already in place and the browser can reload. If no thread
/// can be started, the handles close here, which is only slower.
fn release(replaced: Vec<std::fs::File>) {
    if replaced.is_empty() {
        return;
    }
    let _ = std::thread::Builder::new()
        .name("casebook-release".into())
        .spawn(move || drop(replaced));
}

/// Copies the theme's and the site's static files into `out`, skipping any
/// whose bytes are already there. Returns how many were copied.
pub fn sync_statics(theme: &Theme, out: &Path) -> Result<usize, Error> {
    create_dirs(out, &[], theme.statics.keys().map(String::as_str))?;
    let mut copied = 0;
    for rel in theme.statics.keys() {
        let full = out.join(rel);
        let Some(bytes) = theme.static_bytes(rel) else {
            continue;
        };
        if std::fs::read(&full).is_ok_and(|old| old == *bytes) {
            continue;
        }
        write_atomic(&full, &bytes).map_err(io_err(&full))?;
        copied += 1;
    }
    Ok(copied)
}

/// Empties an output folder of casebook's (it keeps its stamp), so that a
/// build written into it starts from nothing: the preview server's first
/// build, and the first after a failed write, when what is on disk is
/// unknown. Writing over the old files instead would hold both copies at
/// once, more than a disk that just filled up may have room for.
pub fn clear(out: &Path) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry.map_err(io_err(out))?;
        if entry.file_name() == STAMP {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().map_err(io_err(&path))?.is_dir();
        if is_dir {
            remove_tree(&path)
        } else {
            std::fs::remove_file(&path)
        }
        .map_err(io_err(&path))?;
    }
    Ok(())
}

/// Deletes every file under `out` whose path (relative, with `/`) is not in
/// `keep`, then any folders left empty. Symbolic links are removed, never
/// followed, so nothing outside `out` is touched.
pub fn remove_stale(out: &Path, keep: &std::collections::HashSet<String>) -> Result<usize, Error> {
    if !out.is_dir() {
        return Ok(0);
    }
    let mut removed = 0;
    let mut dirs = Vec::new();
    for entry in walkdir::WalkDir::new(out).follow_links(false).min_depth(1) {
        let entry = entry.map_err(|e| Error::Io {
            path: e.path().unwrap_or(out).to_path_buf(),
            source: e
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("walk failed")),
        })?;
        let Ok(rel) = entry.path().strip_prefix(out) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if entry.file_type().is_dir() {
            dirs.push(entry.path().to_path_buf());
        } else if !keep.contains(&rel) && rel != STAMP {
            std::fs::remove_file(entry.path()).map_err(io_err(entry.path()))?;
            removed += 1;
        }
    }
    // Deepest first, so parents empty out after their children.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for d in dirs {
        let _ = std::fs::remove_dir(&d);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_dangerous_outputs() {
        let root = Path::new("/tmp/site");
        assert!(check_output_dir(root, Path::new("/tmp/site/public")).is_ok());
        assert!(check_output_dir(root, Path::new("/tmp/out")).is_ok());
        assert!(check_output_dir(root, Path::new("/tmp/site")).is_err());
        assert!(check_output_dir(root, Path::new("/tmp/site/public/..")).is_err());
        assert!(check_output_dir(root, Path::new("/tmp")).is_err());
        assert!(check_output_dir(root, Path::new("/")).is_err());
        assert!(check_output_dir(root, Path::new("/tmp/site/content")).is_err());
        assert!(check_output_dir(root, Path::new("/tmp/site/content/x")).is_err());
        assert!(check_output_dir(root, Path::new("/tmp/site/themes")).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn an_old_output_is_deleted_whole_but_never_through_a_link() {
        let base = std::env::temp_dir().join(format!("casebook-remove-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (old, outside) = (base.join("old"), base.join("outside"));
        std::fs::create_dir_all(outside.join("keep")).unwrap();
        std::fs::write(outside.join("keep/precious.txt"), "x").unwrap();
        for dir in [
            "case-studies/a",
            "case-studies/b/page/2",
            "sector/health",
            "css",
        ] {
            std::fs::create_dir_all(old.join(dir)).unwrap();
        }
        for file in [
            "index.html",
            "case-studies/index.html",
            "case-studies/a/index.html",
            "case-studies/b/page/2/index.html",
            "sector/health/atom.xml",
            "css/site.css",
        ] {
            std::fs::write(old.join(file), "x").unwrap();
        }
        // Links to a folder outside, one and two levels down.
        std::os::unix::fs::symlink(&outside, old.join("linked")).unwrap();
        std::os::unix::fs::symlink(&outside, old.join("case-studies/linked")).unwrap();
        std::os::unix::fs::symlink(outside.join("keep"), old.join("sector/health/keep")).unwrap();
        remove_tree(&old).unwrap();
        assert!(!old.exists());
        assert_eq!(
            std::fs::read_to_string(outside.join("keep/precious.txt")).unwrap(),
            "x"
        );
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn only_a_folder_with_one_page_and_nothing_else_is_left_to_its_page() {
        let out = std::env::temp_dir().join(format!("casebook-dirs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir(&out).unwrap();
        let jobs = [
            "index.html",
            "case-studies/index.html",
            "case-studies/a/index.html",
            "sector/health/index.html",
            "sector/health/atom.xml",
            "sector/health/page/2/index.html",
            "old/alias/index.html",
            "css/print/x.html",
        ];
        let own = create_dirs(
            &out,
            &jobs,
            ["css/print/print.css", "img/logo.png"].into_iter(),
        )
        .unwrap();
        assert_eq!(own, [false, false, true, false, false, true, true, false]);
        let mut made: Vec<String> = walkdir::WalkDir::new(&out)
            .min_depth(1)
            .into_iter()
            .map(|e| {
                e.unwrap()
                    .path()
                    .strip_prefix(&out)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .collect();
        made.sort();
        // Every folder but the three left to their pages, parents first.
        assert_eq!(
            made,
            [
                "case-studies",
                "css",
                "css/print",
                "img",
                "old",
                "sector",
                "sector/health",
                "sector/health/page"
            ]
        );
        for (path, own) in jobs.iter().zip(own) {
            if own {
                make_own_dir(&out.join(path)).unwrap();
                // A page rebuilt in place finds its folder already there.
                make_own_dir(&out.join(path)).unwrap();
            }
            std::fs::write(out.join(path), "x").unwrap();
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}
