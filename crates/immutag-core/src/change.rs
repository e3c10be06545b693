//! A *change*: one switch of one repository (or one repository creation template), from a
//! [`State`] to another, keyed by [`RepoKey`] (account, region, kind, name or prefix): its tag
//! mutability (a [`Setting`]) or, for a repository, its lifecycle policy (a
//! [`LifecyclePolicy`], the untagged-image expiry of `immutag remediate --lifecycle`).
//! Remediation decides changes, the AWS edge applies them (journaled, verified), rollback
//! reverses them.
//!
//! ```
//! use immutag_core::change::{Change, RepoKey, Setting};
//! use immutag_core::{ExclusionFilter, TagMutability, TemplatePrefix};
//!
//! let change = Change::mutability(
//!     RepoKey::new(Some("111122223333"), Some("eu-west-1"), "web"),
//!     Setting::new(TagMutability::Mutable, vec![]),
//!     Setting::new(TagMutability::ImmutableWithExclusion, vec![ExclusionFilter::wildcard("latest")]),
//! );
//! assert!(change.to.validate_target().is_ok());
//! assert_eq!(change.to.to_string(), "IMMUTABLE_WITH_EXCLUSION [latest]");
//! assert_eq!(change.key.to_string(), "111122223333/eu-west-1/web");
//!
//! let root = RepoKey::template(Some("111122223333"), Some("eu-west-1"), &TemplatePrefix::Root);
//! assert_eq!(root.to_string(), "111122223333/eu-west-1/template:ROOT");
//! // Repository keys serialize as they always did; a template key says what it is.
//! assert!(!serde_json::to_string(&change.key).unwrap().contains("resource_kind"));
//! assert!(serde_json::to_string(&root).unwrap().contains(r#""resource_kind":"creation_template""#));
//! ```

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    ExclusionFilter, FilterSetting, MutabilitySetting, Repository, ResourceKind, TagMutability,
    TemplatePrefix,
};
use crate::wildcard;

/// The most exclusion filters the ECR API accepts on one repository.
pub const MAX_EXCLUSION_FILTERS: usize = 5;

/// A concrete tag mutability setting: the mode and its exclusion filters (empty for the
/// modes that take none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Setting {
    /// `imageTagMutability`.
    pub mode: TagMutability,
    /// `imageTagMutabilityExclusionFilters`, in API order.
    #[serde(default)]
    pub filters: Vec<ExclusionFilter>,
}

impl Setting {
    /// Plain `IMMUTABLE`.
    pub fn immutable() -> Self {
        Self {
            mode: TagMutability::Immutable,
            filters: Vec::new(),
        }
    }

    /// `mode` with `filters`.
    pub fn new(mode: TagMutability, filters: Vec<ExclusionFilter>) -> Self {
        Self { mode, filters }
    }

    /// The concrete setting a repository description states: an absent setting is the
    /// API default `MUTABLE`; an unresolved one (a template expression) has none.
    pub fn of(repo: &Repository) -> Result<Self, String> {
        let mode = match &repo.tag_mutability {
            MutabilitySetting::Set { value } => value.clone(),
            MutabilitySetting::Absent => TagMutability::Mutable,
            MutabilitySetting::Unresolved { reason } => {
                return Err(format!("the tag mutability is unresolved: {reason}"));
            }
        };
        let filters = match &repo.exclusion_filters {
            FilterSetting::Listed { filters } => filters.clone(),
            FilterSetting::Unresolved { reason } => {
                return Err(format!("the exclusion filters are unresolved: {reason}"));
            }
        };
        Ok(Self { mode, filters })
    }

    /// True when both settings have the same effect: same mode and, for the modes that take
    /// filters, the same set of filters (order and duplicates do not matter).
    pub fn same_as(&self, other: &Setting) -> bool {
        if self.mode != other.mode {
            return false;
        }
        if !self.mode.takes_filters() {
            return true;
        }
        let mut a: Vec<&ExclusionFilter> = self.filters.iter().collect();
        let mut b: Vec<&ExclusionFilter> = other.filters.iter().collect();
        a.sort();
        a.dedup();
        b.sort();
        b.dedup();
        a == b
    }

