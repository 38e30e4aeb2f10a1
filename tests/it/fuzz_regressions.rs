//! Replays the fuzz targets' seeds and every input that once made a target
//! fail (`fuzz/regressions/<target>-<name>`) through the same checks the
//! fuzzers run, so a fixed crash stays fixed without a nightly toolchain.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn inputs(dir: &Path, prefix: Option<&str>) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            prefix.is_none_or(|pre| name.starts_with(&format!("{pre}-")))
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut all = inputs(&root.join("seeds").join(target), None);
    all.extend(inputs(&root.join("regressions"), Some(target)));
    for (name, data) in &all {
        if std::panic::catch_unwind(|| check(data)).is_err() {
            panic!("fuzz input {name} fails the {target} check");
        }
    }
    all.len()
}

#[test]
fn front_matter_inputs_replay_cleanly() {
    assert!(replay("front_matter", checks::front_matter) >= 10);
}

#[test]
fn markdown_inputs_replay_cleanly() {
    assert!(replay("markdown", checks::markdown) >= 3);
}

#[test]
fn slug_inputs_replay_cleanly() {
    assert!(replay("slug", checks::slug) >= 2);
}
