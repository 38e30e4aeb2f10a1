//! The published site judged by real clients: nginx serving it under a
//! subpath and wget crawling it, the Nu HTML Checker, xmllint with the
//! sitemaps.org schema, and Python's feedparser. `.ci/run` installs them;
//! elsewhere a missing tool makes these tests say SKIPPED (in CI it fails).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Site, example_site, free_port, runs, tools_available};

fn node_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/node_modules")
}

/// nginx on a loopback port, stopped when dropped.
struct Nginx {
    child: Child,
    prefix: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // `-s stop` lets the master take its workers down with it; killing
        // the master alone would leave them running.
        let _ = Command::new("nginx")
            .arg("-p")
            .arg(&self.prefix)
            .arg("-c")
            .arg(self.prefix.join("nginx.conf"))
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(prefix: &Path, port: u16, site_dir: &Path) -> Nginx {
    for d in ["tmp_body", "tmp_proxy", "tmp_fcgi", "tmp_uwsgi", "tmp_scgi"] {
        std::fs::create_dir_all(prefix.join(d)).unwrap();
    }
    let p = prefix.display();
    let conf = format!(
        r#"worker_processes 1;
daemon off;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {p}/access.log;
    client_body_temp_path {p}/tmp_body;
    proxy_temp_path {p}/tmp_proxy;
    fastcgi_temp_path {p}/tmp_fcgi;
    uwsgi_temp_path {p}/tmp_uwsgi;
    scgi_temp_path {p}/tmp_scgi;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        # Nothing outside the subpath is published.
        location / {{ return 404; }}
        location /learning/ {{
            alias {}/;
            index index.html;
            error_page 404 /learning/404.html;
        }}
    }}
}}
"#,
        site_dir.display()
    );
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx {
        child,
        prefix: prefix.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {}",
            std::fs::read_to_string(prefix.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    nginx
}

#[test]
fn example_site_under_a_subpath_behind_nginx_has_no_broken_links() {
    if !tools_available(
        &[
            ("nginx", Path::new("/usr/sbin/nginx").exists()),
            ("wget", runs("wget", &["--version"])),
        ],
        "apt-get install nginx wget",
    ) {
        return;
    }
    let site = example_site();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/learning/");
    site.build(&["--base-url", &base]);
    let prefix = site.root().join("nginx");
    let _nginx = start_nginx(&prefix, port, &site.out());

    let log = site.root().join("wget.log");
    let status = Command::new("wget")
        .args([
            "--spider",
            "-r",
            "-nd",
            "-nv",
            "-l",
            "inf",
            "-e",
            "robots=off",
            "-o",
        ])
        .arg(&log)
        .arg(&base)
        .current_dir(site.root())
        .status()
        .unwrap();
    let wget_log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        status.success(),
        "wget found broken links (exit {status}):\n{wget_log}"
    );

    // nginx's own view: every request was inside /learning/ and found.
    let access = std::fs::read_to_string(prefix.join("access.log")).unwrap();
    let mut requests = 0;
    for line in access.lines() {
        let mut quoted = line.split('"');
        let request = quoted.nth(1).unwrap_or("");
        let status: u16 = quoted
            .next()
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let path = request.split_whitespace().nth(1).unwrap_or("");
        assert!(
            path.starts_with("/learning/"),
            "a request left the subpath: {line}"
        );
        assert!(status < 400, "broken: {line}");
        requests += 1;
    }
    assert!(
        requests > 100,
        "the crawl reached only {requests} URLs:\n{wget_log}"
    );
    // The crawl reached the feeds, the sitemap and every case study.
    for needle in [
        "/learning/atom.xml",
        "/learning/case-studies/search-mental-health-chatbot/",
        "/learning/sector/mental-health/atom.xml",
    ] {
        assert!(
            access.contains(needle),
            "the crawl never requested {needle}"
        );
    }

    // Every URL the sitemap lists is served, and so is the sitemap robots.txt names.
    let sitemap = std::fs::read_to_string(site.out().join("sitemap.xml")).unwrap();
    let locs: Vec<&str> = sitemap
        .split("<loc>")
        .skip(1)
        .map(|s| s.split("</loc>").next().unwrap())
        .collect();
    let robots = std::fs::read_to_string(site.out().join("robots.txt")).unwrap();
    let sitemap_url = format!("{base}sitemap.xml");
    assert!(robots.contains(&sitemap_url));
    let list = site.root().join("urls.txt");
    std::fs::write(
        &list,
        format!("{}\n{sitemap_url}\n{base}robots.txt\n", locs.join("\n")),
    )
    .unwrap();
    let out = Command::new("wget")
        .args(["--spider", "-nv", "-i"])
        .arg(&list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "a sitemap URL is not served:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(locs.len() > 50, "{} URLs in the sitemap", locs.len());
}

#[test]
fn every_html_file_passes_the_nu_html_checker() {
    let jar = node_modules().join("vnu-jar/build/dist/vnu.jar");
    if !tools_available(
        &[
            ("java", runs("java", &["-version"])),
            ("vnu-jar (npm)", jar.exists()),
        ],
        "apt-get install default-jre-headless; (cd tests/browser && npm ci)",
    ) {
        return;
    }
    let site = example_site();
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    // The hostile fixture too: escaping must not produce invalid markup.
    let basic = Site::from_fixture("basic");
    basic.build(&[]);
    let out = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--skip-non-html"])
        .arg(site.out())
        .arg(basic.out())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && report.trim().is_empty(),
        "the Nu HTML Checker found errors:\n{report}"
    );
}

