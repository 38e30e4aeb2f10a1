//! casebook's integration tests, in one test binary (`it`), one module per
//! area. Each test runs the real `casebook` binary on a fixture site copied
//! into a temporary folder (see [`common`]).
//!
//! - `tests/fixtures/<name>/`: a site, one per behaviour.
//! - `tests/expected/<name>/`: what casebook makes of that site, where a
//!   test compares all of it: its output (`public/`, `files.txt`) or its
//!   diagnostics (`check.stderr`). See [`common::snapshot`], which also says
//!   how to accept an intended change (`SNAPSHOTS=overwrite`).
//! - `tests/browser/`, `tests/clients/`, `tests/load/`: the scripts and npm
//!   packages that the `browser`, `clients` and `load` modules run.
//!
//! One binary rather than one per file: the test harness and the library
//! are linked once, not nineteen times. Run one area with
//! `cargo test --test it build::`, one test by its name as usual.

mod common;

mod bad_input;
mod browser;
mod build;
mod check;
mod clients;
mod discovery;
mod disk_full;
mod expected_tree;
mod fuzz_regressions;
mod incremental;
mod load;
mod output_safety;
mod photos;
mod publish;
mod robustness;
mod safety;
mod serve;
mod server_limits;
mod taxonomies;
mod templates;
