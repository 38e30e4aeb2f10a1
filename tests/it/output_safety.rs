//! The output folder is the only place a build writes or deletes: it can
//! never be the site, its sources, the home folder or `/`; no name from the
//! content can point a file outside it; cleaning it follows no symbolic
//! link out; and a symbolic-link loop in content/ ends with a diagnostic.

use crate::common;

use std::path::{Path, PathBuf};

use common::{Site, list_files, stderr};

/// Every file under `dir`, except the output folder's.
fn files_outside_output(dir: &Path) -> Vec<String> {
    list_files(dir)
        .into_iter()
        .filter(|f| !f.starts_with("public/"))
        .collect()
}

#[test]
fn the_output_can_never_be_the_site_its_sources_home_or_root() {
    let site = Site::from_fixture("basic");
    std::fs::create_dir_all(site.root().join("themes/mine")).unwrap();
    std::fs::create_dir_all(site.root().join("static")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let root = site.root().to_path_buf();
    let cases: Vec<(PathBuf, &str)> = vec![
        (root.clone(), "contains the site itself"),
        (root.join("content"), "inside the site's content"),
        (
            root.join("content/case-studies"),
            "inside the site's content",
        ),
        (root.join("themes"), "inside the site's themes"),
        (root.join("static"), "inside the site's static"),
        (root.join("public/../content"), "inside the site's content"),
        (home.path().to_path_buf(), "your home folder"),
        (
            home.path().parent().unwrap().to_path_buf(),
            "contains the site itself",
        ),
        (PathBuf::from("/"), "root of the file system"),
    ];
    for (out, why) in cases {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["build", "--root"])
            .arg(&root)
            .arg("--output")
            .arg(&out)
            .env("HOME", home.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "--output {}", out.display());
        let err = stderr(&o);
        assert!(err.contains("refusing to write the site into"), "{err}");
        assert!(err.contains(why), "--output {}: {err}", out.display());
    }
    // A symbolic link that leads into the sources is seen through.
    let link = tempfile::tempdir().unwrap();
    let sneaky = link.path().join("out");
    std::os::unix::fs::symlink(root.join("content"), &sneaky).unwrap();
    let o = site.run(&["build", "--output", sneaky.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inside the site's content"),
        "{}",
        stderr(&o)
    );
    assert!(root.join("content/case-studies/chatbot.md").exists());
}

#[test]
fn no_alias_writes_outside_the_output() {
    let site = Site::from_fixture("basic");
    let before = files_outside_output(site.root());
    let aliases = [
        "../escape/",
        "/../../escape/",
        "/%2e%2e/%2e%2e/escape/",
        "/%2E%2E%2Fescape/",
        "/a/..\\\\..\\\\escape/",
        "/nul\\u0000byte/",
        "//evil.example/x/",
        "C:\\\\escape\\\\",
        "/etc/../../escape/",
    ];
    let list: Vec<String> = aliases.iter().map(|a| format!("\"{a}\"")).collect();
    site.write(
        "content/case-studies/moved.md",
        &format!(
            "---\ntitle: Moved\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\naliases: [{}]\n---\nBody\n",
            list.join(", ")
        ),
    );
    let out = site.run(&["build"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not a path inside the site"), "{err}");
    assert_eq!(
        err.matches("is not a path inside the site").count(),
        aliases.len(),
        "every hostile alias is reported:\n{err}"
    );
    let mut after = files_outside_output(site.root());
    after.retain(|f| f != "content/case-studies/moved.md");
    assert_eq!(before, after, "nothing was written outside the output");
    assert!(!site.root().parent().unwrap().join("escape").exists());
}

#[test]
fn hostile_terms_and_file_names_stay_inside_the_output() {
    let site = Site::from_fixture("basic");
    site.write(
        "content/case-studies/terms.md",
        "---\ntitle: Terms\ndate: 2024-01-01\nngo: \"../../escape\"\nsector: [\"%2e%2e%2fescape\", \"..\\\\..\\\\windows\"]\nprogram: \"/etc/passwd\"\ncountry: \"nul/../byte\"\ntags: [ok]\nsummary: S\n---\nBody\n",
    );
    // A file whose name looks like a path: its slug comes from the name.
    site.write(
        "content/case-studies/a..%2f..%2fescape.md",
        "---\ntitle: Name\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\nsummary: S\n---\nBody\n",
    );
    let before = files_outside_output(site.root());
    site.build(&[]);
    assert_eq!(before, files_outside_output(site.root()));
    assert!(!site.root().parent().unwrap().join("escape").exists());
    let files = site.files();
    for f in &files {
        assert!(!f.contains(".."), "{f}");
        assert!(!f.contains('\\'), "{f}");
        assert!(!f.contains('%'), "{f}");
        assert!(!f.contains('\0'), "{f}");
    }
    // The terms became plain, safe slugs.
    for want in [
        "ngo/escape/index.html",
        "sector/2e-2e-2fescape/index.html",
        "sector/windows/index.html",
        "program/etc-passwd/index.html",
        "country/nul-byte/index.html",
        // A NUL in a term is refused before it gets this far
        // (tests/it/bad_input.rs).
    ] {
        assert!(files.iter().any(|f| f == want), "no {want} in {files:?}");
    }

    let named: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("case-studies/a") && f.ends_with("escape/index.html"))
        .collect();
    assert_eq!(
        named.len(),
        1,
        "the oddly named file is a page inside case-studies/: {files:?}"
    );

    // Terms with nothing to make a folder name from are errors.
    site.write(
        "content/case-studies/terms.md",
        "---\ntitle: Terms\ndate: 2024-01-01\nngo: N\nsector: Health\nprogram: P\ntags: [\"..\", \"~\"]\nsummary: S\n---\nBody\n",
    );
    let out = site.run(&["build"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Tag \"..\" has no letters or digits to make a URL from"),
        "{err}"
    );
    assert!(
        err.contains("Tag \"~\" has no letters or digits to make a URL from"),
        "{err}"
    );
}

#[test]
fn cleaning_the_output_follows_no_symbolic_link_out_of_it() {
    let site = Site::from_fixture("basic");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("precious.txt"), "keep me").unwrap();
    // An earlier build of casebook's, with links someone put into it.
    site.build(&[]);
    std::os::unix::fs::symlink(outside.path(), site.out().join("link")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("precious.txt"),
        site.out().join("stale.txt"),
    )
    .unwrap();
    std::fs::write(site.out().join("old.html"), "stale").unwrap();
    site.build(&[]);
    assert_eq!(
        std::fs::read_to_string(outside.path().join("precious.txt")).unwrap(),
        "keep me"
    );
    assert!(
        !site.out().join("old.html").exists(),
        "stale files are removed"
    );
    assert!(
        !site.out().join("link").exists(),
        "the link itself is removed, not its target"
    );
    // Built twice, the same.
    site.build(&[]);
    assert!(outside.path().join("precious.txt").exists());
}

#[test]
fn a_symbolic_link_loop_in_content_is_reported_not_followed_forever() {
    let site = Site::from_fixture("basic");
    std::os::unix::fs::symlink("..", site.root().join("content/case-studies/loop")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let root = site.root().to_path_buf();
    std::thread::spawn(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["check", "--root"])
            .arg(&root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("check did not finish: a symbolic-link loop was followed forever");
    let text = format!("{}{}", common::stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("content/case-studies/loop"), "{text}");
    assert!(text.contains("a loop"), "{text}");
}

/// Runs `casebook build` on `site`, failing the test if it does not finish
/// in a minute (a pipe read would wait for ever).
fn build_bounded(site: &Site) -> std::process::Output {
    let (tx, rx) = std::sync::mpsc::channel();
    let root = site.root().to_path_buf();
    std::thread::spawn(move || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["build", "--root"])
            .arg(&root)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let _ = tx.send(out);
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("the build did not finish: it waited on a special file")
}

#[test]
fn nothing_from_outside_the_site_is_read_or_published() {
    let site = Site::from_fixture("basic");
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "the secret").unwrap();
    std::fs::create_dir(outside.path().join("folder")).unwrap();
    std::fs::write(outside.path().join("folder/inner.txt"), "the secret").unwrap();
    std::fs::write(
        outside.path().join("story.md"),
        "---\ntitle: the secret\ndate: 2024-01-01\nngo: N\nsector: S\nprogram: P\nsummary: the secret\n---\nthe secret\n",
    )
    .unwrap();
    let link = |target: &Path, at: &str| {
        let at = site.root().join(at);
        std::fs::create_dir_all(at.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, at).unwrap();
    };
    link(&outside.path().join("secret.txt"), "static/secret.txt");
    link(&outside.path().join("folder"), "static/folder");
    link(Path::new("/etc/passwd"), "static/passwd");
    link(Path::new("/proc/self/environ"), "static/environ");
    link(
        &outside.path().join("secret.txt"),
        "themes/linked/static/theme-secret.txt",
    );
    link(
        &outside.path().join("story.md"),
        "content/case-studies/story.md",
    );
    site.write(
        "site.toml",
        &format!("theme = \"linked\"\n{}", site.source("site.toml")),
    );

    let out = build_bounded(&site);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let real = outside.path().canonicalize().unwrap();
    for (file, target) in [
        ("static/secret.txt", real.join("secret.txt")),
        ("static/folder", real.join("folder")),
        ("static/passwd", PathBuf::from("/etc/passwd")),
        (
            "themes/linked/static/theme-secret.txt",
            real.join("secret.txt"),
        ),
        ("content/case-studies/story.md", real.join("story.md")),
    ] {
        let want = format!(
            "error: this is a symbolic link to {}, outside the site: casebook reads and publishes only files inside the site's folder\n --> {file}\n",
            target.display()
        );
        assert!(err.contains(&want), "{want}\n{err}");
    }
    assert!(err.contains("--> static/environ"), "{err}");
    // Said once for the folder, not once per file in it.
    assert!(!err.contains("inner.txt"), "{err}");
    assert!(!site.out().exists(), "nothing was written");

    // Links inside the site are copied as the file they lead to; a pipe
    // is passed over with a warning, never opened.
    for f in [
        "static/secret.txt",
        "static/folder",
        "static/passwd",
        "static/environ",
    ] {
        std::fs::remove_file(site.root().join(f)).unwrap();
    }
    std::fs::remove_file(site.root().join("themes/linked/static/theme-secret.txt")).unwrap();
    std::fs::remove_file(site.root().join("content/case-studies/story.md")).unwrap();
    site.write("static/docs/real.txt", "inside the site");
    link(Path::new("docs/real.txt"), "static/alias.txt");
    link(
        &site.root().join("static/docs"),
        "themes/linked/static/docs-link",
    );
    let fifo = site.root().join("static/pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success(),
        "mkfifo"
    );
    let out = build_bounded(&site);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("warning: this is not a regular file (a pipe, socket or device); it is not read\n --> static/pipe"),
        "{err}"
    );
    assert_eq!(site.read("alias.txt"), "inside the site");
    assert_eq!(site.read("docs-link/real.txt"), "inside the site");
    assert!(
        !std::fs::symlink_metadata(site.out().join("alias.txt"))
            .unwrap()
            .is_symlink()
    );
    assert!(!site.exists("pipe"));
    let all: String = site
        .files()
        .iter()
        .map(|f| std::fs::read_to_string(site.out().join(f)).unwrap_or_default())
        .collect();
    assert!(!all.contains("the secret"));
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
fn only_a_folder_casebook_made_or_an_empty_one_is_replaced() {
    let site = Site::from_fixture("basic");
    // The site's own repository, a folder of documents, a plain file.
    site.write(".git/HEAD", "ref: refs/heads/main\n");
    site.write(".git/objects/ab/cdef", "object");
    let documents = tempfile::tempdir().unwrap();
    std::fs::write(documents.path().join("budget.xlsx"), "numbers").unwrap();
    site.write("notes.txt", "my notes");
    let git = contents(&site.root().join(".git"));
    for (out, why) in [
        (
            site.root().join(".git"),
            "it already holds files, and casebook did not make it (it has no .casebook-output file)",
        ),
        (
            documents.path().to_path_buf(),
            "it already holds files, and casebook did not make it",
        ),
        (site.root().join("notes.txt"), "it is a file, not a folder"),
    ] {
        for cmd in ["build", "serve"] {
            let mut args = vec![cmd, "--output", out.to_str().unwrap()];
            if cmd == "serve" {
                args.extend(["--port", "0"]);
            }
            let o = site.run(&args);
            let err = stderr(&o);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{cmd} --output {}: {err}",
                out.display()
            );
            assert!(
                err.contains(&format!(
                    "refusing to write the site into {}: {why}",
                    out.display()
                )),
                "{cmd}: {err}"
            );
            assert!(err.contains("help: choose a new"), "{err}");
        }
    }
    assert_eq!(contents(&site.root().join(".git")), git, ".git untouched");
    assert_eq!(
        std::fs::read_to_string(documents.path().join("budget.xlsx")).unwrap(),
        "numbers"
    );
    assert_eq!(site.source("notes.txt"), "my notes");

    // A symbolic link, even to casebook's own output, is not replaced.
    let linked = site.root().join("linked");
    std::os::unix::fs::symlink(documents.path(), &linked).unwrap();
    let o = site.run(&["build", "--output", linked.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("it is a symbolic link"),
        "{}",
        stderr(&o)
    );

    // An empty folder is taken, and marked; a folder casebook made is
    // replaced on the next build; files put into it by hand go.
    let empty = tempfile::tempdir().unwrap();
    let out = empty.path().join("site");
    std::fs::create_dir(&out).unwrap();
    site.build(&["--output", out.to_str().unwrap()]);
    assert!(out.join(".casebook-output").is_file());
    std::fs::write(out.join("stray.html"), "x").unwrap();
    site.build(&["--output", out.to_str().unwrap()]);
    assert!(!out.join("stray.html").exists());
    assert!(out.join("index.html").is_file());

    // A read-only output folder is refused, not replaced.
    let mut perms = std::fs::metadata(&out).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&out, perms.clone()).unwrap();
    let before = contents(&out);
    let o = site.run(&["build", "--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("it is read-only, so casebook will not replace it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(contents(&out), before);
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&out, perms).unwrap();
}

#[test]
fn a_build_killed_part_way_leaves_nothing_the_next_build_does_not_remove() {
    let site = Site::from_fixture("basic");
    // Enough pages that the build is still writing when it is killed.
    for n in 0..3000 {
        site.write(
            &format!("content/case-studies/many-{n}.md"),
            &format!(
                "---\ntitle: Case {n}\ndate: 2024-01-01\nngo: NGO {}\nsector: Health\nprogram: P\ntags: [t{}]\nsummary: S\n---\n{}\n",
                n % 50,
                n % 300,
                "Words of the story. ".repeat(40)
            ),
        );
    }
    let staging_of = |pid: u32| site.root().join(format!(".public.casebook-new-{pid}"));
    let mut killed = None;
    for _ in 0..5 {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
            .args(["build", "--root"])
            .arg(site.root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let staging = staging_of(child.id());
        let start = std::time::Instant::now();
        while !staging.join(".casebook-output").exists()
            && start.elapsed() < std::time::Duration::from_secs(60)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let _ = child.kill(); // SIGKILL: nothing is cleaned up
        let _ = child.wait();
        if staging.exists() {
            killed = Some(staging);
            break;
        }
    }
    let staging = killed.expect("a build was killed while writing its staging folder");
    // Someone else's folder with a name like casebook's is not casebook's.
    let lookalike = staging_of(999_999_999);
    std::fs::create_dir(&lookalike).unwrap();
    std::fs::write(lookalike.join("keep.txt"), "not casebook's").unwrap();

    site.build(&[]);
    assert!(
        !staging.exists(),
        "the killed build's staging folder is removed"
    );
    assert!(
        lookalike.join("keep.txt").exists(),
        "an unmarked folder is left alone"
    );
    let leftovers: Vec<String> = std::fs::read_dir(site.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("casebook-") && !n.ends_with("999999999"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
