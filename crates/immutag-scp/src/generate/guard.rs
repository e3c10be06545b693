//! The generator's promise: never emit a condition key IAM does not know for an action.

use crate::error::ScpError;
use crate::keys::{self, KeyStatus};
use crate::policy::{ConditionValue, Statement};

/// Refuses a statement whose condition names a key the reference does not list for one
/// of its actions (the generator's promise: never emit a key IAM does not know).
pub(crate) fn condition_keys(s: &Statement) -> Result<(), ScpError> {
    let Some(condition) = &s.condition else {
        return Ok(());
    };
    let actions: Vec<&String> = s.action.iter().flat_map(|a| a.iter()).collect();
    for (op, key, values) in condition.entries() {
        if keys::is_mutability_key(key) {
            return Err(ScpError::NoSuchConditionKey {
                key: key.to_owned(),
            });
        }
        for action in &actions {
            let Some(entry) = keys::ecr_action(action) else {
                continue;
            };
            let status = keys::key_status(entry, key);
            if status == KeyStatus::UnknownEcrKey {
                return Err(ScpError::NoSuchConditionKey {
                    key: key.to_owned(),
                });
            }
            if !status.can_be_present() {
                let values: Vec<String> = values.iter().map(ConditionValue::as_text).collect();
                let listed: Vec<&str> = entry.all_keys().collect();
                return Err(ScpError::ConditionKeyNotListed {
                    key: key.to_owned(),
                    action: (*action).clone(),
                    operator: op.to_string(),
                    outcome: if op.result_when_key_absent(&values) {
                        "always true (the Deny would apply to every call)"
                    } else {
                        "never true (the statement would never apply)"
                    },
                    listed: if listed.is_empty() {
                        "only global keys such as aws:PrincipalArn and aws:RequestedRegion"
                            .to_owned()
                    } else {
                        format!("{} and the global keys", listed.join(", "))
                    },
                });
            }
        }
    }
    Ok(())
}
