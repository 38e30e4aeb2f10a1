//! The preview server's front door. Every connection is accepted here and
//! gets a thread of its own, which reads the request head with bounds on
//! its size, its line, its number of headers and the time it takes, checks
//! that it is a GET or HEAD for this server's own host, and then answers it
//! on the same connection (see `http.rs`) or refuses it with its 4xx. One
//! request per connection, every answer with `Connection: close`, so that
//! each request goes through these checks.
//!
//! No client may hold a thread for long without making the server's work
//! worth it: the whole head has a deadline (not each read, which a client
//! sending a byte every few seconds would reset), every write a timeout and
//! every answer a deadline, and one machine on the network can hold only
//! so many of the connections, so slow or greedy clients leave room for
//! the writer's own browser.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::http::{self, LiveReload};

/// The most bytes a request head (request line and headers) may have.
pub const MAX_HEAD: usize = 16 * 1024;
/// The longest request line (method, path, version).
pub const MAX_LINE: usize = 8 * 1024;
/// The longest request target (path and query).
pub const MAX_URL: usize = 4096;
/// The most header lines.
pub const MAX_HEADERS: usize = 64;
/// How long a client may take to send its whole request head.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);
/// How long a client may take to accept each [`PIECE`] of an answer.
/// Measured over the whole piece, not each system call: the kernel takes a
/// few bytes now and then even from a client that never reads, so "no
/// progress for 10 s" would never fire.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How much is offered to a client at a time, on one clock.
const PIECE: usize = 64 * 1024;
/// How long a whole answer (other than the event stream) may take: enough
/// for 60 MB at a slow 1 MB/s.
pub const ANSWER_DEADLINE: Duration = Duration::from_secs(60);
/// Connections handled at once; more are refused with 503. Each holds a
/// thread, with a small stack, until its deadlines at most; live-reload
/// streams are capped lower (see `http.rs`), so this leaves room for pages
/// beside them and beside clients that stall.
const MAX_CONNECTIONS: usize = 512;
/// Connections one machine other than this one may hold at once: a browser
/// opens six or so per site, and one tab's event stream.
const MAX_PER_PEER: usize = 64;
/// The stack of a connection's thread: reading a head, answering from the
/// file system and streaming use little, and many threads may be waiting.
const STACK: usize = 256 * 1024;

/// The two methods the preview answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
}

/// A request that passed the checks.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target as sent: a path starting with `/`, perhaps with
    /// a query; no control characters or spaces.
    pub target: String,
}

/// What to do with a request head.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answer this request.
    Pass(Request),
    /// Answer with this status and reason, and close.
    Refuse(u16, &'static str),
}

/// Whether a `Host` header's value names this server: `localhost` or an IP
/// literal (IPv6 in brackets), with the server's `port` (which browsers
/// leave out only when it is 80). A DNS-rebinding page reaches the server
/// under a host name of its own, so refusing every other name keeps pages
/// of other sites from reading the preview, drafts included; IP literals
/// cannot be rebound, and allowing them keeps `--bind 0.0.0.0` usable from
/// another machine by address.
pub fn host_allowed(host: &str, port: u16) -> bool {
    let (name_ok, rest) = match host.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((ip, rest)) => (ip.parse::<Ipv6Addr>().is_ok(), rest),
            None => return false,
        },
        None => {
            let end = host.find(':').unwrap_or(host.len());
            let name = &host[..end];
            (
                name.eq_ignore_ascii_case("localhost") || name.parse::<Ipv4Addr>().is_ok(),
                &host[end..],
            )
        }
    };
    let port_ok = match rest.strip_prefix(':') {
        Some(p) => p == port.to_string(),
        None => rest.is_empty() && port == 80,
    };
    name_ok && port_ok
}

/// A connection's reads and writes under a deadline, so that a client
/// sending or taking one byte at a time cannot stretch a request or an
/// answer beyond it; and each [`PIECE`] written must be taken whole within
/// [`WRITE_TIMEOUT`].
pub struct Timed<'a> {
    stream: &'a TcpStream,
    until: Instant,
    /// When the piece being written (in parts, the client being slow) was
    /// first offered.
    offered: Option<Instant>,
}

