//! The normalized repository model that every input shape is parsed into.
//!
//! Whatever the input (a Config item, `describe-repositories` output, a CloudFormation
//! template, a Terraform plan, or a live scan), it becomes a [`Repository`], and
//! [`crate::evaluate`] only ever sees that.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The CloudFormation / AWS Config resource type of an ECR private repository.
pub const ECR_REPOSITORY_TYPE: &str = "AWS::ECR::Repository";

/// The `imageTagMutability` of a repository, as the ECR API names it.
///
/// Values this project does not know are kept verbatim in [`TagMutability::Unknown`]
/// so that they can be quoted in an annotation and evaluated fail-closed.
///
/// ```
/// use immutag_core::TagMutability;
/// assert_eq!(TagMutability::parse("IMMUTABLE"), TagMutability::Immutable);
/// // Exact: CloudFormation, Terraform and the API refuse other spellings.
/// assert_eq!(TagMutability::parse("immutable"), TagMutability::Unknown("immutable".into()));
/// assert_eq!(TagMutability::parse("IMMUTABLE "), TagMutability::Unknown("IMMUTABLE ".into()));
/// assert_eq!(TagMutability::parse("SOMETIMES"), TagMutability::Unknown("SOMETIMES".into()));
/// assert_eq!(TagMutability::ImmutableWithExclusion.as_str(), "IMMUTABLE_WITH_EXCLUSION");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagMutability {
    /// Tags can be overwritten (the API default).
    Mutable,
    /// No tag can be overwritten.
    Immutable,
    /// No tag can be overwritten except those matching an exclusion filter.
    ImmutableWithExclusion,
    /// Every tag can be overwritten except those matching an exclusion filter.
    MutableWithExclusion,
    /// A value this project does not know, kept verbatim.
    Unknown(String),
}

impl TagMutability {
    /// Parses an API / CloudFormation / Terraform value, exactly: `immutable` or
    /// `IMMUTABLE ` is not `IMMUTABLE` (CloudFormation, Terraform and the API reject them),
    /// so anything but the four API spellings is [`TagMutability::Unknown`] with the
    /// original text, evaluated NON_COMPLIANT (fail closed).
    pub fn parse(value: &str) -> Self {
        match value {
            "MUTABLE" => Self::Mutable,
            "IMMUTABLE" => Self::Immutable,
            "IMMUTABLE_WITH_EXCLUSION" => Self::ImmutableWithExclusion,
            "MUTABLE_WITH_EXCLUSION" => Self::MutableWithExclusion,
            _ => Self::Unknown(value.to_owned()),
        }
    }

    /// The API spelling of the value (the original text for [`TagMutability::Unknown`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Mutable => "MUTABLE",
            Self::Immutable => "IMMUTABLE",
            Self::ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
            Self::MutableWithExclusion => "MUTABLE_WITH_EXCLUSION",
            Self::Unknown(s) => s,
        }
    }

    /// True for the two modes that take exclusion filters.
    pub fn takes_filters(&self) -> bool {
        matches!(
            self,
            Self::ImmutableWithExclusion | Self::MutableWithExclusion
        )
    }
}

impl fmt::Display for TagMutability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TagMutability {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TagMutability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

impl JsonSchema for TagMutability {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TagMutability".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "imageTagMutability as the ECR API spells it. Other strings are kept verbatim and evaluated NON_COMPLIANT (fail closed).",
            "examples": ["MUTABLE", "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION", "MUTABLE_WITH_EXCLUSION"]
        })
    }
}

/// What an input says about a repository's tag mutability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum MutabilitySetting {
    /// The input states a value.
    Set {
        /// The value.
        value: TagMutability,
    },
    /// The input does not state a value; AWS then applies its default, `MUTABLE`.
    Absent,
    /// The input holds an expression that cannot be resolved without deploying
    /// (for example `!GetAtt`, an `!If` on a condition, `!Ref` to a parameter with no default).
    Unresolved {
        /// Why it cannot be resolved, naming the expression.
        reason: String,
    },
}

