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

/// The CloudFormation / AWS Config resource type of an ECR repository creation template.
pub const ECR_CREATION_TEMPLATE_TYPE: &str = "AWS::ECR::RepositoryCreationTemplate";

/// The resource type of a registry-wide finding (no creation template covers what ECR creates
/// for the registry's pull-through cache or replication rules). Not a CloudFormation type: it
/// names the registry, whose id is the account.
pub const ECR_REGISTRY_TYPE: &str = "AWS::ECR::Registry";

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

/// `appliedFor` of a repository creation template: the ways ECR creates repositories with it.
///
/// ```
/// use immutag_core::AppliedFor;
/// assert_eq!(AppliedFor::parse("PULL_THROUGH_CACHE"), AppliedFor::PullThroughCache);
/// assert_eq!(AppliedFor::parse("replication"), AppliedFor::Unknown("replication".into()));
/// assert_eq!(AppliedFor::CreateOnPush.as_str(), "CREATE_ON_PUSH");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppliedFor {
    /// `PULL_THROUGH_CACHE`: repositories a pull-through cache rule creates on first pull.
    PullThroughCache,
    /// `REPLICATION`: repositories replication creates in this (destination) registry.
    Replication,
    /// `CREATE_ON_PUSH`: repositories created by the first push to a name that does not exist.
    CreateOnPush,
    /// A value this project does not know (or a template expression), kept verbatim.
    Unknown(String),
}

impl AppliedFor {
    /// Parses an API / CloudFormation / Terraform value, exactly (the API refuses other
    /// spellings).
    pub fn parse(value: &str) -> Self {
        match value {
            "PULL_THROUGH_CACHE" => Self::PullThroughCache,
            "REPLICATION" => Self::Replication,
            "CREATE_ON_PUSH" => Self::CreateOnPush,
            _ => Self::Unknown(value.to_owned()),
        }
    }

    /// The API spelling (the original text for [`AppliedFor::Unknown`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::PullThroughCache => "PULL_THROUGH_CACHE",
            Self::Replication => "REPLICATION",
            Self::CreateOnPush => "CREATE_ON_PUSH",
            Self::Unknown(s) => s,
        }
    }

    /// What ECR creates with it, in words (for annotations).
    pub fn describe(&self) -> &str {
        match self {
            Self::PullThroughCache => "pull-through cache",
            Self::Replication => "replication",
            Self::CreateOnPush => "create-on-push",
            Self::Unknown(s) => s,
        }
    }
}

impl fmt::Display for AppliedFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for AppliedFor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AppliedFor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

impl JsonSchema for AppliedFor {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AppliedFor".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "appliedFor of a repository creation template as the ECR API spells it; other strings are kept verbatim.",
            "examples": ["PULL_THROUGH_CACHE", "REPLICATION", "CREATE_ON_PUSH"]
        })
    }
}

/// The prefix of a repository creation template.
///
/// A prefix `prod` applies to the repositories whose names begin with `prod/`; `ROOT` applies to
/// every repository that no other template's prefix matches.
///
/// ```
/// use immutag_core::TemplatePrefix;
/// let prod = TemplatePrefix::parse("prod");
/// assert!(prod.contains("prod/api"));
/// assert!(!prod.contains("production/api"));
/// assert!(prod.covers_namespace("prod/team-a"));
/// assert!(TemplatePrefix::parse("ROOT").covers_namespace("docker-hub"));
/// assert_eq!(TemplatePrefix::Root.as_str(), "ROOT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TemplatePrefix {
    /// `ROOT`: the default template, for every repository no other prefix matches.
    Root,
    /// A namespace: the repositories whose names begin with `NAMESPACE/`.
    Namespace(String),
}

impl TemplatePrefix {
    /// The spelling of the default template's prefix.
    pub const ROOT: &'static str = "ROOT";

    /// Parses a prefix: exactly `ROOT` is the default template, anything else a namespace.
    pub fn parse(value: &str) -> Self {
        if value == Self::ROOT {
            Self::Root
        } else {
            Self::Namespace(value.to_owned())
        }
    }

