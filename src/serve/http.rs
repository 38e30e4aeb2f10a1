//! The preview server's answers, written straight to the connection of a
//! request the guard (`guard.rs`) has checked: files from the output folder
//! (and nothing outside it), streamed from disk; a live-reload script added
//! to every HTML page; and a Server-Sent Events stream that tells open
//! pages when to reload or what error to show.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::TcpStream;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use super::guard::{ANSWER_DEADLINE, Method, Request, Timed, WRITE_TIMEOUT};
use crate::content::markdown::percent_decode;

/// The path of the event stream. Not a file name a site can have: content
/// paths are slugs, which never start with an underscore.
pub const EVENTS_PATH: &str = "/__casebook/events";

/// How much of an answer is buffered, to be written at a time.
const CHUNK: usize = 64 * 1024;
/// How often an idle event stream gets a comment: it keeps proxies from
/// closing the stream, and a failed write tells us the page has gone.
const PING: Duration = Duration::from_secs(15);
/// How often an event stream looks whether its page has closed it, so a
/// closed tab's place is free again soon rather than at the next ping.
const TICK: Duration = Duration::from_secs(1);
/// Event streams open at once. Each lasts as long as its page, so they
/// have a cap of their own, well under the guard's cap on connections:
/// streams never crowd out pages.
pub const MAX_STREAMS: usize = 64;

/// Added before `</body>` of every HTML page the preview server sends (never
/// written to disk, so `casebook build` output never contains it).
pub const RELOAD_SCRIPT: &str = r#"<script data-casebook>/* casebook live reload */(function () {
  var build = null, box = null;
  function show(text) {
    if (!box) {
      box = document.createElement("div");
      box.id = "casebook-error";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
        "background:rgba(24,24,27,.96);color:#fafafa;font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "casebook: the last change did not build; this page shows the last good version.\n\n" + text;
  }
  function hide() { if (box) { box.remove(); box = null; } }
  // Swap in the new page's body, which keeps the reader's place and is
  // faster than a reload; reload when anything a swap would not apply
  // changed (stylesheets, scripts), the page runs scripts, or it is gone.
  function assets(d) {
    return Array.prototype.map.call(d.querySelectorAll("link[rel=stylesheet], script[src], body script:not([data-casebook])"),
      function (n) { return n.getAttribute("href") || n.getAttribute("src") || n.textContent; }).join("|");
  }
  function refresh() {
    // A page with scripts of its own (the explorer) needs them run again.
    if (document.querySelector("body script:not([data-casebook])")) { location.reload(); return; }
    fetch(location.href, { cache: "no-store" }).then(function (r) {
      if (!r.ok) { location.reload(); return; }
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (assets(doc) !== assets(document)) { location.reload(); return; }
        box = null;
        document.title = doc.title;
        document.body.replaceWith(document.adoptNode(doc.body));
      });
    }).catch(function () { location.reload(); });
  }
  var es = new EventSource("/__casebook/events");
  es.onopen = function () { document.documentElement.setAttribute("data-casebook-live", "open"); };
  es.addEventListener("build", function (e) {
    var changed = build !== null && e.data !== build;
    build = e.data;
    if (changed) { refresh(); } else { hide(); }
  });
  es.addEventListener("failed", function (e) { show(e.data); });
})();</script>
"#;

/// What the open pages are told: the current good build, and the error of
/// the last rebuild if it failed.
struct State {
    build: String,
    error: Option<String>,
}

/// Fans out build events to every open page.
pub struct LiveReload {
    state: Mutex<State>,
    /// Each open stream's channel, under an id to take it out by when the
    /// stream ends.
    clients: Mutex<Clients>,
    session: String,
    builds: Mutex<u64>,
}

#[derive(Default)]
struct Clients {
    next: u64,
    open: Vec<(u64, Sender<String>)>,
}

/// One open stream's place in [`LiveReload`]'s list, given up when dropped.
struct Subscription<'a> {
    live: &'a LiveReload,
    id: u64,
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        let mut clients = self.live.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.open.retain(|(id, _)| *id != self.id);
    }
}

