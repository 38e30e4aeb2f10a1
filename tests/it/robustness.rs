//! Hostile and odd input never crashes casebook: each case either builds or
//! gets a clear diagnostic naming the file, with exit code 0 or 1 (never a
//! panic's 101 or a signal), in bounded time. The time limit here is a hang
//! guard, not a speed test.

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Site;

const FM: &str =
    "---\ntitle: T\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\n---\n";

struct Run {
    code: i32,
    stderr: String,
}

/// Builds a one-file site; kills the build if it runs for minutes.
fn build_with(name: &str, bytes: &[u8]) -> Run {
    let site = Site::empty("title = \"Robust\"\n");
    std::fs::write(site.root().join("content/case-studies").join(name), bytes).unwrap();
    let err_path = site.root().join("stderr.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["build", "--root"])
        .arg(site.root())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name}: the build hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap();
    assert!(!stderr.contains("panicked"), "{name} panicked:\n{stderr}");
    let code = status
        .code()
        .unwrap_or_else(|| panic!("{name}: killed by a signal"));
    assert!(code == 0 || code == 1, "{name}: exit code {code}\n{stderr}");
    if code == 1 {
        assert!(
            stderr.contains(&format!("content/case-studies/{name}")),
            "{name}: the message must name the file:\n{stderr}"
        );
    }
    Run { code, stderr }
}

#[test]
fn invalid_utf8() {
    let mut bytes = FM.as_bytes().to_vec();
    bytes.extend_from_slice(b"caf\xe9 \xff\xfe\n");
    let r = build_with("latin1.md", &bytes);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("latin1.md:9:4"), "{}", r.stderr);
    assert!(r.stderr.contains("not valid UTF-8"));
}

#[test]
fn empty_file() {
    let r = build_with("empty.md", b"");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("this file is empty"));
}

#[test]
fn only_a_fence() {
    let r = build_with("fence.md", b"---");
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("never closed"));
}

#[test]
fn unclosed_front_matter() {
    let r = build_with(
        "open.md",
        b"---\ntitle: T\ndate: 2024-01-01\n\nThe body, never fenced off.\n",
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("never closed"));
}

#[test]
fn tabs_for_indentation() {
    let r = build_with(
        "tabs.md",
        b"---\ntitle: T\nsector:\n\t- Health\n---\nBody\n",
    );
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("tabs.md:4"), "{}", r.stderr);
    assert!(r.stderr.contains("replace the tab with spaces"));
}