    /// Checks that ECR would accept this setting as a target: a known mode, 1 to 5 valid
    /// `WILDCARD` filters (none a catch-all) exactly when the mode takes filters.
    pub fn validate_target(&self) -> Result<(), String> {
        if let TagMutability::Unknown(v) = &self.mode {
            return Err(format!("`{v}` is not a tag mutability ECR knows"));
        }
        if !self.mode.takes_filters() {
            if !self.filters.is_empty() {
                return Err(format!("{} takes no exclusion filters", self.mode));
            }
            return Ok(());
        }
        if self.filters.is_empty() || self.filters.len() > MAX_EXCLUSION_FILTERS {
            return Err(format!(
                "{} needs 1 to {MAX_EXCLUSION_FILTERS} exclusion filters, found {}",
                self.mode,
                self.filters.len()
            ));
        }
        for f in &self.filters {
            if f.filter_type != crate::model::FilterType::Wildcard {
                return Err(format!(
                    "exclusion filter type `{}` is not WILDCARD",
                    f.filter_type.as_str()
                ));
            }
            if !wildcard::is_valid_filter(&f.filter) {
                return Err(format!(
                    "`{}` is not a valid exclusion filter (1 to 128 characters of 0-9 a-z A-Z . _ * -)",
                    f.filter
                ));
            }
            if self.mode == TagMutability::ImmutableWithExclusion && f.is_catch_all() {
                return Err(format!(
                    "`{}` matches every tag and would leave the repository fully mutable",
                    f.filter
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.mode.as_str())?;
        if self.mode.takes_filters() || !self.filters.is_empty() {
            let list: Vec<&str> = self.filters.iter().map(|x| x.filter.as_str()).collect();
            write!(f, " [{}]", list.join(", "))?;
        }
        Ok(())
    }
}

/// A repository's lifecycle policy: its `lifecyclePolicyText`, or none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct LifecyclePolicy {
    /// The policy text (JSON); `null`: the repository has no lifecycle policy. Required, so
    /// that no other record reads as a lifecycle one.
    #[serde(deserialize_with = "Option::deserialize")]
    pub lifecycle_policy: Option<String>,
}

impl LifecyclePolicy {
    /// None.
    pub fn none() -> Self {
        Self {
            lifecycle_policy: None,
        }
    }

    /// The policy `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            lifecycle_policy: Some(text.into()),
        }
    }

    /// True when both are none, or both the same JSON document (ECR may return the text
    /// re-formatted).
    pub fn same_as(&self, other: &LifecyclePolicy) -> bool {
        match (&self.lifecycle_policy, &other.lifecycle_policy) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a == b
                    || matches!(
                        (
                            serde_json::from_str::<serde_json::Value>(a),
                            serde_json::from_str::<serde_json::Value>(b),
                        ),
                        (Ok(x), Ok(y)) if x == y
                    )
            }
            _ => false,
        }
    }
}

impl fmt::Display for LifecyclePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lifecycle_policy {
            None => f.write_str("no lifecycle policy"),
            Some(text) => {
                let rules = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("rules").and_then(|r| r.as_array()).map(Vec::len));
                match rules {
                    Some(n) => write!(f, "lifecycle policy ({n} rule(s))"),
                    None => f.write_str("lifecycle policy"),
                }
            }
        }
    }
}

/// Which part of a repository a change switches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// `imageTagMutability` and its exclusion filters.
    TagMutability,
    /// The lifecycle policy.
    LifecyclePolicy,
}

/// What a change moves a repository from and to. Its JSON is that of the [`Setting`]
/// (`{"mode": ...}`) or of the [`LifecyclePolicy`] (`{"lifecycle_policy": ...}`), so journals
/// written before lifecycle changes existed read as they did. Read by its member (`mode` or
/// `lifecycle_policy`), so an error names what is wrong inside the one it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum State {
    /// A tag mutability setting.
    Mutability(Setting),
    /// A lifecycle policy.
    Lifecycle(LifecyclePolicy),
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        if value.contains_key("mode") {
            serde_json::from_value(serde_json::Value::Object(value))
                .map(State::Mutability)
                .map_err(D::Error::custom)
        } else if value.contains_key("lifecycle_policy") {
            serde_json::from_value(serde_json::Value::Object(value))
                .map(State::Lifecycle)
                .map_err(D::Error::custom)
        } else {
            Err(D::Error::custom(
                "a state needs `mode` (a tag mutability setting) or `lifecycle_policy`",
            ))
        }
    }
}

impl From<Setting> for State {
    fn from(s: Setting) -> Self {
        Self::Mutability(s)
    }
}

impl From<LifecyclePolicy> for State {
    fn from(p: LifecyclePolicy) -> Self {
        Self::Lifecycle(p)
    }
}

