//! The evaluation rule: one [`Repository`] and the [`RuleParameters`] in, one
//! [`Evaluation`] out. The decision table is in `docs/evaluation.md`.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::{
    ECR_CREATION_TEMPLATE_TYPE, ECR_REPOSITORY_TYPE, FilterSetting, FilterType, InputKind,
    MutabilitySetting, Repository, ResourceStatus, ResourceType, Source, TagMutability,
    TemplatePrefix, TemplateScope,
};
use crate::params::RuleParameters;
use crate::text::printable;

/// The compliance types AWS Config accepts from a custom rule (`INSUFFICIENT_DATA` is not
/// accepted by PutEvaluations, so it is not here).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// Tags cannot move (or only under allowed exclusions).
    Compliant,
    /// Tags can move.
    NonCompliant,
    /// Not evaluated: not a repository, deleted, out of scope, or exempt.
    NotApplicable,
}

impl Compliance {
    /// The Config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Compliant => "COMPLIANT",
            Self::NonCompliant => "NON_COMPLIANT",
            Self::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

impl std::fmt::Display for Compliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which row of the decision table decided. Stable identifiers (used as SARIF rule ids).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The resource is neither an `AWS::ECR::Repository` nor an
    /// `AWS::ECR::RepositoryCreationTemplate`.
    NotARepository,
    /// Config recorded the resource as deleted.
    Deleted,
    /// Config does not record the resource.
    NotRecorded,
    /// The event said the resource left the rule's scope.
    LeftScope,
    /// The name matches an `ExemptRepositoryPatterns` entry.
    ExemptByName,
    /// The repository carries the `ExemptionTagKey` tag.
    ExemptByTag,
    /// `IMMUTABLE`.
    Immutable,
    /// `IMMUTABLE_WITH_EXCLUSION` with allowed filters only.
    ImmutableWithAllowedExclusions,
    /// `IMMUTABLE_WITH_EXCLUSION` with a filter that is not allowed (or a catch-all, or
    /// filters that cannot be checked).
    ImmutableWithDisallowedExclusions,
    /// `MUTABLE_WITH_EXCLUSION`.
    MutableWithExclusion,
    /// `MUTABLE`.
    Mutable,
    /// The setting is absent (AWS default: MUTABLE).
    DefaultMutable,
    /// A value this project does not know.
    UnknownMutability,
    /// A template value that cannot be resolved statically.
    Unresolved,
    /// The registry has pull-through cache or replication rules that no creation template
    /// covers: ECR creates those repositories with the defaults (MUTABLE).
    UncoveredCreation,
}

impl Reason {
    /// The stable identifier (kebab-case).
    pub fn id(self) -> &'static str {
        match self {
            Self::NotARepository => "not-a-repository",
            Self::Deleted => "deleted",
            Self::NotRecorded => "not-recorded",
            Self::LeftScope => "left-scope",
            Self::ExemptByName => "exempt-by-name",
            Self::ExemptByTag => "exempt-by-tag",
            Self::Immutable => "immutable",
            Self::ImmutableWithAllowedExclusions => "immutable-with-allowed-exclusions",
            Self::ImmutableWithDisallowedExclusions => "immutable-with-disallowed-exclusions",
            Self::MutableWithExclusion => "mutable-with-exclusion",
            Self::Mutable => "mutable",
            Self::DefaultMutable => "default-mutable",
            Self::UnknownMutability => "unknown-mutability",
            Self::Unresolved => "unresolved",
            Self::UncoveredCreation => "uncovered-creation",
        }
    }
}

/// The longest annotation AWS Config accepts, in characters.
pub const MAX_ANNOTATION_CHARS: usize = 256;