    /// The API spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Root => Self::ROOT,
            Self::Namespace(p) => p,
        }
    }

    /// True when a repository named `name` is under this prefix (`ROOT`: any name).
    pub fn contains(&self, name: &str) -> bool {
        match self {
            Self::Root => true,
            Self::Namespace(p) => name
                .strip_prefix(p.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }

    /// True when every repository under the namespace `namespace` (names beginning with
    /// `namespace/`) is under this prefix: `ROOT`, the namespace itself, or an enclosing one.
    pub fn covers_namespace(&self, namespace: &str) -> bool {
        match self {
            Self::Root => true,
            Self::Namespace(p) => namespace == p || self.contains(namespace),
        }
    }
}

impl fmt::Display for TemplatePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TemplatePrefix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TemplatePrefix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Self::parse(&s))
    }
}

impl JsonSchema for TemplatePrefix {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TemplatePrefix".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "The prefix of a repository creation template: ROOT (every repository no other prefix matches) or a namespace (repositories named NAMESPACE/...).",
            "examples": ["ROOT", "docker-hub", "prod/team-a"]
        })
    }
}

/// Which repositories a creation template decides: its prefix and its `appliedFor`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TemplateScope {
    /// The prefix; `None` when the input does not state it statically (a template expression).
    pub prefix: Option<TemplatePrefix>,
    /// `appliedFor`, in input order (a value that is not literal is kept as
    /// [`AppliedFor::Unknown`] with its expression).
    pub applied_for: Vec<AppliedFor>,
}

impl TemplateScope {
    /// True when the template applies to repositories ECR creates for `what`.
    pub fn applies_for(&self, what: &AppliedFor) -> bool {
        self.applied_for.contains(what)
    }

    /// The repositories that inherit the template, in words: `pull-through cache and
    /// replication repositories` (under its prefix, which the caller names; `... under a
    /// prefix set at deployment` when the prefix is not known).
    pub fn describe(&self) -> String {
        let what = if self.applied_for.is_empty() {
            "no repositories (appliedFor is empty)".to_owned()
        } else {
            let words: Vec<&str> = self.applied_for.iter().map(AppliedFor::describe).collect();
            format!("{} repositories", join_words(&words))
        };
        match &self.prefix {
            Some(_) => what,
            None => format!("{what} under a prefix set at deployment"),
        }
    }
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The two resource types immutag evaluates and changes, without their details: what a
/// change key ([`crate::change::RepoKey`]) and a journal record name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// An ECR repository (PutImageTagMutability).
    #[default]
    Repository,
    /// A repository creation template (UpdateRepositoryCreationTemplate), keyed by its prefix.
    CreationTemplate,
}

impl ResourceKind {
    /// True for [`ResourceKind::Repository`] (the default, left out of journal lines).
    pub fn is_repository(&self) -> bool {
        *self == Self::Repository
    }

    /// The resource type, as CloudFormation and AWS Config spell it.
    pub fn type_name(self) -> &'static str {
        match self {
            Self::Repository => ECR_REPOSITORY_TYPE,
            Self::CreationTemplate => ECR_CREATION_TEMPLATE_TYPE,
        }
    }
}

/// The resource type of a description: the two types the rule evaluates (a creation template
/// with the repositories it decides), the registry (of a coverage finding), or any other type
/// (a Config item of another type: NOT_APPLICABLE).
///
/// In JSON it is flattened into its owner: `resource_type` (the CloudFormation / Config
/// spelling) and, for a template, `prefix` and `applied_for`.
///
/// ```
/// use immutag_core::{ResourceKind, ResourceType};
/// assert_eq!(ResourceType::parse("AWS::ECR::Repository"), ResourceType::Repository);
/// let t = ResourceType::parse("AWS::ECR::RepositoryCreationTemplate");
/// assert_eq!(t.kind(), Some(ResourceKind::CreationTemplate));
/// assert_eq!(ResourceType::parse("AWS::S3::Bucket").as_str(), "AWS::S3::Bucket");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ResourceType {
    /// `AWS::ECR::Repository`.
    #[default]
    Repository,
    /// `AWS::ECR::RepositoryCreationTemplate`, with its prefix and `appliedFor`.
    CreationTemplate(TemplateScope),
    /// A registry (`AWS::ECR::Registry`, immutag's name): the subject of a coverage finding.
    Registry,
    /// Any other resource type, kept verbatim.
    Other(String),
}

