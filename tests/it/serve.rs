//! `casebook serve` as a writer uses it: the real binary on a free loopback
//! port, pages fetched over HTTP, the live-reload event stream read from a
//! socket, files edited on disk.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Site;

/// A running `casebook serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
    output: std::path::PathBuf,
    stderr: mpsc::Receiver<String>,
    /// What it printed before its address (the first build's lines).
    printed_first: Vec<String>,
    /// What it printed after its address (an unbounded channel: the
    /// server never blocks on it).
    stdout: Option<mpsc::Receiver<String>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(site: &Site, extra: &[&str]) -> Server {
        let output = site.root().join("preview");
        let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["serve", "--port", "0", "--output"])
            .arg(&output)
            .arg("--root")
            .arg(site.root())
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let (etx, erx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = etx.send(line);
            }
        });
        // From here on the child is owned by `server`, whose Drop stops it
        // even if this function panics.
        let mut server = Server {
            child,
            addr: String::new(),
            output,
            stderr: erx,
            printed_first: Vec::new(),
            stdout: None,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("serve printed its URL");
            if let Some(url) = line.strip_prefix("Serving the site at ") {
                server.addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string();
                server.stdout = Some(rx);
                return server;
            }
            server.printed_first.push(line);
        }
    }

    /// Sends raw request bytes; returns (status, head, body).
    fn raw(&self, request: &str) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }

    fn get(&self, path: &str) -> (u16, String, String) {
        self.raw(&format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        ))
    }

    fn events(&self) -> Events {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.write_all(
            format!(
                "GET /__casebook/events HTTP/1.1\r\nHost: {}\r\n\r\n",
                self.addr
            )
            .as_bytes(),
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        Events::new(s)
    }
}

/// The live-reload event stream, read as a browser's EventSource would: a
/// line ends at CRLF, at a lone CR or at a lone LF (the HTML standard's
/// rules), so a stray CR in the data shows here as it would in a page.
struct Events {
    reader: BufReader<TcpStream>,
    /// The line read so far, kept across read timeouts.
    partial: Vec<u8>,
    /// The last line ended at a CR, so an LF right after it is part of it.
    after_cr: bool,
    /// The event being read: its name, if given, and its data lines.
    name: Option<String>,
    data: Vec<String>,
}

impl Events {
    fn new(stream: TcpStream) -> Events {
        Events {
            reader: BufReader::new(stream),
            partial: Vec::new(),
            after_cr: false,
            name: None,
            data: Vec::new(),
        }
    }

    /// The next line, or `None` at the end of the stream or the deadline.
    fn line(&mut self, deadline: Instant) -> Option<String> {
        while Instant::now() < deadline {
            let buf = match self.reader.fill_buf() {
                Ok([]) => return None,
                Ok(buf) => buf,
                Err(_) => continue,
            };
            let mut used = 0;
            let mut ended = false;
            for &b in buf {
                used += 1;
                if std::mem::take(&mut self.after_cr) && b == b'\n' {
                    continue;
                }
                match b {
                    b'\r' => {
                        self.after_cr = true;
                        ended = true;
                    }
                    b'\n' => ended = true,
                    _ => self.partial.push(b),
                }
                if ended {
                    break;
                }
            }
            self.reader.consume(used);
            if ended {
                let line = String::from_utf8_lossy(&self.partial).into_owned();
                self.partial.clear();
                return Some(line);
            }
        }
        None
    }

