//! How a recommendation is made: tag names classified (floating, branch-like, fixed), the
//! filters that fence the floating ones, the notes a reviewer reads, and the untagged-image
//! lifecycle policy.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Proposal, ProposalKind, Recommendation, review_reason};
use crate::change::MAX_EXCLUSION_FILTERS;
use crate::evaluate::evaluate;
use crate::model::{
    AppliedFor, ExclusionFilter, MutabilitySetting, Repository, ResourceKind, TagMutability,
    TemplateScope,
};
use crate::params::RuleParameters;
use crate::time::rfc3339;
use crate::wildcard;

/// Days after push at which the suggested lifecycle rule expires untagged images.
pub const UNTAGGED_EXPIRY_DAYS: u32 = 14;

/// Tag words that name a moving target (whole tag or one `-`/`_`/`.`-separated part of it).
pub const FLOATING_WORDS: &[&str] = &[
    "latest",
    "dev",
    "develop",
    "development",
    "staging",
    "stage",
    "stg",
    "main",
    "master",
    "trunk",
    "nightly",
    "edge",
    "canary",
    "beta",
    "alpha",
    "test",
    "testing",
    "qa",
    "uat",
    "preprod",
    "prod",
    "production",
    "stable",
    "current",
    "snapshot",
    "head",
    "next",
    "preview",
    "sandbox",
    "demo",
    "release",
    "integration",
    "unstable",
    "experimental",
    "live",
];

/// First parts of branch-like tags (`feature-login`, `pr-42`, `renovate-lodash`).
pub const BRANCH_PREFIXES: &[&str] = &[
    "feature",
    "feat",
    "fix",
    "bugfix",
    "hotfix",
    "pr",
    "mr",
    "branch",
    "renovate",
    "dependabot",
    "topic",
    "wip",
    "chore",
    "refactor",
];

/// One image of a repository, as DescribeImages reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageRecord {
    /// The manifest digest.
    pub digest: String,
    /// The tags pointing at it now (empty: untagged).
    #[serde(default)]
    pub tags: Vec<String>,
    /// When it was pushed (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<i64>,
    /// When it was last pulled, as ECR records it (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pulled_at: Option<i64>,
    /// The manifest or artifact media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The subject this manifest refers to (signatures, SBOMs and other referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_digest: Option<String>,
}

impl ImageRecord {
    /// An image with a digest and tags, no times.
    pub fn new<S: Into<String>>(
        digest: impl Into<String>,
        tags: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            digest: digest.into(),
            tags: tags.into_iter().map(Into::into).collect(),
            pushed_at: None,
            last_pulled_at: None,
            media_type: None,
            subject_digest: None,
        }
    }
}

/// Why a tag looks floating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TagClass {
    /// The tag is, or contains, a word such as `latest`, `dev`, `staging`, and no version or
    /// commit id.
    Floating,
    /// The tag looks like a branch name (`feature-x`, `pr-42`) with no commit id.
    BranchLike,
}

/// One tag that looks re-used, with its image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FloatingTag {
    /// The tag.
    pub tag: String,
    /// Why it looks floating.
    pub class: TagClass,
    /// The filter that covers it in the proposal's filters (or would, for REVIEW).
    pub filter: String,
    /// The image it points at now.
    pub digest: String,
    /// When that image was pushed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_at: Option<String>,
    /// When that image was last pulled (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pulled_at: Option<String>,
}

/// What a recommendation rests on: the images read and the tags that look re-used.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Basis {
    /// Images read.
    pub images: usize,
    /// Images with at least one tag.
    pub tagged_images: usize,
    /// Images with no tag that refer to no other image: likely left behind when a tag moved
    /// (or the per-platform children of multi-arch images).
    pub untagged_images: usize,
    /// Untagged referrers (signatures, SBOMs: they name a subject); not counted as untagged.
    pub referrers: usize,
    /// Distinct tags.
    pub tags: usize,
    /// Tags that look re-used.
    pub floating_tags: Vec<FloatingTag>,
    /// The latest push (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_push: Option<String>,
    /// The latest recorded pull (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_pull: Option<String>,
    /// Sentences a reviewer should read.
    pub notes: Vec<String>,
}