impl ResourceType {
    /// Parses a CloudFormation / Config resource type, exactly. A creation template parsed
    /// from its type alone has no prefix and no `appliedFor`.
    pub fn parse(value: &str) -> Self {
        match value {
            ECR_REPOSITORY_TYPE => Self::Repository,
            ECR_CREATION_TEMPLATE_TYPE => Self::CreationTemplate(TemplateScope::default()),
            ECR_REGISTRY_TYPE => Self::Registry,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The CloudFormation / Config spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Repository => ECR_REPOSITORY_TYPE,
            Self::CreationTemplate(_) => ECR_CREATION_TEMPLATE_TYPE,
            Self::Registry => ECR_REGISTRY_TYPE,
            Self::Other(s) => s,
        }
    }

    /// The kind, for the two types immutag changes.
    pub fn kind(&self) -> Option<ResourceKind> {
        match self {
            Self::Repository => Some(ResourceKind::Repository),
            Self::CreationTemplate(_) => Some(ResourceKind::CreationTemplate),
            Self::Registry | Self::Other(_) => None,
        }
    }

    /// The template's scope, for a creation template.
    pub fn template(&self) -> Option<&TemplateScope> {
        match self {
            Self::CreationTemplate(scope) => Some(scope),
            _ => None,
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON form of a [`ResourceType`], flattened into its owner.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "ResourceType")]
struct ResourceTypeWire {
    /// The resource type: `AWS::ECR::Repository`, `AWS::ECR::RepositoryCreationTemplate`,
    /// `AWS::ECR::Registry` (a coverage finding) or another type (NOT_APPLICABLE).
    resource_type: String,
    /// For a creation template: its prefix (`ROOT` or a namespace), when stated statically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<TemplatePrefix>,
    /// For a creation template: `appliedFor`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    applied_for: Vec<AppliedFor>,
}

impl Serialize for ResourceType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let scope = self.template();
        ResourceTypeWire {
            resource_type: self.as_str().to_owned(),
            prefix: scope.and_then(|t| t.prefix.clone()),
            applied_for: scope.map(|t| t.applied_for.clone()).unwrap_or_default(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for ResourceType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = ResourceTypeWire::deserialize(d)?;
        Ok(match ResourceType::parse(&w.resource_type) {
            Self::CreationTemplate(_) => Self::CreationTemplate(TemplateScope {
                prefix: w.prefix,
                applied_for: w.applied_for,
            }),
            other => other,
        })
    }
}

impl JsonSchema for ResourceType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ResourceType".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        ResourceTypeWire::json_schema(generator)
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

/// A repository (or a repository creation template, or another recorded resource)
/// normalized from any input shape.
///
/// ```
/// use immutag_core::{InputKind, MutabilitySetting, Repository, ResourceType, TagMutability};
/// let repo = Repository::new("payments-api", InputKind::Ecr)
///     .with_mutability(TagMutability::Immutable);
/// assert_eq!(repo.tag_mutability, MutabilitySetting::set(TagMutability::Immutable));
/// assert_eq!(repo.resource_type, ResourceType::Repository);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Repository {
    /// The resource type: a repository, a creation template (with its prefix and
    /// `appliedFor`), or another type (NOT_APPLICABLE).
    #[serde(flatten)]
    pub resource_type: ResourceType,
    /// The identifier reported to Config: the repository name for recorded / API inputs,
    /// the name or else the logical id / address for templates and plans; a creation
    /// template's prefix (else its logical id / address).
    pub resource_id: String,
    /// The repository name, when known (templates may leave it to CloudFormation; a creation
    /// template has none).
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
            resource_type: ResourceType::Repository,
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

    /// An active repository creation template for `prefix`, applied for `applied_for`, with
    /// the setting absent and no filters. Its resource id is the prefix; it has no repository
    /// name.
    ///
    /// ```
    /// use immutag_core::{AppliedFor, InputKind, Repository, TemplatePrefix};
    /// let t = Repository::creation_template(TemplatePrefix::Root, vec![AppliedFor::PullThroughCache], InputKind::Ecr);
    /// assert_eq!(t.resource_id, "ROOT");
    /// assert_eq!(t.name, None);
    /// ```
    pub fn creation_template(
        prefix: TemplatePrefix,
        applied_for: Vec<AppliedFor>,
        kind: InputKind,
    ) -> Self {
        let mut t = Self::new(prefix.as_str(), kind);
        t.name = None;
        t.resource_type = ResourceType::CreationTemplate(TemplateScope {
            prefix: Some(prefix),
            applied_for,
        });
        t
    }

    /// The kind, for the two resource types immutag changes.
    pub fn kind(&self) -> Option<ResourceKind> {
        self.resource_type.kind()
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
