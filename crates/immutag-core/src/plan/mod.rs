//! The *plan* (`immutag plan`): one [`Recommendation`] per non-compliant repository (what
//! to apply, and what that rests on), and what could not be read. Its JSON form is the input
//! of `immutag remediate`. Pure: the images are read elsewhere (immutag-aws) and passed to
//! [`recommend`].
//!
//! The re-used tags come from *evidence* ([`recommend_on_evidence`]: the tags that moved in
//! the CloudTrail window, whatever their names, with the principals that moved them) or,
//! without it, from a *guess* ([`recommend`]: floating names such as `latest`, `dev`,
//! branch-like names, version aliases such as a `v1` on the newest `v1.x.y`). The plan says
//! which ([`Basis::grounds`]).
//!
//! * [`Proposal::Immutable`] when no tag is re-used;
//! * [`Proposal::ImmutableWithExclusion`] with at most 5 filters (each valid per the API
//!   pattern `^[0-9a-zA-Z._*-]{1,128}$`) that fence the re-used tags;
//! * [`Proposal::Review`] when re-use is too broad to fence with 5 filters, when a re-used tag
//!   is production-like (`prod`, `release`, `stable`, `live`, a version: never excluded), or
//!   when evidence was given but does not cover the repository's account and region.
//!
//! Untagged manifests (likely left behind when a tag moved) are counted with their size and a
//! monthly storage estimate ([`Plan::price`]), and a lifecycle policy that expires them is
//! suggested.
//!
//! ```
//! use immutag_core::plan::{recommend, ImageRecord, Proposal};
//! use immutag_core::{InputKind, Repository, RuleParameters, TagMutability};
//!
//! let repo = Repository::new("web", InputKind::Live).with_mutability(TagMutability::Mutable);
//! let images = vec![
//!     ImageRecord::new("sha256:01", ["v1.4.2", "latest"]),
//!     ImageRecord::new("sha256:02", ["v1.4.1"]),
//!     ImageRecord::new("sha256:03", Vec::<String>::new()), // lost its tag
//! ];
//! let rec = recommend(&repo, &images, &RuleParameters::default());
//! assert_eq!(rec.proposal.as_str(), "IMMUTABLE_WITH_EXCLUSION");
//! assert_eq!(rec.proposal.filters()[0].filter, "latest");
//! assert_eq!(rec.basis.untagged_images, 1);
//! assert!(rec.lifecycle_policy.is_some());
//! ```

mod recommend;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::{RepoKey, Setting};
use crate::evaluate::{Compliance, Reason};
use crate::model::{ExclusionFilter, ResourceKind, TagMutability};

pub use recommend::{
    BRANCH_PREFIXES, Basis, FLOATING_WORDS, FloatingTag, Grounds, ImageRecord, PRODUCTION_WORDS,
    TagClass, UNTAGGED_EXPIRY_DAYS, classify_tag, is_production_like, recommend,
    recommend_on_evidence, untagged_lifecycle_policy,
};

/// The version of the plan document format. Version 2 added what the re-used tags rest on
/// (`grounds`, `coverage`, per tag `production` and `moved`), the untagged bytes and their
/// monthly estimate, and the storage price; version 1 documents are still read (as guesses).
pub const PLAN_SCHEMA_VERSION: u32 = 2;

/// The plan schema versions [`parse_plan`] reads.
pub const PLAN_SCHEMA_VERSIONS: std::ops::RangeInclusive<u32> = 1..=PLAN_SCHEMA_VERSION;

/// The default storage price of the monthly estimate: USD per GB-month (the ECR list price
/// for private repositories, November 2026).
pub const DEFAULT_STORAGE_PRICE: f64 = 0.10;

/// Bytes in the GB of a GB-month (AWS bills storage in GiB-sized GB).
pub const BYTES_PER_GB: u64 = 1 << 30;