#[test]
fn sitemap_validates_against_the_sitemaps_org_schema() {
    let xsd = node_modules().join("sitemap/schema/sitemap.xsd");
    if !tools_available(
        &[
            ("xmllint", runs("xmllint", &["--version"])),
            ("sitemap (npm)", xsd.exists()),
        ],
        "apt-get install libxml2-utils; (cd tests/browser && npm ci)",
    ) {
        return;
    }
    let site = example_site();
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    let out = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(site.out().join("sitemap.xml"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("validates"), "{report}");
}

#[test]
fn every_feed_parses_in_feedparser() {
    if !tools_available(
        &[(
            "python3 feedparser",
            runs("python3", &["-c", "import feedparser"]),
        )],
        "pip install feedparser",
    ) {
        return;
    }
    let site = example_site();
    site.build(&["--base-url", "https://ngo.example/learning/"]);
    let feeds: Vec<PathBuf> = site
        .files()
        .iter()
        .filter(|f| f.ends_with("atom.xml"))
        .map(|f| site.out().join(f))
        .collect();
    assert!(feeds.len() > 20, "only {} feeds", feeds.len());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/feedcheck.py");
    let out = Command::new("python3")
        .arg(script)
        .args(&feeds)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("{} passed, 0 failed", feeds.len())),
        "{report}"
    );
}

/// Feed readers get each page's HTML back exactly as the page has it, even
/// when raw HTML in the Markdown holds `]]>`, the one text that could end
/// the CDATA section early, or a character XML forbids; and the same from a
/// theme whose feed prints the HTML escaped, as before the `cdata` filter.
#[test]
fn feed_content_reads_back_as_the_pages_html() {
    if !tools_available(
        &[("python3", runs("python3", &["--version"]))],
        "apt-get install python3",
    ) {
        return;
    }
    let site = Site::from_fixture("basic");
    site.append("site.toml", "[markdown]\nunsafe_html = true\n");
    site.append(
        "content/case-studies/chatbot.md",
        "\n<div class=\"note\">a ]]> b &amp; c</div>\n",
    );
    let contents = || {
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys, xml.etree.ElementTree as ET\n\
                 A = '{http://www.w3.org/2005/Atom}'\n\
                 for e in ET.parse(sys.argv[1]).getroot().iter(A + 'entry'):\n\
                 \x20   sys.stdout.write(e.find(A + 'content').text)",
            ])
            .arg(site.out().join("sector/health/atom.xml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let expected = "<h2 id=\"the-challenge\">The challenge</h2>\n\
                    <p>Counsellors were stretched.</p>\n\
                    <h2 id=\"what-changed\">What changed</h2>\n\
                    <p>Answers arrive in minutes.</p>\n\
                    <div class=\"note\">a ]]> b &amp; c</div>\n";
    site.build(&[]);
    assert!(site.read("sector/health/atom.xml").contains("<![CDATA["));
    assert_eq!(contents(), expected);

    let atom = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/atom.xml"),
    )
    .unwrap();
    site.write(
        "themes/escaped/templates/atom.xml",
        &atom.replace("{{ e.content | cdata }}", "{{ e.content }}"),
    );
    site.write(
        "site.toml",
        &format!("theme = \"escaped\"\n{}", site.source("site.toml")),
    );
    site.build(&[]);
    assert!(!site.read("sector/health/atom.xml").contains("<![CDATA["));
    assert_eq!(contents(), expected);
}
