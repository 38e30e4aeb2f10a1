//! Any text to a slug: the result is always a single, safe path segment.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::slug(data));