#[test]
fn tabs_inside_values_are_fine() {
    let r = build_with(
        "tab-value.md",
        format!(
            "{}Body\twith\ttabs.\n",
            FM.replace("title: T", "title: \"T\\twith a tab\"")
        )
        .as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn byte_order_mark_and_windows_line_endings_build() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(
        format!("{FM}## Heading\n\nBody.\n")
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    let r = build_with("windows.md", &bytes);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn yaml_alias_bomb() {
    let mut yaml = String::from(
        "---\ntitle: Bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in 'b'..='r' {
        yaml.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = c;
    }
    yaml.push_str("---\nx\n");
    let r = build_with("bomb.md", yaml.as_bytes());
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("anchors"), "{}", r.stderr);
}

#[test]
fn deeply_nested_yaml() {
    let deep = format!(
        "---\ntitle: Deep\nx: {}{}\n---\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let r = build_with("deep.md", deep.as_bytes());
    assert_eq!(r.code, 1);
}

#[test]
fn twenty_megabytes_of_markdown_build() {
    let para = "Lorem ipsum dolor sit amet, *consectetur* adipiscing elit, with a [link](https://example.org/). ";
    let mut body = String::with_capacity(21 * 1024 * 1024);
    let mut n = 0;
    while body.len() < 20 * 1024 * 1024 {
        body.push_str(&format!("## Section {n}\n\n"));
        for _ in 0..12 {
            body.push_str(para);
        }
        body.push_str("\n\n");
        n += 1;
    }
    let r = build_with("huge.md", format!("{FM}{body}").as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_hundred_thousand_nested_blockquotes() {
    let r = build_with(
        "nested.md",
        format!("{FM}{}deep\n", "> ".repeat(100_000)).as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn deeply_nested_lists_and_brackets() {
    let lists: String = (0..5_000)
        .map(|i| format!("{}- item\n", "  ".repeat(i)))
        .collect();
    let brackets = "[".repeat(50_000);
    let emphasis = "*a ".repeat(50_000);
    let r = build_with(
        "nests.md",
        format!("{FM}{lists}\n\n{brackets}\n\n{emphasis}\n").as_bytes(),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn a_fifty_megabyte_file_is_refused_with_a_reason() {
    let mut bytes = FM.as_bytes().to_vec();
    bytes.resize(50 * 1024 * 1024, b'a');
    let r = build_with("video.md", &bytes);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("this file is 50 MB; casebook reads Markdown files up to 32 MB"),
        "{}",
        r.stderr
    );
}

#[test]
fn nul_bytes_and_control_characters() {
    // Refused with a reason (tests/it/bad_input.rs checks where), never a
    // crash.
    let r = build_with(
        "nul.md",
        format!("{FM}Body with a \0 NUL and \x07 bell.\n").as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("U+0000 (NUL)"), "{}", r.stderr);
    let r = build_with(
        "nul-title.md",
        FM.replace("title: T", "title: \"a\\0b\"").as_bytes(),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("`title` holds a control character"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_hundred_thousand_tags_on_one_page_are_refused_by_check() {
    let tags: Vec<String> = (0..100_000).map(|i| format!("t{i}")).collect();
    let fm = FM.replace(
        "summary: S\n",
        &format!("summary: S\ntags: [{}]\n", tags.join(", ")),
    );
    let r = build_with("tags.md", format!("{fm}Body.\n").as_bytes());
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("`tags` has 100000 values; a page may have at most 50 in one taxonomy"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_page_with_many_terms_and_a_long_body_makes_output_of_its_size() {
    let site = Site::empty("title = \"Robust\"\n");
    let tags: Vec<String> = (0..50).map(|i| format!("tag{i}")).collect();
    let countries: Vec<String> = (0..50).map(|i| format!("Country {i}")).collect();
    let fm = FM.replace(
        "summary: S\n",
        &format!(
            "summary: S\ntags: [{}]\ncountry: [{}]\n",
            tags.join(", "),
            countries.join(", ")
        ),
    );
    // A megabyte of text: the page's entry in 101 feeds.
    let body = "A sentence of the story, long enough to count. ".repeat(22_000);
    let input = fm.len() + body.len();
    site.write("content/case-studies/big.md", &format!("{fm}{body}\n"));
    site.write(
        "content/case-studies/small.md",
        &format!("{}A short story.\n", fm.replace("title: T", "title: Small")),
    );
    site.build(&[]);
    let total: u64 = site
        .files()
        .iter()
        .map(|f| std::fs::metadata(site.out().join(f)).unwrap().len())
        .sum();
    assert!(
        total < 6 * input as u64,
        "{total} bytes written for {input} bytes of input"
    );
    for f in site.files().iter().filter(|f| f.ends_with("atom.xml")) {
        let feed = site.read(f);
        for entry in feed.split("<entry>").skip(1) {
            assert!(entry.matches("<category ").count() <= 25, "{f}");
            if entry.contains("/case-studies/big/") {
                assert!(!entry.contains("<content"), "{f}: the long page's text");
                assert!(entry.contains("<summary>S</summary>"), "{f}");
            }
        }
    }
    // The short page still carries its text.
    assert!(site.read("atom.xml").contains("A short story."));
}

#[test]
fn a_body_too_dense_with_markup_is_refused_before_it_is_read() {
    // Two megabytes of emphasis: the Markdown reader would hold a node per
    // mark (about 200 MB for this, 6 GB at 31 MB).
    let r = build_with(
        "dense.md",
        format!("{FM}{}", "*a* ".repeat(600_000)).as_bytes(),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "this page has 1200000 lines and Markdown marks; casebook renders pages of up to 1000000"
        ),
        "{}",
        r.stderr
    );
    // Long prose is fine.
    let prose = "Words of a long report, one line after another.\n".repeat(40_000);
    let r = build_with("prose.md", format!("{FM}{prose}").as_bytes());
    assert_eq!(r.code, 0, "{}", r.stderr);
}