/// One event, framed. Each line of `data` becomes a `data:` line. To an
/// EventSource a line ends at CRLF, at a lone CR and at a lone LF, so all
/// three are split on here: error text quotes the writer's files, and a CR
/// left inside a `data:` line would start a field of its own (`event:`,
/// `id:`, `retry:`) in the page.
fn sse(event: &str, data: &str) -> String {
    let mut out = format!("event: {event}\n");
    for line in data.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

impl LiveReload {
    /// A live-reload channel with no page connected yet.
    pub fn new() -> LiveReload {
        // Unique per server process, so a page that outlives a restart
        // reloads when it reconnects.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let session = format!("{}-{nanos}", std::process::id());
        LiveReload {
            state: Mutex::new(State {
                build: format!("{session}-0"),
                error: None,
            }),
            clients: Mutex::new(Clients::default()),
            session,
            builds: Mutex::new(0),
        }
    }

    fn broadcast(&self, message: String) {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .open
            .retain(|(_, c)| c.send(message.clone()).is_ok());
    }

    /// A rebuild finished and its files are in place: every page reloads.
    pub fn built(&self) {
        let id = {
            let mut n = self.builds.lock().unwrap_or_else(|e| e.into_inner());
            *n += 1;
            format!("{}-{n}", self.session)
        };
        {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            s.build = id.clone();
            s.error = None;
        }
        self.broadcast(sse("build", &id));
    }

    /// A rebuild failed: pages keep the last good version and show `text`.
    pub fn failed(&self, text: &str) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).error = Some(text.to_string());
        self.broadcast(sse("failed", text));
    }

    /// How many pages are listening.
    pub fn listeners(&self) -> usize {
        self.clients.lock().map(|c| c.open.len()).unwrap_or(0)
    }

    /// Serves the event stream on `stream`: the current state, then every
    /// event, until the page goes away; or 503 if [`MAX_STREAMS`] are open.
    fn stream(&self, stream: &TcpStream) -> io::Result<()> {
        let (tx, rx) = mpsc::channel::<String>();
        // Listening before the state is read: an event in between is then
        // sent twice rather than never, and a page takes a repeat calmly.
        let subscription = {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            (clients.open.len() < MAX_STREAMS).then(|| {
                let id = clients.next;
                clients.next += 1;
                clients.open.push((id, tx));
                Subscription { live: self, id }
            })
        };
        let Some(_subscription) = subscription else {
            let body =
                "503 too many live-reload streams are open; this page will not reload by itself\n";
            let mut w = Timed::new(stream, WRITE_TIMEOUT);
            head(
                &mut w,
                "503 Service Unavailable",
                "text/plain; charset=utf-8",
                body.len() as u64,
                &[],
            )?;
            return w.write_all(body.as_bytes());
        };
        let mut hello = String::from(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 500\n\n",
        );
        {
            let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            hello.push_str(&sse("build", &s.build));
            if let Some(e) = &s.error {
                hello.push_str(&sse("failed", e));
            }
        }
        // Each message must be taken within the write timeout: a page that
        // stopped reading is dropped.
        Timed::new(stream, WRITE_TIMEOUT).write_all(hello.as_bytes())?;
        // Reads only look for the end of the stream; they must not wait.
        stream.set_read_timeout(Some(Duration::from_millis(1)))?;
        let mut sent = Instant::now();
        loop {
            let msg = match rx.recv_timeout(TICK) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) if closed(stream) => return Ok(()),
                Err(RecvTimeoutError::Timeout) if sent.elapsed() >= PING => {
                    ": ping\n\n".to_string()
                }
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            };
            Timed::new(stream, WRITE_TIMEOUT).write_all(msg.as_bytes())?;
            sent = Instant::now();
        }
    }
}

/// Whether the client of an event stream has closed it. A page sends
/// nothing after its request, so anything it does send is read and dropped.
fn closed(mut stream: &TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
        ),
    }
}

impl Default for LiveReload {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a request path points inside `root`, or `None` if it tries to leave
/// it by any spelling: `..`, `%2e%2e`, `%2f`, backslashes, NUL bytes, drive
/// letters or absolute paths. The check is on the decoded segments, and the
/// caller checks the resolved file again after following symbolic links.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    if decoded.contains('\0') || decoded.contains('\\') || !decoded.starts_with('/') {
        return None;
    }
    let mut path = root.to_path_buf();
    for seg in decoded.split('/') {
        if seg.is_empty() {
            continue;
        }
        let mut comps = Path::new(seg).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) if c == seg => path.push(seg),
            _ => return None,
        }
    }
    Some(path)
}

