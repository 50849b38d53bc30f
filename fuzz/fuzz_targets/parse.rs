//! The parser on arbitrary text: never a panic, a hang or a stack overflow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapctl::source::FileId;
use mapctl::syntax::{Limits, parse};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse(text, FileId(0), &Limits::default());
    }
});