/// The result of evaluating one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evaluation {
    /// The resource type (its spelling is what is reported to Config; a creation template
    /// carries its prefix and `appliedFor`).
    #[serde(flatten)]
    pub resource_type: ResourceType,
    /// The resource id (as reported to Config).
    pub resource_id: String,
    /// The account, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// The region, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The ARN, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// The verdict.
    pub compliance: Compliance,
    /// The decision-table row.
    pub reason: Reason,
    /// 1 to 256 characters: what was found and what to do.
    pub annotation: String,
    /// The mutability the input stated.
    pub tag_mutability: MutabilitySetting,
    /// The exclusion filters the input stated.
    pub exclusion_filters: FilterSetting,
    /// Config capture time of the item, when known (the PutEvaluations ordering timestamp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    /// Where the resource was described.
    pub source: Source,
}

/// Evaluates one repository against the rule parameters.
///
/// ```
/// use immutag_core::{evaluate, Compliance, ExclusionFilter, InputKind, Repository, RuleParameters, TagMutability};
///
/// let params = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#).unwrap();
///
/// let fixed = Repository::new("api", InputKind::Ecr).with_mutability(TagMutability::Immutable);
/// assert_eq!(evaluate(&fixed, &params).compliance, Compliance::Compliant);
///
/// let fenced = Repository::new("web", InputKind::Ecr)
///     .with_mutability(TagMutability::ImmutableWithExclusion)
///     .with_filters(vec![ExclusionFilter::wildcard("latest")]);
/// assert_eq!(evaluate(&fenced, &params).compliance, Compliance::Compliant);
///
/// let open = Repository::new("legacy", InputKind::Ecr); // setting absent: AWS default MUTABLE
/// let e = evaluate(&open, &params);
/// assert_eq!(e.compliance, Compliance::NonCompliant);
/// assert!(e.annotation.contains("IMMUTABLE"));
/// ```
pub fn evaluate(repo: &Repository, params: &RuleParameters) -> Evaluation {
    let (compliance, reason, mut annotation) = decide(repo, params);
    if repo.name.is_none()
        && repo.resource_type == ResourceType::Repository
        && !params.exempt_repository_patterns.is_empty()
        && compliance != Compliance::NotApplicable
    {
        annotation.insert_str(0, NO_STATIC_NAME);
    }
    Evaluation {
        resource_type: repo.resource_type.clone(),
        resource_id: repo.resource_id.clone(),
        account_id: repo.account_id.clone(),
        region: repo.region.clone(),
        arn: repo.arn.clone(),
        compliance,
        reason,
        annotation: clamp_annotation(&annotation),
        tag_mutability: repo.tag_mutability.clone(),
        exclusion_filters: repo.exclusion_filters.clone(),
        captured_at: repo.captured_at.clone(),
        source: repo.source.clone(),
    }
}

/// The start of the annotation of a resource without a static name (a template whose
/// `RepositoryName` is absent or set at deployment) when exemption patterns are configured.
pub const NO_STATIC_NAME: &str =
    "No static repository name: ExemptRepositoryPatterns match names only, not ids. ";

/// Evaluates many repositories, in order.
pub fn evaluate_all<'a>(
    repos: impl IntoIterator<Item = &'a Repository>,
    params: &RuleParameters,
) -> Vec<Evaluation> {
    repos.into_iter().map(|r| evaluate(r, params)).collect()
}

