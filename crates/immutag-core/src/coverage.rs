//! Registry coverage: whether the repositories ECR creates by itself, for pull-through cache
//! rules and replication rules, get their settings from a creation template. Without one, ECR
//! creates them with the defaults: MUTABLE. Pure: the facts are read elsewhere (immutag-aws).
//!
//! * A pull-through cache rule with `ecrRepositoryPrefix` `P` creates repositories `P/...` in its
//!   own registry: covered when a template of that registry applied for `PULL_THROUGH_CACHE` has
//!   the prefix `ROOT`, `P`, or a namespace enclosing `P`.
//! * A replication rule creates repositories in each destination registry: covered when a
//!   template of the destination applied for `REPLICATION` covers every name the rule
//!   replicates (`ROOT` covers all; a namespace `N` covers a `PREFIX_MATCH` filter that begins
//!   with `N/`). A destination whose templates were not read (not among the targets, or
//!   unreadable) is not covered: it cannot be shown to be (fail closed).
//!
//! [`assess`] gives one NON_COMPLIANT [`Evaluation`] per registry whose rules are not all
//! covered ([`ResourceType::Registry`], id = the account, [`Reason::UncoveredCreation`]); a
//! covered registry gives none. Whether the templates themselves are IMMUTABLE is the
//! templates' own evaluation.
//!
//! ```
//! use immutag_core::coverage::{assess, RegistryFacts};
//! use immutag_core::{AppliedFor, Compliance, TemplatePrefix, TemplateScope};
//!
//! let mut registry = RegistryFacts::new("111122223333", "eu-west-1");
//! registry.pull_through_cache = vec!["docker-hub".into()];
//! let found = assess(&[registry.clone()]);
//! assert_eq!(found[0].compliance, Compliance::NonCompliant);
//! assert!(found[0].annotation.contains("docker-hub"));
//!
//! registry.templates = Some(vec![TemplateScope {
//!     prefix: Some(TemplatePrefix::Root),
//!     applied_for: vec![AppliedFor::PullThroughCache],
//! }]);
//! assert!(assess(&[registry]).is_empty());
//! ```

use std::collections::BTreeMap;

use crate::evaluate::{Compliance, Evaluation, Reason, clamp_annotation};
use crate::model::{
    AppliedFor, FilterSetting, InputKind, MutabilitySetting, ResourceType, Source, TemplatePrefix,
    TemplateScope,
};
use crate::text::printable;

/// What immutag read of one registry (one account in one region).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFacts {
    /// The account (registry id).
    pub account_id: String,
    /// The region.
    pub region: String,
    /// Its creation templates; `None` when they could not be read.
    pub templates: Option<Vec<TemplateScope>>,
    /// The `ecrRepositoryPrefix` of each of its pull-through cache rules.
    pub pull_through_cache: Vec<String>,
    /// Its replication rules (`DescribeRegistry`).
    pub replication: Vec<ReplicationRule>,
}

impl RegistryFacts {
    /// A registry with no templates read and no rules.
    pub fn new(account_id: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account_id: account_id.into(),
            region: region.into(),
            templates: None,
            pull_through_cache: Vec::new(),
            replication: Vec::new(),
        }
    }

    fn covers(&self, what: &AppliedFor, covered: impl Fn(&TemplatePrefix) -> bool) -> bool {
        self.templates
            .iter()
            .flatten()
            .any(|t| t.applies_for(what) && t.prefix.as_ref().is_some_and(&covered))
    }
}

/// One replication rule: where it replicates to, and which repositories.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicationRule {
    /// Destinations: (registry id, region).
    pub destinations: Vec<(String, String)>,
    /// `PREFIX_MATCH` repository filters; empty: every repository.
    pub prefixes: Vec<String>,
}