    /// The next event as (name, data), waiting up to `timeout`.
    fn next(&mut self, timeout: Duration) -> Option<(String, String)> {
        let deadline = Instant::now() + timeout;
        while let Some(line) = self.line(deadline) {
            if line.is_empty() {
                let name = self.name.take();
                if !self.data.is_empty() {
                    let data = std::mem::take(&mut self.data).join("\n");
                    return Some((name.unwrap_or_else(|| "message".into()), data));
                }
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((&line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.name = Some(value.to_string()),
                "data" => self.data.push(value.to_string()),
                _ => {}
            }
        }
        None
    }

    /// Skips events until one named `want` arrives.
    fn wait_for(&mut self, want: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some((name, data)) =
                self.next(deadline.saturating_duration_since(Instant::now()))
                && name == want
            {
                return Some(data);
            }
        }
        None
    }
}

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn pages_carry_the_reload_script_but_the_files_do_not() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &[]);
    let (status, head, body) = server.get("/case-studies/chatbot/");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_lowercase().contains("content-type: text/html"),
        "{head}"
    );
    assert!(
        head.to_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{head}"
    );
    assert!(body.contains("A mental-health chatbot in Gadchiroli"));
    assert!(
        body.contains("casebook live reload"),
        "the script is injected"
    );
    assert!(body.contains("/__casebook/events"));
    // What is on disk is what `casebook build` writes: no script.
    let on_disk =
        std::fs::read_to_string(server.output.join("case-studies/chatbot/index.html")).unwrap();
    assert!(!on_disk.contains("casebook live reload"));
    // Links use the local server's address, so the preview works as served.
    assert!(body.contains("href=\"/reports/year-2024/\""));
    // A folder without its trailing slash redirects.
    let (status, head, _) = server.get("/case-studies/chatbot");
    assert_eq!(status, 301);
    assert!(head.contains("Location: /case-studies/chatbot/"), "{head}");
    // Unknown pages get the site's 404 page, with the status.
    let (status, _, body) = server.get("/no/such/page/");
    assert_eq!(status, 404);
    assert!(body.contains("Page not found"));
}

#[test]
fn an_edit_reloads_open_pages_with_the_new_text() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &[]);
    let mut events = server.events();
    let first = events
        .wait_for("build", WAIT)
        .expect("the stream starts with the current build");
    // A second open page gets the same current build.
    let mut events2 = server.events();
    assert_eq!(
        events2.wait_for("build", WAIT).as_deref(),
        Some(first.as_str())
    );

    let path = site.root().join("content/case-studies/chatbot.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace(
            "Answers arrive in minutes.",
            "Answers arrive before the kettle boils.",
        ),
    )
    .unwrap();

    let second = events
        .wait_for("build", WAIT)
        .expect("a build event after the edit");
    assert_ne!(first, second, "a new build id tells the page to reload");
    assert_eq!(
        events2.wait_for("build", WAIT).as_deref(),
        Some(second.as_str()),
        "every tab hears it"
    );
    // The event is sent only once the new files are in place.
    let (_, _, body) = server.get("/case-studies/chatbot/");
    assert!(
        body.contains("Answers arrive before the kettle boils."),
        "{body}"
    );
}

#[test]
fn a_broken_save_shows_the_error_and_keeps_the_last_good_page() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &[]);
    let mut events = server.events();
    events.wait_for("build", WAIT).unwrap();
    let path = site.root().join("content/case-studies/chatbot.md");
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        good.replace(
            "title: A mental-health chatbot in Gadchiroli",
            "title: [unclosed",
        ),
    )
    .unwrap();

    let error = events.wait_for("failed", WAIT).expect("a failed event");
    assert!(
        error.contains("content/case-studies/chatbot.md:2"),
        "{error}"
    );
    assert!(error.contains("not valid YAML"), "{error}");
    let (status, _, body) = server.get("/case-studies/chatbot/");
    assert_eq!(status, 200);
    assert!(
        body.contains("A mental-health chatbot in Gadchiroli"),
        "the last good page is still served"
    );
    // The terminal says the same.
    let deadline = Instant::now() + WAIT;
    let mut terminal = String::new();
    while Instant::now() < deadline
        && !terminal.contains("the last good version is still being served")
    {
        if let Ok(l) = server.stderr.recv_timeout(Duration::from_millis(200)) {
            terminal.push_str(&l);
            terminal.push('\n');
        }
    }
    assert!(
        terminal.contains("content/case-studies/chatbot.md:2"),
        "{terminal}"
    );

    // A page opened while the error stands is told about it at once.
    let mut late = server.events();
    late.wait_for("build", WAIT).unwrap();
    assert!(
        late.wait_for("failed", WAIT)
            .unwrap()
            .contains("not valid YAML")
    );

    std::fs::write(
        &path,
        good.replace("Answers arrive in minutes.", "Fixed and rebuilt."),
    )
    .unwrap();
    events
        .wait_for("build", WAIT)
        .expect("a good save clears the error");
    let (_, _, body) = server.get("/case-studies/chatbot/");
    assert!(body.contains("Fixed and rebuilt."));
}