impl MutabilitySetting {
    /// Shorthand for `MutabilitySetting::Set { value }`.
    pub fn set(value: TagMutability) -> Self {
        Self::Set { value }
    }
}

/// The kind of an exclusion filter. The API knows only `WILDCARD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterType {
    /// `WILDCARD`: `*` matches any run of characters, the whole tag must match.
    Wildcard,
    /// A filter type this project does not know, kept verbatim.
    Unknown(String),
}

impl FilterType {
    /// Parses the API value, exactly (`wildcard` is an unknown type, which evaluation
    /// refuses).
    pub fn parse(value: &str) -> Self {
        if value == "WILDCARD" {
            Self::Wildcard
        } else {
            Self::Unknown(value.to_owned())
        }
    }

    /// The API spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Wildcard => "WILDCARD",
            Self::Unknown(s) => s,
        }
    }
}

impl Serialize for FilterType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FilterType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

impl JsonSchema for FilterType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FilterType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Exclusion filter type; the API knows only WILDCARD.",
            "examples": ["WILDCARD"]
        })
    }
}

/// One `imageTagMutabilityExclusionFilters` entry.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct ExclusionFilter {
    /// The filter type (`WILDCARD`).
    pub filter_type: FilterType,
    /// The filter text, for example `latest` or `dev-*`.
    pub filter: String,
}

impl ExclusionFilter {
    /// A `WILDCARD` filter.
    ///
    /// ```
    /// let f = immutag_core::ExclusionFilter::wildcard("dev-*");
    /// assert!(f.matches("dev-feature"));
    /// assert!(!f.matches("prod"));
    /// ```
    pub fn wildcard(filter: impl Into<String>) -> Self {
        Self {
            filter_type: FilterType::Wildcard,
            filter: filter.into(),
        }
    }

    /// True when this filter matches `tag` (see [`crate::wildcard`]). Unknown filter types
    /// match nothing.
    pub fn matches(&self, tag: &str) -> bool {
        match self.filter_type {
            FilterType::Wildcard => crate::wildcard::matches(&self.filter, tag),
            FilterType::Unknown(_) => false,
        }
    }

    /// True when the filter matches every possible tag (it consists of `*` only).
    pub fn is_catch_all(&self) -> bool {
        crate::wildcard::is_catch_all(&self.filter)
    }
}

/// What an input says about the exclusion filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FilterSetting {
    /// The filters (empty when the input lists none).
    Listed {
        /// The filters, in input order.
        filters: Vec<ExclusionFilter>,
    },
    /// The input holds an expression that cannot be resolved statically.
    Unresolved {
        /// Why, naming the expression.
        reason: String,
    },
}

impl Default for FilterSetting {
    fn default() -> Self {
        Self::Listed {
            filters: Vec::new(),
        }
    }
}

impl FilterSetting {
    /// Listed filters.
    pub fn listed(filters: Vec<ExclusionFilter>) -> Self {
        Self::Listed { filters }
    }

    /// The listed filters, or an empty slice when unresolved.
    pub fn filters(&self) -> &[ExclusionFilter] {
        match self {
            Self::Listed { filters } => filters,
            Self::Unresolved { .. } => &[],
        }
    }
}

/// Whether the recorded resource is still in scope for evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    /// The resource exists (Config `OK` / `ResourceDiscovered`, or any non-Config input).
    #[default]
    Active,
    /// Config recorded the resource as deleted (`ResourceDeleted`, `ResourceDeletedNotRecorded`).
    Deleted,
    /// Config does not record the resource type (`ResourceNotRecorded`).
    NotRecorded,
    /// The rule event said `eventLeftScope: true`.
    LeftScope,
}

/// The input shapes immutag reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// AWS Config: a rule event, an invoking event, or a configuration item.
    Config,
    /// ECR API / CLI output (DescribeRepositories, CreateRepository, repository objects).
    Ecr,
    /// A CloudFormation template (JSON or YAML), including CDK `cdk.out` templates.
    Cloudformation,
    /// A Terraform plan (`terraform show -json`).
    Terraform,
    /// A live read of the ECR API by immutag itself.
    Live,
    /// AWS Config's recorded state, read by immutag through a configuration aggregator
    /// (`SelectAggregateResourceConfig`, `BatchGetAggregateResourceConfig`): it lags the live
    /// state by minutes.
    #[serde(rename = "config-aggregator")]
    ConfigAggregator,
    /// AWS Config's recorded state of the caller's own account, read by immutag with an
    /// advanced query (`SelectResourceConfig`, `BatchGetResourceConfig`).
    #[serde(rename = "config-query")]
    ConfigQuery,
}

