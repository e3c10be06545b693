//! The event of one invocation: immutag-core's reader of Config rule events
//! ([`immutag_core::input::config::parse_rule_event`], the same one `immutag evaluate` uses)
//! plus what reporting needs: the account, the result token, the parameters, and times as
//! the AWS SDK's [`DateTime`].
//!
//! Everything is parsed and validated before the handler makes any AWS call, so that an
//! event that cannot be read reports nothing.

use aws_smithy_types::DateTime;
use immutag_core::RuleParameters;
use immutag_core::time::Timestamp;
use serde_json::Value;

pub use immutag_core::input::config::{
    InvokingEvent, ItemChange, ItemSummary, OversizedChange, Periodic, RuleEvent, RuleEventError,
};

/// A rule event with the members the handler cannot do without.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The event as read.
    pub event: RuleEvent,
    /// The account the event is about (`accountId`, else the invoking event's `awsAccountId`).
    pub account_id: String,
    /// The token for PutEvaluations (`resultToken`). A credential: never logged.
    pub result_token: String,
    /// The validated `ruleParameters` (defaults when the event has none).
    pub parameters: RuleParameters,
}

/// Reads the Lambda payload as a Config rule event. Besides what the reader refuses, an
/// event without `resultToken` (PutEvaluations needs it) or without an account is an error.
pub fn parse_event(payload: &Value) -> Result<Invocation, RuleEventError> {
    let bytes =
        serde_json::to_vec(payload).map_err(|e| RuleEventError::NotAConfigEvent(e.to_string()))?;
    let event = immutag_core::input::config::parse_rule_event(&bytes)?;
    let result_token = event
        .result_token
        .clone()
        .ok_or(RuleEventError::Missing("resultToken"))?;
    let account_id = event
        .account_id
        .clone()
        .ok_or(RuleEventError::Missing("accountId"))?;
    let parameters = event.rule_parameters.clone().unwrap_or_default();
    Ok(Invocation {
        event,
        account_id,
        result_token,
        parameters,
    })
}

/// A core timestamp as the AWS SDK's [`DateTime`] (nanosecond precision kept).
pub fn date_time(t: Timestamp) -> DateTime {
    let nanos = t.as_nanosecond();
    let secs = nanos.div_euclid(1_000_000_000);
    let sub = nanos.rem_euclid(1_000_000_000);
    DateTime::from_secs_and_nanos(
        i64::try_from(secs).unwrap_or(i64::MAX),
        u32::try_from(sub).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(invoking: Value) -> Value {
        json!({
            "version": "1.0",
            "invokingEvent": invoking.to_string(),
            "resultToken": "TESTMODE",
            "eventLeftScope": false,
            "configRuleArn": "arn:aws:config:eu-west-1:123456789012:config-rule/config-rule-abc",
            "configRuleName": "immutag",
            "accountId": "123456789012"
        })
    }

    #[test]
    fn the_token_and_the_account_are_required() {
        let mut e = event(
            json!({"notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
        );
        e["resultToken"] = Value::String(String::new());
        assert!(
            parse_event(&e)
                .unwrap_err()
                .to_string()
                .contains("`resultToken`")
        );
        let mut e = event(
            json!({"notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
        );
        e.as_object_mut().unwrap().remove("accountId");
        assert!(
            parse_event(&e)
                .unwrap_err()
                .to_string()
                .contains("`accountId`")
        );
        let ok = parse_event(&event(
            json!({"awsAccountId":"210987654321","notificationCreationTime":"2026-11-20T10:00:00Z","messageType":"ScheduledNotification"}),
        ))
        .unwrap();
        assert_eq!(
            ok.account_id, "123456789012",
            "the top-level accountId wins"
        );
        assert_eq!(ok.parameters, RuleParameters::default());
    }

    #[test]
    fn times_convert_to_the_sdk_with_their_fraction() {
        let t = immutag_core::time::parse("2026-11-20T10:00:00.373Z").unwrap();
        let d = date_time(t);
        assert_eq!(d.secs(), 1_795_168_800);
        assert_eq!(d.subsec_nanos(), 373_000_000);
        let before = immutag_core::time::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(date_time(before).as_secs_f64(), -0.5);
    }
}
