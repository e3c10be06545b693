//! The Config rule event as the Lambda receives it (a JSON object whose `invokingEvent` and
//! `ruleParameters` are JSON strings), read by the one rule-event reader the Lambda uses
//! (`immutag_core::input::config::parse_rule_event`); an item in the event is evaluated and
//! its verdict checked.
#![no_main]

use immutag_core::input::config::{InvokingEvent, parse_rule_event};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = parse_rule_event(data) else {
        return;
    };
    let _ = event.partition();
    let _ = event.rule_region();
    let _ = event.message.message_type();
    let params = event.rule_parameters.unwrap_or_default();
    if let InvokingEvent::ConfigurationItemChange(change) = &event.message {
        immutag_fuzz::check(&immutag_core::evaluate(&change.repository, &params), &params);
    }
});
