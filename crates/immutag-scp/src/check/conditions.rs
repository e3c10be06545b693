//! The condition lints: keys no ECR request carries (`ecr:ImageTagMutability`), unknown
//! global keys, and what an operator does on a key the request never carries (always true:
//! the condition does not narrow; never true: the statement never applies).

use crate::keys::{self, ECR_ACTIONS, EcrAction, KeyStatus, NO_MUTABILITY_KEY_EXPLANATION};
use crate::policy::{Condition, ConditionValue, Effect, Statement};
use crate::wildcard;

use super::{FindingCode, GENERATE_HINT, Severity, StatementFindings};

/// The ECR actions a statement covers, and the `ecr:` action names it gives that the
/// reference does not list.
pub(super) fn covered_ecr_actions(s: &Statement) -> (Vec<&'static EcrAction>, Vec<String>) {
    let full = |a: &EcrAction| format!("ecr:{}", a.name);
    let mut unknown = Vec::new();
    let covered = if let Some(actions) = &s.action {
        let mut covered: Vec<&'static EcrAction> = Vec::new();
        for pattern in actions {
            let hits: Vec<&'static EcrAction> = ECR_ACTIONS
                .iter()
                .filter(|a| wildcard::matches(pattern, &full(a), true))
                .collect();
            if hits.is_empty() && keys::strip_ecr_prefix(pattern).is_some() {
                unknown.push(pattern.clone());
            }
            for h in hits {
                if !covered.contains(&h) {
                    covered.push(h);
                }
            }
        }
        covered
    } else if let Some(not_actions) = &s.not_action {
        ECR_ACTIONS
            .iter()
            .filter(|a| {
                !not_actions
                    .iter()
                    .any(|p| wildcard::matches(p, &full(a), true))
            })
            .collect()
    } else {
        Vec::new()
    };
    (covered, unknown)
}

/// Up to four action names, then "and N more".
pub(super) fn names(actions: &[&EcrAction]) -> String {
    const SHOWN: usize = 4;
    let mut out: Vec<String> = actions
        .iter()
        .take(SHOWN)
        .map(|a| format!("ecr:{}", a.name))
        .collect();
    if actions.len() > SHOWN {
        out.push(format!("and {} more", actions.len() - SHOWN));
    }
    out.join(", ")
}

fn listed_keys(action: &EcrAction) -> String {
    let listed: Vec<&str> = action.all_keys().collect();
    if listed.is_empty() {
        format!(
            "ecr:{} lists no key of its own: only global keys such as aws:PrincipalArn, aws:RequestedRegion",
            action.name
        )
    } else {
        format!(
            "ecr:{} lists {} besides the global keys such as aws:PrincipalArn",
            action.name,
            listed.join(", ")
        )
    }
}

/// Lints every entry of the statement's condition against the actions it covers.
pub(super) fn lint(
    s: &Statement,
    condition: &Condition,
    covered: &[&'static EcrAction],
    out: &mut StatementFindings<'_>,
) {
    for (op, key, values) in condition.entries() {
        let values: Vec<String> = values.iter().map(ConditionValue::as_text).collect();
        let mutability = keys::is_mutability_key(key);
        let unknown_ecr = mutability
            || (keys::strip_ecr_prefix(key).is_some()
                && !keys::ECR_SERVICE_KEYS
                    .iter()
                    .any(|k| keys::key_matches(k, key)));
        if unknown_ecr {
            let why = if mutability {
                NO_MUTABILITY_KEY_EXPLANATION.to_owned()
            } else {
                format!(
                    "the Service Authorization Reference ({}) lists no such key for ECR (it lists {})",
                    keys::CHECKED,
                    keys::ECR_SERVICE_KEYS.join(", ")
                )
            };
            out.push(
                FindingCode::UnknownConditionKey,
                Severity::Error,
                format!("condition key `{key}` does not exist: {why}"),
                &format!("remove the condition; {GENERATE_HINT}"),
            );
        } else if key.to_ascii_lowercase().starts_with("aws:")
            && covered
                .first()
                .is_some_and(|a| keys::key_status(a, key) == KeyStatus::UnknownGlobalKey)
        {
            out.push(
                FindingCode::UnknownConditionKey,
                Severity::Warning,
                format!(
                    "`{key}` is not a global condition key immutag knows (IAM User Guide, {}); if it is a misspelling (aws:PrincipleArn for aws:PrincipalArn), requests never carry it and `{op}` is always {}",
                    keys::CHECKED,
                    if op.result_when_key_absent(&values) {
                        "true"
                    } else {
                        "false"
                    }
                ),
                "check the spelling against the IAM global condition keys",
            );
        }

        let absent: Vec<&EcrAction> = covered
            .iter()
            .copied()
            .filter(|a| {
                // An unknown aws: key may be newer than the table: warned about above,
                // not asserted absent.
                let status = keys::key_status(a, key);
                !status.can_be_present() && status != KeyStatus::UnknownGlobalKey
            })
            .collect();
        if absent.is_empty() {
            continue;
        }
        let what = if condition.entries().count() > 1 {
            "every call its other conditions let through"
        } else {
            "every call (it has no other condition)"
        };
        if op.result_when_key_absent(&values) {
            let message = match s.effect {
                Effect::Deny => format!(
                    "requests for {} never carry `{key}`, so `{op}` is always true for them: this condition does not narrow the Deny, which applies to {what}",
                    names(&absent)
                ),
                Effect::Allow => format!(
                    "requests for {} never carry `{key}`, so `{op}` is always true for them: the Allow is granted whatever the condition says",
                    names(&absent)
                ),
            };
            out.push(
                FindingCode::ConditionAlwaysTrue,
                Severity::Error,
                message,
                &format!(
                    "use a key the action lists ({}); {GENERATE_HINT}",
                    listed_keys(absent[0])
                ),
            );
        } else if absent.len() == covered.len() {
            let message = format!(
                "requests for {} never carry `{key}`, so `{op}` is never true: this {} never applies to them",
                names(&absent),
                s.effect
            );
            out.push(
                FindingCode::StatementNeverApplies,
                Severity::Error,
                message,
                &format!(
                    "use a key the action lists ({}), or remove the statement",
                    listed_keys(absent[0])
                ),
            );
        }
    }
}