/// The monthly cost in USD of `bytes` of storage at `price` USD per GB-month.
///
/// ```
/// assert_eq!(immutag_core::plan::monthly_usd(5 << 30, 0.10), 0.5);
/// ```
pub fn monthly_usd(bytes: u64, price: f64) -> f64 {
    bytes as f64 / BYTES_PER_GB as f64 * price
}

fn default_storage_price() -> f64 {
    DEFAULT_STORAGE_PRICE
}

/// What a recommendation proposes to apply.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Proposal {
    /// `IMMUTABLE`: no tag looks re-used.
    Immutable,
    /// `IMMUTABLE_WITH_EXCLUSION` with these filters (the tags pipelines re-push).
    ImmutableWithExclusion {
        /// The exclusion filters to apply (1 to 5).
        filters: Vec<ExclusionFilter>,
    },
    /// Re-use is too broad to fence with 5 filters: a person decides. `immutag remediate`
    /// leaves these alone.
    Review {
        /// The filters re-use would need (more than 5).
        filters: Vec<ExclusionFilter>,
        /// Why, for the reader (the plan's notes).
        reason: String,
    },
}

impl Proposal {
    /// The JSON / table spelling: `IMMUTABLE`, `IMMUTABLE_WITH_EXCLUSION` or `REVIEW`.
    pub fn as_str(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The setting to apply; `None` for a review.
    pub fn target(&self) -> Option<Setting> {
        match self {
            Self::Immutable => Some(Setting::immutable()),
            Self::ImmutableWithExclusion { filters } => Some(Setting::new(
                TagMutability::ImmutableWithExclusion,
                filters.clone(),
            )),
            Self::Review { .. } => None,
        }
    }

    /// The filters it names (to apply, or that a review would need).
    pub fn filters(&self) -> &[ExclusionFilter] {
        match self {
            Self::Immutable => &[],
            Self::ImmutableWithExclusion { filters } | Self::Review { filters, .. } => filters,
        }
    }

    fn kind(&self) -> ProposalKind {
        match self {
            Self::Immutable => ProposalKind::Immutable,
            Self::ImmutableWithExclusion { .. } => ProposalKind::ImmutableWithExclusion,
            Self::Review { .. } => ProposalKind::Review,
        }
    }
}

/// The wire spelling of a [`Proposal`] (the `recommendation` member of the plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum ProposalKind {
    Immutable,
    ImmutableWithExclusion,
    Review,
}

impl ProposalKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Immutable => "IMMUTABLE",
            Self::ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
            Self::Review => "REVIEW",
        }
    }
}

/// What `immutag plan` recommends for one repository, with what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "RecommendationWire", try_from = "RecommendationWire")]
pub struct Recommendation {
    /// The account.
    pub account_id: Option<String>,
    /// The region.
    pub region: Option<String>,
    /// A repository, or a creation template.
    pub resource_kind: ResourceKind,
    /// The repository name; for a creation template, its prefix.
    pub name: String,
    /// The repository ARN.
    pub arn: Option<String>,
    /// The mutability now (an absent setting is the AWS default, MUTABLE).
    pub current_mutability: TagMutability,
    /// The exclusion filters now.
    pub current_filters: Vec<ExclusionFilter>,
    /// The verdict of the evaluator with the plan's rule parameters.
    pub compliance: Compliance,
    /// The decision-table row.
    pub reason: Reason,
    /// What to apply.
    pub proposal: Proposal,
    /// What the proposal rests on.
    pub basis: Basis,
    /// A lifecycle policy (the `lifecyclePolicyText` JSON of `ecr:PutLifecyclePolicy`) that
    /// expires untagged images, when the repository has some.
    pub lifecycle_policy: Option<serde_json::Value>,
}

impl Recommendation {
    /// The key of the repository it concerns.
    pub fn key(&self) -> RepoKey {
        RepoKey {
            kind: self.resource_kind,
            ..RepoKey::new(
                self.account_id.as_deref(),
                self.region.as_deref(),
                &self.name,
            )
        }
    }
}