fn decide(repo: &Repository, params: &RuleParameters) -> (Compliance, Reason, String) {
    use Compliance::*;

    let template = match &repo.resource_type {
        ResourceType::Repository => None,
        ResourceType::CreationTemplate(scope) => Some(scope),
        other => {
            return (
                NotApplicable,
                Reason::NotARepository,
                format!(
                    "{} is not {ECR_REPOSITORY_TYPE} or {ECR_CREATION_TEMPLATE_TYPE}; this rule evaluates those only. Scope the rule to {ECR_REPOSITORY_TYPE}.",
                    printable(other.as_str())
                ),
            );
        }
    };
    let noun = if template.is_some() {
        "creation template"
    } else {
        "repository"
    };
    match repo.status {
        ResourceStatus::Active => {}
        ResourceStatus::Deleted => {
            return (
                NotApplicable,
                Reason::Deleted,
                format!("Config recorded this {noun} as deleted; nothing to evaluate."),
            );
        }
        ResourceStatus::NotRecorded => {
            return (
                NotApplicable,
                Reason::NotRecorded,
                format!(
                    "Config does not record this {noun}; turn on recording of {} to evaluate it.",
                    repo.resource_type
                ),
            );
        }
        ResourceStatus::LeftScope => {
            return (
                NotApplicable,
                Reason::LeftScope,
                format!(
                    "The {noun} left the rule's scope (eventLeftScope); it is no longer evaluated."
                ),
            );
        }
    }

    if let Some(scope) = template {
        return decide_template(repo, scope, params);
    }

    // Names only: a template resource without a static name is never exempted by its
    // logical id or address.
    if let Some(pattern) = repo
        .name
        .as_deref()
        .and_then(|name| params.exempt_pattern_for(name))
    {
        return (
            NotApplicable,
            Reason::ExemptByName,
            format!(
                "Exempt: the name matches ExemptRepositoryPatterns entry '{pattern}'. Remove the entry to evaluate this repository."
            ),
        );
    }
    if let Some(key) = &params.exemption_tag_key
        && repo.tags.contains_key(key)
    {
        return (
            NotApplicable,
            Reason::ExemptByTag,
            format!(
                "Exempt: the repository carries the tag '{}' (ExemptionTagKey). Remove the tag to evaluate it.",
                printable(key)
            ),
        );
    }
    decide_setting(repo, params, &fix_hint(repo))
}

/// A creation template: exempt only when an `ExemptRepositoryPatterns` entry matches every
/// repository name it can create (the tag exemption does not apply: `resourceTags` are tags
/// the template gives repositories, not tags of the template); otherwise the same rows as a
/// repository, the annotation saying which repositories inherit the setting.
fn decide_template(
    repo: &Repository,
    scope: &TemplateScope,
    params: &RuleParameters,
) -> (Compliance, Reason, String) {
    let label = printable(&repo.resource_id);
    if let Some(pattern) = scope
        .prefix
        .as_ref()
        .and_then(|p| params.exempt_pattern_for_prefix(p))
    {
        return (
            Compliance::NotApplicable,
            Reason::ExemptByName,
            format!(
                "Exempt: ExemptRepositoryPatterns entry '{pattern}' matches every repository template {label} can create. Remove the entry to evaluate it."
            ),
        );
    }
    let (compliance, reason, text) = decide_setting(repo, params, &fix_hint(repo));
    let which = match scope.prefix {
        Some(TemplatePrefix::Root) => "Default template",
        _ => "Template",
    };
    // appliedFor values come from the input: an unknown one is shown escaped.
    let subject = format!("{which} {label} decides {}", printable(&scope.describe()));
    (compliance, reason, format!("{subject}. {text}"))
}

/// The rows on the setting itself, shared by repositories and creation templates.
fn decide_setting(
    repo: &Repository,
    params: &RuleParameters,
    fix: &str,
) -> (Compliance, Reason, String) {
    use Compliance::*;
    let value = match &repo.tag_mutability {
        MutabilitySetting::Set { value } => value,
        MutabilitySetting::Absent => {
            return (
                NonCompliant,
                Reason::DefaultMutable,
                format!(
                    "Tag mutability is not set, so AWS applies the default MUTABLE: any tag can be re-pointed. {fix}"
                ),
            );
        }
        MutabilitySetting::Unresolved { reason } => {
            return (
                NonCompliant,
                Reason::Unresolved,
                format!(
                    "Tag mutability cannot be resolved without deploying ({}). Use a literal value. {fix}",
                    printable(reason)
                ),
            );
        }
    };

    match value {
        TagMutability::Immutable => (
            Compliant,
            Reason::Immutable,
            "Tag mutability is IMMUTABLE: no tag can be overwritten.".into(),
        ),
        TagMutability::ImmutableWithExclusion => immutable_with_exclusion(repo, params, fix),
        TagMutability::MutableWithExclusion => {
            let listed = list_filters(
                repo.exclusion_filters
                    .filters()
                    .iter()
                    .map(|f| f.filter.as_str()),
            );
            (
                NonCompliant,
                Reason::MutableWithExclusion,
                format!(
                    "MUTABLE_WITH_EXCLUSION protects only tags matching {listed}; every other tag can be re-pointed. {fix}"
                ),
            )
        }
        TagMutability::Mutable => (
            NonCompliant,
            Reason::Mutable,
            format!("Tag mutability is MUTABLE: any tag can be re-pointed. {fix}"),
        ),
        TagMutability::Unknown(raw) => (
            NonCompliant,
            Reason::UnknownMutability,
            format!(
                "Unknown tag mutability value '{}' (failing closed). {fix}",
                printable(raw)
            ),
        ),
    }
}

