//! How a recommendation is made: the re-used tags (on evidence, the tags that moved in the
//! CloudTrail window; without it, a guess from tag names: floating, branch-like, version
//! aliases), the filters that fence the re-used tags a pipeline may keep moving, the
//! production-like tags that must never be fenced (a review instead), the notes a reviewer
//! reads, the untagged images they left behind, and the untagged-image lifecycle policy.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Proposal, ProposalKind, Recommendation, review_reason};
use crate::change::MAX_EXCLUSION_FILTERS;
use crate::evaluate::evaluate;
use crate::evidence::{Coverage, RepositoryEvidence, TagSummary};
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

/// Tag words of what runs in production (whole tag or one part of it). A production-like
/// tag that is re-used is never proposed as an allowed exclusion: the pipeline that moves it
/// must change (a review), since an exclusion would leave exactly the tags that matter most
/// mutable. Version tags (`v1`, `1.2`, `1.2.3`) are production-like too.
pub const PRODUCTION_WORDS: &[&str] = &["prod", "production", "release", "stable", "live"];

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
    /// The artifact type (`artifactMediaType`: the config media type, or an OCI artifact
    /// type). Anything but an image config marks a referrer (a signature, an SBOM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// `imageSizeInBytes`: the sum of its layers, shared layers counted in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
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
            artifact_type: None,
            size_bytes: None,
        }
    }

    /// True for a referrer: an image that names a subject, or whose artifact type is not an
    /// image config (signatures, SBOMs, attestations). Untagged referrers are not left behind
    /// by a moved tag.
    pub fn is_referrer(&self) -> bool {
        const IMAGE_CONFIGS: &[&str] = &[
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.oci.image.config.v1+json",
        ];
        self.subject_digest.is_some()
            || self
                .artifact_type
                .as_deref()
                .is_some_and(|t| !IMAGE_CONFIGS.contains(&t))
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
    /// A short version tag (`v1`, `1.2`) that names the same image as the newest full
    /// version under it (`v1.4.2`, `1.2.7`): an alias moved at every release.
    VersionAlias,
    /// CloudTrail shows the tag moved (or a push of it refused, or a push whose digest is
    /// unknown) in the window: re-used on evidence, whatever its name.
    Moved,
}

/// What the re-used tags of a recommendation were found from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Grounds {
    /// A guess from tag names and the current images (no evidence given; every plan of
    /// schema version 1).
    #[default]
    Guess,
    /// The moves in CloudTrail `PutImage` events of the window, which cover the repository's
    /// account and region.
    Evidence,
    /// Evidence was given but does not cover the repository's account and region: nothing
    /// can be called safe on it, so the plan asks for a review.
    NotCovered,
    /// A repository creation template: decided from its configuration (it has no tags).
    Template,
}

impl Grounds {
    /// The table spelling: `guess`, `evidence`, `not covered`, `template`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Guess => "guess",
            Self::Evidence => "evidence",
            Self::NotCovered => "not covered",
            Self::Template => "template",
        }
    }
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
    /// Production-like ([`is_production_like`]): never proposed as an exclusion.
    #[serde(default)]
    pub production: bool,
    /// On evidence: its pushes and moves in the window, and who made them (the pipelines
    /// to fix), most moves first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<TagSummary>,
}

/// What a recommendation rests on: the images read, the tags that are (or look) re-used and
/// what that was found from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Basis {
    /// What the re-used tags were found from: evidence, or a guess from names.
    #[serde(default)]
    pub grounds: Grounds,
    /// On evidence: how far the CloudTrail events read reach for the repository's account and
    /// region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coverage: Option<Coverage>,
    /// Images read.
    pub images: usize,
    /// Images with at least one tag.
    pub tagged_images: usize,
    /// Images with no tag that refer to no other image: likely left behind when a tag moved
    /// (or the per-platform children of multi-arch images).
    pub untagged_images: usize,
    /// Untagged referrers (signatures, SBOMs: they name a subject or an artifact type); not
    /// counted as untagged.
    pub referrers: usize,
    /// The sum of `imageSizeInBytes` of the untagged images: an upper bound of the storage
    /// they hold, since layers shared with other images are counted in full.
    #[serde(default)]
    pub untagged_bytes: u64,
    /// The monthly storage estimate of the untagged images in USD, at the plan's
    /// `storage_price_usd_per_gb_month` (an upper bound, as `untagged_bytes` is).
    #[serde(default)]
    pub untagged_monthly_usd: f64,
    /// Distinct tags.
    pub tags: usize,
    /// The re-used tags (on evidence: that moved; as a guess: that look re-used).
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

