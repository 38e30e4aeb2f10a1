//! The preview server's limits, over raw sockets against the real binary:
//! a client that trickles its request, one that never reads its answer, one
//! machine opening connection after connection, a crowd of idle live-reload
//! streams — each on its own, then all at once — and a page must still be
//! answered in full, promptly.

use crate::common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Site;

/// The limits under test, as README.md gives them.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_EVENT_STREAMS: usize = 64;
const MAX_PER_ADDRESS: usize = 64;

/// The size of the file slow readers ask for: far more than the kernel's
/// socket buffers hold, so the server has to wait for the reader.
const BIG: usize = 20 << 20;
const BIG_PATH: &str = "/big.bin";
const PAGE: &str = "/case-studies/chatbot/";
const PAGE_TEXT: &str = "A mental-health chatbot in Gadchiroli";

/// A running `casebook serve`, stopped when dropped.
struct Server {
    child: Child,
    /// Where it listens, as it printed it.
    addr: String,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The `basic` fixture with a 20 MB static file, served on a free port.
    fn start(site: &Site, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["serve", "--port", "0", "--output"])
            .arg(site.root().join("preview"))
            .arg("--root")
            .arg(site.root())
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            addr: String::new(),
            port: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("serve printed its URL");
            if let Some(url) = line.strip_prefix("Serving the site at ") {
                server.addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches('/')
                    .to_string();
                server.port = server.addr.rsplit(':').next().unwrap().parse().unwrap();
                std::thread::spawn(move || while rx.recv().is_ok() {});
                return server;
            }
        }
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect(&self.addr).unwrap()
    }

    fn request(&self, path: &str) -> String {
        format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
    }

    /// A connection that has asked for `path` and will never read.
    fn ask_and_ignore(&self, path: &str) -> TcpStream {
        let mut s = self.connect();
        s.write_all(self.request(path).as_bytes()).unwrap();
        s
    }

    /// GETs `path` and reads the whole answer; returns (status, body) and
    /// the time from connecting to the end of the answer.
    fn get(&self, path: &str) -> ((u16, String), Duration) {
        let start = Instant::now();
        let s = self.connect();
        (answer(s, self.request(path).as_bytes()), start.elapsed())
    }
}

fn site() -> Site {
    let site = Site::from_fixture("basic");
    site.write("static/big.bin", &"x".repeat(BIG));
    site
}

/// Sends `request` on `s` and reads the answer to its end (or for 20 s at
/// most: an event stream has no end): (status, body).
fn answer(mut s: TcpStream, request: &[u8]) -> (u16, String) {
    s.write_all(request).unwrap();
    parse(&read_until_closed(&mut s, Duration::from_secs(20)).0)
}

fn parse(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3)?.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// Reads until the stream ends or `limit` passes; returns the bytes and
/// whether it ended (closed or reset) rather than timed out.
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + limit;
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (buf, false);
        }
        s.set_read_timeout(Some(left)).unwrap();
        match s.read(&mut chunk) {
            Ok(0) => return (buf, true),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (buf, false);
            }
            Err(_) => return (buf, true),
        }
    }
}

/// Opens a live-reload stream and reads until its first event, so the
/// server has surely taken it.
fn event_stream(server: &Server) -> TcpStream {
    let mut s = server.ask_and_ignore("/__casebook/events");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut got = Vec::new();
    let mut b = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains("event: build") {
        let n = s.read(&mut b).expect("the stream's first event");
        assert!(
            n > 0,
            "the stream closed: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&b[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 200 "));
    s
}