/// Where a request for folder `path` (no trailing slash) is redirected:
/// the path rebuilt from its non-empty segments, so it starts with exactly
/// one `/`. `path` as sent could start with `//`, and `Location:
/// //evil.example/` is another site to a browser. Bytes beyond ASCII
/// (curl sends a path as typed) go back percent-encoded, as a header value
/// should be ASCII; the guard has refused control characters.
fn folder_location(path: &str, query: &str) -> String {
    let mut raw = String::with_capacity(path.len() + query.len() + 1);
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        raw.push('/');
        raw.push_str(segment);
    }
    raw.push('/');
    raw.push_str(query);
    let mut location = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii() {
            location.push(char::from(b));
        } else {
            location.push_str(&format!("%{b:02X}"));
        }
    }
    location
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
        .as_str()
    {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "mp4" => "video/mp4",
        "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Adds the reload script before the last `</body>`, or at the end.
pub fn inject(html: &[u8]) -> Vec<u8> {
    let needle = b"</body>";
    let pos = html
        .windows(needle.len())
        .rposition(|w| w.eq_ignore_ascii_case(needle))
        .unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + RELOAD_SCRIPT.len());
    out.extend_from_slice(&html[..pos]);
    out.extend_from_slice(RELOAD_SCRIPT.as_bytes());
    out.extend_from_slice(&html[pos..]);
    out
}

