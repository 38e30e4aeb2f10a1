//! Arbitrary Markdown through the renderer, with link rewriting under a
//! subpath and `@/` source links: no panic, and with raw HTML off no script
//! element or script link ever comes out.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::markdown(data));