/// The JSON form of a [`Recommendation`] (schema: `immutag schema plan`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Recommendation")]
struct RecommendationWire {
    /// The account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
    /// The region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    /// `creation_template` for a repository creation template (`name` is then its prefix);
    /// absent for a repository.
    #[serde(default, skip_serializing_if = "ResourceKind::is_repository")]
    resource_kind: ResourceKind,
    /// The repository name, or the creation template's prefix.
    name: String,
    /// The repository ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
    /// The mutability now (an absent setting is the AWS default, MUTABLE).
    current_mutability: TagMutability,
    /// The exclusion filters now.
    #[serde(default)]
    current_filters: Vec<ExclusionFilter>,
    /// The verdict of the evaluator with the plan's rule parameters.
    compliance: Compliance,
    /// The decision-table row.
    reason: Reason,
    /// What to apply.
    recommendation: ProposalKind,
    /// The setting to apply (`null` for REVIEW); informative, `recommendation` decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target_mutability: Option<TagMutability>,
    /// The exclusion filters to apply with IMMUTABLE_WITH_EXCLUSION (at most 5); for REVIEW,
    /// the filters that re-use would need (more than 5).
    #[serde(default)]
    target_filters: Vec<ExclusionFilter>,
    /// What the recommendation rests on.
    evidence: Basis,
    /// A lifecycle policy that expires untagged images, when the repository has some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifecycle_policy: Option<serde_json::Value>,
}

impl From<Recommendation> for RecommendationWire {
    fn from(r: Recommendation) -> Self {
        let kind = r.proposal.kind();
        let target_mutability = r.proposal.target().map(|s| s.mode);
        let target_filters = match r.proposal {
            Proposal::Immutable => Vec::new(),
            Proposal::ImmutableWithExclusion { filters } | Proposal::Review { filters, .. } => {
                filters
            }
        };
        Self {
            account_id: r.account_id,
            region: r.region,
            resource_kind: r.resource_kind,
            name: r.name,
            arn: r.arn,
            current_mutability: r.current_mutability,
            current_filters: r.current_filters,
            compliance: r.compliance,
            reason: r.reason,
            recommendation: kind,
            target_mutability,
            target_filters,
            evidence: r.basis,
            lifecycle_policy: r.lifecycle_policy,
        }
    }
}

impl TryFrom<RecommendationWire> for Recommendation {
    type Error = String;

    fn try_from(w: RecommendationWire) -> Result<Self, String> {
        let proposal = match w.recommendation {
            ProposalKind::Immutable if !w.target_filters.is_empty() => {
                return Err(format!(
                    "repository `{}`: recommendation IMMUTABLE with target_filters; IMMUTABLE takes no filters",
                    crate::text::printable(&w.name)
                ));
            }
            ProposalKind::Immutable => Proposal::Immutable,
            ProposalKind::ImmutableWithExclusion => Proposal::ImmutableWithExclusion {
                filters: w.target_filters,
            },
            ProposalKind::Review => Proposal::Review {
                filters: w.target_filters,
                reason: review_reason(&w.evidence),
            },
        };
        Ok(Self {
            account_id: w.account_id,
            region: w.region,
            resource_kind: w.resource_kind,
            name: w.name,
            arn: w.arn,
            current_mutability: w.current_mutability,
            current_filters: w.current_filters,
            compliance: w.compliance,
            reason: w.reason,
            proposal,
            basis: w.evidence,
            lifecycle_policy: w.lifecycle_policy,
        })
    }
}

/// The reason a review is needed, as the plan's notes say it.
pub(crate) fn review_reason(basis: &Basis) -> String {
    if basis.notes.is_empty() {
        "the plan marks it REVIEW".to_owned()
    } else {
        basis.notes.join(" ")
    }
}

impl JsonSchema for Recommendation {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Recommendation".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        RecommendationWire::json_schema(generator)
    }
}

/// Something the plan could not read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ReadFailure {
    /// The account, when the failure concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The region, when the failure concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The repository, when the failure concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The service error code, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What failed and why.
    pub error: String,
}