/// The coverage findings of `registries` (see the module documentation), in input order.
pub fn assess(registries: &[RegistryFacts]) -> Vec<Evaluation> {
    let by_key: BTreeMap<(&str, &str), &RegistryFacts> = registries
        .iter()
        .map(|r| ((r.account_id.as_str(), r.region.as_str()), r))
        .collect();
    registries
        .iter()
        .filter_map(|r| {
            let cache: Vec<&str> = r
                .pull_through_cache
                .iter()
                .filter(|p| !r.covers(&AppliedFor::PullThroughCache, |t| t.covers_namespace(p)))
                .map(String::as_str)
                .collect();
            let mut replication: Vec<String> = Vec::new();
            for rule in &r.replication {
                for (account, region) in &rule.destinations {
                    let destination = by_key.get(&(account.as_str(), region.as_str()));
                    let gap = match destination {
                        Some(d) if d.templates.is_some() => {
                            if covers_replicated(d, &rule.prefixes) {
                                continue;
                            }
                            "no REPLICATION template covers it"
                        }
                        _ => "its templates were not read (scan it too)",
                    };
                    replication.push(format!(
                        "{}/{} ({}; {gap})",
                        printable(account),
                        printable(region),
                        describe_filters(&rule.prefixes)
                    ));
                }
            }
            replication.dedup();
            (!cache.is_empty() || !replication.is_empty()).then(|| finding(r, &cache, &replication))
        })
        .collect()
}

