//! Fail-closed properties (proptest), over generated repositories, rule parameters and
//! templates and plans:
//!
//! 1. COMPLIANT only for IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION whose every filter is a
//!    WILDCARD listed verbatim in AllowedExclusionFilters and not a catch-all; an exemption
//!    never yields COMPLIANT.
//! 2. A template or plan resource whose mutability is not a literal compliant value (an
//!    expression, a parameter a deployer can set, a value known after apply) is never
//!    COMPLIANT, in JSON and YAML templates and in Terraform plans; the literal and certain
//!    forms are (so that the property can fail).
//! 3. Values compare exactly: any other spelling of an API value is unknown, NON_COMPLIANT,
//!    and the annotation quotes it.
//! 4. Exemption patterns match names only: a template resource without a static name is not
//!    exempted by its logical id, and the annotation says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use immutag_core::evaluate::NO_STATIC_NAME;
use immutag_core::input::cloudformation::{self, Parameters};
use immutag_core::input::terraform;
use immutag_core::text::printable;
use immutag_core::{
    Compliance, ExclusionFilter, FilterSetting, FilterType, InputKind, MutabilitySetting, Reason,
    Repository, RuleParameters, TagMutability, evaluate,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const API_VALUES: [&str; 4] = [
    "MUTABLE",
    "IMMUTABLE",
    "IMMUTABLE_WITH_EXCLUSION",
    "MUTABLE_WITH_EXCLUSION",
];

/// Spellings of the API values that are not the API values: other case, white space.
fn misspelling() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&API_VALUES[..]),
        0usize..5,
        prop::sample::select(vec!["", " ", "\t", "\n", "\u{a0}"]),
    )
        .prop_map(|(v, how, space)| match how {
            0 => v.to_ascii_lowercase(),
            1 => format!("{space}{v}"),
            2 => format!("{v}{space}"),
            3 => {
                let mut s: Vec<char> = v.chars().collect();
                s[0] = s[0].to_ascii_lowercase();
                s.into_iter().collect()
            }
            _ => v.replace('_', "-"),
        })
        .prop_filter("not an API value", |s| !API_VALUES.contains(&s.as_str()))
}

fn any_mutability() -> impl Strategy<Value = TagMutability> {
    prop_oneof![
        prop::sample::select(&API_VALUES[..]).prop_map(TagMutability::parse),
        misspelling().prop_map(|s| TagMutability::parse(&s)),
        "[A-Z_]{0,12}".prop_map(|s| TagMutability::parse(&s)),
    ]
}

fn filter_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_owned()),
        Just("**".to_owned()),
        prop::sample::select(vec!["latest", "dev-*", "release-*", "v*", "pr-*"])
            .prop_map(str::to_owned),
        "[a-z.*_-]{1,6}",
    ]
}

fn any_filter() -> impl Strategy<Value = ExclusionFilter> {
    (
        prop::sample::select(vec!["WILDCARD", "WILDCARD", "wildcard", "REGEX", ""]),
        filter_text(),
    )
        .prop_map(|(t, f)| ExclusionFilter {
            filter_type: FilterType::parse(t),
            filter: f,
        })
}

fn any_repository() -> impl Strategy<Value = Repository> {
    (
        prop::option::of("[a-z][a-z0-9/-]{0,10}"),
        prop_oneof![
            4 => any_mutability().prop_map(MutabilitySetting::set),
            1 => Just(MutabilitySetting::Absent),
            1 => Just(MutabilitySetting::Unresolved { reason: "!GetAtt X.Y".into() }),
        ],
        prop_oneof![
            4 => prop::collection::vec(any_filter(), 0..4).prop_map(FilterSetting::listed),
            1 => Just(FilterSetting::Unresolved { reason: "!Ref F".into() }),
        ],
        prop::collection::btree_map(
            prop::sample::select(vec!["immutag:exempt", "team", "skip"]),
            "[a-z]{0,3}",
            0..3,
        ),
        prop::sample::select(vec![
            InputKind::Ecr,
            InputKind::Config,
            InputKind::Cloudformation,
            InputKind::Terraform,
        ]),
    )
        .prop_map(|(name, mutability, filters, tags, kind)| {
            let mut r = Repository::new(name.clone().unwrap_or_else(|| "Logical1".into()), kind);
            r.name = name;
            r.tag_mutability = mutability;
            r.exclusion_filters = filters;
            r.tags = tags.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            r
        })
}

fn any_params() -> impl Strategy<Value = RuleParameters> {
    (
        prop::collection::vec(
            prop::sample::select(vec!["latest", "dev-*", "release-*", "v*", "a.b"]),
            0..4,
        ),
        prop::collection::vec(
            prop::sample::select(vec!["sandbox-*", "team/*", "a*", "*x", "logical1"]),
            0..3,
        ),
        prop::option::of(prop::sample::select(vec!["immutag:exempt", "skip"])),
    )
        .prop_map(|(allowed, exempt, tag)| {
            let mut m = std::collections::BTreeMap::new();
            m.insert("AllowedExclusionFilters".to_owned(), allowed.join(","));
            m.insert("ExemptRepositoryPatterns".to_owned(), exempt.join(","));
            if let Some(t) = tag {
                m.insert("ExemptionTagKey".to_owned(), t.to_owned());
            }
            RuleParameters::from_map(&m).unwrap()
        })
}

