//! How much an exempt-principal pattern (`ArnNotLike` on `aws:PrincipalArn`) exempts.
//!
//! One judgement shared by the generator (which refuses an exemption of everyone and warns
//! about a broad one) and the linter (which reports the same on existing policies).
//!
//! A pattern exempts *everyone* when it matches every role, or every user, of every account
//! of a partition: `*`, `arn:aws:iam::*:*`, `arn:aws:iam::*:role/*`, `arn:aws:iam::*:user/*`,
//! `arn:aws:iam::*:*/*`, `arn:*`. The test is made against probe ARNs whose variable parts
//! (account, name, path) share no character, so a pattern with any literal character in a
//! variable part misses one of them. A pattern is *broad* when it is not that but its last
//! segment (after the last `/`, or after the last `:` when there is no `/`) is wildcards
//! only: every role of one account (`arn:aws:iam::111122223333:role/*`) or every role under
//! a path (`role/aws-reserved/*`).

use schemars::JsonSchema;
use serde::Serialize;

use crate::wildcard;

/// How much an exempt-principal pattern exempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Breadth {
    /// Names particular principals (or a family of them by a literal name part).
    Narrow,
    /// Every principal of one account, or under one path: the control binds only the rest.
    Broad,
    /// Every role (or every user) of every account: the control locks (almost) no one.
    Everyone(Everyone),
}

/// Which principals an all-exempting pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Everyone {
    /// Every role and every user.
    RolesAndUsers,
    /// Every role (workloads, pipelines and people through SSO all act as roles).
    Roles,
    /// Every IAM user.
    Users,
}

impl Everyone {
    /// What the pattern matches, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Everyone::RolesAndUsers => "every role and every user of every account",
            Everyone::Roles => "every role of every account",
            Everyone::Users => "every IAM user of every account",
        }
    }
}

const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];
// Accounts and names with no character in common: a literal in a variable part misses one.
const ACCOUNTS: [&str; 2] = ["111111111111", "222222222222"];
const NAMES: [&str; 2] = ["a", "Z9/y_8.B/q@=+,-"];

fn matches_every(pattern: &str, partition: &str, kind: &str) -> bool {
    ACCOUNTS.iter().all(|account| {
        NAMES.iter().all(|name| {
            let arn = format!("arn:{partition}:iam::{account}:{kind}/{name}");
            wildcard::matches(pattern, &arn, false)
        })
    })
}

/// How much `pattern` (an IAM ARN pattern, wildcards `*` and `?`) exempts.
///
/// ```
/// use immutag_scp::principal::{breadth, Breadth, Everyone};
/// assert_eq!(breadth("arn:aws:iam::*:role/ImmutagPlatform"), Breadth::Narrow);
/// assert_eq!(breadth("arn:aws:iam::*:role/*"), Breadth::Everyone(Everyone::Roles));
/// assert_eq!(breadth("arn:aws:iam::*:*"), Breadth::Everyone(Everyone::RolesAndUsers));
/// assert_eq!(breadth("arn:aws:iam::111122223333:role/*"), Breadth::Broad);
/// assert_eq!(breadth("arn:aws:iam::*:role/aws-reserved/*"), Breadth::Broad);
/// ```
pub fn breadth(pattern: &str) -> Breadth {
    for partition in PARTITIONS {
        let roles = matches_every(pattern, partition, "role");
        let users = matches_every(pattern, partition, "user");
        match (roles, users) {
            (true, true) => return Breadth::Everyone(Everyone::RolesAndUsers),
            (true, false) => return Breadth::Everyone(Everyone::Roles),
            (false, true) => return Breadth::Everyone(Everyone::Users),
            (false, false) => {}
        }
    }
    let last = match pattern.rsplit_once('/') {
        Some((_, last)) => last,
        None => pattern.rsplit_once(':').map_or(pattern, |(_, last)| last),
    };
    if last.chars().all(|c| c == '*' || c == '?') {
        Breadth::Broad
    } else {
        Breadth::Narrow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone() {
        for (p, who) in [
            ("*", Everyone::RolesAndUsers),
            ("arn:*", Everyone::RolesAndUsers),
            ("arn:aws:iam::*:*", Everyone::RolesAndUsers),
            ("arn:aws:iam::*:*/*", Everyone::RolesAndUsers),
            ("arn:*:iam::*:role/*", Everyone::Roles),
            ("arn:aws:iam::*:role/*", Everyone::Roles),
            ("arn:aws:iam::*:role/?*", Everyone::Roles),
            ("arn:aws:iam::????????????:role*", Everyone::Roles),
            ("arn:aws-cn:iam::*:user/*", Everyone::Users),
            ("*:role/*", Everyone::Roles),
        ] {
            assert_eq!(breadth(p), Breadth::Everyone(who), "{p}");
        }
    }

    #[test]
    fn broad_and_narrow() {
        for p in [
            "arn:aws:iam::111122223333:role/*",
            "arn:aws:iam::111122223333:*",
            "arn:aws:iam::*:role/aws-reserved/*",
            "arn:aws:iam::*:role/pipelines/*",
            "arn:aws:iam::*:role/*/*",
            "arn:aws:iam::1*:role/*",
        ] {
            assert_eq!(breadth(p), Breadth::Broad, "{p}");
        }
        for p in [
            "arn:aws:iam::*:role/ImmutagPlatform",
            "arn:aws:iam::*:role/cdk-*-cfn-exec-role-*",
            "arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_BreakGlass_*",
            "arn:aws:iam::*:role/*a*",
        ] {
            assert_eq!(breadth(p), Breadth::Narrow, "{p}");
        }
    }
}