/// Clients that send a request head one byte a second, from one thread,
/// until `stop` is set or the server closes them.
fn tricklers(server: &Server, n: usize, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let mut conns: Vec<TcpStream> = (0..n).map(|_| server.connect()).collect();
    // A head that would take minutes to finish at this pace.
    let head = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nX-Pad: {}",
        server.addr,
        "p".repeat(500)
    );
    std::thread::spawn(move || {
        for &byte in head.as_bytes() {
            if stop.load(Ordering::Acquire) || conns.is_empty() {
                return;
            }
            conns.retain_mut(|c| c.write_all(&[byte]).is_ok());
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn a_trickling_client_gets_408_at_the_head_deadline() {
    let site = site();
    let server = Server::start(&site, &[]);
    let start = Instant::now();
    let mut s = server.connect();
    let stop = Arc::new(AtomicBool::new(false));
    // One byte a second never lets a per-read timeout fire; the whole head
    // has a deadline.
    let mut w = s.try_clone().unwrap();
    let head = format!(
        "GET / HTTP/1.1\r\nHost: {}\r\nX-Pad: {}",
        server.addr,
        "p".repeat(500)
    );
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            for &byte in head.as_bytes() {
                if stop.load(Ordering::Acquire) || w.write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let (buf, closed) = read_until_closed(&mut s, HEAD_DEADLINE + Duration::from_secs(10));
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    let waited = start.elapsed();
    assert_eq!(
        parse(&buf).0,
        408,
        "after {waited:?}: {}",
        String::from_utf8_lossy(&buf)
    );
    assert!(closed, "the connection is closed after the 408");
    assert!(
        waited >= HEAD_DEADLINE - Duration::from_secs(1),
        "408 before the deadline: {waited:?}"
    );
}

#[test]
fn a_reader_that_never_reads_is_cut_off_after_the_write_timeout() {
    let site = site();
    let server = Server::start(&site, &[]);
    let mut s = server.ask_and_ignore(BIG_PATH);
    // Let the server fill the socket buffers and wait out its timeout.
    std::thread::sleep(WRITE_TIMEOUT + Duration::from_secs(5));
    let (buf, closed) = read_until_closed(&mut s, Duration::from_secs(20));
    assert_eq!(parse(&buf).0, 200);
    assert!(closed, "the connection was closed");
    let sent = buf.iter().filter(|&&b| b == b'x').count();
    println!("{sent} of {BIG} bytes sent before the server gave up");
    assert!(
        sent < BIG,
        "the whole file was sent ({sent} bytes) to a client that did not read for {:?}",
        WRITE_TIMEOUT + Duration::from_secs(5)
    );
    // The file is there for a client that reads.
    let ((status, body), _) = server.get(BIG_PATH);
    assert_eq!((status, body.len()), (200, BIG));
}

#[test]
fn live_reload_streams_over_the_cap_get_503_and_pages_still_answer() {
    let site = site();
    let server = Server::start(&site, &[]);
    let mut streams: Vec<TcpStream> = (0..MAX_EVENT_STREAMS)
        .map(|_| event_stream(&server))
        .collect();
    let (status, body) = answer(
        server.connect(),
        server.request("/__casebook/events").as_bytes(),
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.len() < 200, "a short text: {body}");
    let ((status, body), _) = server.get(PAGE);
    assert_eq!(status, 200);
    assert!(body.contains(PAGE_TEXT));
    // A closed tab frees its place soon, not at the next ping.
    drop(streams.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = server.ask_and_ignore("/__casebook/events");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut b = [0u8; 64];
        let n = s.read(&mut b).unwrap_or(0);
        if b[..n].starts_with(b"HTTP/1.1 200 ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no stream after one closed: {}",
            String::from_utf8_lossy(&b[..n])
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// This machine's address on its network (not loopback), if it has one:
/// the one it would send from (a UDP "connect" sends nothing).
fn lan_address() -> Option<IpAddr> {
    let s = UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn one_machine_on_the_network_cannot_take_every_connection() {
    let Some(lan) = lan_address() else {
        common::skipped("this machine has no network address");
        return;
    };
    let site = site();
    let server = Server::start(&site, &["--bind", "0.0.0.0"]);
    let from_lan = format!("{lan}:{}", server.port);
    // Connections that send nothing, each holding a place until the head
    // deadline.
    let idle: Vec<TcpStream> = (0..MAX_PER_ADDRESS)
        .map(|_| TcpStream::connect(&from_lan).unwrap())
        .collect();
    let start = Instant::now();
    let request = format!("GET {PAGE} HTTP/1.1\r\nHost: {from_lan}\r\nConnection: close\r\n\r\n");
    let (status, body) = answer(TcpStream::connect(&from_lan).unwrap(), request.as_bytes());
    assert_eq!(status, 503, "one too many from {lan}: {body}");
    assert!(start.elapsed() < HEAD_DEADLINE, "refused at once");
    // This machine itself is still served.
    let local = format!("127.0.0.1:{}", server.port);
    let request = format!("GET {PAGE} HTTP/1.1\r\nHost: {local}\r\nConnection: close\r\n\r\n");
    let (status, body) = answer(TcpStream::connect(&local).unwrap(), request.as_bytes());
    assert_eq!(status, 200);
    assert!(body.contains(PAGE_TEXT));
    drop(idle);
}

#[test]
fn a_page_answers_within_a_second_whatever_else_is_connected() {
    let site = site();
    let server = Server::start(&site, &[]);
    let ((status, _), _) = server.get(PAGE);
    assert_eq!(status, 200);

    // 4 readers of a 20 MB file that never read...
    let slow: Vec<TcpStream> = (0..4).map(|_| server.ask_and_ignore(BIG_PATH)).collect();
    // ...50 clients sending a request one byte a second...
    let stop = Arc::new(AtomicBool::new(false));
    let trickling = tricklers(&server, 50, Arc::clone(&stop));
    // ...and 256 live-reload streams, asked for and never read.
    let idle: Vec<TcpStream> = (0..256)
        .map(|_| server.ask_and_ignore("/__casebook/events"))
        .collect();
    // Give the server a moment to take them all in.
    std::thread::sleep(Duration::from_secs(1));

    // A page is answered in full, within a second of connecting, again and
    // again while they stay (the tricklers until their head deadline).
    for _ in 0..5 {
        let ((status, body), took) = server.get(PAGE);
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(PAGE_TEXT) && body.trim_end().ends_with("</html>"));
        println!("a page under all that: {took:?}");
        assert!(took < Duration::from_secs(1), "the page took {took:?}");
        std::thread::sleep(Duration::from_secs(1));
    }
    stop.store(true, Ordering::Release);
    trickling.join().unwrap();
    drop((slow, idle));
}
