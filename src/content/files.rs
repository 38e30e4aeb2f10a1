//! Which files of a site casebook reads. `content/`, `static/` and a theme's
//! folders are walked here, and only regular files inside the site's own
//! folder come back: a symbolic link is followed to a file or folder inside
//! the site, while one leading outside it (to `/etc/passwd`, a home folder,
//! `/proc`) is an error naming the link and where it leads, so that nothing
//! from elsewhere on the machine is ever published. Pipes, sockets and
//! devices are never opened (reading a pipe would wait for ever).

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;

/// A file found under a walked folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The path below the walked folder, with `/`.
    pub rel: String,
    /// Where to read it: the path walked, inside the site.
    pub path: PathBuf,
}

/// The site's folder as the file system resolves it, to compare real paths
/// with.
pub fn real_root(site_root: &Path) -> PathBuf {
    site_root
        .canonicalize()
        .unwrap_or_else(|_| site_root.to_path_buf())
}

/// Where the link at `path` leads, if it leads outside `root` (a real
/// path). A link that cannot be resolved leads nowhere readable and is left
/// to the caller's own error.
fn outside(path: &Path, root: &Path) -> Option<PathBuf> {
    let real = path.canonicalize().ok()?;
    (!real.starts_with(root)).then_some(real)
}

fn outside_error(shown: &str, target: &Path) -> Diagnostic {
    Diagnostic::error(
        shown,
        format!(
            "this is a symbolic link to {}, outside the site: casebook reads and publishes only files inside the site's folder",
            target.display()
        ),
    )
    .with_hint("copy the file into the site instead of linking to it")
}

/// Checks one path under the site (a file the preview server was told has
/// changed): `Ok` if reading it stays inside `root`, the real site folder.
pub fn check_inside(path: &Path, root: &Path, shown: &str) -> Result<(), Diagnostic> {
    match outside(path, root) {
        Some(target) => Err(outside_error(shown, &target)),
        None => Ok(()),
    }
}

/// Every regular file below `dir`, in sorted order, with problems as
/// diagnostics: links leading outside the site (`root`, its real path),
/// link loops, unreadable folders, names that are not UTF-8, special
/// files. Names starting with `.` are passed over. `shown` is how `dir` is
/// named in messages (`content`, `themes/x/static`).
pub fn walk(dir: &Path, root: &Path, shown: &str) -> (Vec<Found>, Vec<Diagnostic>) {
    let mut found = Vec::new();
    let mut diags = Vec::new();
    let show = |p: &Path| match p.strip_prefix(dir) {
        Ok(rel) if rel.as_os_str().is_empty() => shown.to_string(),
        Ok(rel) => format!("{shown}/{}", rel.to_string_lossy().replace('\\', "/")),
        Err(_) => p.display().to_string(),
    };
    let mut walker = walkdir::WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let at = e.path().map_or_else(|| shown.to_string(), show);
                let msg = if e.loop_ancestor().is_some() {
                    "this folder is a symbolic link to one of its own parents (a loop); it was skipped".to_string()
                } else {
                    format!(
                        "cannot read: {}",
                        e.io_error()
                            .map_or_else(|| e.to_string(), |io| io.to_string())
                    )
                };
                diags.push(Diagnostic::error(at, msg));
                continue;
            }
        };
        if entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.') {
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        // Only links can lead out: a folder or file reached through none is
        // where the walk is, inside the site (the walked folder itself is
        // checked too, as it may be a link).
        if (entry.path_is_symlink() || entry.depth() == 0)
            && let Some(target) = outside(entry.path(), root)
        {
            diags.push(outside_error(&show(entry.path()), &target));
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        if !kind.is_file() {
            diags.push(Diagnostic::warning(
                show(entry.path()),
                "this is not a regular file (a pipe, socket or device); it is not read",
            ));
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(dir) else {
            continue;
        };
        match rel.to_str() {
            Some(r) => found.push(Found {
                rel: r.replace('\\', "/"),
                path: entry.into_path(),
            }),
            None => diags.push(Diagnostic::error(
                show(entry.path()),
                "this file name is not valid UTF-8; rename it",
            )),
        }
    }
    (found, diags)
}