/// How a single tag reads.
pub fn classify_tag(tag: &str) -> Option<TagClass> {
    let lower = tag.to_ascii_lowercase();
    let tokens: Vec<&str> = lower
        .split(['-', '_', '.'])
        .filter(|t| !t.is_empty())
        .collect();
    let first = tokens.first().copied()?;
    let has_commit = tokens.iter().any(|t| is_commit_id(t));
    let versioned = is_version_like(&lower);
    if tokens.len() >= 2 && BRANCH_PREFIXES.contains(&first) {
        return (!has_commit && !versioned).then_some(TagClass::BranchLike);
    }
    if has_commit || versioned || tokens.iter().any(|t| is_build_number(t)) {
        return None;
    }
    tokens
        .iter()
        .any(|t| FLOATING_WORDS.contains(t))
        .then_some(TagClass::Floating)
}

/// A git commit id (7 to 64 hex characters with at least one digit and one letter).
fn is_commit_id(token: &str) -> bool {
    (7..=64).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_hexdigit())
        && token.bytes().any(|b| b.is_ascii_digit())
        && token.bytes().any(|b| b.is_ascii_alphabetic())
}

/// A build number or date: 3 or more digits.
fn is_build_number(token: &str) -> bool {
    token.len() >= 3 && token.bytes().all(|b| b.is_ascii_digit())
}

/// `1`, `v1.2`, `1.2.3-...`, `2024.11.01`: starts with an optional `v` then a digit.
fn is_version_like(tag: &str) -> bool {
    let rest = tag.strip_prefix('v').unwrap_or(tag);
    rest.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// The filter text for one exact tag: characters outside the API pattern become `*`, and a
/// tag over 128 characters is cut to 127 characters and a `*`.
fn exact_filter(tag: &str) -> String {
    let mut out: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*') {
                c
            } else {
                '*'
            }
        })
        .collect();
    if out.chars().count() > 128 {
        out = out.chars().take(127).collect::<String>() + "*";
    }
    out
}

/// `prefix` and the separator after it, then `*` (`feature-login` gives `feature-*`).
fn prefix_filter(tag: &str) -> Option<String> {
    let idx = tag.find(['-', '_', '.'])?;
    let head = tag.get(..=idx)?;
    let f = exact_filter(head);
    (f.len() < 128).then(|| f + "*")
}

/// The suggested lifecycle policy: expire untagged images [`UNTAGGED_EXPIRY_DAYS`] days after
/// push.
pub fn untagged_lifecycle_policy() -> serde_json::Value {
    serde_json::json!({
        "rules": [{
            "rulePriority": 1,
            "description": format!("Expire untagged images {UNTAGGED_EXPIRY_DAYS} days after push (left behind when a tag moves)"),
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_EXPIRY_DAYS
            },
            "action": {"type": "expire"}
        }]
    })
}

