//! The whole output of small fixtures, compared file by file with the
//! expected trees kept in the repository (`tests/expected/<fixture>/`), so
//! any change to what casebook writes shows up as a diff in review. How to
//! accept an intended change: see [`crate::common::snapshot`].

use crate::common::snapshot;

#[test]
fn basic_fixture_matches_expected_tree() {
    snapshot::build("basic");
}

/// Terms spelt with different case, spacing and accents across five case
/// studies: one term page each, under one slug.
#[test]
fn grouping_fixture_matches_expected_tree() {
    snapshot::build("grouping");
}

#[test]
fn every_expected_folder_belongs_to_a_fixture() {
    let expected = snapshot::expected_dir("");
    for entry in std::fs::read_dir(&expected).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            crate::common::fixture(&name).is_dir(),
            "tests/expected/{name}/ has no site in tests/fixtures/{name}/"
        );
    }
}
