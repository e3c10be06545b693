//! The Config rule event as the Lambda receives it (a JSON object whose `invokingEvent` and
//! `ruleParameters` are JSON strings), read by core's Config reader.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = immutag_core::input::config::parse(data, Some("event.json")) else {
        return;
    };
    let params = input.rule_parameters.unwrap_or_default();
    for repo in &input.repositories {
        immutag_fuzz::check(&immutag_core::evaluate(repo, &params), &params);
    }
});