/// Recommends a setting for `repo` from its `images`. `params` decides the verdict recorded
/// in the plan and which filters the rule would accept.
pub fn recommend(
    repo: &Repository,
    images: &[ImageRecord],
    params: &RuleParameters,
) -> Recommendation {
    let verdict = evaluate(repo, params);
    let current_mutability = match &repo.tag_mutability {
        MutabilitySetting::Set { value } => value.clone(),
        MutabilitySetting::Absent => TagMutability::Mutable,
        MutabilitySetting::Unresolved { reason } => {
            TagMutability::Unknown(format!("unresolved: {reason}"))
        }
    };

    if let Some(scope) = repo.resource_type.template() {
        return recommend_template(repo, scope, params, verdict, current_mutability);
    }

    let mut basis = Basis {
        images: images.len(),
        ..Basis::default()
    };
    // Every tag once, with its image; floating tags in tag order.
    let mut tags: BTreeMap<&str, &ImageRecord> = BTreeMap::new();
    for image in images {
        if image.tags.is_empty() {
            if image.subject_digest.is_some() {
                basis.referrers += 1;
            } else {
                basis.untagged_images += 1;
            }
        } else {
            basis.tagged_images += 1;
        }
        for tag in &image.tags {
            tags.insert(tag.as_str(), image);
        }
    }
    basis.tags = tags.len();
    basis.last_push = images.iter().filter_map(|i| i.pushed_at).max().map(rfc3339);
    basis.last_pull = images
        .iter()
        .filter_map(|i| i.last_pulled_at)
        .max()
        .map(rfc3339);

    let floating: Vec<(&str, TagClass, &ImageRecord)> = tags
        .iter()
        .filter_map(|(tag, image)| classify_tag(tag).map(|c| (*tag, c, *image)))
        .collect();

    // Exact filters for floating names, `prefix-*` for branch-like ones.
    let mut assign: Vec<(String, String)> = floating
        .iter()
        .map(|(tag, class, _)| {
            let f = match class {
                TagClass::BranchLike => prefix_filter(tag).unwrap_or_else(|| exact_filter(tag)),
                TagClass::Floating => exact_filter(tag),
            };
            ((*tag).to_owned(), f)
        })
        .collect();
    if distinct(&assign).len() > MAX_EXCLUSION_FILTERS {
        // Group floating tags that share a first part (`latest-amd64`, `latest-arm64`).
        let mut by_prefix: BTreeMap<String, usize> = BTreeMap::new();
        for (tag, _) in &assign {
            if let Some(p) = prefix_filter(tag) {
                *by_prefix.entry(p).or_default() += 1;
            }
        }
        for (tag, f) in &mut assign {
            if let Some(p) = prefix_filter(tag)
                && by_prefix.get(&p).copied().unwrap_or(0) >= 2
            {
                *f = p;
            }
        }
    }
    let filters = distinct(&assign);
    let filter_of: BTreeMap<&str, &str> = assign
        .iter()
        .map(|(t, f)| (t.as_str(), f.as_str()))
        .collect();
    basis.floating_tags = floating
        .iter()
        .map(|(tag, class, image)| FloatingTag {
            tag: (*tag).to_owned(),
            class: *class,
            filter: filter_of.get(tag).copied().unwrap_or(tag).to_owned(),
            digest: image.digest.clone(),
            pushed_at: image.pushed_at.map(rfc3339),
            last_pulled_at: image.last_pulled_at.map(rfc3339),
        })
        .collect();
    let target_filters: Vec<ExclusionFilter> = filters
        .iter()
        .filter(|f| wildcard::is_valid_filter(f) && !wildcard::is_catch_all(f))
        .map(|f| ExclusionFilter::wildcard(f.clone()))
        .collect();

    let kind = if target_filters.is_empty() {
        ProposalKind::Immutable
    } else if target_filters.len() <= MAX_EXCLUSION_FILTERS && target_filters.len() == filters.len()
    {
        ProposalKind::ImmutableWithExclusion
    } else {
        ProposalKind::Review
    };

    // Notes.
    if images.is_empty() {
        basis
            .notes
            .push("No images: nothing can break by making tags immutable now.".to_owned());
    }
    match kind {
        ProposalKind::Immutable if !images.is_empty() => basis
            .notes
            .push("No tag looks re-used (every tag names a version, commit or build).".to_owned()),
        ProposalKind::ImmutableWithExclusion => basis.notes.push(format!(
            "{} tag(s) look re-used; exclude them with {} filter(s) so their pipelines keep working.",
            floating.len(),
            target_filters.len()
        )),
        ProposalKind::Review => basis.notes.push(format!(
            "{} tags look re-used and need {} filters, over the limit of {MAX_EXCLUSION_FILTERS}: decide which pipelines to change.",
            floating.len(),
            filters.len()
        )),
        ProposalKind::Immutable => {}
    }
    if basis.untagged_images > 0 {
        basis.notes.push(format!(
            "{} untagged image(s): likely left behind when a tag moved (or children of multi-arch images){}.",
            basis.untagged_images,
            if floating.is_empty() {
                "; the tag that moved cannot be told from the current images, so check the pipelines before applying"
            } else {
                ""
            }
        ));
    }
    // Wildcards that also cover tags that look fixed.
    let fixed_covered: Vec<&str> = tags
        .keys()
        .filter(|t| classify_tag(t).is_none())
        .filter(|t| target_filters.iter().any(|f| f.matches(t)))
        .copied()
        .collect();
    if !fixed_covered.is_empty() {
        basis.notes.push(format!(
            "The filters also cover {} tag(s) that look fixed (for example {}): those stay mutable.",
            fixed_covered.len(),
            fixed_covered[0]
        ));
    }
    if kind == ProposalKind::ImmutableWithExclusion {
        let refused: Vec<&str> = target_filters
            .iter()
            .map(|f| f.filter.as_str())
            .filter(|f| !params.allowed_exclusion_filters.iter().any(|a| a == f))
            .collect();
        if !refused.is_empty() {
            basis.notes.push(format!(
                "Not in AllowedExclusionFilters: {}. Add them there, or the rule keeps reporting NON_COMPLIANT.",
                refused.join(", ")
            ));
        }
    }

    let proposal = match kind {
        ProposalKind::Immutable => Proposal::Immutable,
        ProposalKind::ImmutableWithExclusion => Proposal::ImmutableWithExclusion {
            filters: target_filters,
        },
        ProposalKind::Review => Proposal::Review {
            filters: filters.into_iter().map(ExclusionFilter::wildcard).collect(),
            reason: review_reason(&basis),
        },
    };

    Recommendation {
        account_id: repo.account_id.clone(),
        region: repo.region.clone(),
        resource_kind: ResourceKind::Repository,
        name: repo
            .name
            .clone()
            .unwrap_or_else(|| repo.resource_id.clone()),
        arn: repo.arn.clone(),
        current_mutability,
        current_filters: repo.exclusion_filters.filters().to_vec(),
        compliance: verdict.compliance,
        reason: verdict.reason,
        proposal,
        lifecycle_policy: (basis.untagged_images > 0).then(untagged_lifecycle_policy),
        basis,
    }
}