#[test]
fn requests_never_leave_the_output_folder() {
    let site = Site::from_fixture("basic");
    // A secret beside the output folder, which a traversal would reach.
    site.write("secret.txt", "TOP SECRET");
    let server = Server::start(&site, &[]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        site.root().join("secret.txt"),
        server.output.join("link.txt"),
    )
    .unwrap();
    let host = &server.addr;
    for target in [
        "/../secret.txt",
        "/../../../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/%2E%2E/etc/passwd",
        "/..%2fsecret.txt",
        "/case-studies/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/%c0%ae%c0%ae/secret.txt",
        "//etc/passwd",
        "/link.txt",
        "/secret.txt%00.html",
    ] {
        let (status, _, body) = server.raw(&format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        ));
        assert!(status == 404 || status == 400, "{target} -> {status}");
        assert!(
            !body.contains("TOP SECRET") && !body.contains("root:x:0"),
            "{target} leaked a file"
        );
    }
    // Absolute-form request targets and methods other than GET/HEAD.
    let (status, _, body) = server.raw(&format!(
        "GET http://{host}/../secret.txt HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    ));
    assert!(status >= 400, "absolute form -> {status}");
    assert!(!body.contains("TOP SECRET"));
    let (status, _, _) = server.raw(&format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 405);
    let (status, _, _) = server.raw(&format!(
        "GET /{} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
        "a".repeat(10_000)
    ));
    assert!(status >= 400, "an over-long URL is refused: {status}");
}

/// The value of header `name` in a response head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn error_text_cannot_forge_live_reload_events() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &[]);
    let mut events = server.events();
    let first = events.wait_for("build", WAIT).unwrap();
    // A report name with a lone CR, a CRLF and a lone LF in it (YAML
    // escapes), which the diagnostic quotes; each is a line end to a
    // browser's EventSource.
    let path = site.root().join("content/case-studies/chatbot.md");
    let good = std::fs::read_to_string(&path).unwrap();
    let hostile = r#"report: "nope\revent: build\rdata: cr\r\nevent: build\r\ndata: crlf\nevent: build\ndata: lf""#;
    std::fs::write(&path, good.replace("report: year-2024", hostile)).unwrap();

    let (name, data) = events.next(WAIT).expect("an event after the broken save");
    assert_eq!(
        name, "failed",
        "the error forged a {name:?} event: {data:?}"
    );
    assert!(data.contains("names no report"), "{data:?}");
    // The message arrived whole, as data: the diagnostic shows the line
    // ends as escapes, and the event stream splits whatever line ends
    // reach it into data lines (a unit test in src/serve/http.rs).
    assert!(
        data.contains(
            "nope\\u{d}event: build\\u{d}data: cr\\u{d}\\u{a}event: build\\u{d}\\u{a}data: crlf\\u{a}event: build\\u{a}data: lf"
        ),
        "{data:?}"
    );
    // Nothing else came of it: the next event is the fix's build.
    std::fs::write(&path, &good).unwrap();
    let (name, data) = events.next(WAIT).expect("an event after the fix");
    assert_eq!(name, "build", "{data:?}");
    assert_ne!(data, first);
}

#[test]
fn only_its_own_host_is_answered() {
    let site = Site::from_fixture("basic");
    // Drafts are what a DNS-rebinding page would be after.
    let server = Server::start(&site, &["--drafts"]);
    let port: u16 = server.addr.rsplit(':').next().unwrap().parse().unwrap();
    let ask = |host_lines: &str, path: &str| {
        server.raw(&format!(
            "GET {path} HTTP/1.1\r\n{host_lines}Connection: close\r\n\r\n"
        ))
    };
    // The names a browser on this machine (or, by IP, on the network) uses.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        format!("192.0.2.7:{port}"),
    ] {
        let (status, head, body) = ask(&format!("Host: {host}\r\n"), "/case-studies/chatbot/");
        assert_eq!(status, 200, "Host: {host}\n{head}");
        assert!(body.contains("A mental-health chatbot in Gadchiroli"));
    }
    // Any other name, even one that resolves to 127.0.0.1, or another port.
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localtest.me:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("localhost.:{port}"),
        format!("sub.localhost:{port}"),
        format!("localhost:{}", port.wrapping_add(1)),
        "localhost".to_string(),
        format!("127.0.0.1:0{port}"),
        format!("[::1]:{port}x"),
        format!("::1:{port}"),
        format!("user@localhost:{port}"),
        format!("localhost:{port}/x"),
        format!("0x7f.1:{port}"),
        String::new(),
    ] {
        for path in ["/case-studies/chatbot/", "/__casebook/events"] {
            let (status, head, body) = ask(&format!("Host: {host}\r\n"), path);
            assert_eq!(status, 421, "Host: {host:?} {path}\n{head}");
            assert!(
                !body.contains("chatbot") && !body.contains("event:"),
                "{body}"
            );
        }
    }
    // No Host, or two of them: malformed (RFC 9112, 3.2).
    for lines in [
        String::new(),
        format!("Host: localhost:{port}\r\nHost: evil.example\r\n"),
    ] {
        let (status, head, _) = ask(&lines, "/");
        assert_eq!(status, 400, "{lines:?}\n{head}");
    }
}