impl State {
    /// Which attribute it is a state of.
    pub fn attribute(&self) -> Attribute {
        match self {
            Self::Mutability(_) => Attribute::TagMutability,
            Self::Lifecycle(_) => Attribute::LifecyclePolicy,
        }
    }

    /// The tag mutability setting, when it is one.
    pub fn setting(&self) -> Option<&Setting> {
        match self {
            Self::Mutability(s) => Some(s),
            Self::Lifecycle(_) => None,
        }
    }

    /// True when both have the same effect ([`Setting::same_as`], [`LifecyclePolicy::same_as`]);
    /// states of different attributes never are.
    pub fn same_as(&self, other: &State) -> bool {
        match (self, other) {
            (Self::Mutability(a), Self::Mutability(b)) => a.same_as(b),
            (Self::Lifecycle(a), Self::Lifecycle(b)) => a.same_as(b),
            _ => false,
        }
    }

    /// Checks that ECR would accept it as a target ([`Setting::validate_target`]; a lifecycle
    /// policy must be a JSON object with `rules`, or none).
    pub fn validate_target(&self) -> Result<(), String> {
        match self {
            Self::Mutability(s) => s.validate_target(),
            Self::Lifecycle(LifecyclePolicy {
                lifecycle_policy: None,
            }) => Ok(()),
            Self::Lifecycle(LifecyclePolicy {
                lifecycle_policy: Some(text),
            }) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) if v.get("rules").is_some_and(|r| r.is_array()) => Ok(()),
                _ => Err("the lifecycle policy is not a JSON object with `rules`".to_owned()),
            },
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mutability(s) => s.fmt(f),
            Self::Lifecycle(p) => p.fmt(f),
        }
    }
}

/// Where a repository (or a repository creation template) lives and what it is called: the
/// key of a change.
///
/// In JSON (journal lines, reports) a repository key is `account`, `region`, `repository`, as
/// it always was (journals written before templates read as repository keys); a template key
/// adds `"resource_kind": "creation_template"` and holds the prefix in `repository`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct RepoKey {
    /// The account (registry id); `None`: the account of the credentials in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region; `None`: the region configured for the credentials in use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// What the key names: a repository (the default, left out of the JSON) or a creation
    /// template.
    #[serde(
        rename = "resource_kind",
        default,
        skip_serializing_if = "ResourceKind::is_repository"
    )]
    pub kind: ResourceKind,
    /// The repository name; for a creation template, its prefix (`ROOT` or a namespace).
    pub repository: String,
}

impl RepoKey {
    /// The key of a repository.
    pub fn new(account: Option<&str>, region: Option<&str>, repository: &str) -> Self {
        Self {
            account: account.map(str::to_owned),
            region: region.map(str::to_owned),
            kind: ResourceKind::Repository,
            repository: repository.to_owned(),
        }
    }

    /// The key of a repository creation template.
    pub fn template(account: Option<&str>, region: Option<&str>, prefix: &TemplatePrefix) -> Self {
        Self {
            kind: ResourceKind::CreationTemplate,
            ..Self::new(account, region, prefix.as_str())
        }
    }

    /// The template prefix, for a creation template's key.
    pub fn template_prefix(&self) -> Option<TemplatePrefix> {
        (self.kind == ResourceKind::CreationTemplate)
            .then(|| TemplatePrefix::parse(&self.repository))
    }
}

impl fmt::Display for RepoKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ResourceKind::Repository => "",
            ResourceKind::CreationTemplate => "template:",
        };
        write!(
            f,
            "{}/{}/{what}{}",
            self.account.as_deref().unwrap_or("-"),
            self.region.as_deref().unwrap_or("-"),
            self.repository
        )
    }
}

/// One change to make: which repository (or creation template), its state now, the state to
/// make (both of the same [`Attribute`]: build changes with [`Change::mutability`] and
/// [`Change::lifecycle`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    /// Which repository.
    #[serde(flatten)]
    pub key: RepoKey,
    /// Its state now.
    pub from: State,
    /// The state to make.
    pub to: State,
}

impl Change {
    /// A change of tag mutability.
    pub fn mutability(key: RepoKey, from: Setting, to: Setting) -> Self {
        Self {
            key,
            from: from.into(),
            to: to.into(),
        }
    }

    /// A change of lifecycle policy.
    pub fn lifecycle(key: RepoKey, from: LifecyclePolicy, to: LifecyclePolicy) -> Self {
        Self {
            key,
            from: from.into(),
            to: to.into(),
        }
    }

    /// The attribute it switches (that of its target).
    pub fn attribute(&self) -> Attribute {
        self.to.attribute()
    }
}