/// A creation template has no images: the proposal is IMMUTABLE, except that a pull-through
/// cache template is fenced with the rule's allowed filters when there are 1 to 5 of them
/// (IMMUTABLE stops ECR from refreshing a cached upstream tag such as `latest`); the notes say
/// so, and that existing repositories keep their setting.
fn recommend_template(
    repo: &Repository,
    scope: &TemplateScope,
    params: &RuleParameters,
    verdict: crate::evaluate::Evaluation,
    current_mutability: TagMutability,
) -> Recommendation {
    let mut basis = Basis::default();
    let allowed: Vec<ExclusionFilter> = params
        .allowed_exclusion_filters
        .iter()
        .filter(|f| wildcard::is_valid_filter(f) && !wildcard::is_catch_all(f))
        .map(|f| ExclusionFilter::wildcard(f.clone()))
        .collect();
    let cache = scope.applies_for(&AppliedFor::PullThroughCache);
    let proposal = if cache && (1..=MAX_EXCLUSION_FILTERS).contains(&allowed.len()) {
        Proposal::ImmutableWithExclusion { filters: allowed }
    } else {
        Proposal::Immutable
    };
    basis.notes.push(
        "A creation template decides only repositories ECR creates from now on: existing ones keep their setting (remediate them as repositories).".to_owned(),
    );
    if cache {
        basis.notes.push(match &proposal {
            Proposal::ImmutableWithExclusion { filters } => format!(
                "Pull-through cache: IMMUTABLE stops ECR from refreshing a cached upstream tag (such as latest); the allowed filters {} stay refreshable. Pull the others by digest.",
                filters.iter().map(|f| f.filter.as_str()).collect::<Vec<_>>().join(", ")
            ),
            _ => "Pull-through cache: IMMUTABLE stops ECR from refreshing a cached upstream tag (such as latest). Pull cached images by digest, or use IMMUTABLE_WITH_EXCLUSION with filters listed in AllowedExclusionFilters for the upstream tags that move.".to_owned(),
        });
    }
    Recommendation {
        account_id: repo.account_id.clone(),
        region: repo.region.clone(),
        resource_kind: ResourceKind::CreationTemplate,
        name: repo.resource_id.clone(),
        arn: None,
        current_mutability,
        current_filters: repo.exclusion_filters.filters().to_vec(),
        compliance: verdict.compliance,
        reason: verdict.reason,
        proposal,
        lifecycle_policy: None,
        basis,
    }
}