impl<'a> Timed<'a> {
    pub fn new(stream: &'a TcpStream, within: Duration) -> Timed<'a> {
        Timed {
            stream,
            until: Instant::now() + within,
            offered: None,
        }
    }
}

/// The time from now to `until`, or an error if it has passed.
fn left(until: Instant) -> io::Result<Duration> {
    let left = until.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
    }
    Ok(left)
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(left(self.until)?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let piece = &buf[..buf.len().min(PIECE)];
        let offered = *self.offered.get_or_insert_with(Instant::now);
        let wait = left(self.until.min(offered + WRITE_TIMEOUT))?;
        self.stream.set_write_timeout(Some(wait))?;
        let n = (&mut &*self.stream).write(piece)?;
        // Part of it taken: the rest comes next, on the same clock. All of
        // it: the next piece has a clock of its own.
        if n == piece.len() {
            self.offered = None;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads one request head from `r` and judges it, for a server on `port`.
/// Reads at most a little over [`MAX_HEAD`] bytes whatever the client
/// sends.
pub fn read_head(r: &mut impl Read, port: u16) -> io::Result<Verdict> {
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the client closed before its request ended",
            ));
        }
        // Look for the end from a little before the new bytes, in case it
        // straddles two reads.
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = find(&head[from..], b"\r\n\r\n") {
            break from + i + 4;
        }
        if head.len() > MAX_HEAD {
            return Ok(if find(&head, b"\r\n").is_none_or(|i| i > MAX_LINE) {
                Verdict::Refuse(414, "URI Too Long")
            } else {
                Verdict::Refuse(431, "Request Header Fields Too Large")
            });
        }
    };
    head.truncate(end);
    let Ok(text) = std::str::from_utf8(&head) else {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    };
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    if request_line.len() > MAX_LINE {
        return Ok(Verdict::Refuse(414, "URI Too Long"));
    }
    if end > MAX_HEAD {
        return Ok(Verdict::Refuse(431, "Request Header Fields Too Large"));
    }
    let mut parts = request_line.split(' ');
    let (method, target, version) = (parts.next(), parts.next(), parts.next());
    let (Some(method), Some(target), Some(version)) = (method, target, version) else {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => return Ok(Verdict::Refuse(405, "Method Not Allowed")),
    };
    if target.len() > MAX_URL {
        return Ok(Verdict::Refuse(414, "URI Too Long"));
    }
    // Only a path (no absolute URL, no `*`), and nothing that could end or
    // bend a header line if it is echoed in a redirect.
    if !target.starts_with('/') || target.bytes().any(|b| b.is_ascii_control()) {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    }
    let headers: Vec<&str> = lines.filter(|l| !l.is_empty()).collect();
    if headers.len() > MAX_HEADERS {
        return Ok(Verdict::Refuse(431, "Request Header Fields Too Large"));
    }
    let mut hosts = headers.iter().filter_map(|h| {
        let (name, value) = h.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("host")
            .then(|| value.trim())
    });
    // None, or more than one, is malformed (RFC 9112, section 3.2).
    match (hosts.next(), hosts.next()) {
        (Some(host), None) if host_allowed(host, port) => {}
        (Some(_), None) => return Ok(Verdict::Refuse(421, "Misdirected Request")),
        _ => return Ok(Verdict::Refuse(400, "Bad Request")),
    }
    Ok(Verdict::Pass(Request {
        method,
        target: target.to_string(),
    }))
}

fn refuse(client: &mut impl Write, code: u16, reason: &str) {
    let body = format!("{code} {reason}\n");
    let allow = if code == 405 {
        "Allow: GET, HEAD\r\n"
    } else {
        ""
    };
    // One write, so one packet.
    let answer = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n{allow}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes());
}

fn handle(client: &TcpStream, port: u16, root: &Path, live: &LiveReload) {
    // Answers are buffered into large writes; a last small one should not
    // wait for the client's acknowledgement of the one before.
    let _ = client.set_nodelay(true);
    match read_head(&mut Timed::new(client, HEAD_DEADLINE), port) {
        Ok(Verdict::Pass(request)) => {
            // An error here is the client gone or too slow: nothing to
            // tell anyone.
            let _ = http::handle(client, &request, root, live);
        }
        Ok(Verdict::Refuse(code, reason)) => {
            refuse(&mut Timed::new(client, WRITE_TIMEOUT), code, reason)
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            refuse(
                &mut Timed::new(client, WRITE_TIMEOUT),
                408,
                "Request Timeout",
            )
        }
        Err(_) => {}
    }
    let _ = client.shutdown(Shutdown::Both);
}

