//! The preview server's front door. tiny_http reads a request's line and
//! headers without any limit, so one client could make the server hold as
//! much memory as it cares to send. Every connection therefore comes
//! through here first: the request head is read with bounds on its size,
//! its line, its number of headers and the time it takes, and only a
//! well-formed GET or HEAD for this server's own host is passed on — with `Connection: close`, so each
//! request on a connection is checked — to tiny_http, listening on a
//! private loopback port. Anything else gets its 4xx answer here.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The most bytes a request head (request line and headers) may have.
pub const MAX_HEAD: usize = 16 * 1024;
/// The longest request line (method, path, version).
pub const MAX_LINE: usize = 8 * 1024;
/// The most header lines.
pub const MAX_HEADERS: usize = 64;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handled at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 256;

/// What to do with a request head.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Pass on this head (rewritten to close the connection after it).
    Pass(Vec<u8>),
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
    let (Some(method), Some(_), Some(version)) = (method, target, version) else {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Ok(Verdict::Refuse(400, "Bad Request"));
    }
    if method != "GET" && method != "HEAD" {
        return Ok(Verdict::Refuse(405, "Method Not Allowed"));
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
    let mut out = String::with_capacity(end + 24);
    out.push_str(request_line);
    out.push_str("\r\n");
    for h in headers {
        let name = h.split(':').next().unwrap_or_default().trim();
        let hop = [
            "connection",
            "keep-alive",
            "content-length",
            "transfer-encoding",
            "upgrade",
        ]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n));
        if !hop {
            out.push_str(h);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    Ok(Verdict::Pass(out.into_bytes()))
}

fn refuse(client: &mut TcpStream, code: u16, reason: &str) {
    let body = format!("{code} {reason}\n");
    let _ = write!(
        client,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.shutdown(Shutdown::Both);
}

/// Copies tiny_http's answer to the client with `Connection: close` in its
/// head (tiny_http drops a `Connection` header set on a response), so that
/// a keep-alive client knows this connection ends with the answer and opens
/// a new one for its next request, rather than finding it closed.
fn relay(up: &mut TcpStream, client: &mut TcpStream) -> io::Result<u64> {
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = up.read(&mut buf)?;
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = find(&head[from..], b"\r\n\r\n") {
            break from + i + 4;
        }
        if n == 0 || head.len() > MAX_HEAD {
            // Not a head we can rewrite: pass it on as it is.
            client.write_all(&head)?;
            return io::copy(up, client);
        }
    };
    let text = String::from_utf8_lossy(&head[..end - 4]);
    let mut out = String::with_capacity(end + 24);
    for (i, line) in text.split("\r\n").enumerate() {
        let name = line.split(':').next().unwrap_or_default().trim();
        if i > 0
            && (name.eq_ignore_ascii_case("connection") || name.eq_ignore_ascii_case("keep-alive"))
        {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    client.write_all(out.as_bytes())?;
    client.write_all(&head[end..])?;
    io::copy(up, client)
}

fn handle(mut client: TcpStream, upstream: SocketAddr, port: u16) {
    let _ = client.set_read_timeout(Some(HEAD_TIMEOUT));
    match read_head(&mut client, port) {
        Ok(Verdict::Pass(head)) => {
            let Ok(mut up) = TcpStream::connect(upstream) else {
                return refuse(&mut client, 503, "Service Unavailable");
            };
            if up.write_all(&head).is_err() {
                return refuse(&mut client, 502, "Bad Gateway");
            }
            let _ = client.set_read_timeout(None);
            // The answer, to its end (tiny_http closes after it) or until the
            // client goes away; event streams last as long as the page.
            let _ = relay(&mut up, &mut client);
            let _ = client.shutdown(Shutdown::Both);
            let _ = up.shutdown(Shutdown::Both);
        }
        Ok(Verdict::Refuse(code, reason)) => refuse(&mut client, code, reason),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            refuse(&mut client, 408, "Request Timeout")
        }
        Err(_) => {}
    }
}

/// Accepts connections on `listener` and passes each checked request to
/// `upstream`, each connection on its own thread, at most
/// [`MAX_CONNECTIONS`] at a time.
pub fn spawn(listener: TcpListener, upstream: SocketAddr) {
    let open = Arc::new(AtomicUsize::new(0));
    let port = listener.local_addr().map_or(0, |a| a.port());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { continue };
            if open.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                refuse(&mut client, 503, "Service Unavailable");
                continue;
            }
            open.fetch_add(1, Ordering::AcqRel);
            let count = Arc::clone(&open);
            let spawned = std::thread::Builder::new().spawn(move || {
                handle(client, upstream, port);
                count.fetch_sub(1, Ordering::AcqRel);
            });
            if spawned.is_err() {
                // The thread was not made; its count must not stay taken.
                open.fetch_sub(1, Ordering::AcqRel);
            }
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
    fn a_plain_get_passes_with_its_connection_closed() {
        let v =
            judge(b"GET /x/ HTTP/1.1\r\nHost: localhost:1111\r\nConnection: keep-alive\r\n\r\n");
        assert_eq!(
            v,
            Verdict::Pass(
                b"GET /x/ HTTP/1.1\r\nHost: localhost:1111\r\nConnection: close\r\n\r\n".to_vec()
            )
        );
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
