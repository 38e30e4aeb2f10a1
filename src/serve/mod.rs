//! `casebook serve`: the writer's loop. Build, serve the output over HTTP on
//! loopback, watch the sources, rebuild what changed, and tell open pages to
//! reload — or show the error — once the new files are in place.
//!
//! The output is written to a folder of its own (not `public/`), with the
//! base URL of the local server, so a preview never ends up published.

mod guard;
mod http;
mod rebuild;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};

use crate::diagnostic::Diagnostic;
use crate::{Error, diagnostic};
pub use http::LiveReload;
pub use rebuild::{Changes, Rebuilt, Session};

/// How long the preview waits to build again after a failed write.
const RETRY_AFTER: Duration = Duration::from_secs(2);

/// What `casebook serve` is asked to do.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The site's folder (where site.toml is).
    pub root: PathBuf,
    /// Where the preview is written; `None` for a folder in the system's
    /// temporary directory, named after the site.
    pub output: Option<PathBuf>,
    /// The address to listen on; loopback unless asked otherwise.
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Publish drafts in the preview (the default).
    pub drafts: bool,
    /// After every rebuild, build the site from scratch as well and report
    /// any file where the preview differs ([`Event::Verified`]).
    pub verify: bool,
}

/// What happens while serving, for the CLI to print.
#[derive(Debug)]
pub enum Event {
    /// The server is listening at `url`, writing the preview to `output`.
    Listening {
        /// The preview's address, e.g. `http://127.0.0.1:1111/`.
        url: String,
        /// The folder it is written to.
        output: PathBuf,
    },
    /// A build or rebuild succeeded.
    Built(Rebuilt),
    /// A build or rebuild failed. `serving_last_good`: an earlier build
    /// succeeded and is still served (false when none has yet).
    Failed {
        /// Every problem found.
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
        /// Whether an earlier build is still served.
        serving_last_good: bool,
    },
    /// The file watcher reported a problem.
    WatchError(String),
    /// `verify` is on and a rebuild was compared with a clean build:
    /// the output files that differ (empty when the preview is right), or
    /// why the clean build could not be made.
    Verified(Result<Vec<String>, String>),
}

/// Paths that were created, written, renamed or removed. Reads are events
/// too (and rebuilding reads every changed file), so they must not count.
fn writes(events: Vec<notify_debouncer_full::DebouncedEvent>) -> Vec<PathBuf> {
    use notify::EventKind;
    use notify::event::{MetadataKind, ModifyKind};
    events
        .into_iter()
        .filter(|e| match e.event.kind {
            EventKind::Create(_) | EventKind::Remove(_) => true,
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
            EventKind::Modify(_) => true,
            EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
        })
        .flat_map(|e| e.event.paths)
        .collect()
}

/// The prefix of a site's default preview folders in the temporary
/// directory: one per site, by the hash of its real path.
fn preview_prefix(root: &Path) -> String {
    let abs = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let hash = crate::render::theme::content_hash(abs.to_string_lossy().as_bytes());
    format!("casebook-serve-{}-", &hash[..12])
}

/// The default preview folder of this process: one per `casebook serve`
/// run, so two runs of one site never write into each other's preview.
pub fn default_output(root: &Path) -> PathBuf {
    std::env::temp_dir().join(format!("{}{}", preview_prefix(root), std::process::id()))
}

/// Removes the default preview folders earlier runs of `casebook serve`
/// for this site left behind (killed, or the machine stopped): casebook's
/// own, stamped, of processes no longer running.
fn remove_stale_previews(root: &Path) {
    let prefix = preview_prefix(root);
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        // Stamped, or empty: a run stopped before its first build.
        let empty = std::fs::read_dir(&path).is_ok_and(|mut d| d.next().is_none());
        let ours = entry.file_type().is_ok_and(|t| t.is_dir())
            && (crate::write::is_stamped(&path) || empty);
        if ours && empty && pid != std::process::id() && !crate::write::may_be_running(pid) {
            let _ = std::fs::remove_dir(&path);
            continue;
        }
        if ours && pid != std::process::id() && !crate::write::may_be_running(pid) {
            let _ = crate::write::remove_output(&path);
        }
    }
}

