//! Arbitrary bytes as a content file: decoding, front-matter splitting and
//! YAML parsing must end in a page or diagnostics, never a panic, and every
//! diagnostic must name the file; where the quick YAML reader answers, it
//! answers as the full parser does.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::front_matter(data));
