//! `immutag_core::input::parse` as `auto`, then evaluation of what it read.
#![no_main]

use immutag_core::input::InputFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    immutag_fuzz::parse_and_check(data, InputFormat::Auto);
});