/// True when `destination` has a REPLICATION template for every name the filters select.
fn covers_replicated(destination: &RegistryFacts, prefixes: &[String]) -> bool {
    if prefixes.is_empty() {
        return destination.covers(&AppliedFor::Replication, |t| *t == TemplatePrefix::Root);
    }
    prefixes.iter().all(|filter| {
        destination.covers(&AppliedFor::Replication, |t| match t {
            TemplatePrefix::Root => true,
            TemplatePrefix::Namespace(n) => filter
                .strip_prefix(n.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
        })
    })
}

fn describe_filters(prefixes: &[String]) -> String {
    if prefixes.is_empty() {
        "all repositories".to_owned()
    } else {
        let list: Vec<String> = prefixes.iter().map(|p| printable(p).into_owned()).collect();
        format!("names beginning {}", list.join(", "))
    }
}

/// The first `n` items, then how many more (annotations are at most 256 characters).
fn first_few(items: &[String], n: usize) -> String {
    let shown = items[..items.len().min(n)].join(", ");
    if items.len() > n {
        format!("{shown} and {} more", items.len() - n)
    } else {
        shown
    }
}

fn finding(r: &RegistryFacts, cache: &[&str], replication: &[String]) -> Evaluation {
    let mut parts = Vec::new();
    let mut scenarios = Vec::new();
    if !cache.is_empty() {
        let list: Vec<String> = cache.iter().map(|p| printable(p).into_owned()).collect();
        parts.push(format!(
            "pull-through cache prefixes {}",
            first_few(&list, 3)
        ));
        scenarios.push("PULL_THROUGH_CACHE");
    }
    if !replication.is_empty() {
        parts.push(format!("replication to {}", first_few(replication, 1)));
        scenarios.push("REPLICATION");
    }
    let annotation = format!(
        "ECR will create MUTABLE repositories for {}: no creation template covers them. Create a ROOT template with IMMUTABLE, appliedFor {} (in each destination for replication).",
        parts.join(" and "),
        scenarios.join(", ")
    );
    Evaluation {
        resource_type: ResourceType::Registry,
        resource_id: r.account_id.clone(),
        account_id: Some(r.account_id.clone()),
        region: Some(r.region.clone()),
        arn: None,
        compliance: Compliance::NonCompliant,
        reason: Reason::UncoveredCreation,
        annotation: clamp_annotation(&annotation),
        tag_mutability: MutabilitySetting::Absent,
        exclusion_filters: FilterSetting::default(),
        captured_at: None,
        source: Source::new(InputKind::Live),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(prefix: &str, applied: &[AppliedFor]) -> TemplateScope {
        TemplateScope {
            prefix: Some(TemplatePrefix::parse(prefix)),
            applied_for: applied.to_vec(),
        }
    }

    fn registry(account: &str, region: &str, templates: Vec<TemplateScope>) -> RegistryFacts {
        RegistryFacts {
            templates: Some(templates),
            ..RegistryFacts::new(account, region)
        }
    }

    #[test]
    fn pull_through_cache_needs_a_cache_template_over_its_prefix() {
        use AppliedFor::*;
        let cases = [
            (vec![template("ROOT", &[PullThroughCache])], true),
            (vec![template("docker-hub", &[PullThroughCache])], true),
            (vec![template("ROOT", &[Replication, CreateOnPush])], false),
            (
                vec![template("docker-hub/library", &[PullThroughCache])],
                false,
            ),
            (vec![template("docker", &[PullThroughCache])], false),
            (vec![], false),
        ];
        for (templates, covered) in cases {
            let mut r = registry("111111111111", "eu-west-1", templates.clone());
            r.pull_through_cache = vec!["docker-hub".into()];
            let found = assess(&[r]);
            assert_eq!(found.is_empty(), covered, "{templates:?}");
            if let Some(f) = found.first() {
                assert_eq!(f.reason, Reason::UncoveredCreation);
                assert_eq!(f.resource_type, ResourceType::Registry);
                assert_eq!(f.resource_id, "111111111111");
                assert!(f.annotation.contains("MUTABLE repositories"));
                assert!(f.annotation.contains("PULL_THROUGH_CACHE"));
            }
        }
        // A nested cache prefix is covered by an enclosing namespace.
        let mut r = registry(
            "111111111111",
            "eu-west-1",
            vec![template("cache", &[PullThroughCache])],
        );
        r.pull_through_cache = vec!["cache/quay".into()];
        assert!(assess(&[r]).is_empty());
    }

    #[test]
    fn replication_is_judged_by_the_destination_templates() {
        use AppliedFor::*;
        let rule = |prefixes: &[&str]| ReplicationRule {
            destinations: vec![("222222222222".into(), "us-east-1".into())],
            prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
        };
        let mut source = registry("111111111111", "eu-west-1", vec![]);
        let cases = [
            (vec![template("ROOT", &[Replication])], rule(&[]), true),
            (vec![template("prod", &[Replication])], rule(&[]), false),
            (
                vec![template("prod", &[Replication])],
                rule(&["prod/"]),
                true,
            ),
            (
                vec![template("prod", &[Replication])],
                rule(&["prod"]),
                false,
            ),
            (
                vec![template("prod", &[Replication])],
                rule(&["prod/a", "dev/"]),
                false,
            ),
            (
                vec![template("ROOT", &[PullThroughCache])],
                rule(&["prod/"]),
                false,
            ),
        ];
        for (templates, rule, covered) in cases {
            source.replication = vec![rule.clone()];
            let destination = registry("222222222222", "us-east-1", templates.clone());
            let found = assess(&[source.clone(), destination]);
            assert_eq!(found.is_empty(), covered, "{templates:?} {rule:?}");
            if let Some(f) = found.first() {
                assert_eq!(f.account_id.as_deref(), Some("111111111111"));
                assert!(
                    f.annotation.contains("222222222222/us-east-1"),
                    "{}",
                    f.annotation
                );
            }
        }
        // A destination that was not read cannot be shown covered.
        source.replication = vec![rule(&[])];
        let found = assess(&[source.clone()]);
        assert!(
            found[0].annotation.contains("not read"),
            "{}",
            found[0].annotation
        );
        let unread = RegistryFacts::new("222222222222", "us-east-1");
        assert_eq!(assess(&[source, unread]).len(), 1);
    }

    #[test]
    fn one_finding_per_registry_within_256_characters() {
        let mut r = registry("111111111111", "eu-west-1", vec![]);
        r.pull_through_cache = (0..30).map(|i| format!("upstream-{i:02}")).collect();
        r.replication = (0..10)
            .map(|i| ReplicationRule {
                destinations: vec![(format!("{:012}", i), "us-east-1".into())],
                prefixes: vec![],
            })
            .collect();
        let found = assess(&[r]);
        assert_eq!(found.len(), 1);
        let n = found[0].annotation.chars().count();
        assert!((1..=256).contains(&n), "{n}");
    }
}