/// The COMPLIANT condition, stated independently of the evaluator.
fn may_be_compliant(r: &Repository, p: &RuleParameters) -> bool {
    match &r.tag_mutability {
        MutabilitySetting::Set {
            value: TagMutability::Immutable,
        } => true,
        MutabilitySetting::Set {
            value: TagMutability::ImmutableWithExclusion,
        } => match &r.exclusion_filters {
            FilterSetting::Listed { filters } => {
                !filters.is_empty()
                    && filters.iter().all(|f| {
                        f.filter_type == FilterType::Wildcard
                            && !f.is_catch_all()
                            && p.allowed_exclusion_filters.contains(&f.filter)
                    })
            }
            FilterSetting::Unresolved { .. } => false,
        },
        _ => false,
    }
}

fn is_exempt(r: &Repository, p: &RuleParameters) -> bool {
    r.name
        .as_deref()
        .is_some_and(|n| p.exempt_pattern_for(n).is_some())
        || p.exemption_tag_key
            .as_ref()
            .is_some_and(|k| r.tags.contains_key(k))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Property 1.
    #[test]
    fn compliant_only_when_tags_cannot_move(r in any_repository(), p in any_params()) {
        let e = evaluate(&r, &p);
        if e.compliance == Compliance::Compliant {
            prop_assert!(may_be_compliant(&r, &p), "{r:?} {p:?} -> {e:?}");
        }
        if is_exempt(&r, &p) {
            prop_assert_eq!(e.compliance, Compliance::NotApplicable, "{:?}", e);
            prop_assert!(matches!(e.reason, Reason::ExemptByName | Reason::ExemptByTag));
        }
        if !is_exempt(&r, &p) && may_be_compliant(&r, &p) {
            prop_assert_eq!(e.compliance, Compliance::Compliant, "{:?}", e);
        }
    }

    /// Property 3.
    #[test]
    fn values_are_compared_exactly(v in misspelling()) {
        let p = RuleParameters::from_json(r#"{"AllowedExclusionFilters":"latest"}"#).unwrap();
        let r = Repository::new("app", InputKind::Ecr).with_mutability(TagMutability::parse(&v));
        prop_assert_eq!(&r.tag_mutability, &MutabilitySetting::set(TagMutability::Unknown(v.clone())));
        let e = evaluate(&r, &p);
        prop_assert_eq!(e.compliance, Compliance::NonCompliant);
        prop_assert_eq!(e.reason, Reason::UnknownMutability);
        let quoted = format!("'{}'", printable(&v));
        prop_assert!(e.annotation.contains(&quoted), "{}", e.annotation);
    }

    /// Property 4.
    #[test]
    fn name_patterns_never_exempt_a_logical_id(id in "[a-z][a-z0-9]{0,8}", m in any_mutability()) {
        let p = RuleParameters::from_json(&format!(r#"{{"ExemptRepositoryPatterns":"{id},*"}}"#)).unwrap();
        let doc = json!({"Resources": {id.clone(): {"Type": "AWS::ECR::Repository",
            "Properties": {"ImageTagMutability": m.as_str()}}}});
        let repos = cloudformation::parse(doc.to_string().as_bytes(), None).unwrap();
        let e = evaluate(&repos[0], &p);
        prop_assert!(e.reason != Reason::ExemptByName, "{:?}", e);
        prop_assert!(e.annotation.starts_with(NO_STATIC_NAME), "{}", e.annotation);
        // With a literal name the pattern applies.
        let doc = json!({"Resources": {id.clone(): {"Type": "AWS::ECR::Repository",
            "Properties": {"RepositoryName": id.clone(), "ImageTagMutability": m.as_str()}}}});
        let repos = cloudformation::parse(doc.to_string().as_bytes(), None).unwrap();
        prop_assert_eq!(evaluate(&repos[0], &p).reason, Reason::ExemptByName);
    }
}

/// A template value for `ImageTagMutability`, with the parameters it needs, and whether it is
/// certain and compliant (a literal `IMMUTABLE`, or what can only be `IMMUTABLE`).
#[derive(Debug, Clone)]
struct Expr {
    value: Value,
    parameters: Value,
    deployed: Vec<(String, String)>,
    certain_immutable: bool,
}

fn expr() -> impl Strategy<Value = Expr> {
    let plain = |value: Value, certain: bool| Expr {
        value,
        parameters: json!({}),
        deployed: vec![],
        certain_immutable: certain,
    };
    let values = prop::sample::select(&API_VALUES[..]);
    prop_oneof![
        // Literals, exact or not.
        values
            .clone()
            .prop_map(move |v| plain(json!(v), v == "IMMUTABLE")),
        misspelling().prop_map(move |v| plain(json!(v), false)),
        // A parameter: with or without Default and AllowedValues, maybe given a deployed value.
        (
            prop::option::of(values.clone()),
            prop::option::of(prop::collection::vec(values.clone(), 1..3)),
            prop::option::of(values.clone()),
            any::<bool>(),
        )
            .prop_map(|(default, allowed, deployed, ssm)| {
                let mut decl = serde_json::Map::new();
                decl.insert(
                    "Type".into(),
                    json!(if ssm {
                        "AWS::SSM::Parameter::Value<String>"
                    } else {
                        "String"
                    }),
                );
                if let Some(d) = default {
                    decl.insert("Default".into(), json!(d));
                }
                if let Some(a) = &allowed {
                    decl.insert("AllowedValues".into(), json!(a));
                }
                // A deployed value outside AllowedValues is refused before evaluation.
                let deployed =
                    deployed.filter(|d| allowed.as_ref().is_none_or(|a| a.iter().any(|x| x == d)));
                let certain = !ssm
                    && match (&deployed, &allowed) {
                        (Some(d), _) => *d == "IMMUTABLE",
                        (None, Some(a)) => a.iter().all(|x| *x == "IMMUTABLE"),
                        (None, None) => false,
                    };
                Expr {
                    value: json!({"Ref": "Mode"}),
                    parameters: json!({"Mode": Value::Object(decl)}),
                    deployed: deployed
                        .map(|d| vec![("Mode".to_owned(), d.to_owned())])
                        .unwrap_or_default(),
                    certain_immutable: certain,
                }
            }),
        // Expressions decided at deployment, or a choice.
        values
            .clone()
            .prop_map(move |v| plain(json!({"Fn::If": ["C", v, "MUTABLE"]}), false)),
        values
            .clone()
            .prop_map(move |v| plain(json!({"Fn::If": ["C", v, v]}), v == "IMMUTABLE")),
        Just(plain(json!({"Fn::GetAtt": ["Lookup", "Value"]}), false)),
        Just(plain(json!({"Fn::ImportValue": "mutability"}), false)),
        Just(plain(json!({"Fn::Sub": "${AWS::Region}"}), false)),
        Just(plain(json!({"Fn::Sub": "IMMUTABLE"}), true)),
        Just(plain(json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}), false)),
        Just(plain(json!({"Fn::Join": ["", ["IMMUT", "ABLE"]]}), true)),
    ]
}

/// The same template as YAML (long-form intrinsic functions are valid YAML flow mappings).
fn as_yaml(doc: &Value) -> String {
    // JSON is YAML; indent it into a block mapping so that the YAML reader (not the JSON one)
    // reads it.
    let mut s = String::new();
    for (k, v) in doc.as_object().unwrap() {
        s.push_str(&format!("{k}: {v}\n"));
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Property 2, CloudFormation JSON and YAML.
    #[test]
    fn template_values_not_certain_are_never_compliant(x in expr(), yaml in any::<bool>()) {
        let doc = json!({
            "Parameters": x.parameters,
            "Resources": {"Repo": {"Type": "AWS::ECR::Repository",
                "Properties": {"RepositoryName": "app", "ImageTagMutability": x.value}}}
        });
        let text = if yaml { as_yaml(&doc) } else { doc.to_string() };
        let mut deployed = Parameters::default();
        for (k, v) in &x.deployed {
            deployed.set(k, v).unwrap();
        }
        let repos = cloudformation::parse_with(text.as_bytes(), None, &deployed).unwrap();
        let e = evaluate(&repos[0], &RuleParameters::default());
        prop_assert_eq!(
            e.compliance == Compliance::Compliant,
            x.certain_immutable,
            "{}\n-> {:?}", text, e
        );
    }

    /// Property 2, Terraform: a value unknown until apply, absent, or not exactly IMMUTABLE
    /// is never COMPLIANT, whatever the planned action.
    #[test]
    fn plan_values_not_certain_are_never_compliant(
        value in prop_oneof![
            prop::sample::select(&API_VALUES[..]).prop_map(|v| json!(v)),
            misspelling().prop_map(|v| json!(v)),
            Just(Value::Null),
        ],
        unknown in any::<bool>(),
        actions in prop::sample::select(vec![
            json!(["create"]), json!(["update"]), json!(["no-op"]),
            json!(["delete", "create"]), json!(["create", "delete"]),
        ]),
    ) {
        let plan = json!({"format_version": "1.2", "resource_changes": [{
            "address": "aws_ecr_repository.app", "mode": "managed", "type": "aws_ecr_repository",
            "change": {"actions": actions,
                "after": {"name": "app", "image_tag_mutability": value},
                "after_unknown": {"image_tag_mutability": unknown}}}]});
        let repos = terraform::parse(plan.to_string().as_bytes(), None).unwrap();
        let e = evaluate(&repos[0], &RuleParameters::default());
        let certain = !unknown && value == json!("IMMUTABLE");
        prop_assert_eq!(e.compliance == Compliance::Compliant, certain, "{} -> {:?}", plan, e);
    }
}
