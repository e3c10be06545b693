//! What every fuzz target checks beyond "no panic": the invariants of an evaluation that a
//! hostile input must not be able to break.
#![forbid(unsafe_code)]

use immutag_core::input::{InputFormat, parse};
use immutag_core::{
    Compliance, Evaluation, FilterSetting, FilterType, MutabilitySetting, RuleParameters,
    TagMutability, evaluate,
};

/// Rule parameters that allow one exclusion filter and exempt by name and by tag, so that
/// every row of the decision table can be reached.
pub fn params() -> RuleParameters {
    RuleParameters::from_json(
        r#"{"AllowedExclusionFilters":"latest","ExemptRepositoryPatterns":"sandbox-*","ExemptionTagKey":"immutag:exempt"}"#,
    )
    .unwrap_or_default()
}

/// Parses `data` as `format`; when it reads, evaluates every repository (with its own rule
/// parameters, then with [`params`]) and checks [`check`] on each verdict.
pub fn parse_and_check(data: &[u8], format: InputFormat) {
    let Ok(parsed) = parse(data, format, Some("fuzz")) else {
        return;
    };
    let own = parsed.rule_parameters.clone().unwrap_or_default();
    let fuzz = params();
    for repo in &parsed.repositories {
        for p in [&own, &fuzz] {
            check(&evaluate(repo, p), p);
        }
    }
}

/// The invariants of one verdict: an annotation of 1 to 256 characters with no control
/// character, and COMPLIANT only for IMMUTABLE or for IMMUTABLE_WITH_EXCLUSION whose every
/// filter is a WILDCARD listed verbatim in AllowedExclusionFilters and not a catch-all.
pub fn check(e: &Evaluation, params: &RuleParameters) {
    let n = e.annotation.chars().count();
    assert!((1..=256).contains(&n), "annotation of {n} characters");
    assert!(
        !e.annotation.chars().any(char::is_control),
        "control character in {:?}",
        e.annotation
    );
    if e.compliance != Compliance::Compliant {
        return;
    }
    match &e.tag_mutability {
        MutabilitySetting::Set {
            value: TagMutability::Immutable,
        } => {}
        MutabilitySetting::Set {
            value: TagMutability::ImmutableWithExclusion,
        } => {
            let FilterSetting::Listed { filters } = &e.exclusion_filters else {
                panic!("COMPLIANT with unresolved filters: {e:?}");
            };
            assert!(!filters.is_empty(), "COMPLIANT without filters: {e:?}");
            for f in filters {
                assert_eq!(f.filter_type, FilterType::Wildcard, "{e:?}");
                assert!(!f.is_catch_all(), "{e:?}");
                assert!(
                    params.allowed_exclusion_filters.contains(&f.filter),
                    "{e:?}"
                );
            }
        }
        other => panic!("COMPLIANT with {other:?}: {e:?}"),
    }
}