/// The connections being handled: how many, and how many from each other
/// machine.
#[derive(Default)]
struct Open {
    total: usize,
    by_peer: HashMap<IpAddr, usize>,
}

/// A connection's place in [`Open`], given back when dropped (so also when
/// its thread could not be made).
struct Slot {
    open: Arc<Mutex<Open>>,
    peer: Option<IpAddr>,
}

impl Slot {
    /// A place for a connection from `peer`, if there is one. Loopback
    /// peers have no limit of their own: they are this machine, which
    /// could as well stop the server.
    fn take(open: &Arc<Mutex<Open>>, peer: Option<IpAddr>) -> Option<Slot> {
        let peer = peer
            .map(|ip| ip.to_canonical())
            .filter(|ip| !ip.is_loopback());
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        if o.total >= MAX_CONNECTIONS {
            return None;
        }
        if let Some(ip) = peer {
            let n = o.by_peer.entry(ip).or_default();
            if *n >= MAX_PER_PEER {
                return None;
            }
            *n += 1;
        }
        o.total += 1;
        Some(Slot {
            open: Arc::clone(open),
            peer,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total -= 1;
        if let Some(ip) = self.peer
            && let Some(n) = o.by_peer.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                o.by_peer.remove(&ip);
            }
        }
    }
}

