//! The whole output of a small fixture, compared byte for byte with an
//! expected tree kept in the repository, so any change to what casebook
//! writes shows up as a diff in review.
//!
//! After an intended change, regenerate with:
//!
//! ```text
//! CASEBOOK_BLESS=1 cargo test --test it expected_tree
//! ```

use crate::common;

use std::path::Path;

use common::{Site, copy_dir, list_files};

#[test]
fn basic_fixture_matches_expected_tree() {
    let site = Site::from_fixture("basic");
    site.build(&[]);
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected/basic");

    if std::env::var_os("CASEBOOK_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&expected);
        copy_dir(&site.out(), &expected);
        return;
    }

    let got = site.files();
    let want = list_files(&expected);
    assert_eq!(
        got, want,
        "the set of output files changed (CASEBOOK_BLESS=1 to accept)"
    );
    for f in &got {
        let a = std::fs::read(site.out().join(f)).unwrap();
        let b = std::fs::read(expected.join(f)).unwrap();
        if a != b {
            let a = String::from_utf8_lossy(&a);
            let b = String::from_utf8_lossy(&b);
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or_else(|| a.lines().count().min(b.lines().count()));
            panic!(
                "{f} differs from tests/expected/basic/{f} at line {}:\n  got:      {}\n  expected: {}\n(CASEBOOK_BLESS=1 cargo test --test it expected_tree to accept)",
                line + 1,
                a.lines().nth(line).unwrap_or("<end of file>"),
                b.lines().nth(line).unwrap_or("<end of file>"),
            );
        }
    }
}
