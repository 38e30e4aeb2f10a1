//! Measures the preview server's incremental rebuild: builds a site once,
//! then edits one case study several times and times each rebuild, stage by
//! stage — the work `casebook serve` does between a save and the reload.
//!
//! ```text
//! cargo run --release --example rebuild_bench -- SITE_DIR [EDITS] [body|summary]
//! ```
//!
//! The case study edited is the first one in `content/case-studies/`; its
//! text is restored at the end. A `body` edit (the default) adds a sentence
//! to the text, the usual save; a `summary` edit changes the summary in the
//! front matter, which every listing showing the page's card must follow.

use std::path::PathBuf;
use std::time::Instant;

use casebook::serve::{Changes, Session};

/// The allocator the `casebook` binary uses, so that the figures are the
/// server's.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().expect("usage: rebuild_bench SITE_DIR [EDITS]"));
    let edits: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10);
    let summary = match args.next().as_deref() {
        None | Some("body") => false,
        Some("summary") => true,
        Some(other) => panic!("edit kind must be body or summary, not {other}"),
    };
    let out = std::env::temp_dir().join(format!("casebook-rebuild-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);

    let mut session = Session::new(&root, &out, "http://127.0.0.1:1111/", false);
    let t = Instant::now();
    let first = session.rebuild(&Changes::all()).expect("the site builds");
    println!(
        "first build: {} files in {:.0} ms",
        first.pages_written,
        t.elapsed().as_secs_f64() * 1000.0
    );

    let dir = root.join("content/case-studies");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let file = files
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .expect("a case study");
    let rel = file
        .strip_prefix(root.join("content"))
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    let original = std::fs::read_to_string(&file).unwrap();

    let mut totals = Vec::new();
    let mut cpu = 0.0;
    let mut stages: Vec<(&'static str, f64)> = Vec::new();
    for n in 0..edits {
        let text = if summary {
            assert!(
                original.contains("\nsummary: "),
                "the case study has a summary"
            );
            original.replacen("\nsummary: ", &format!("\nsummary: Edit number {n}. "), 1)
        } else {
            format!("{original}\nEdit number {n}.\n")
        };
        std::fs::write(&file, text).unwrap();
        let mut changes = Changes::default();
        changes.content.insert(rel.clone());
        let c = cpu_ms();
        let t = Instant::now();
        let r = session.rebuild(&changes).expect("the edit builds");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        cpu += cpu_ms().zip(c).map_or(0.0, |(b, a)| b - a);
        totals.push(ms);
        for (i, (stage, took)) in r.timings.stages.iter().enumerate() {
            if stages.len() <= i {
                stages.push((stage, 0.0));
            }
            stages[i].1 += took.as_secs_f64() * 1000.0;
        }
        println!(
            "edit {n}: {} files rewritten in {ms:.1} ms",
            r.pages_written
        );
        if n == 0 {
            println!("  rewritten: {}", session.last_written().join(" "));
        }
    }
    std::fs::write(&file, &original).unwrap();
    let _ = std::fs::remove_dir_all(&out);

    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    println!("median rebuild after one edit: {median:.1} ms (of {edits})");
    if cpu_ms().is_some() {
        // Less moved by the machine's other work than the wall time; in
        // clock ticks, so only the mean over many edits means anything.
        println!(
            "  CPU time, all threads {:>7.1} ms (mean)",
            cpu / edits as f64
        );
    }
    for (stage, sum) in stages {
        println!("  {stage:<20} {:>7.1} ms (mean)", sum / edits as f64);
    }
}

/// The process's user and system CPU time so far, all threads, in ms
/// (Linux only: from `/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: utime and stime are the 12th and 13th of them.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ').skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) * 10.0)
}