/// Distinct filter texts, sorted.
fn distinct(assign: &[(String, String)]) -> Vec<String> {
    assign
        .iter()
        .map(|(_, f)| f.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{Compliance, Reason};
    use crate::model::InputKind;
    use crate::plan::{PLAN_SCHEMA_VERSION, Plan};

    fn repo() -> Repository {
        Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable)
    }

    fn filters(plan: &Recommendation) -> Vec<&str> {
        plan.proposal
            .filters()
            .iter()
            .map(|f| f.filter.as_str())
            .collect()
    }

    #[test]
    fn templates_get_immutable_and_pull_through_cache_notes() {
        use crate::model::TemplatePrefix;
        let t = |applied: Vec<AppliedFor>| {
            Repository::creation_template(TemplatePrefix::Root, applied, InputKind::Live)
                .with_mutability(TagMutability::Mutable)
        };
        let rec = recommend(
            &t(vec![AppliedFor::Replication]),
            &[],
            &RuleParameters::default(),
        );
        assert_eq!(rec.proposal, Proposal::Immutable);
        assert_eq!(rec.resource_kind, ResourceKind::CreationTemplate);
        assert_eq!(rec.key().to_string(), "-/-/template:ROOT");
        assert!(rec.basis.notes[0].contains("from now on"));
        assert!(!rec.basis.notes.iter().any(|n| n.contains("Pull-through")));

        let cache = t(vec![AppliedFor::PullThroughCache]);
        let rec = recommend(&cache, &[], &RuleParameters::default());
        assert_eq!(rec.proposal, Proposal::Immutable);
        assert!(
            rec.basis
                .notes
                .iter()
                .any(|n| n.contains("stops ECR from refreshing")
                    && n.contains("by digest")
                    && n.contains("IMMUTABLE_WITH_EXCLUSION"))
        );

        let allowed =
            RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest,stable"}"#).unwrap();
        let rec = recommend(&cache, &[], &allowed);
        assert_eq!(
            rec.proposal,
            Proposal::ImmutableWithExclusion {
                filters: vec![
                    ExclusionFilter::wildcard("latest"),
                    ExclusionFilter::wildcard("stable")
                ]
            }
        );
        // The plan document round-trips the kind; repository entries do not mention it.
        let json = serde_json::to_string(&rec).unwrap();
        assert!(
            json.contains(r#""resource_kind":"creation_template""#),
            "{json}"
        );
        let back: Recommendation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rec);
        let repo = Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable);
        let json = serde_json::to_string(&recommend(&repo, &[], &allowed)).unwrap();
        assert!(!json.contains("resource_kind"), "{json}");
    }

    #[test]
    fn classifies_tags() {
        for t in [
            "latest",
            "dev",
            "staging",
            "main",
            "nightly",
            "latest-arm64",
            "prod_eu",
            "Edge",
        ] {
            assert_eq!(classify_tag(t), Some(TagClass::Floating), "{t}");
        }
        for t in ["feature-login", "pr-42", "renovate_lodash", "fix.typo"] {
            assert_eq!(classify_tag(t), Some(TagClass::BranchLike), "{t}");
        }
        for t in [
            "v1.2.3",
            "1.2.3-alpine",
            "3f9c2a1",
            "main-3f9c2a1",
            "feature-login-3f9c2a1",
            "build-1234",
            "dev-20241101",
            "sha256-abcdef0123",
            "payments",
            "",
        ] {
            assert_eq!(classify_tag(t), None, "{t}");
        }
    }

    #[test]
    fn versioned_only_is_immutable() {
        let images = vec![
            ImageRecord::new("sha256:1", ["v1.0.0"]),
            ImageRecord::new("sha256:2", ["v1.0.1", "a1b2c3d"]),
        ];
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE");
        assert_eq!(
            plan.proposal.target().map(|s| s.mode),
            Some(TagMutability::Immutable)
        );
        assert!(plan.proposal.filters().is_empty());
        assert_eq!(plan.basis.tags, 3);
        assert!(plan.lifecycle_policy.is_none());
        assert_eq!(plan.compliance, Compliance::NonCompliant);
    }

    #[test]
    fn floating_tags_are_fenced() {
        let mut latest = ImageRecord::new("sha256:1", ["latest", "v2"]);
        latest.pushed_at = Some(1_700_000_000);
        latest.last_pulled_at = Some(1_700_000_600);
        let images = vec![
            latest,
            ImageRecord::new("sha256:2", ["dev"]),
            ImageRecord::new("sha256:3", ["feature-login"]),
            ImageRecord::new("sha256:4", ["feature-search"]),
            ImageRecord::new("sha256:5", Vec::<String>::new()),
        ];
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
        assert_eq!(filters(&plan), vec!["dev", "feature-*", "latest"]);
        assert_eq!(plan.basis.untagged_images, 1);
        assert_eq!(plan.basis.floating_tags.len(), 4);
        let l = plan
            .basis
            .floating_tags
            .iter()
            .find(|f| f.tag == "latest")
            .unwrap();
        assert_eq!(l.pushed_at.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(l.last_pulled_at.as_deref(), Some("2023-11-14T22:23:20Z"));
        assert!(plan.lifecycle_policy.is_some());
        assert!(
            plan.basis
                .notes
                .iter()
                .any(|n| n.contains("AllowedExclusionFilters"))
        );
        // All filters valid per the API pattern.
        assert!(
            plan.proposal
                .filters()
                .iter()
                .all(|f| wildcard::is_valid_filter(&f.filter))
        );
    }

    #[test]
    fn allowed_filters_silence_the_note() {
        let params = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#).unwrap();
        let plan = recommend(&repo(), &[ImageRecord::new("d", ["latest"])], &params);
        assert_eq!(filters(&plan), vec!["latest"]);
        assert!(
            !plan
                .basis
                .notes
                .iter()
                .any(|n| n.contains("AllowedExclusionFilters"))
        );
    }

    #[test]
    fn too_many_floating_tags_need_review() {
        let images: Vec<ImageRecord> =
            ["latest", "dev", "staging", "main", "nightly", "edge", "qa"]
                .iter()
                .enumerate()
                .map(|(i, t)| ImageRecord::new(format!("sha256:{i}"), [*t]))
                .collect();
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "REVIEW");
        assert_eq!(plan.proposal.target(), None);
        assert_eq!(plan.proposal.filters().len(), 7);
    }

    #[test]
    fn shared_prefixes_are_grouped_to_fit() {
        let tags = [
            "latest-amd64",
            "latest-arm64",
            "dev-amd64",
            "dev-arm64",
            "staging",
            "main",
        ];
        let images: Vec<ImageRecord> = tags
            .iter()
            .enumerate()
            .map(|(i, t)| ImageRecord::new(format!("sha256:{i}"), [*t]))
            .collect();
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
        assert_eq!(filters(&plan), vec!["dev-*", "latest-*", "main", "staging"]);
    }

    #[test]
    fn long_tags_make_valid_filters() {
        let tag = format!("latest-{}", "x".repeat(200));
        assert_eq!(classify_tag(&tag), Some(TagClass::Floating));
        let plan = recommend(
            &repo(),
            &[ImageRecord::new("d", [tag.as_str()])],
            &RuleParameters::default(),
        );
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
        let f = &plan.proposal.filters()[0].filter;
        assert_eq!(f.len(), 128);
        assert!(wildcard::is_valid_filter(f));
        assert!(plan.proposal.filters()[0].matches(&tag));
    }

    #[test]
    fn referrers_are_not_untagged() {
        let mut sig = ImageRecord::new("sha256:s", Vec::<String>::new());
        sig.subject_digest = Some("sha256:1".into());
        let plan = recommend(
            &repo(),
            &[ImageRecord::new("sha256:1", ["v1"]), sig],
            &RuleParameters::default(),
        );
        assert_eq!(plan.basis.untagged_images, 0);
        assert_eq!(plan.basis.referrers, 1);
        assert!(plan.lifecycle_policy.is_none());
    }

    #[test]
    fn empty_repository_is_immutable_and_absent_is_mutable() {
        let plan = recommend(
            &Repository::new("x", InputKind::Live),
            &[],
            &RuleParameters::default(),
        );
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE");
        assert_eq!(plan.current_mutability, TagMutability::Mutable);
        assert_eq!(plan.reason, Reason::DefaultMutable);
    }

    #[test]
    fn plan_document_round_trips() {
        let plan = recommend(
            &repo(),
            &[ImageRecord::new("d", ["latest"])],
            &RuleParameters::default(),
        );
        let doc = Plan {
            schema_version: PLAN_SCHEMA_VERSION,
            repositories: vec![plan],
            failures: vec![],
            warnings: vec![],
        };
        let json = serde_json::to_string(&doc).unwrap();
        assert!(json.contains("\"recommendation\":\"IMMUTABLE_WITH_EXCLUSION\""));
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
    }
}