impl InputKind {
    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Ecr => "ecr",
            Self::Cloudformation => "cloudformation",
            Self::Terraform => "terraform",
            Self::Live => "live",
            Self::ConfigAggregator => "config-aggregator",
            Self::ConfigQuery => "config-query",
        }
    }
}

/// Where a repository description came from, precise enough to point a reader (or a SARIF
/// viewer) at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Source {
    /// The input shape.
    pub kind: InputKind,
    /// The file it was read from (`-` for stdin); `None` when read from memory or live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The template logical id (CloudFormation) or resource address (Terraform).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_id: Option<String>,
    /// A JSON pointer to the resource within the input document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The 1-based line of the resource in the file, when the parser knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Source {
    /// A source of the given kind with no location.
    pub fn new(kind: InputKind) -> Self {
        Self {
            kind,
            file: None,
            logical_id: None,
            pointer: None,
            line: None,
        }
    }
}

/// A repository (or another recorded resource) normalized from any input shape.
///
/// ```
/// use immutag_core::{Repository, TagMutability, MutabilitySetting, InputKind};
/// let repo = Repository::new("payments-api", InputKind::Ecr)
///     .with_mutability(TagMutability::Immutable);
/// assert_eq!(repo.tag_mutability, MutabilitySetting::set(TagMutability::Immutable));
/// assert_eq!(repo.resource_type, "AWS::ECR::Repository");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Repository {
    /// The resource type; anything but [`ECR_REPOSITORY_TYPE`] is NOT_APPLICABLE.
    pub resource_type: String,
    /// The identifier reported to Config: the repository name for recorded / API inputs,
    /// the name or else the logical id / address for templates and plans.
    pub resource_id: String,
    /// The repository name, when known (templates may leave it to CloudFormation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The 12-digit account id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The repository ARN, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The tag mutability setting.
    pub tag_mutability: MutabilitySetting,
    /// The exclusion filters.
    #[serde(default)]
    pub exclusion_filters: FilterSetting,
    /// Resource tags (key to value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Whether the resource is still in scope.
    #[serde(default)]
    pub status: ResourceStatus,
    /// When the description was captured (Config `configurationItemCaptureTime`, RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// Where it came from.
    pub source: Source,
}

impl Repository {
    /// An active `AWS::ECR::Repository` named `name`, with the setting absent, no filters
    /// and no tags. Use the `with_*` methods to fill it in.
    pub fn new(name: impl Into<String>, kind: InputKind) -> Self {
        let name = name.into();
        Self {
            resource_type: ECR_REPOSITORY_TYPE.to_owned(),
            resource_id: name.clone(),
            name: Some(name),
            account_id: None,
            region: None,
            arn: None,
            tag_mutability: MutabilitySetting::Absent,
            exclusion_filters: FilterSetting::default(),
            tags: BTreeMap::new(),
            status: ResourceStatus::Active,
            captured_at: None,
            source: Source::new(kind),
        }
    }

    /// Sets the mutability.
    pub fn with_mutability(mut self, value: TagMutability) -> Self {
        self.tag_mutability = MutabilitySetting::set(value);
        self
    }

    /// Sets listed exclusion filters.
    pub fn with_filters(mut self, filters: Vec<ExclusionFilter>) -> Self {
        self.exclusion_filters = FilterSetting::listed(filters);
        self
    }

    /// Adds a resource tag.
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// A short label for humans: `account/region/name` with the parts that are known.
    pub fn label(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(a) = &self.account_id {
            parts.push(a);
        }
        if let Some(r) = &self.region {
            parts.push(r);
        }
        parts.push(&self.resource_id);
        parts.join("/")
    }
}