/// True for a production-like tag: one of [`PRODUCTION_WORDS`] (whole or as a part, as in
/// `prod-eu`), or a version tag (`v1`, `1.2`, `1.2.3-alpine`). A re-used production-like tag
/// is never proposed as an exclusion.
///
/// ```
/// use immutag_core::plan::is_production_like;
/// assert!(is_production_like("prod") && is_production_like("v1") && is_production_like("1.2"));
/// assert!(is_production_like("stable-arm64") && is_production_like("Release"));
/// assert!(!is_production_like("latest") && !is_production_like("dev"));
/// ```
pub fn is_production_like(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    is_version_like(&lower)
        || lower
            .split(['-', '_', '.'])
            .any(|t| PRODUCTION_WORDS.contains(&t))
}

/// The numeric parts of a plain version tag (`v1.4.2` → `[1, 4, 2]`); `None` for anything
/// else (suffixes such as `-alpine` included).
fn version_parts(tag: &str) -> Option<Vec<u64>> {
    let rest = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    rest.split('.').map(|p| p.parse::<u64>().ok()).collect()
}

/// The version aliases among `tags` (tag → image): a plain version `v1` or `1.2` that names
/// the same digest as the newest plain version under it (`v1.4.2`, `1.2.7`).
fn version_aliases<'a>(tags: &BTreeMap<&'a str, &ImageRecord>) -> BTreeSet<&'a str> {
    let mut out = BTreeSet::new();
    for (tag, image) in tags {
        let Some(parts) = version_parts(tag) else {
            continue;
        };
        let prefix = format!("{tag}.");
        let newest = tags
            .iter()
            .filter(|(t, _)| t.starts_with(&prefix))
            .filter_map(|(t, i)| version_parts(t).map(|v| (v, *i)))
            .filter(|(v, _)| v.len() > parts.len())
            .max_by(|a, b| a.0.cmp(&b.0));
        if newest.is_some_and(|(_, i)| i.digest == image.digest) {
            out.insert(*tag);
        }
    }
    out
}

/// What the images say, before the re-used tags are known.
struct ImageFacts<'a> {
    basis: Basis,
    /// Every tag once, with its image.
    tags: BTreeMap<&'a str, &'a ImageRecord>,
}

