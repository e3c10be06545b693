//! The lock lints (SCPs only): a Deny on a guarded action is a lock, and a lock must
//! exempt someone (else no one, not even remediation, can act again), must exempt by a
//! negated principal condition (a positive one denies only the principals it names), and
//! must not exempt everyone (else it locks nothing).

use crate::condition::{BaseOperator, ConditionOperator};
use crate::keys::{self, EcrAction};
use crate::policy::{Condition, ConditionValue, Effect, Statement};
use crate::principal::{self, Breadth};

use super::conditions::names;
use super::{FindingCode, Severity, StatementFindings};

/// The actions whose Deny is a lock: who may do them decides whether a tag stays one image.
pub const LOCK_ACTIONS: &[&str] = &[
    "PutImageTagMutability",
    "CreateRepository",
    "CreateRepositoryCreationTemplate",
    "UpdateRepositoryCreationTemplate",
    "DeleteRepositoryCreationTemplate",
    "BatchDeleteImage",
    "DeleteRepository",
];

/// The tagging actions: a lock when the Deny conditions on the tag keys (it guards an
/// exemption tag).
pub const TAG_LOCK_ACTIONS: &[&str] = &["TagResource", "UntagResource"];

/// True for the operators that name whom the statement applies to (rather than whom it
/// spares): on a Deny they deny only the principals that match.
fn is_positive(op: &ConditionOperator) -> bool {
    matches!(
        op.base,
        BaseOperator::StringEquals
            | BaseOperator::StringEqualsIgnoreCase
            | BaseOperator::StringLike
            | BaseOperator::ArnEquals
            | BaseOperator::ArnLike
    )
}

/// True for the negated operators that read `*` and `?` as wildcards in an ARN
/// (`ArnNotEquals` matches like `ArnNotLike`; `StringNotEquals` compares exactly).
fn exempts_by_pattern(op: &ConditionOperator) -> bool {
    matches!(
        op.base,
        BaseOperator::ArnNotLike | BaseOperator::ArnNotEquals | BaseOperator::StringNotLike
    )
}

/// Lints a statement's lock: lockout, positive principal conditions, exemptions of everyone.
pub(super) fn lint(
    s: &Statement,
    condition: &Condition,
    covered: &[&'static EcrAction],
    out: &mut StatementFindings<'_>,
) {
    // Judged on Denies aimed at ECR (every Action names the ecr service): a broad guardrail
    // (`"Action": "*"`, `NotAction`, a region deny, a quarantine by principal tag) blocks
    // ECR on purpose.
    let aimed_at_ecr = s.action.as_ref().is_some_and(|actions| {
        actions.iter().all(|a| {
            a.split_once(':')
                .is_some_and(|(svc, _)| svc.eq_ignore_ascii_case("ecr"))
        })
    });
    if s.effect != Effect::Deny || !aimed_at_ecr {
        return;
    }
    let tag_keyed = condition.entries().any(|(_, key, _)| tag_keyed_key(key));
    let locked: Vec<&EcrAction> = covered
        .iter()
        .copied()
        .filter(|a| LOCK_ACTIONS.contains(&a.name))
        .collect();
    let guarded: Vec<&EcrAction> = covered
        .iter()
        .copied()
        .filter(|a| {
            LOCK_ACTIONS.contains(&a.name) || (tag_keyed && TAG_LOCK_ACTIONS.contains(&a.name))
        })
        .collect();
    if guarded.is_empty() {
        return;
    }

    let exempts_someone = condition
        .entries()
        .any(|(_, key, _)| keys::is_principal_key(key) || tag_keyed_key(key));
    if !locked.is_empty() && !exempts_someone {
        out.push(
            FindingCode::NoPrincipalExemption,
            Severity::Error,
            format!(
                "this Deny on {} exempts no principal: in every account it is attached to, no one (not the platform role that runs remediation, not a break-glass role) can do these actions again",
                names(&locked)
            ),
            "add \"ArnNotLike\": {\"aws:PrincipalArn\": [\"arn:aws:iam::*:role/ImmutagPlatform\", ...]} naming the platform and break-glass roles",
        );
    }

    for (op, key, values) in condition.entries() {
        let values: Vec<String> = values.iter().map(ConditionValue::as_text).collect();
        if keys::is_identity_key(key) && is_positive(op) {
            out.push(
                FindingCode::PositivePrincipalCondition,
                Severity::Error,
                format!(
                    "this Deny on {} applies only to principals whose `{key}` matches `{op}` [{}]: every other principal can still do these actions, so the lock locks only the principals it names",
                    names(&guarded),
                    values.join(", ")
                ),
                "turn the condition around: \"ArnNotLike\": {\"aws:PrincipalArn\": [...]} lists the principals to exempt and the Deny applies to everyone else (`immutag scp generate --preset baseline` shows the form)",
            );
        }
        if key.eq_ignore_ascii_case("aws:PrincipalArn") && exempts_by_pattern(op) {
            for v in &values {
                match principal::breadth(v) {
                    Breadth::Narrow => {}
                    Breadth::Everyone(who) => out.push(
                        FindingCode::ExemptionMatchesEveryone,
                        Severity::Error,
                        format!(
                            "the exemption `{v}` (`{op}` on aws:PrincipalArn) matches {}: the Deny on {} applies to (almost) no one, so it locks nothing",
                            who.describe(),
                            names(&guarded)
                        ),
                        "name the exempt roles instead (arn:aws:iam::*:role/ImmutagPlatform, arn:aws:iam::*:role/PATH/NAME-*)",
                    ),
                    Breadth::Broad => out.push(
                        FindingCode::BroadExemption,
                        Severity::Warning,
                        format!(
                            "the exemption `{v}` ends in a wildcard segment: it exempts every principal of that account or path, and the Deny on {} binds only the others",
                            names(&guarded)
                        ),
                        "narrow it to the roles that need the exemption; a path such as role/platform/* is fine when only platform roles live under it",
                    ),
                }
            }
        }
    }
}

/// A request-tag key: a Deny conditioned on it guards (or requires) a tag, and so spares
/// whoever does not set that tag.
fn tag_keyed_key(key: &str) -> bool {
    keys::key_matches("aws:RequestTag/${TagKey}", key) || keys::key_matches("aws:TagKeys", key)
}