/// A page for when the site has never built: the overlay shows why.
fn placeholder() -> Vec<u8> {
    inject(b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>casebook</title></head><body><p>The site has not built yet.</p></body></html>")
}

/// Writes an answer's head. Every answer closes its connection after it
/// (see `guard.rs`). `len` is the body's length, which a HEAD answer gives
/// without the body.
fn head(
    w: &mut impl Write,
    status: &str,
    ctype: &str,
    len: u64,
    extra: &[(&str, &str)],
) -> io::Result<()> {
    let mut h = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nContent-Length: {len}\r\nConnection: close\r\n"
    );
    for (k, v) in extra {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    h.push_str("\r\n");
    w.write_all(h.as_bytes())
}

fn respond(
    w: &mut impl Write,
    method: Method,
    status: &str,
    ctype: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> io::Result<()> {
    head(w, status, ctype, body.len() as u64, extra)?;
    if method == Method::Get {
        w.write_all(body)?;
    }
    Ok(())
}

fn not_found(w: &mut impl Write, method: Method, root: &Path) -> io::Result<()> {
    let page = std::fs::read(root.join("404.html")).map(|b| inject(&b)).unwrap_or_else(|_| {
        if root.join("index.html").exists() {
            inject(b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body><p>Not found.</p></body></html>")
        } else {
            placeholder()
        }
    });
    respond(
        w,
        method,
        "404 Not Found",
        "text/html; charset=utf-8",
        &page,
        &[],
    )
}

/// Answers `request` on `stream`: a file of `root`, a redirect, the 404
/// page, or the event stream. An error is the client gone or too slow.
pub fn handle(
    stream: &TcpStream,
    request: &Request,
    root: &Path,
    live: &LiveReload,
) -> io::Result<()> {
    let url = request.target.as_str();
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let method = request.method;
    // The head and the start of the body go out in one write; a client
    // that takes the answer too slowly is cut off.
    let mut w = BufWriter::with_capacity(CHUNK, Timed::new(stream, ANSWER_DEADLINE));
    if path == EVENTS_PATH {
        if method == Method::Head {
            respond(&mut w, method, "200 OK", "text/event-stream", b"", &[])?;
            return w.flush();
        }
        return live.stream(stream);
    }
    let answered = answer(&mut w, method, url, path, root);
    answered.and_then(|()| w.flush())
}

fn answer(
    w: &mut BufWriter<Timed>,
    method: Method,
    url: &str,
    path: &str,
    root: &Path,
) -> io::Result<()> {
    let Some(mut file) = resolve(root, path) else {
        return not_found(w, method, root);
    };
    if file.is_dir() {
        if !path.ends_with('/') {
            let query = url.find('?').map_or("", |i| &url[i..]);
            let location = folder_location(path, query);
            return respond(
                w,
                method,
                "301 Moved Permanently",
                "text/plain; charset=utf-8",
                b"",
                &[("Location", &location)],
            );
        }
        file.push("index.html");
    }
    // Follow symbolic links, then make sure we are still inside the output.
    let inside = match (file.canonicalize(), root.canonicalize()) {
        (Ok(f), Ok(r)) => f.starts_with(&r) && f.is_file(),
        _ => false,
    };
    let opened = if inside { File::open(&file).ok() } else { None };
    let Some(mut f) = opened else {
        return not_found(w, method, root);
    };
    let ctype = content_type(&file);
    if ctype.starts_with("text/html") {
        let mut bytes = Vec::new();
        if f.read_to_end(&mut bytes).is_err() {
            return not_found(w, method, root);
        }
        return respond(w, method, "200 OK", ctype, &inject(&bytes), &[]);
    }
    // Anything else is streamed, never held whole: a site's static files
    // can be videos. The open file stays the version asked for even if a
    // rebuild replaces it meanwhile.
    let len = f.metadata()?.len();
    head(w, "200 OK", ctype, len, &[])?;
    if method == Method::Get {
        io::copy(&mut f.take(len), w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_in_any_spelling_is_refused() {
        let root = Path::new("/srv/out");
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/out")));
        assert_eq!(resolve(root, "/a/b/"), Some(PathBuf::from("/srv/out/a/b")));
        assert_eq!(resolve(root, "/a//b"), Some(PathBuf::from("/srv/out/a/b")));
        assert_eq!(
            resolve(root, "/caf%C3%A9/"),
            Some(PathBuf::from("/srv/out/café"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/a/%2e%2e%2f%2e%2e/etc",
            "/..%2fetc",
            "/..\\..\\etc",
            "/a%5c..%5c..%5cetc",
            "/a%00b",
            "/./a",
            "/%2e/a",
            "//etc/passwd/..",
            "etc/passwd",
            "/%zz",
            "/%c0%ae%c0%ae/",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }

    #[test]
    fn folder_redirects_start_with_one_slash() {
        assert_eq!(folder_location("/a/b", ""), "/a/b/");
        assert_eq!(folder_location("//evil.example", ""), "/evil.example/");
        assert_eq!(folder_location("///a//b", "?x=//y"), "/a/b/?x=//y");
        assert_eq!(folder_location("/café", "?é"), "/caf%C3%A9/?%C3%A9");
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = inject(b"<html><body><p>x</p></BODY></html>");
        let s = String::from_utf8(out).unwrap();
        assert!(s.contains("<p>x</p><script data-casebook>"));
        assert!(s.ends_with("</BODY></html>"));
    }

    #[test]
    fn events_are_framed() {
        assert_eq!(sse("build", "a-1"), "event: build\ndata: a-1\n\n");
        assert_eq!(
            sse("failed", "one\ntwo"),
            "event: failed\ndata: one\ndata: two\n\n"
        );
        assert_eq!(sse("build", ""), "event: build\ndata: \n\n");
    }

    #[test]
    fn no_line_end_in_the_data_can_start_a_field() {
        for data in [
            "x\revent: build\rdata: y",
            "x\r\nevent: build\r\ndata: y",
            "x\nevent: build\ndata: y",
        ] {
            assert_eq!(
                sse("failed", data),
                "event: failed\ndata: x\ndata: event: build\ndata: data: y\n\n",
                "{data:?}"
            );
        }
        // Mixed, and blank lines kept as blank data lines.
        assert_eq!(
            sse("failed", "a\r\rb\n\r\nc\n"),
            "event: failed\ndata: a\ndata: \ndata: b\ndata: \ndata: c\ndata: \n\n"
        );
        // Only `data:` lines and the one `event:` line, nothing else.
        let framed = sse("failed", "\r\n\r\n\n\r");
        assert!(
            framed
                .split('\n')
                .all(|l| l.is_empty() || l == "event: failed" || l.starts_with("data: "))
        );
        assert!(!framed.contains('\r'));
    }
}
