//! Rule parameters: Config's `ruleParameters` string, and `KEY=VALUE` pairs (one a line).
#![no_main]

use immutag_core::RuleParameters;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = RuleParameters::from_json(text) {
        assert!(p.allowed_exclusion_filters.iter().all(|f| !immutag_core::wildcard::is_catch_all(f)));
    }
    let _ = RuleParameters::from_pairs(text.lines());
});