#[test]
fn folder_redirects_stay_on_the_site() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &[]);
    // A folder named like a host: `//evil.example` must not redirect to
    // `//evil.example/`, which a browser reads as another site.
    std::fs::create_dir_all(server.output.join("evil.example")).unwrap();
    std::fs::write(server.output.join("evil.example/index.html"), "<p>x</p>").unwrap();
    for (target, want) in [
        ("/case-studies", "/case-studies/"),
        ("//evil.example", "/evil.example/"),
        ("//case-studies", "/case-studies/"),
        ("///case-studies//chatbot", "/case-studies/chatbot/"),
        ("/case-studies?a=//b", "/case-studies/?a=//b"),
    ] {
        let (status, head, _) = server.get(target);
        assert_eq!(status, 301, "{target}\n{head}");
        assert_eq!(header(&head, "location"), Some(want), "{target}\n{head}");
    }
}

#[test]
fn binding_beyond_loopback_warns() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &["--bind", "0.0.0.0"]);
    let warning = server.stderr.recv_timeout(WAIT).unwrap();
    assert!(warning.contains("not on loopback"), "{warning}");
}

#[test]
fn new_case_study_is_ready_to_fill_in_and_builds() {
    let site = Site::from_fixture("basic");
    let out = site.run(&[
        "new",
        "case-study",
        "SEARCH mental-health chatbot",
        "--ngo",
        "SEARCH",
        "--sector",
        "Health, Mental Health",
        "--program",
        "Fractional CxO",
        "--country",
        "India",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let printed = common::stdout(&out);
    assert!(
        printed.contains("content/case-studies/search-mental-health-chatbot.md"),
        "{printed}"
    );
    let text = std::fs::read_to_string(
        site.root()
            .join("content/case-studies/search-mental-health-chatbot.md"),
    )
    .unwrap();
    for needle in [
        "title: \"SEARCH mental-health chatbot\"",
        "ngo: \"SEARCH\"",
        "sector: [\"Health\", \"Mental Health\"]",
        "program: \"Fractional CxO\"",
        "country: \"India\"",
        "summary: \"\"",
        "report: \"\"",
        "draft: true",
        "optional: one of year-2024",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    // Today in UTC, as `casebook new` writes it.
    let today = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .unwrap();
    let today = String::from_utf8(today.stdout).unwrap().trim().to_string();
    assert!(text.contains(&format!("date: {today}")), "{text}");
    // Every line is commented for the writer.
    assert!(
        text.lines()
            .filter(|l| l.contains(": "))
            .all(|l| l.contains('#') || l.starts_with("title")),
        "{text}"
    );
    // It is a draft, so the site still builds without it...
    site.build(&[]);
    assert!(!site.exists("case-studies/search-mental-health-chatbot/index.html"));
    // ...and once filled in and published, it builds with it.
    let filled = text
        .replace("summary: \"\"", "summary: \"A chatbot.\"")
        .replace("draft: true", "draft: false");
    site.write(
        "content/case-studies/search-mental-health-chatbot.md",
        &filled,
    );
    site.build(&[]);
    let html = site.read("case-studies/search-mental-health-chatbot/index.html");
    assert!(html.contains("<h1>SEARCH mental-health chatbot</h1>"));
    assert!(html.contains("href=\"/sector/mental-health/\""));

    // Never overwrites.
    let again = site.run(&["new", "case-study", "SEARCH mental-health chatbot"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        common::stderr(&again).contains("content/case-studies/search-mental-health-chatbot.md"),
        "{}",
        common::stderr(&again)
    );
    assert!(common::stderr(&again).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(
            site.root()
                .join("content/case-studies/search-mental-health-chatbot.md")
        )
        .unwrap(),
        filled
    );
}

#[test]
fn new_report_parses_and_builds() {
    let site = Site::from_fixture("basic");
    let out = site.run(&[
        "new",
        "report",
        "Fractional CxO: 2025 in review",
        "--program",
        "Fractional CxO",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let rel = "content/reports/fractional-cxo-2025-in-review.md";
    let text = std::fs::read_to_string(site.root().join(rel)).unwrap();
    assert!(
        text.contains("title: \"Fractional CxO: 2025 in review\""),
        "{text}"
    );
    let published = text
        .replace("draft: true", "draft: false")
        .replace("summary: \"\"", "summary: \"x\"");
    site.write(rel, &published);
    site.build(&[]);
    assert!(
        site.read("reports/fractional-cxo-2025-in-review/index.html")
            .contains("Fractional CxO: 2025 in review")
    );
}

#[test]
fn init_makes_a_site_that_builds_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("my-site");
    let out = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("init")
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(
        !target.join("themes").exists(),
        "no theme folder: the built-in theme serves"
    );
    let cs: Vec<_> = std::fs::read_dir(target.join("content/case-studies"))
        .unwrap()
        .collect();
    assert_eq!(cs.len(), 2);
    assert_eq!(
        std::fs::read_dir(target.join("content/reports"))
            .unwrap()
            .count(),
        1
    );
    let site = Site { dir };
    let build = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["build", "--root"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(build.status.success(), "{}", common::stderr(&build));
    assert_eq!(common::stderr(&build), "", "no warnings");
    let report =
        std::fs::read_to_string(target.join("public/reports/year-in-review-2024/index.html"))
            .unwrap();
    assert_eq!(
        common::card_titles(&report).len(),
        2,
        "both case studies are in the report"
    );
    drop(site);

    // A folder with anything in it is refused.
    let busy = tempfile::tempdir().unwrap();
    std::fs::write(busy.path().join("notes.txt"), "mine").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("init")
        .arg(busy.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(common::stderr(&out).contains("not empty"));
    assert_eq!(
        std::fs::read_to_string(busy.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn a_new_story_shows_in_the_preview_marked_draft_and_build_leaves_it_out() {
    let site = Site::from_fixture("basic");
    // Only a title, as a writer starting out would: every other field is
    // empty in the new file.
    let out = site.run(&["new", "case-study", "SHOFCO education data pilot"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let server = Server::start(&site, &[]);
    let (status, _, page) = server.get("/case-studies/shofco-education-data-pilot/");
    assert_eq!(status, 200, "the draft is in the preview");
    assert!(
        page.contains("<h1>SHOFCO education data pilot</h1>"),
        "{page}"
    );
    assert!(
        page.contains(
            "<p class=\"draft-notice\" role=\"note\"><strong class=\"draft-mark\">Draft</strong>"
        ),
        "{page}"
    );
    let (_, _, list) = server.get("/case-studies/");
    let card = list
        .split("<article class=\"card card-case-study card-draft\">")
        .nth(1)
        .expect("the draft's card is marked");
    assert!(
        card.starts_with("\n  <p class=\"draft-mark\">Draft</p>"),
        "{card}"
    );
    assert!(card.contains("SHOFCO education data pilot"), "{card}");
    // Published pages carry no mark.
    let (_, _, chatbot) = server.get("/case-studies/chatbot/");
    assert!(!chatbot.contains("draft-notice"));
    drop(server);

    // What the draft still lacks is a warning, not an error; build leaves
    // it out.
    site.build(&[]);
    assert!(!site.exists("case-studies/shofco-education-data-pilot/index.html"));
    let out = site.run(&["build", "--drafts"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert!(
        err.contains("warning: this draft has no `ngo`, which is required before it is published"),
        "{err}"
    );
    // Published with a field still missing, it is an error again.
    let path = site
        .root()
        .join("content/case-studies/shofco-education-data-pilot.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("draft: true", "draft: false")).unwrap();
    let out = site.run(&["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stderr(&out).contains("error: this case study has no `ngo`, which is required"),
        "{}",
        common::stderr(&out)
    );
}

/// Splits a command line the way a shell would for the simple cases the
/// README uses: words, and "double-quoted" words.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[test]
fn the_readmes_new_command_works_in_the_example_site() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("casebook new case-study "))
        .expect("the README shows `casebook new`");
    let words = shell_words(line);
    let site = common::example_site();
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let out = site.run(&args);
    assert!(out.status.success(), "{line}: {}", common::stderr(&out));
    let created = common::stdout(&out);
    assert!(created.contains("Created "), "{created}");
    let out = site.run(&["build", "--drafts"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
}

/// `casebook serve` with the preview folder it chooses itself, stopped
/// when dropped.
struct Preview {
    child: Child,
    dir: std::path::PathBuf,
    lines: mpsc::Receiver<String>,
    /// What it printed before saying where its preview is.
    said: String,
}

impl Drop for Preview {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_default(site: &Site) -> Preview {
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["serve", "--port", "0", "--root"])
        .arg(site.root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    for pipe in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let mut p = Preview {
        child,
        dir: std::path::PathBuf::new(),
        lines: rx,
        said: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let line = p
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("serve said where its preview is");
        if let Some(rest) = line.strip_prefix("(preview written to ") {
            p.dir = std::path::PathBuf::from(rest.split("; press Ctrl+C").next().unwrap());
            return p;
        }
        p.said.push_str(&line);
        p.said.push('\n');
    }
}

#[test]
fn each_preview_has_a_folder_of_its_own_removed_on_ctrl_c() {
    let site = Site::from_fixture("basic");
    // A preview a killed run left behind.
    let first = serve_default(&site);
    let first_dir = first.dir.clone();
    drop(first);
    assert!(first_dir.join(".casebook-output").exists());

    let mut a = serve_default(&site);
    let b = serve_default(&site);
    assert_ne!(a.dir, b.dir, "two runs share a preview folder");
    assert!(!first_dir.exists(), "the killed run's preview is removed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&a.dir).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the preview is for its user only: {mode:o}"
        );
    }
    // Ctrl+C: the run stops and its folder goes; the other run's stays.
    let status = Command::new("kill")
        .args(["-INT", &a.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while a.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "serve did not stop on Ctrl+C");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!a.dir.exists(), "Ctrl+C leaves {}", a.dir.display());
    assert!(b.dir.join("index.html").exists());
}

#[test]
fn a_failed_first_build_does_not_claim_a_last_good_version() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/chatbot.md",
        "---\ntitle: \"never closed\n---\nBody.\n",
    );
    let mut p = serve_default(&site);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !p.said.contains("nothing has built yet") && Instant::now() < deadline {
        if let Ok(line) = p.lines.recv_timeout(Duration::from_millis(100)) {
            p.said.push_str(&line);
            p.said.push('\n');
        }
    }
    assert!(p.said.contains("nothing has built yet"), "{}", p.said);
    assert!(!p.said.contains("last good version"), "{}", p.said);
}

/// `serve --verify` compares the preview with a clean build after every
/// rebuild and says so.
#[test]
fn verify_compares_each_rebuild_with_a_clean_build() {
    let site = Site::from_fixture("basic");
    let server = Server::start(&site, &["--verify"]);
    let stdout = server.stdout.as_ref().unwrap();
    let wait_verified = || {
        let deadline = Instant::now() + Duration::from_secs(30);
        while let Ok(line) = stdout.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.starts_with("Verified") {
                return Some(line);
            }
        }
        None
    };
    let first = server
        .printed_first
        .iter()
        .find(|l| l.starts_with("Verified"))
        .cloned();
    let path = site.root().join("content/case-studies/chatbot.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("minutes", "seconds")).unwrap();
    let second = wait_verified();
    let said = "Verified: the preview equals a clean build";
    assert_eq!(first.as_deref(), Some(said), "after the first build");
    assert_eq!(second.as_deref(), Some(said), "after the edit");
}

/// A failure is told by its cause: a preview folder that cannot be made is
/// not a port that is taken.
#[test]
fn serve_says_which_failed_the_folder_or_the_port() {
    let site = Site::from_fixture("basic");
    let bad_folder = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args([
            "serve",
            "--output",
            "/proc/casebook-cannot-be-here",
            "--root",
        ])
        .arg(site.root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&bad_folder.stderr);
    assert!(!bad_folder.status.success());
    assert!(said.contains("/proc/casebook-cannot-be-here"), "{said}");
    assert!(!said.contains("listen"), "{said}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let busy = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["serve", "--port", &port, "--root"])
        .arg(site.root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&busy.stderr);
    assert!(!busy.status.success());
    assert!(
        said.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{said}"
    );
    assert!(said.contains("--port 0"), "{said}");
}