fn image_facts(images: &[ImageRecord]) -> ImageFacts<'_> {
    let mut basis = Basis {
        images: images.len(),
        ..Basis::default()
    };
    let mut tags: BTreeMap<&str, &ImageRecord> = BTreeMap::new();
    for image in images {
        if image.tags.is_empty() {
            if image.is_referrer() {
                basis.referrers += 1;
            } else {
                basis.untagged_images += 1;
                basis.untagged_bytes += image.size_bytes.unwrap_or(0);
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
    ImageFacts { basis, tags }
}

/// A re-used tag before its filter is assigned.
struct Reused<'a> {
    tag: &'a str,
    class: TagClass,
    image: Option<&'a ImageRecord>,
    moved: Option<TagSummary>,
}

/// Recommends a setting for `repo` from its `images`, guessing re-use from tag names (the
/// plan's [`Grounds::Guess`]): floating words, branch-like names, and version aliases. A
/// production-like re-used tag is never excluded: the repository is marked for review.
/// `params` decides the verdict recorded in the plan and which filters the rule would accept.
pub fn recommend(
    repo: &Repository,
    images: &[ImageRecord],
    params: &RuleParameters,
) -> Recommendation {
    if let Some(scope) = repo.resource_type.template() {
        let verdict = evaluate(repo, params);
        return recommend_template(repo, scope, params, verdict, current_mutability(repo));
    }
    let facts = image_facts(images);
    let aliases = version_aliases(&facts.tags);
    let reused: Vec<Reused<'_>> = facts
        .tags
        .iter()
        .filter_map(|(tag, image)| {
            let class =
                classify_tag(tag).or(aliases.contains(tag).then_some(TagClass::VersionAlias))?;
            Some(Reused {
                tag,
                class,
                image: Some(*image),
                moved: None,
            })
        })
        .collect();
    let mut basis = facts.basis.clone();
    basis.grounds = Grounds::Guess;
    decide(repo, images, &facts.tags, basis, reused, params)
}

/// Recommends a setting for `repo` on `evidence` (the plan's [`Grounds::Evidence`]): a tag
/// that moved in the window is re-used whatever its name (as is a tag whose push was refused
/// because it exists, or whose pushes name no digest); a repository where nothing moved is
/// proposed IMMUTABLE. A production-like tag that moved is never excluded: the repository is
/// marked for review, naming the pipelines that move it. When the evidence does not cover the
/// repository's account and region ([`RepositoryEvidence::coverage`] `None`), nothing is
/// called safe on it: the name guess is shown, marked for review ([`Grounds::NotCovered`]).
///
/// ```
/// use immutag_core::evidence::{Coverage, PrincipalCount, RepositoryEvidence, TagSummary};
/// use immutag_core::plan::{recommend_on_evidence, Grounds, ImageRecord};
/// use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};
///
/// let repo = Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable);
/// let images = [ImageRecord::new("sha256:01", ["build-7"])];
/// let moved = TagSummary {
///     tag: "build-7".into(), pushes: 3, moves: 2, refused_moves: 0, unknown_digests: 0,
///     principals: vec![PrincipalCount { principal_arn: "arn:aws:iam::1:role/ci".into(), pushes: 3, moves: 2, refused_moves: 0 }],
///     first_push: None, last_push: None, last_moved_at: None, digest: None,
/// };
/// let evidence = RepositoryEvidence {
///     account_id: Some("1".into()), region: Some("eu-west-1".into()), repository: "web".into(),
///     coverage: Some(Coverage { account_id: "1".into(), region: "eu-west-1".into(),
///         from: "2026-11-01T00:00:00Z".into(), to: "2026-11-30T00:00:00Z".into(), records: 10 }),
///     tags: vec![moved],
/// };
/// let rec = recommend_on_evidence(&repo, &images, &evidence, &RuleParameters::default());
/// assert_eq!(rec.basis.grounds, Grounds::Evidence);
/// assert_eq!(rec.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION"); // build-7 moved, whatever its name
/// assert_eq!(rec.proposal.filters()[0].filter, "build-7");
/// ```
pub fn recommend_on_evidence(
    repo: &Repository,
    images: &[ImageRecord],
    evidence: &RepositoryEvidence,
    params: &RuleParameters,
) -> Recommendation {
    if repo.resource_type.template().is_some() {
        // A creation template has no pushes: its recommendation rests on its configuration.
        return recommend(repo, images, params);
    }
    let Some(coverage) = evidence.coverage.clone() else {
        let mut rec = recommend(repo, images, params);
        rec.basis.grounds = Grounds::NotCovered;
        rec.basis.notes.insert(
            0,
            format!(
                "The evidence does not cover {}/{} (no CloudTrail event of it was read): it cannot be called safe on evidence. The name guess is shown; review, or read the trail of that account and region.",
                repo.account_id.as_deref().unwrap_or("-"),
                repo.region.as_deref().unwrap_or("-"),
            ),
        );
        let filters = rec.proposal.filters().to_vec();
        rec.proposal = Proposal::Review {
            filters,
            reason: review_reason(&rec.basis),
        };
        return rec;
    };
    let facts = image_facts(images);
    let reused: Vec<Reused<'_>> = evidence
        .tags
        .iter()
        .filter(|t| t.moves > 0 || t.refused_moves > 0 || t.unknown_digests > 0)
        .map(|t| Reused {
            tag: t.tag.as_str(),
            class: TagClass::Moved,
            image: facts.tags.get(t.tag.as_str()).copied(),
            moved: Some(t.clone()),
        })
        .collect();
    let mut basis = facts.basis.clone();
    basis.grounds = Grounds::Evidence;
    basis.notes.push(format!(
        "On evidence: CloudTrail covers {}/{} from {} to {}; {} tag(s) pushed, {} re-used.",
        coverage.account_id,
        coverage.region,
        coverage.from,
        coverage.to,
        evidence.tags.len(),
        reused.len()
    ));
    basis.coverage = Some(coverage);
    decide(repo, images, &facts.tags, basis, reused, params)
}

/// The mutability now (an absent setting is the AWS default, MUTABLE).
fn current_mutability(repo: &Repository) -> TagMutability {
    match &repo.tag_mutability {
        MutabilitySetting::Set { value } => value.clone(),
        MutabilitySetting::Absent => TagMutability::Mutable,
        MutabilitySetting::Unresolved { reason } => {
            TagMutability::Unknown(format!("unresolved: {reason}"))
        }
    }
}

/// `arn (N moves), ...` for a note.
fn pipelines(summary: &TagSummary) -> String {
    summary
        .principals
        .iter()
        .filter(|p| p.moves > 0 || p.refused_moves > 0 || summary.moves == 0)
        .map(|p| {
            let mut what = Vec::new();
            if p.moves > 0 {
                what.push(format!("{} move(s)", p.moves));
            }
            if p.refused_moves > 0 {
                what.push(format!("{} refused", p.refused_moves));
            }
            if what.is_empty() {
                what.push(format!("{} push(es)", p.pushes));
            }
            format!("{} ({})", p.principal_arn, what.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one re-used tag did, for a note.
fn reuse_text(r: &Reused<'_>) -> String {
    match &r.moved {
        Some(m) => {
            let mut what = vec![format!("moved {} time(s)", m.moves)];
            if m.refused_moves > 0 {
                what.push(format!(
                    "{} push(es) refused as the tag exists",
                    m.refused_moves
                ));
            }
            if m.unknown_digests > 0 {
                what.push(format!(
                    "{} push(es) with no digest recorded, so it may have moved",
                    m.unknown_digests
                ));
            }
            format!("`{}` {} by {}", r.tag, what.join(", "), pipelines(m))
        }
        None => match r.class {
            TagClass::VersionAlias => format!(
                "`{}` names the newest version under it (an alias moved at each release)",
                r.tag
            ),
            _ => format!("`{}` looks re-used", r.tag),
        },
    }
}

/// The proposal for the `reused` tags, the notes, and the recommendation.
fn decide(
    repo: &Repository,
    images: &[ImageRecord],
    tags: &BTreeMap<&str, &ImageRecord>,
    mut basis: Basis,
    reused: Vec<Reused<'_>>,
    params: &RuleParameters,
) -> Recommendation {
    let verdict = evaluate(repo, params);
    let current_mutability = current_mutability(repo);
    let production: Vec<&Reused<'_>> = reused
        .iter()
        .filter(|r| is_production_like(r.tag))
        .collect();
    let excludable: Vec<&Reused<'_>> = reused
        .iter()
        .filter(|r| !is_production_like(r.tag))
        .collect();

    // Exact filters for floating names, `prefix-*` for branch-like ones.
    let mut assign: Vec<(String, String)> = excludable
        .iter()
        .map(|r| {
            let f = match r.class {
                TagClass::BranchLike => prefix_filter(r.tag).unwrap_or_else(|| exact_filter(r.tag)),
                _ => exact_filter(r.tag),
            };
            (r.tag.to_owned(), f)
        })
        .collect();
    if distinct(&assign).len() > MAX_EXCLUSION_FILTERS {
        // Group re-used tags that share a first part (`latest-amd64`, `latest-arm64`).
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
    basis.floating_tags = reused
        .iter()
        .map(|r| FloatingTag {
            tag: r.tag.to_owned(),
            class: r.class,
            filter: filter_of.get(r.tag).copied().unwrap_or(r.tag).to_owned(),
            digest: r
                .image
                .map(|i| i.digest.clone())
                .or_else(|| r.moved.as_ref().and_then(|m| m.digest.clone()))
                .unwrap_or_default(),
            pushed_at: r.image.and_then(|i| i.pushed_at).map(rfc3339),
            last_pulled_at: r.image.and_then(|i| i.last_pulled_at).map(rfc3339),
            production: is_production_like(r.tag),
            moved: r.moved.clone(),
        })
        .collect();
    let target_filters: Vec<ExclusionFilter> = filters
        .iter()
        .filter(|f| wildcard::is_valid_filter(f) && !wildcard::is_catch_all(f))
        .map(|f| ExclusionFilter::wildcard(f.clone()))
        .collect();

    let kind = if !production.is_empty() {
        ProposalKind::Review
    } else if target_filters.is_empty() {
        ProposalKind::Immutable
    } else if target_filters.len() <= MAX_EXCLUSION_FILTERS && target_filters.len() == filters.len()
    {
        ProposalKind::ImmutableWithExclusion
    } else {
        ProposalKind::Review
    };
    let on_evidence = basis.grounds == Grounds::Evidence;
    let looks = if on_evidence { "are" } else { "look" };

    // Notes.
    if images.is_empty() && !on_evidence {
        basis
            .notes
            .push("No images: nothing can break by making tags immutable now.".to_owned());
    }
    if kind == ProposalKind::Immutable && on_evidence {
        basis
            .notes
            .push("No tag moved in the window: safe to make IMMUTABLE on evidence.".to_owned());
    } else if kind == ProposalKind::Immutable && !images.is_empty() {
        basis.notes.push(
            "Guess: no tag looks re-used (every tag names a version, commit or build).".to_owned(),
        );
    }
    for r in &production {
        let fix = match &r.moved {
            Some(m) => format!("change the pipeline(s) that move it: {}", pipelines(m)),
            None => {
                "find the pipeline that re-pushes it (immutag history) and change it".to_owned()
            }
        };
        basis.notes.push(format!(
            "{}: a production tag that moves is never excluded; {fix}, so that each build gets a new tag and deploys pin digests.",
            reuse_text(r)
        ));
    }
    for r in excludable.iter().filter(|r| r.moved.is_some()) {
        basis.notes.push(format!("{}.", reuse_text(r)));
    }
    if !on_evidence {
        for r in excludable
            .iter()
            .filter(|r| r.class == TagClass::VersionAlias)
        {
            basis.notes.push(format!("{}.", reuse_text(r)));
        }
    }
    match kind {
        ProposalKind::ImmutableWithExclusion => basis.notes.push(format!(
            "{} tag(s) {looks} re-used; exclude them with {} filter(s) so their pipelines keep working.",
            excludable.len(),
            target_filters.len()
        )),
        ProposalKind::Review if production.is_empty() => basis.notes.push(format!(
            "{} tags {looks} re-used and need {} filters, over the limit of {MAX_EXCLUSION_FILTERS}: decide which pipelines to change.",
            excludable.len(),
            filters.len()
        )),
        _ => {}
    }
    if basis.untagged_images > 0 {
        basis.notes.push(format!(
            "{} untagged image(s), up to {} bytes: likely left behind when a tag moved (or children of multi-arch images){}.",
            basis.untagged_images,
            basis.untagged_bytes,
            if reused.is_empty() && !on_evidence {
                "; the tag that moved cannot be told from the current images, so check the pipelines before applying"
            } else {
                ""
            }
        ));
    }
    // Wildcards that also cover tags that are not re-used.
    let reused_names: BTreeSet<&str> = reused.iter().map(|r| r.tag).collect();
    let fixed_covered: Vec<&str> = tags
        .keys()
        .filter(|t| !reused_names.contains(*t))
        .filter(|t| target_filters.iter().any(|f| f.matches(t)))
        .copied()
        .collect();
    if !fixed_covered.is_empty() {
        basis.notes.push(format!(
            "The filters also cover {} tag(s) that {} fixed (for example {}): those stay mutable.",
            fixed_covered.len(),
            if on_evidence { "did not move" } else { "look" },
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
    let mut basis = Basis {
        grounds: Grounds::Template,
        ..Basis::default()
    };
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
        assert_eq!(rec.basis.grounds, Grounds::Template);
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
        let doc = Plan::new(vec![plan], vec![], 0.10);
        assert_eq!(doc.schema_version, PLAN_SCHEMA_VERSION);
        assert!(doc.warnings.is_empty());
        let json = serde_json::to_string(&doc).unwrap();
        assert!(json.contains("\"recommendation\":\"IMMUTABLE_WITH_EXCLUSION\""));
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, doc);
    }

    fn summary(tag: &str, moves: usize, by: &[(&str, usize)]) -> TagSummary {
        TagSummary {
            tag: tag.into(),
            pushes: moves + 1,
            moves,
            refused_moves: 0,
            unknown_digests: 0,
            principals: by
                .iter()
                .map(|(arn, m)| crate::evidence::PrincipalCount {
                    principal_arn: (*arn).into(),
                    pushes: *m,
                    moves: *m,
                    refused_moves: 0,
                })
                .collect(),
            first_push: None,
            last_push: None,
            last_moved_at: None,
            digest: Some("sha256:new".into()),
        }
    }

    fn covered(tags: Vec<TagSummary>) -> RepositoryEvidence {
        RepositoryEvidence {
            account_id: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            repository: "web".into(),
            coverage: Some(Coverage {
                account_id: "111122223333".into(),
                region: "eu-west-1".into(),
                from: "2026-11-01T00:00:00Z".into(),
                to: "2026-11-30T00:00:00Z".into(),
                records: 42,
            }),
            tags,
        }
    }

    fn placed() -> Repository {
        let mut r = repo();
        r.account_id = Some("111122223333".into());
        r.region = Some("eu-west-1".into());
        r
    }

    #[test]
    fn guess_is_labelled_a_guess() {
        let plan = recommend(
            &repo(),
            &[ImageRecord::new("d", ["latest"])],
            &RuleParameters::default(),
        );
        assert_eq!(plan.basis.grounds, Grounds::Guess);
        let plan = recommend(
            &repo(),
            &[ImageRecord::new("d", ["v1.0.0"])],
            &RuleParameters::default(),
        );
        assert!(
            plan.basis.notes[0].starts_with("Guess:"),
            "{:?}",
            plan.basis.notes
        );
    }

    #[test]
    fn guess_sees_a_version_alias_and_never_excludes_it() {
        // `v1` names the newest v1.x.y: it moves at each release.
        let images = vec![
            ImageRecord::new("sha256:3", ["v1.10.0", "v1", "latest"]),
            ImageRecord::new("sha256:2", ["v1.9.3"]),
            ImageRecord::new("sha256:1", ["v1.2.0"]),
        ];
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "REVIEW");
        let v1 = plan
            .basis
            .floating_tags
            .iter()
            .find(|t| t.tag == "v1")
            .unwrap();
        assert_eq!(v1.class, TagClass::VersionAlias);
        assert!(v1.production);
        // Only the non-production tag would be fenced.
        assert_eq!(filters(&plan), vec!["latest"]);
        assert!(
            plan.basis
                .notes
                .iter()
                .any(|n| n.contains("`v1`") && n.contains("never excluded")),
            "{:?}",
            plan.basis.notes
        );

        // `1.2` on an older 1.2.x is not an alias of the newest (numeric order, not text).
        let images = vec![
            ImageRecord::new("sha256:a", ["1.2", "1.2.9"]),
            ImageRecord::new("sha256:b", ["1.2.10"]),
        ];
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE", "{:?}", plan.basis);
        let images = vec![
            ImageRecord::new("sha256:a", ["1.2", "1.2.10"]),
            ImageRecord::new("sha256:b", ["1.2.9"]),
        ];
        let plan = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "REVIEW");
    }

    #[test]
    fn guess_never_excludes_production_words() {
        for word in ["prod", "production", "release", "stable", "live", "prod-eu"] {
            let images = vec![
                ImageRecord::new("sha256:1", [word]),
                ImageRecord::new("sha256:2", ["dev"]),
            ];
            let plan = recommend(&repo(), &images, &RuleParameters::default());
            assert_eq!(plan.proposal.as_str(), "REVIEW", "{word}");
            assert_eq!(plan.proposal.target(), None, "{word}");
            assert!(!filters(&plan).contains(&word), "{word}");
        }
    }

    #[test]
    fn evidence_moved_tag_is_reused_whatever_its_name() {
        let images = vec![ImageRecord::new("sha256:new", ["build-7", "v2.0.1"])];
        let ev = covered(vec![
            summary(
                "build-7",
                3,
                &[
                    ("arn:aws:iam::111122223333:role/ci", 2),
                    ("arn:aws:iam::111122223333:user/alice", 1),
                ],
            ),
            summary("v2.0.1", 0, &[("arn:aws:iam::111122223333:role/ci", 0)]),
        ]);
        let plan = recommend_on_evidence(&placed(), &images, &ev, &RuleParameters::default());
        assert_eq!(plan.basis.grounds, Grounds::Evidence);
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
        assert_eq!(filters(&plan), vec!["build-7"]);
        let t = &plan.basis.floating_tags[0];
        assert_eq!((t.tag.as_str(), t.class), ("build-7", TagClass::Moved));
        assert_eq!(t.moved.as_ref().unwrap().moves, 3);
        let note = plan
            .basis
            .notes
            .iter()
            .find(|n| n.contains("`build-7` moved 3"))
            .unwrap();
        assert!(
            note.contains("role/ci (2 move(s))") && note.contains("user/alice (1 move(s))"),
            "{note}"
        );
        assert!(plan.basis.coverage.is_some());
    }

    #[test]
    fn evidence_nothing_moved_is_immutable_even_with_floating_names() {
        let images = vec![ImageRecord::new("sha256:1", ["latest", "dev"])];
        let ev = covered(vec![summary("latest", 0, &[("arn:aws:iam::1:role/ci", 0)])]);
        let plan = recommend_on_evidence(&placed(), &images, &ev, &RuleParameters::default());
        assert_eq!(plan.proposal.as_str(), "IMMUTABLE");
        assert!(plan.basis.floating_tags.is_empty());
        assert!(
            plan.basis
                .notes
                .iter()
                .any(|n| n.contains("safe to make IMMUTABLE on evidence"))
        );
    }

    #[test]
    fn evidence_moving_production_tag_is_review_naming_the_pipeline() {
        for tag in [
            "prod",
            "production",
            "release",
            "stable",
            "live",
            "v1",
            "1.2",
        ] {
            let images = vec![ImageRecord::new("sha256:new", [tag, "latest"])];
            let ev = covered(vec![
                summary(tag, 2, &[("arn:aws:iam::111122223333:role/deploy-prod", 2)]),
                summary("latest", 5, &[("arn:aws:iam::111122223333:role/ci", 5)]),
            ]);
            let plan = recommend_on_evidence(&placed(), &images, &ev, &RuleParameters::default());
            assert_eq!(plan.proposal.as_str(), "REVIEW", "{tag}");
            assert_eq!(filters(&plan), vec!["latest"], "{tag}");
            let note = plan
                .basis
                .notes
                .iter()
                .find(|n| n.contains(&format!("`{tag}`")))
                .unwrap();
            assert!(
                note.contains("never excluded") && note.contains("role/deploy-prod (2 move(s))"),
                "{note}"
            );
        }
    }

    #[test]
    fn evidence_refused_and_digestless_pushes_count_as_reuse() {
        let mut refused = summary("main", 0, &[("arn:aws:iam::1:role/ci", 0)]);
        refused.refused_moves = 2;
        refused.principals[0].refused_moves = 2;
        let mut unknown = summary("edge", 0, &[]);
        unknown.unknown_digests = 1;
        let plan = recommend_on_evidence(
            &placed(),
            &[],
            &covered(vec![refused, unknown]),
            &RuleParameters::default(),
        );
        assert_eq!(filters(&plan), vec!["edge", "main"]);
        assert!(
            plan.basis
                .notes
                .iter()
                .any(|n| n.contains("2 push(es) refused")),
            "{:?}",
            plan.basis.notes
        );
        assert!(
            plan.basis
                .notes
                .iter()
                .any(|n| n.contains("may have moved")),
            "{:?}",
            plan.basis.notes
        );
    }

    #[test]
    fn evidence_that_does_not_cover_the_account_is_not_safe() {
        let images = vec![ImageRecord::new("sha256:1", ["v1.0.0"])];
        let mut ev = covered(vec![]);
        ev.coverage = None;
        let plan = recommend_on_evidence(&placed(), &images, &ev, &RuleParameters::default());
        assert_eq!(plan.basis.grounds, Grounds::NotCovered);
        assert_eq!(plan.proposal.as_str(), "REVIEW");
        assert_eq!(plan.proposal.target(), None);
        assert!(
            plan.basis.notes[0].contains("does not cover 111122223333/eu-west-1"),
            "{:?}",
            plan.basis.notes
        );
    }

    #[test]
    fn untagged_bytes_exclude_referrers_and_are_priced() {
        let mut left = ImageRecord::new("sha256:old", Vec::<String>::new());
        left.size_bytes = Some(3 << 30);
        left.artifact_type = Some("application/vnd.docker.container.image.v1+json".into());
        let mut sig = ImageRecord::new("sha256:sig", Vec::<String>::new());
        sig.size_bytes = Some(1 << 30);
        sig.artifact_type = Some("application/vnd.dev.cosign.artifact.sig.v1+json".into());
        let mut sbom = ImageRecord::new("sha256:sbom", Vec::<String>::new());
        sbom.size_bytes = Some(1 << 30);
        sbom.subject_digest = Some("sha256:new".into());
        let images = vec![ImageRecord::new("sha256:new", ["v1.0.0"]), left, sig, sbom];
        let rec = recommend(&repo(), &images, &RuleParameters::default());
        assert_eq!(
            (
                rec.basis.untagged_images,
                rec.basis.referrers,
                rec.basis.untagged_bytes
            ),
            (1, 2, 3 << 30)
        );
        let plan = Plan::new(vec![rec], vec![], 0.10);
        assert!((plan.repositories[0].basis.untagged_monthly_usd - 0.30).abs() < 1e-9);
        let (n, bytes, usd) = plan.untagged_total();
        assert_eq!((n, bytes), (1, 3 << 30));
        assert!((usd - 0.30).abs() < 1e-9);
    }

    #[test]
    fn reads_plans_of_version_1_and_2() {
        // A plan written by the previous version (schema 1, no grounds, no sizes).
        let v1 = include_str!("../../../../tests/fixtures/plans/plan.json");
        let plan = crate::plan::parse_plan(v1).unwrap();
        assert_eq!(plan.schema_version, 1);
        assert!(
            plan.repositories
                .iter()
                .all(|r| r.basis.grounds == Grounds::Guess)
        );
        assert_eq!(plan.repositories[0].proposal.filters()[0].filter, "latest");
        assert_eq!(plan.repositories[0].basis.untagged_images, 2);
        assert_eq!(plan.storage_price_usd_per_gb_month, 0.10);

        let rec = recommend_on_evidence(
            &placed(),
            &[],
            &covered(vec![summary("latest", 1, &[("arn:aws:iam::1:role/ci", 1)])]),
            &RuleParameters::default(),
        );
        let v2 = serde_json::to_string(&Plan::new(vec![rec], vec![], 0.023)).unwrap();
        assert!(
            v2.contains("\"schema_version\":2") && v2.contains("\"grounds\":\"evidence\""),
            "{v2}"
        );
        let back = crate::plan::parse_plan(&v2).unwrap();
        assert_eq!(back.repositories[0].basis.grounds, Grounds::Evidence);
        assert_eq!(back.storage_price_usd_per_gb_month, 0.023);
        assert!(crate::plan::parse_plan(r#"{"schema_version":3,"repositories":[]}"#).is_err());
    }
}
