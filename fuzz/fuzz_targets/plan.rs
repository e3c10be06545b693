//! The plan document that `immutag remediate --plan` reads.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = immutag_core::plan::parse_plan(text);
});