/// Makes this run's default preview folder, new and readable only by the
/// user: drafts are in it, and the temporary directory is shared. A folder
/// already there under its name is not this run's, and is refused.
fn make_private_folder(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The text the error overlay shows: the diagnostics as the terminal prints
/// them, without colour.
pub fn overlay_text(diags: &[Diagnostic]) -> String {
    let mut s: String = diags.iter().map(|d| d.render(false) + "\n").collect();
    s.push_str(&diagnostic::summary(diags));
    s
}

/// Builds, serves and watches until the process is stopped. `report` is
/// called for everything worth telling the user.
pub fn serve(
    opts: ServeOptions,
    report: impl Fn(Event) + Send + Sync + 'static,
) -> Result<(), Error> {
    let addr = SocketAddr::new(opts.bind, opts.port);
    // Every connection is checked and answered on a thread of its own (see
    // guard.rs), once the first build is done.
    let listener =
        std::net::TcpListener::bind(addr).map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    let host = match local.ip() {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let url = format!("http://{host}:{}/", local.port());
    let out = match &opts.output {
        Some(out) => {
            crate::write::check_output_dir(&opts.root, out)
                .map_err(|d| Error::Diagnostics(vec![d]))?;
            std::fs::create_dir_all(out).map_err(|source| Error::Io {
                path: out.clone(),
                source,
            })?;
            out.clone()
        }
        None => {
            remove_stale_previews(&opts.root);
            let out = default_output(&opts.root);
            make_private_folder(&out).map_err(|source| Error::Io {
                path: out.clone(),
                source,
            })?;
            out
        }
    };

    // Watch the sources first, so no save is missed, even one made
    // during the first build. An editor's save is often several writes; the
    // debouncer turns a burst into one batch.
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(
        Duration::from_millis(20),
        Some(Duration::from_millis(5)),
        tx,
    )
    .map_err(|e| Error::Watch {
        path: opts.root.clone(),
        message: e.to_string(),
    })?;
    let watch = |debouncer: &mut notify_debouncer_full::Debouncer<_, _>, path: &Path, mode| {
        if path.exists() {
            let _ = debouncer.watch(path, mode);
        }
    };
    // The root itself (not recursively: it may hold target/ or node_modules/)
    // for site.toml and for content/, themes/ or static/ appearing.
    watch(&mut debouncer, &opts.root, RecursiveMode::NonRecursive);
    let mut watched: Vec<PathBuf> = Vec::new();
    let watch_dirs = |debouncer: &mut notify_debouncer_full::Debouncer<_, _>,
                      watched: &mut Vec<PathBuf>| {
        for dir in ["content", "themes", "static"] {
            let p = opts.root.join(dir);
            if p.is_dir() && !watched.contains(&p) {
                watch(debouncer, &p, RecursiveMode::Recursive);
                watched.push(p);
            }
        }
    };
    watch_dirs(&mut debouncer, &mut watched);

    let live = Arc::new(LiveReload::new());
    let mut session = Session::new(&opts.root, &out, &url, opts.drafts);
    // After a failed write (a full disk, a folder made read-only), the
    // whole site is built again every few seconds until one succeeds: the
    // preview recovers once the problem is gone, without waiting for a save.
    // The same failure again is not reported again.
    let mut retry = false;
    let mut last_failure: Option<String> = None;
    let mut built_once = false;
    let mut rebuild = |session: &mut Session, changes: &Changes, retry: &mut bool| match session
        .rebuild(changes)
    {
        Ok(r) => {
            *retry = false;
            last_failure = None;
            built_once = true;
            live.built();
            report(Event::Built(r));
            if opts.verify {
                report(Event::Verified(session.verify().map_err(|e| e.to_string())));
            }
        }
        Err(Error::Diagnostics(d)) => {
            *retry = false;
            last_failure = None;
            live.failed(&overlay_text(&d));
            report(Event::Failed {
                diagnostics: d,
                serving_last_good: built_once,
            });
        }
        Err(e) => {
            *retry = true;
            let text = e.to_string();
            if last_failure.as_deref() == Some(text.as_str()) {
                return;
            }
            last_failure = Some(text.clone());
            let d = vec![Diagnostic::error("output", text).with_hint(
                "casebook tries again every few seconds; free some space or fix the folder",
            )];
            live.failed(&overlay_text(&d));
            report(Event::Failed {
                diagnostics: d,
                serving_last_good: built_once,
            });
        }
    };
    rebuild(&mut session, &Changes::all(), &mut retry);

    guard::spawn(listener, out.clone(), Arc::clone(&live));
    report(Event::Listening {
        url: url.clone(),
        output: out.clone(),
    });

    let root = opts
        .root
        .canonicalize()
        .unwrap_or_else(|_| opts.root.clone());
    loop {
        let result = if retry {
            match rx.recv_timeout(RETRY_AFTER) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    rebuild(&mut session, &Changes::all(), &mut retry);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match rx.recv() {
                Ok(r) => r,
                Err(_) => break,
            }
        };
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                for e in errors {
                    report(Event::WatchError(e.to_string()));
                }
                continue;
            }
        };
        // Coalesce whatever else arrived meanwhile into the same rebuild.
        let mut paths: Vec<PathBuf> = writes(events);
        while let Ok(more) = rx.try_recv() {
            if let Ok(events) = more {
                paths.extend(writes(events));
            }
        }
        let paths = paths.into_iter().map(|p| {
            p.strip_prefix(&root)
                .map(|r| opts.root.join(r))
                .unwrap_or(p)
        });
        let changes = Changes::from_paths(&opts.root, paths);
        if changes.is_empty() {
            continue;
        }
        watch_dirs(&mut debouncer, &mut watched);
        let changes = if retry { Changes::all() } else { changes };
        rebuild(&mut session, &changes, &mut retry);
    }
    Ok(())
}