fn immutable_with_exclusion(
    repo: &Repository,
    params: &RuleParameters,
    fix: &str,
) -> (Compliance, Reason, String) {
    let filters = match &repo.exclusion_filters {
        FilterSetting::Unresolved { reason } => {
            return (
                Compliance::NonCompliant,
                Reason::ImmutableWithDisallowedExclusions,
                format!(
                    "IMMUTABLE_WITH_EXCLUSION, but the exclusion filters cannot be resolved without deploying ({}). Use literal filters.",
                    printable(reason)
                ),
            );
        }
        FilterSetting::Listed { filters } => filters,
    };
    if filters.is_empty() {
        return (
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
            format!(
                "IMMUTABLE_WITH_EXCLUSION, but the input lists no exclusion filters, so they cannot be checked against AllowedExclusionFilters. {fix}"
            ),
        );
    }
    let mut refused: Vec<String> = Vec::new();
    for f in filters {
        if f.filter_type != FilterType::Wildcard {
            refused.push(format!(
                "{} (unknown type {})",
                f.filter,
                f.filter_type.as_str()
            ));
        } else if f.is_catch_all() {
            refused.push(format!("{} (matches every tag)", f.filter));
        } else if !params
            .allowed_exclusion_filters
            .iter()
            .any(|a| a == &f.filter)
        {
            refused.push(f.filter.clone());
        }
    }
    if refused.is_empty() {
        let listed = list_filters(filters.iter().map(|f| f.filter.as_str()));
        (
            Compliance::Compliant,
            Reason::ImmutableWithAllowedExclusions,
            format!(
                "IMMUTABLE_WITH_EXCLUSION with allowed filters {listed}: only tags matching them can be overwritten."
            ),
        )
    } else {
        let listed = list_filters(refused.iter().map(String::as_str));
        let allow_hint = if params.allowed_exclusion_filters.is_empty() {
            "no filters are allowed (AllowedExclusionFilters is empty)".to_owned()
        } else {
            format!(
                "allowed: {}",
                list_filters(params.allowed_exclusion_filters.iter().map(String::as_str))
            )
        };
        (
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
            format!(
                "IMMUTABLE_WITH_EXCLUSION with filters not allowed: {listed}; {allow_hint}. Remove them or add them to AllowedExclusionFilters."
            ),
        )
    }
}

/// What to change, phrased for where the resource is defined.
fn fix_hint(repo: &Repository) -> String {
    let name = printable(repo.name.as_deref().unwrap_or(&repo.resource_id));
    if let ResourceType::CreationTemplate(scope) = &repo.resource_type
        && matches!(
            repo.source.kind,
            InputKind::Config | InputKind::Ecr | InputKind::Live
        )
    {
        let prefix = scope
            .prefix
            .as_ref()
            .map(TemplatePrefix::as_str)
            .unwrap_or(&repo.resource_id);
        return format!(
            "Fix: aws ecr update-repository-creation-template --prefix {} --image-tag-mutability IMMUTABLE.",
            printable(prefix)
        );
    }
    match repo.source.kind {
        InputKind::Cloudformation => {
            let at = repo
                .source
                .logical_id
                .as_deref()
                .unwrap_or(&repo.resource_id);
            format!("Set ImageTagMutability: IMMUTABLE on {}.", printable(at))
        }
        InputKind::Terraform => {
            let at = repo
                .source
                .logical_id
                .as_deref()
                .unwrap_or(&repo.resource_id);
            format!(
                "Set image_tag_mutability = \"IMMUTABLE\" on {}.",
                printable(at)
            )
        }
        InputKind::Config
        | InputKind::Ecr
        | InputKind::Live
        | InputKind::ConfigAggregator
        | InputKind::ConfigQuery => {
            let mut s = String::from("Fix: aws ecr put-image-tag-mutability --repository-name ");
            let _ = write!(
                s,
                "{name} --image-tag-mutability IMMUTABLE (or immutag remediate)."
            );
            s
        }
    }
}

