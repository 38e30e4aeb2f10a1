//! `casebook serve` on a disk that fills up: the preview is written to a
//! small RAM disk (tmpfs, mounted by the test, so it needs root: CI runs as
//! root; elsewhere the test says SKIPPED). It starts on a full disk by
//! deleting its own stale preview first, reports the failed write when the
//! disk fills, and recovers on its own once space is free, with the same
//! files a clean build writes.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Site, list_files};

/// A tmpfs mounted for the test, unmounted when dropped.
struct RamDisk {
    dir: tempfile::TempDir,
}

impl RamDisk {
    fn mount(size: &str) -> Option<RamDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(RamDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` until the disk is full.
    fn fill(&self, name: &str) {
        let mut f = std::fs::File::create(self.path().join(name)).unwrap();
        let block = vec![b'x'; 4096];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
}

impl Drop for RamDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

struct Server {
    child: Child,
    addr: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
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
    fn terminal(&self) -> String {
        format!(
            "stdout:\n{}\nstderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }

    fn wait_for(&self, what: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.terminal().contains(what) {
            assert!(
                Instant::now() < deadline,
                "no {what:?} from serve:\n{}",
                self.terminal()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path`: (status, body).
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
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }
}

fn serve(site: &Site, port: u16, output: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["serve", "--root"])
        .arg(site.root())
        .args(["--port", &port.to_string(), "--output"])
        .arg(output)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = Arc::new(Mutex::new(Vec::new()));
    let stderr = Arc::new(Mutex::new(Vec::new()));
    collect(child.stdout.take().unwrap(), &stdout);
    collect(child.stderr.take().unwrap(), &stderr);
    Server {
        child,
        addr: format!("127.0.0.1:{port}"),
        stdout,
        stderr,
    }
}

/// Every file under `dir` with its bytes.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    list_files(dir)
        .into_iter()
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

#[test]
fn the_preview_recovers_from_a_full_disk() {
    let Some(disk) = RamDisk::mount("1m") else {
        common::tools_available(&[("mount -t tmpfs (root)", false)], "run the tests as root");
        return;
    };
    let site = Site::from_fixture("basic");
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}/");
    let preview: PathBuf = disk.path().join("preview");

    // An earlier preview (stamped, with a large leftover in it), and the
    // rest of the disk full: only deleting the stale preview makes room.
    site.build(&["--output", preview.to_str().unwrap(), "--base-url", &base]);
    std::fs::write(preview.join("leftover.bin"), vec![0u8; 128 * 1024]).unwrap();
    disk.fill("filler-1");

    let server = serve(&site, port, &preview);
    server.wait_for("Built ", Duration::from_secs(30));
    assert_eq!(server.get("/case-studies/chatbot/").0, 200);
    assert!(!preview.join("leftover.bin").exists());

    // The disk fills while the writer works: the save is reported, the
    // page is still served.
    disk.fill("filler-2");
    site.append(
        "content/case-studies/chatbot.md",
        "\nA sentence saved on a full disk.\n",
    );
    server.wait_for("No space left on device", Duration::from_secs(30));
    assert!(
        server
            .terminal()
            .contains("casebook tries again every few seconds"),
        "{}",
        server.terminal()
    );
    assert_eq!(server.get("/case-studies/chatbot/").0, 200);

    // Space comes back; with no further save, the preview builds again
    // (the whole site: what reached the disk before it filled is unknown).
    std::fs::remove_file(disk.path().join("filler-2")).unwrap();
    let builds = || {
        server
            .stdout
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("Built "))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while builds() < 2 {
        assert!(
            Instant::now() < deadline,
            "the preview did not recover:\n{}",
            server.terminal()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server
            .get("/case-studies/chatbot/")
            .1
            .contains("A sentence saved on a full disk.")
    );
    // And what it holds is what a clean build writes (with drafts, which
    // the preview shows).
    let clean = tempfile::tempdir().unwrap();
    site.build(&[
        "--output",
        clean.path().join("out").to_str().unwrap(),
        "--base-url",
        &base,
        "--drafts",
    ]);
    let (a, b) = (contents(&preview), contents(&clean.path().join("out")));
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&a),
        names(&b),
        "the recovered preview has other files than a clean build"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs from a clean build");
    }
}
