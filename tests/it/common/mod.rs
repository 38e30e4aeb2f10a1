//! Helpers shared by the integration tests: copy a fixture site into a
//! temporary folder, run the real `casebook` binary on it, and read what it
//! wrote.

#![allow(dead_code)]

pub mod snapshot;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Copies a folder recursively (fixtures are small).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fixture copied into a fresh temporary folder, so builds never write
/// into the repository.
pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Site {
    pub fn from_fixture(name: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&fixture(name), dir.path());
        Site { dir }
    }

    /// An empty site with just a site.toml.
    pub fn empty(site_toml: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.toml"), site_toml).unwrap();
        std::fs::create_dir_all(dir.path().join("content/case-studies")).unwrap();
        Site { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// A file of the site's own (not of its output), e.g. `site.toml`.
    pub fn source(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap()
    }

    /// Adds `text` on a new line at the end of the site's file `rel`.
    pub fn append(&self, rel: &str, text: &str) {
        self.write(rel, &format!("{}\n{text}", self.source(rel)));
    }

    /// Runs `casebook <args> --root <site>`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_casebook"));
        cmd.args(args).arg("--root").arg(self.root());
        cmd.env("NO_COLOR", "1");
        cmd.output().unwrap()
    }

    /// `casebook build` with extra arguments; panics with the output if it fails.
    pub fn build(&self, args: &[&str]) -> Output {
        let mut all = vec!["build"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "build failed:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn out(&self) -> PathBuf {
        self.root().join("public")
    }

    /// The text of an output file, by its path under public/.
    pub fn read(&self, rel: &str) -> String {
        let p = self.out().join(rel);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.out().join(rel).exists()
    }

    /// Every file under public/, as sorted relative paths.
    pub fn files(&self) -> Vec<String> {
        list_files(&self.out())
    }
}

pub fn list_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if e.file_type().unwrap().is_dir() {
                walk(base, &e.path(), out);
            } else {
                out.push(
                    e.path()
                        .strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Values of every `name="..."` attribute in an HTML document.
pub fn attr_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(&needle) {
        rest = &rest[i + needle.len()..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// The visible text of `<h2 class="card-title">`/`<h3 class="card-title">`
/// links on a listing page, in order.
pub fn card_titles(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("class=\"card-title\"><a href=\"") {
        rest = &rest[i..];
        let start = rest.find("\">").unwrap() + 2;
        let start = start + rest[start..].find('>').map_or(0, |j| j + 1);
        let end = rest[start..].find("</a>").unwrap() + start;
        out.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    out
}

/// Whether tests that need outside tools can run here. `tools` are (name,
/// present?) pairs. In CI (`CI` set) a missing tool is a failure, never a
/// silent skip; elsewhere the test says SKIPPED and passes.
pub fn tools_available(tools: &[(&str, bool)], install: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("needs {}: {install}", missing.join(", "));
    if std::env::var_os("CI").is_some() {
        panic!("{msg}");
    }
    skipped(&msg);
    false
}

/// Says that a test did not run, where a person running `cargo test`
/// sees it: written to the terminal itself, past the test harness's
/// capture of `println!` and `eprintln!`, so a skipped test is never
/// shown only as passed.
pub fn skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
}

/// Whether a command runs (`cmd --version` or similar succeeds).
pub fn runs(cmd: &str, args: &[&str]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The repository's own example site, copied into a temporary folder.
pub fn example_site() -> Site {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo.join("site.toml"), dir.path().join("site.toml")).unwrap();
    copy_dir(&repo.join("content"), &dir.path().join("content"));
    copy_dir(&repo.join("themes"), &dir.path().join("themes"));
    copy_dir(&repo.join("static"), &dir.path().join("static"));
    Site { dir }
}

/// A free TCP port on loopback (bound, then released for the caller).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One tag of an HTML document, as a browser's tokenizer would read it:
/// its lower-cased name, whether it closes an element, and its attributes
/// (names lower-cased, values with the common entities decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub closing: bool,
    pub attrs: Vec<(String, String)>,
}

/// Every tag of `html`, in order. Comments, doctypes and the text of
/// `script` and `style` elements are passed over. Enough of the HTML
/// tokenizer for checking what markup an output holds: attribute values
/// quoted with `"` or `'` or unquoted, attributes without values.
pub fn tags(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut out: Vec<Tag> = Vec::new();
    let mut i = 0;
    while let Some(off) = html[i..].find('<') {
        i += off + 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            continue;
        }
        if html[i..].starts_with('!') || html[i..].starts_with('?') {
            i = html[i..].find('>').map_or(b.len(), |e| i + e + 1);
            continue;
        }
        let closing = html[i..].starts_with('/');
        if closing {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if i == start {
            continue;
        }
        let name = html[start..i].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                i += 1;
                break;
            }
            let s = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>' | b'/')
            {
                i += 1;
            }
            let attr = html[s..i].to_ascii_lowercase();
            let mut value = String::new();
            if i < b.len() && b[i] == b'=' {
                i += 1;
                if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                    let q = b[i] as char;
                    let e = html[i + 1..].find(q).map_or(b.len(), |e| i + 1 + e);
                    value = html[i + 1..e].to_string();
                    i = (e + 1).min(b.len());
                } else {
                    let s = i;
                    while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                        i += 1;
                    }
                    value = html[s..i].to_string();
                }
            }
            let value = value
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&#x27;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&");
            attrs.push((attr, value));
        }
        let raw_text = !closing && (name == "script" || name == "style");
        out.push(Tag {
            name: name.clone(),
            closing,
            attrs,
        });
        if raw_text {
            let end = format!("</{name}");
            i = html[i..]
                .to_ascii_lowercase()
                .find(&end)
                .map_or(b.len(), |e| i + e);
        }
    }
    out
}