fn list_filters<'a>(filters: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<String> = filters.map(|f| format!("'{}'", printable(f))).collect();
    if items.is_empty() {
        "(none listed)".to_owned()
    } else {
        items.join(", ")
    }
}

/// Cuts an annotation to at most 256 characters (ending in `...` when cut) and never
/// returns an empty one.
pub fn clamp_annotation(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "No annotation.".to_owned();
    }
    if text.chars().count() <= MAX_ANNOTATION_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_ANNOTATION_CHARS - 3).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ExclusionFilter, InputKind, Repository};

    fn repo(m: TagMutability) -> Repository {
        Repository::new("team/app", InputKind::Ecr).with_mutability(m)
    }

    fn params(json: &str) -> RuleParameters {
        RuleParameters::from_json(json).unwrap()
    }

    fn check(e: &Evaluation, c: Compliance, r: Reason) {
        assert_eq!((e.compliance, e.reason), (c, r), "{}", e.annotation);
        let n = e.annotation.chars().count();
        assert!(
            (1..=MAX_ANNOTATION_CHARS).contains(&n),
            "annotation length {n}"
        );
    }

    #[test]
    fn row_not_a_repository() {
        let mut r = repo(TagMutability::Mutable);
        r.resource_type = ResourceType::Other("AWS::S3::Bucket".into());
        check(
            &evaluate(&r, &RuleParameters::default()),
            Compliance::NotApplicable,
            Reason::NotARepository,
        );
    }

    #[test]
    fn rows_out_of_scope() {
        for (status, reason) in [
            (ResourceStatus::Deleted, Reason::Deleted),
            (ResourceStatus::NotRecorded, Reason::NotRecorded),
            (ResourceStatus::LeftScope, Reason::LeftScope),
        ] {
            let mut r = repo(TagMutability::Mutable);
            r.status = status;
            check(
                &evaluate(&r, &RuleParameters::default()),
                Compliance::NotApplicable,
                reason,
            );
        }
    }

    #[test]
    fn row_exempt_by_name_and_tag() {
        let p = params(
            r#"{"ExemptRepositoryPatterns":"sandbox-*,team/*","ExemptionTagKey":"immutag:exempt"}"#,
        );
        let e = evaluate(&repo(TagMutability::Mutable), &p);
        check(&e, Compliance::NotApplicable, Reason::ExemptByName);
        assert!(e.annotation.contains("team/*"));

        let r = Repository::new("billing", InputKind::Ecr)
            .with_mutability(TagMutability::Mutable)
            .with_tag("immutag:exempt", "ticket-42");
        let e = evaluate(&r, &p);
        check(&e, Compliance::NotApplicable, Reason::ExemptByTag);
        assert!(e.annotation.contains("immutag:exempt"));

        // Not exempt without the tag, and pattern matching is whole-name.
        let r =
            Repository::new("my-sandbox-x", InputKind::Ecr).with_mutability(TagMutability::Mutable);
        check(&evaluate(&r, &p), Compliance::NonCompliant, Reason::Mutable);
    }

    #[test]
    fn exemption_patterns_match_names_only() {
        let p = params(r#"{"ExemptRepositoryPatterns":"sandbox*,aws_ecr_repository.*"}"#);
        for kind in [InputKind::Cloudformation, InputKind::Terraform] {
            let mut r = Repository::new("sandbox1", kind).with_mutability(TagMutability::Mutable);
            r.name = None;
            r.source.logical_id = Some("sandbox1".into());
            let e = evaluate(&r, &p);
            check(&e, Compliance::NonCompliant, Reason::Mutable);
            assert!(e.annotation.starts_with(NO_STATIC_NAME), "{}", e.annotation);
            r.resource_id = "aws_ecr_repository.scratch".into();
            check(&evaluate(&r, &p), Compliance::NonCompliant, Reason::Mutable);
        }
        // With a name, the name decides; without patterns, no note.
        let r = Repository::new("sandbox-1", InputKind::Cloudformation)
            .with_mutability(TagMutability::Mutable);
        check(
            &evaluate(&r, &p),
            Compliance::NotApplicable,
            Reason::ExemptByName,
        );
        let mut r = r;
        r.name = None;
        let e = evaluate(&r, &RuleParameters::default());
        assert!(!e.annotation.contains("static"), "{}", e.annotation);
    }

    #[test]
    fn row_immutable() {
        check(
            &evaluate(&repo(TagMutability::Immutable), &RuleParameters::default()),
            Compliance::Compliant,
            Reason::Immutable,
        );
    }

    #[test]
    fn rows_immutable_with_exclusion() {
        let p = params(r#"{"AllowedExclusionFilters":"latest,dev-*"}"#);
        let ok = repo(TagMutability::ImmutableWithExclusion).with_filters(vec![
            ExclusionFilter::wildcard("latest"),
            ExclusionFilter::wildcard("dev-*"),
        ]);
        let e = evaluate(&ok, &p);
        check(
            &e,
            Compliance::Compliant,
            Reason::ImmutableWithAllowedExclusions,
        );
        assert!(e.annotation.contains("'latest'") && e.annotation.contains("'dev-*'"));

        let bad = repo(TagMutability::ImmutableWithExclusion).with_filters(vec![
            ExclusionFilter::wildcard("latest"),
            ExclusionFilter::wildcard("feature-*"),
        ]);
        let e = evaluate(&bad, &p);
        check(
            &e,
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );
        assert!(
            e.annotation.contains("'feature-*'") && !e.annotation.contains("not allowed: 'latest'")
        );

        let star = repo(TagMutability::ImmutableWithExclusion)
            .with_filters(vec![ExclusionFilter::wildcard("*")]);
        let e = evaluate(&star, &p);
        check(
            &e,
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );
        assert!(e.annotation.contains("matches every tag"));

        let none = repo(TagMutability::ImmutableWithExclusion);
        check(
            &evaluate(&none, &p),
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );

        let mut unresolved = repo(TagMutability::ImmutableWithExclusion);
        unresolved.exclusion_filters = FilterSetting::Unresolved {
            reason: "!Ref Filters".into(),
        };
        check(
            &evaluate(&unresolved, &p),
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );

        let odd = repo(TagMutability::ImmutableWithExclusion).with_filters(vec![ExclusionFilter {
            filter_type: FilterType::parse("REGEX"),
            filter: "latest".into(),
        }]);
        check(
            &evaluate(&odd, &p),
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );

        // With no allowed filters, any filter is refused.
        let e = evaluate(&ok, &RuleParameters::default());
        check(
            &e,
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );
        assert!(e.annotation.contains("AllowedExclusionFilters is empty"));
    }

    #[test]
    fn row_mutable_with_exclusion() {
        let r = repo(TagMutability::MutableWithExclusion)
            .with_filters(vec![ExclusionFilter::wildcard("v*")]);
        let e = evaluate(&r, &params(r#"{"AllowedExclusionFilters":"v*"}"#));
        check(&e, Compliance::NonCompliant, Reason::MutableWithExclusion);
        assert!(e.annotation.contains("'v*'"));
    }

    #[test]
    fn rows_mutable_absent_unknown_unresolved() {
        let p = RuleParameters::default();
        let e = evaluate(&repo(TagMutability::Mutable), &p);
        check(&e, Compliance::NonCompliant, Reason::Mutable);
        assert!(
            e.annotation
                .contains("put-image-tag-mutability --repository-name team/app")
        );

        let absent = Repository::new("x", InputKind::Ecr);
        check(
            &evaluate(&absent, &p),
            Compliance::NonCompliant,
            Reason::DefaultMutable,
        );

        let e = evaluate(&repo(TagMutability::parse("SOMETIMES")), &p);
        check(&e, Compliance::NonCompliant, Reason::UnknownMutability);
        assert!(e.annotation.contains("'SOMETIMES'"));
        // Exact values: other spellings of IMMUTABLE are unknown, and quoted.
        for v in ["immutable", "Immutable ", " IMMUTABLE", "IMMUTABLE\n"] {
            let e = evaluate(&repo(TagMutability::parse(v)), &p);
            check(&e, Compliance::NonCompliant, Reason::UnknownMutability);
            assert!(
                e.annotation
                    .contains(&format!("'{}'", crate::text::printable(v))),
                "{}",
                e.annotation
            );
        }

        let mut r = Repository::new("x", InputKind::Cloudformation);
        r.source.logical_id = Some("AppRepo".into());
        r.tag_mutability = MutabilitySetting::Unresolved {
            reason: "!GetAtt Foo.Bar".into(),
        };
        let e = evaluate(&r, &p);
        check(&e, Compliance::NonCompliant, Reason::Unresolved);
        assert!(e.annotation.contains("!GetAtt Foo.Bar") && e.annotation.contains("AppRepo"));
    }

    fn template(prefix: &str, applied: &[&str], m: TagMutability) -> Repository {
        Repository::creation_template(
            TemplatePrefix::parse(prefix),
            applied
                .iter()
                .map(|a| crate::model::AppliedFor::parse(a))
                .collect(),
            InputKind::Ecr,
        )
        .with_mutability(m)
    }

    #[test]
    fn an_unknown_applied_for_value_is_shown_escaped() {
        // Found by the fuzz targets rule_event, input_ecr and input_terraform
        // (fuzz/regressions/): a DEL inside an appliedFor value reached the annotation.
        let e = evaluate(
            &template("ROOT", &["PULL\u{7f}THROUGH_CACHE"], TagMutability::Mutable),
            &RuleParameters::default(),
        );
        assert!(
            !e.annotation.chars().any(char::is_control),
            "{}",
            e.annotation
        );
        assert!(
            e.annotation.contains("PULL\\u{7f}THROUGH_CACHE"),
            "{}",
            e.annotation
        );
    }

    #[test]
    fn templates_follow_the_repository_rows_and_say_who_inherits() {
        let p = params(r#"{"AllowedExclusionFilters":"latest"}"#);
        let e = evaluate(
            &template(
                "ROOT",
                &["PULL_THROUGH_CACHE", "REPLICATION"],
                TagMutability::Mutable,
            ),
            &p,
        );
        check(&e, Compliance::NonCompliant, Reason::Mutable);
        assert_eq!(e.resource_type.as_str(), ECR_CREATION_TEMPLATE_TYPE);
        assert_eq!(e.resource_id, "ROOT");
        for part in [
            "Default template ROOT decides",
            "pull-through cache and replication repositories.",
            "--prefix ROOT",
        ] {
            assert!(e.annotation.contains(part), "{part}: {}", e.annotation);
        }

        let e = evaluate(
            &template("prod", &["CREATE_ON_PUSH"], TagMutability::Immutable),
            &p,
        );
        check(&e, Compliance::Compliant, Reason::Immutable);
        assert!(
            e.annotation
                .starts_with("Template prod decides create-on-push repositories."),
            "{}",
            e.annotation
        );

        let fenced = template(
            "prod",
            &["PULL_THROUGH_CACHE"],
            TagMutability::ImmutableWithExclusion,
        )
        .with_filters(vec![ExclusionFilter::wildcard("latest")]);
        check(
            &evaluate(&fenced, &p),
            Compliance::Compliant,
            Reason::ImmutableWithAllowedExclusions,
        );
        check(
            &evaluate(&fenced, &RuleParameters::default()),
            Compliance::NonCompliant,
            Reason::ImmutableWithDisallowedExclusions,
        );

        let absent = Repository::creation_template(
            TemplatePrefix::Root,
            vec![crate::model::AppliedFor::Replication],
            InputKind::Live,
        );
        check(
            &evaluate(&absent, &p),
            Compliance::NonCompliant,
            Reason::DefaultMutable,
        );
        let unknown = template("x", &["SOMETIMES"], TagMutability::parse("NEVER"));
        let e = evaluate(&unknown, &p);
        check(&e, Compliance::NonCompliant, Reason::UnknownMutability);
        assert!(
            e.annotation.contains("SOMETIMES repositories"),
            "{}",
            e.annotation
        );
    }

    #[test]
    fn template_exemption_needs_a_pattern_matching_every_name_it_creates() {
        let p = params(
            r#"{"ExemptRepositoryPatterns":"sandbox/*,team-a/api-*,cache*","ExemptionTagKey":"immutag:exempt"}"#,
        );
        let exempt = |prefix: &str| {
            let e = evaluate(
                &template(prefix, &["PULL_THROUGH_CACHE"], TagMutability::Mutable),
                &p,
            );
            e.reason == Reason::ExemptByName
        };
        assert!(exempt("sandbox"));
        assert!(exempt("sandbox/deep"));
        assert!(exempt("cache"));
        assert!(exempt("cache-hub/x"));
        assert!(
            !exempt("team-a"),
            "team-a/web is not matched by team-a/api-*"
        );
        assert!(!exempt("ROOT"), "ROOT creates any name");
        assert!(!exempt("sandboxes"));
        // `*` alone exempts everything, ROOT included.
        let all = params(r#"{"ExemptRepositoryPatterns":"*"}"#);
        let e = evaluate(
            &template("ROOT", &["REPLICATION"], TagMutability::Mutable),
            &all,
        );
        check(&e, Compliance::NotApplicable, Reason::ExemptByName);
        // The exemption tag is for repositories: resourceTags do not exempt a template.
        let tagged = template("prod", &["REPLICATION"], TagMutability::Mutable)
            .with_tag("immutag:exempt", "yes");
        check(
            &evaluate(&tagged, &p),
            Compliance::NonCompliant,
            Reason::Mutable,
        );
        // A prefix set at deployment is never exempt.
        let mut unresolved = template("sandbox", &["REPLICATION"], TagMutability::Mutable);
        if let ResourceType::CreationTemplate(scope) = &mut unresolved.resource_type {
            scope.prefix = None;
        }
        let e = evaluate(&unresolved, &p);
        check(&e, Compliance::NonCompliant, Reason::Mutable);
        assert!(
            e.annotation.contains("prefix set at deployment"),
            "{}",
            e.annotation
        );
    }

    #[test]
    fn template_annotations_fit_with_every_applied_for() {
        let all = ["PULL_THROUGH_CACHE", "REPLICATION", "CREATE_ON_PUSH"];
        let long_prefix = "a".repeat(200);
        for m in [
            TagMutability::Mutable,
            TagMutability::MutableWithExclusion,
            TagMutability::Unknown("x".repeat(300)),
        ] {
            for prefix in ["ROOT", "prod/team-a", long_prefix.as_str()] {
                let e = evaluate(
                    &template(prefix, &all, m.clone()),
                    &RuleParameters::default(),
                );
                check(&e, Compliance::NonCompliant, e.reason);
                assert!(e.annotation.contains("emplate "), "{}", e.annotation);
                // The common case is said in full, fix included.
                if m == TagMutability::Mutable && prefix.len() < 20 {
                    assert!(!e.annotation.ends_with("..."), "{}", e.annotation);
                }
            }
        }
    }

    #[test]
    fn annotations_are_clamped() {
        let long = "x".repeat(1000);
        let e = evaluate(
            &repo(TagMutability::Unknown(long)),
            &RuleParameters::default(),
        );
        assert_eq!(e.annotation.chars().count(), MAX_ANNOTATION_CHARS);
        assert!(e.annotation.ends_with("..."));
        assert_eq!(clamp_annotation("  "), "No annotation.");
    }
}