/// Something the endpoint of an account and region does not implement, so it was not checked
/// (an emulator without the creation template operations). Reported, but neither a finding
/// nor a failure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct ReadWarning {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// What was not checked, and why.
    pub message: String,
}

/// The plan: the output of `immutag plan --output json` and the input of `immutag remediate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`] (version 1 is still read).
    pub schema_version: u32,
    /// The price of the monthly estimates (`basis.untagged_monthly_usd`), USD per GB-month
    /// (`immutag plan --storage-price`; [`DEFAULT_STORAGE_PRICE`] when absent).
    #[serde(default = "default_storage_price")]
    pub storage_price_usd_per_gb_month: f64,
    /// One recommendation per non-compliant repository (and creation template), sorted by
    /// account, region, name.
    pub repositories: Vec<Recommendation>,
    /// What could not be read (an account, a region, a repository's images). Non-empty
    /// failures make `immutag plan` exit 3.
    #[serde(default)]
    pub failures: Vec<ReadFailure>,
    /// What was not checked because an endpoint does not implement it (the creation template
    /// reads on an emulator). Not failures: they do not change the exit status.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ReadWarning>,
}

impl Plan {
    /// A plan of this schema version, each repository's untagged images priced at `price`
    /// USD per GB-month.
    pub fn new(repositories: Vec<Recommendation>, failures: Vec<ReadFailure>, price: f64) -> Self {
        let mut plan = Self {
            schema_version: PLAN_SCHEMA_VERSION,
            storage_price_usd_per_gb_month: price,
            repositories,
            failures,
            warnings: Vec::new(),
        };
        plan.price(price);
        plan
    }

    /// Prices the untagged images of every repository at `price` USD per GB-month.
    pub fn price(&mut self, price: f64) {
        self.storage_price_usd_per_gb_month = price;
        for r in &mut self.repositories {
            r.basis.untagged_monthly_usd = monthly_usd(r.basis.untagged_bytes, price);
        }
    }

    /// The untagged images of every repository: (count, bytes, monthly USD).
    pub fn untagged_total(&self) -> (usize, u64, f64) {
        self.repositories.iter().fold((0, 0, 0.0), |(n, b, c), r| {
            (
                n + r.basis.untagged_images,
                b + r.basis.untagged_bytes,
                c + r.basis.untagged_monthly_usd,
            )
        })
    }
}

/// A text that is not a plan this version of immutag reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Not JSON, or not the shape of a plan.
    #[error("not a plan from `immutag plan --output json`: {0}")]
    Shape(String),
    /// A plan of another schema version.
    #[error("plan schema version {found} is not supported (expected 1 to {PLAN_SCHEMA_VERSION})")]
    Version {
        /// The version the document states.
        found: u32,
    },
}

/// Reads a plan (the output of `immutag plan --output json`), checking its schema version:
/// [`PLAN_SCHEMA_VERSIONS`] (a version 1 plan reads as a guess, its estimates unpriced).
/// Errors name what is wrong, with control characters escaped.
///
/// ```
/// use immutag_core::plan::parse_plan;
/// let plan = parse_plan(r#"{"schema_version":1,"repositories":[]}"#).unwrap();
/// assert!(plan.repositories.is_empty());
/// assert!(parse_plan(r#"{"schema_version":2,"repositories":[]}"#).is_ok());
/// assert!(parse_plan(r#"{"schema_version":99,"repositories":[]}"#).unwrap_err().to_string().contains("99"));
/// assert!(parse_plan("[]").is_err());
/// ```
pub fn parse_plan(text: &str) -> Result<Plan, PlanError> {
    #[derive(Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let shape = |e: serde_json::Error| {
        PlanError::Shape(crate::text::printable(&e.to_string()).into_owned())
    };
    let version: Version = serde_json::from_str(text).map_err(shape)?;
    if !PLAN_SCHEMA_VERSIONS.contains(&version.schema_version) {
        return Err(PlanError::Version {
            found: version.schema_version,
        });
    }
    serde_json::from_str(text).map_err(shape)
}
