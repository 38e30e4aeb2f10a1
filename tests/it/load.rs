//! The preview server under load: `wrk` hammers one page while the page's
//! source is saved over and over, and every response is checked to be one
//! whole version of the page; and requests too big to be honest are refused
//! without the server holding them or stopping.

use crate::common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Site, tools_available};

/// The case study edited and requested.
const SOURCE: &str = "content/case-studies/search-mental-health-chatbot.md";
const PAGE: &str = "/case-studies/search-mental-health-chatbot/";
/// The two versions of the edited sentences; a whole page has exactly one.
const MARKERS: [&str; 2] = ["load-marker-alpha", "load-marker-bravo"];
/// How long wrk runs.
const SECONDS: u64 = 10;

/// A running `casebook serve`, stopped when dropped. Its terminal output is
/// collected as it comes.
struct Server {
    child: Child,
    addr: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    _output: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(from: impl Read + Send + 'static, into: &Arc<Mutex<Vec<String>>>) {
    let into = Arc::clone(into);
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            into.lock().unwrap().push(line);
        }
    });
}

impl Server {
    fn start(site: &Site) -> Server {
        let output = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["serve", "--root"])
            .arg(site.root())
            .args(["--port", "0", "--output"])
            .arg(output.path())
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), &stdout);
        collect(child.stderr.take().unwrap(), &stderr);
        // From here on the child is owned by `server`, whose Drop stops it
        // even if this function panics.
        let mut server = Server {
            child,
            addr: String::new(),
            stdout,
            stderr,
            _output: output,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let url = server
                .stdout
                .lock()
                .unwrap()
                .iter()
                .find_map(|l| l.strip_prefix("Serving the site at ").map(str::to_string));
            if let Some(url) = url {
                server.addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string();
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "serve printed no URL:\n{}",
                server.stderr.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`; returns (status, body). 0 if there was no answer.
    fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (status_of(head), body.to_string())
    }

    /// "Rebuilt after ..." lines printed so far.
    fn rebuilds(&self) -> usize {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("Rebuilt after "))
            .count()
    }

    fn terminal(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }

    /// The server's resident memory in KiB, where the system says.
    fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }
}

/// The status code of a response head ("HTTP/1.1 200 OK"), or 0.
fn status_of(head: &str) -> u16 {
    if !head.starts_with("HTTP/1.") {
        return 0;
    }
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The case study with both of its edited sentences in version `marker`:
/// one near the start of the page's article and one at its end, so a page
/// stitched from two versions has both markers.
fn version(original: &str, marker: &str) -> String {
    let intro = "In 2024 it turned to technology to make mental health support easier to reach.";
    assert!(original.contains(intro), "the case study changed: {SOURCE}");
    let edited = original.replace(
        intro,
        &format!("{intro}\n\nThe first edited sentence is {marker}."),
    );
    format!(
        "{}\n\nThe last edited sentence is {marker}.\n",
        edited.trim_end()
    )
}

/// Saves `text` the way most editors do: written beside the file under a
/// name the server ignores, then renamed over it in one step.
fn save(path: &Path, text: &str) {
    let tmp = path.with_file_name(".load-test-save.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn wrk_present() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("wrk"))
}

/// The number after `label` on wrk's report ("Requests/sec:   3411.89").
fn number_after(report: &str, label: &str) -> Option<f64> {
    let rest = &report[report.find(label)? + label.len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

/// `NAME=n` from the Lua script's LOADCHECK line.
fn check_count(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// Runs a command to its end, killed if it outlasts `limit`; returns its
/// stdout and stderr.
fn run_bounded(mut cmd: Command, limit: Duration) -> (String, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read_all = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read_all(Box::new(child.stdout.take().unwrap()));
    let err = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

// The server answers one request per connection and says so
// (`Connection: close` on every answer, see src/serve/http.rs), so a
// keep-alive client such as wrk reconnects rather than writing into a
// closed connection.
#[test]
fn wrk_under_edits_sees_no_errors_and_no_torn_pages() {
    if !tools_available(&[("wrk", wrk_present())], "apt-get install wrk") {
        return;
    }
    let site = common::example_site();
    let source = site.root().join(SOURCE);
    let original = std::fs::read_to_string(&source).unwrap();
    let versions = MARKERS.map(|m| version(&original, m));
    save(&source, &versions[0]);
    let server = Server::start(&site);

    let (status, body) = server.get(PAGE);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(MARKERS[0]) && !body.contains(MARKERS[1]));

    // Two connections per core, one wrk thread per core.
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(64);
    let before = server.rebuilds();

    // Save the page's source every ~100 ms, alternating between versions,
    // until wrk is done.
    let stop = Arc::new(AtomicBool::new(false));
    let editor = {
        let stop = Arc::clone(&stop);
        let source = source.clone();
        let versions = versions.clone();
        std::thread::spawn(move || {
            let mut saves = 0usize;
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(100));
                saves += 1;
                save(&source, &versions[saves % 2]);
            }
            saves
        })
    };

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/load/torn.lua");
    let mut wrk = Command::new("wrk");
    wrk.arg(format!("-t{cores}"))
        .arg(format!("-c{}", 2 * cores))
        .arg(format!("-d{SECONDS}s"))
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(server.url(PAGE))
        .arg("--")
        .args(MARKERS);
    let (report, wrk_err) = run_bounded(wrk, Duration::from_secs(SECONDS + 50));
    stop.store(true, Ordering::Release);
    let saves = editor.join().unwrap();
    let rebuilds = server.rebuilds() - before;
    println!("{report}");
    println!("{saves} saves, {rebuilds} rebuilds during the run");

    let context = format!("{report}\n{wrk_err}\n{}", server.terminal());
    let check = report
        .lines()
        .find(|l| l.starts_with("LOADCHECK "))
        .unwrap_or_else(|| panic!("the Lua script printed no counts:\n{context}"));
    // "  19381 requests in 10.02s, 221.35MB read"
    let requests: u64 = report
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let per_second = number_after(&report, "Requests/sec:")
        .unwrap_or_else(|| panic!("no Requests/sec:\n{context}"));
    println!("Requests/sec: {per_second:.0} ({requests} requests in {SECONDS} s)");

    assert!(requests > 0, "{context}");
    assert!(
        !report.contains("Socket errors:"),
        "failed connections, reads, writes or timeouts (a read error for nearly every \
         request means the server closed keep-alive connections without saying \
         `Connection: close`):\n{context}"
    );
    assert!(
        !report.contains("Non-2xx or 3xx responses:"),
        "error statuses:\n{context}"
    );
    assert_eq!(check_count(check, "BAD_STATUS"), 0, "{context}");
    assert_eq!(
        check_count(check, "TORN"),
        0,
        "half-written pages:\n{context}"
    );
    assert_eq!(
        check_count(check, "BOTH"),
        0,
        "pages of two versions:\n{context}"
    );
    assert_eq!(
        check_count(check, "NEITHER"),
        0,
        "pages of no version:\n{context}"
    );
    assert_eq!(
        check_count(check, "CHECKED"),
        requests,
        "every response went through the checks:\n{context}"
    );
    // The load straddled rebuilds: both versions were served, and the
    // server rebuilt many times while it was serving.
    assert!(check_count(check, "OLD") > 0, "{context}");
    assert!(check_count(check, "NEW") > 0, "{context}");
    assert!(rebuilds >= 5, "only {rebuilds} rebuilds:\n{context}");
    assert!(
        !server
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("last good version")),
        "no save failed to build:\n{context}"
    );

    // Once the saves stop, the page settles on the last one.
    let (last, other) = (MARKERS[saves % 2], MARKERS[(saves + 1) % 2]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = server.get(PAGE);
        if status == 200 && body.contains(last) && !body.contains(other) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed the last save ({last}): {status}\n{body}\n{}",
            server.terminal()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What became of an oversized request.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// The server closed (or reset) the connection without an answer.
    Closed,
    /// Nothing happened before the read timeout.
    TimedOut,
}

/// Sends `request` (written on a thread of its own, since the server may
/// stop reading part-way) and reads what comes back; never waits longer
/// than `TIMEOUT` for either.
fn send(addr: &str, request: Vec<u8>) -> (Outcome, Duration) {
    const TIMEOUT: Duration = Duration::from_secs(5);
    let start = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        // The server may close before taking it all: that is allowed.
        let _ = w.write_all(&request);
    });
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let ended = loop {
        match s.read(&mut chunk) {
            Ok(0) => break Ok(()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        }
    };
    let elapsed = start.elapsed();
    let _ = s.shutdown(std::net::Shutdown::Both);
    writer.join().unwrap();
    let text = String::from_utf8_lossy(&buf);
    let outcome = match (status_of(&text), ended) {
        (0, Err(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            Outcome::TimedOut
        }
        (0, _) => Outcome::Closed,
        (code, _) => Outcome::Status(code),
    };
    (outcome, elapsed)
}

#[test]
fn oversized_requests_are_refused_and_the_server_keeps_serving() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site);
    let host = server.addr.clone();
    let (status, _) = server.get("/");
    assert_eq!(status, 200);
    let rss_before = server.rss_kib();

    const MB: usize = 1 << 20;
    let many_headers: String = (0..10_000).map(|i| format!("X-Pad-{i}: y\r\n")).collect();
    let cases: [(&str, String); 3] = [
        (
            "a 1 MB request line",
            format!(
                "GET /{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
                "a".repeat(MB)
            ),
        ),
        (
            "10,000 headers",
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n{many_headers}Connection: close\r\n\r\n"),
        ),
        (
            "a 1 MB header",
            format!(
                "GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
                "b".repeat(MB)
            ),
        ),
    ];
    for (what, request) in cases {
        let (outcome, elapsed) = send(&server.addr, request.into_bytes());
        println!("{what}: {outcome:?} after {} ms", elapsed.as_millis());
        assert!(
            matches!(outcome, Outcome::Closed)
                || matches!(outcome, Outcome::Status(code) if (400..500).contains(&code)),
            "{what} was not refused: {outcome:?}\n{}",
            server.terminal()
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "{what} took {elapsed:?} to refuse"
        );
        // The server is still there for everyone else.
        let (status, body) = server.get("/");
        assert_eq!(status, 200, "after {what}: {body}\n{}", server.terminal());
    }

    // A browser's ordinary request, with a few kilobytes of cookies and a
    // dozen headers, is well inside the limits.
    let cookie = format!("Cookie: session={}\r\n", "c".repeat(4000));
    let usual: String = (0..12)
        .map(|i| format!("Accept-Something-{i}: text/html\r\n"))
        .collect();
    let (outcome, _) = send(
        &server.addr,
        format!("GET / HTTP/1.1\r\nHost: {host}\r\n{cookie}{usual}Connection: close\r\n\r\n")
            .into_bytes(),
    );
    assert_eq!(outcome, Outcome::Status(200));

    // None of it was held in memory.
    if let (Some(before), Some(after)) = (rss_before, server.rss_kib()) {
        println!("server memory: {before} KiB before, {after} KiB after");
        assert!(
            after < before + 32 * 1024,
            "the server grew from {before} KiB to {after} KiB"
        );
    }
}
