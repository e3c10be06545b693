//! The journal that `immutag rollback` reads, then the summary and rollback decisions made
//! from it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(contents) = immutag_core::journal::parse_journal(text) {
        let _ = immutag_core::journal::summarize(&contents.records);
    }
});