/// Accepts connections on `listener` and answers each on its own thread
/// with the files of `root`, at most [`MAX_CONNECTIONS`] at a time and
/// [`MAX_PER_PEER`] from any one other machine.
pub fn spawn(listener: TcpListener, root: PathBuf, live: Arc<LiveReload>) {
    let open = Arc::new(Mutex::new(Open::default()));
    let port = listener.local_addr().map_or(0, |a| a.port());
    let root = Arc::new(root);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let mut client = match conn {
                Ok(client) => client,
                Err(_) => {
                    // Out of file descriptors, most likely: wait for some
                    // to be freed rather than spin.
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
            };
            let Some(slot) = Slot::take(&open, client.peer_addr().ok().map(|a| a.ip())) else {
                // Never blocks this loop: the answer goes if it fits.
                let _ = client.set_nonblocking(true);
                refuse(&mut client, 503, "Service Unavailable");
                continue;
            };
            let (root, live) = (Arc::clone(&root), Arc::clone(&live));
            let spawned = std::thread::Builder::new()
                .stack_size(STACK)
                .spawn(move || {
                    handle(&client, port, &root, &live);
                    drop(slot);
                });
            // If the thread was not made, the closure is dropped, and with
            // it the connection and its slot.
            drop(spawned);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(bytes: &[u8]) -> Verdict {
        read_head(&mut &bytes[..], 1111).unwrap()
    }

    #[test]
    fn a_plain_get_passes() {
        let v = judge(
            b"GET /x/?q=1 HTTP/1.1\r\nHost: localhost:1111\r\nConnection: keep-alive\r\n\r\n",
        );
        assert_eq!(
            v,
            Verdict::Pass(Request {
                method: Method::Get,
                target: "/x/?q=1".into()
            })
        );
        let v = judge(b"HEAD / HTTP/1.0\r\nHost: 127.0.0.1:1111\r\n\r\n");
        assert!(matches!(
            v,
            Verdict::Pass(Request {
                method: Method::Head,
                ..
            })
        ));
    }

    #[test]
    fn a_write_never_outlasts_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        // The peer never reads: the socket buffers fill, and then the write
        // waits until the deadline, not the longer write timeout.
        let start = Instant::now();
        let mut w = Timed::new(&conn, Duration::from_millis(300));
        let chunk = vec![0u8; 1 << 16];
        let err = loop {
            if let Err(e) = w.write_all(&chunk) {
                break e;
            }
            assert!(start.elapsed() < WRITE_TIMEOUT, "no deadline");
        };
        assert!(
            matches!(
                err.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ),
            "{err}"
        );
        drop(peer);
    }

    #[test]
    fn one_other_machine_gets_only_its_share() {
        let open = Arc::new(Mutex::new(Open::default()));
        let lan: IpAddr = "192.168.1.20".parse().unwrap();
        let held: Vec<Slot> = (0..MAX_PER_PEER)
            .map(|_| Slot::take(&open, Some(lan)).unwrap())
            .collect();
        assert!(Slot::take(&open, Some(lan)).is_none());
        // Others, and this machine, still get in.
        let other = Slot::take(&open, Some("192.168.1.21".parse().unwrap()));
        assert!(other.is_some());
        let local = Slot::take(&open, Some("::ffff:127.0.0.1".parse().unwrap()));
        assert!(local.is_some());
        drop(held);
        assert!(Slot::take(&open, Some(lan)).is_some());
        drop((other, local));
        // Loopback peers count only towards the total.
        let many: Vec<Slot> = (0..MAX_CONNECTIONS)
            .map_while(|_| Slot::take(&open, Some("127.0.0.1".parse().unwrap())))
            .collect();
        assert_eq!(many.len(), MAX_CONNECTIONS);
        assert!(Slot::take(&open, None).is_none());
        drop(many);
        assert_eq!(open.lock().unwrap().total, 0);
        assert!(open.lock().unwrap().by_peer.is_empty());
    }

    #[test]
    fn only_this_servers_host_passes() {
        for ok in [
            "localhost:1111",
            "LocalHost:1111",
            "127.0.0.1:1111",
            "192.168.1.20:1111",
            "[::1]:1111",
            "[fe80::1]:1111",
        ] {
            assert!(host_allowed(ok, 1111), "{ok}");
        }
        for bad in [
            "evil.example:1111",
            "evil.example",
            "localhost",
            "localhost:",
            "localhost:1112",
            "localhost:01111",
            "localhost.:1111",
            "app.localhost:1111",
            "127.0.0.1.nip.io:1111",
            "0x7f.0.0.1:1111",
            "2130706433:1111",
            "::1:1111",
            "[::1]",
            "[::1]x:1111",
            "[::1:1111",
            "[evil.example]:1111",
            "user@localhost:1111",
            "localhost:1111/x",
            "",
        ] {
            assert!(!host_allowed(bad, 1111), "{bad}");
        }
        // Browsers leave the port out when it is 80.
        assert!(host_allowed("localhost", 80));
        assert!(host_allowed("[::1]", 80));
        assert!(!host_allowed("evil.example", 80));

        assert_eq!(
            judge(b"GET / HTTP/1.1\r\nHost: evil.example:1111\r\n\r\n"),
            Verdict::Refuse(421, "Misdirected Request")
        );
        assert_eq!(
            judge(b"GET / HTTP/1.1\r\n\r\n"),
            Verdict::Refuse(400, "Bad Request")
        );
        assert_eq!(
            judge(b"GET / HTTP/1.1\r\nHost: localhost:1111\r\nhost: evil.example\r\n\r\n"),
            Verdict::Refuse(400, "Bad Request")
        );
    }

    #[test]
    fn oversized_or_odd_requests_are_refused() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_HEAD * 4));
        assert_eq!(judge(long.as_bytes()), Verdict::Refuse(414, "URI Too Long"));
        let many: String = (0..MAX_HEADERS + 1)
            .map(|i| format!("X-{i}: y\r\n"))
            .collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            judge(req.as_bytes()),
            Verdict::Refuse(431, "Request Header Fields Too Large")
        );
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "b".repeat(MAX_HEAD));
        assert_eq!(
            judge(big.as_bytes()),
            Verdict::Refuse(431, "Request Header Fields Too Large")
        );
        assert_eq!(
            judge(b"POST / HTTP/1.1\r\n\r\n"),
            Verdict::Refuse(405, "Method Not Allowed")
        );
        assert_eq!(judge(b"GET /\r\n\r\n"), Verdict::Refuse(400, "Bad Request"));
        let host = "Host: localhost:1111\r\n";
        for target in [
            "http://localhost:1111/",
            "*",
            "/a\x0bb",
            "/a\nSet-Cookie:x",
            "/a\x7f",
        ] {
            let req = format!("GET {target} HTTP/1.1\r\n{host}\r\n");
            assert_eq!(
                judge(req.as_bytes()),
                Verdict::Refuse(400, "Bad Request"),
                "{target:?}"
            );
        }
        let req = format!("GET /{} HTTP/1.1\r\n{host}\r\n", "a".repeat(MAX_URL));
        assert_eq!(judge(req.as_bytes()), Verdict::Refuse(414, "URI Too Long"));
        assert_eq!(
            judge(b"GET / HTTP/1.1\r\nX: \xff\r\n\r\n"),
            Verdict::Refuse(400, "Bad Request")
        );
        assert!(
            read_head(&mut &b"GET / HTTP/1.1\r\n"[..], 1111).is_err(),
            "cut short"
        );
    }
}
