//! The tests of `generate`: one per refusal and per control, plus determinism and packing.

use super::*;

#[path = "../../tests/support/corpus.rs"]
mod corpus;

/// [`super::generate`], recording what it makes for the SCP simulation step.
fn generate(opts: &ScpOptions) -> Result<Generated, ScpError> {
    let out = super::generate(opts)?;
    let docs: Vec<&PolicyDocument> = out.policies.iter().map(|p| &p.document).collect();
    corpus::record("immutag-scp generate unit tests", opts, &docs);
    Ok(out)
}
use crate::options::{ExemptTag, RequiredTag};
use crate::policy::Style;

fn platform() -> Vec<String> {
    vec!["arn:aws:iam::*:role/ImmutagPlatform".to_owned()]
}

fn all_on() -> ScpOptions {
    ScpOptions {
        lock_mutability: true,
        restrict_creation: true,
        lock_creation_templates: true,
        exempt_principals: platform(),
        ..ScpOptions::default()
    }
}

#[test]
fn baseline_statements_and_conditions() {
    let out = generate(&all_on()).unwrap();
    assert_eq!(out.policies.len(), 1);
    let doc = &out.policies[0].document;
    let sids: Vec<_> = doc.statements().map(|s| s.sid.clone().unwrap()).collect();
    assert_eq!(
        sids,
        [
            SID_LOCK_MUTABILITY,
            SID_RESTRICT_CREATION,
            SID_LOCK_TEMPLATES
        ]
    );
    let text = doc.render(Style::Minified).unwrap();
    assert_eq!(text.len(), out.policies[0].minified_bytes);
    assert!(
        text.contains(r#""ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/ImmutagPlatform"}"#),
        "{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("ecr:imagetagmutability"),
        "{text}"
    );
    assert!(out.warnings.iter().any(|w| w.code == "management-account"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.code == "service-linked-roles")
    );
}

#[test]
fn each_control_needs_an_exemption() {
    for (opts, control) in [
        (
            ScpOptions {
                lock_mutability: true,
                ..ScpOptions::default()
            },
            "lock_mutability",
        ),
        (
            ScpOptions {
                restrict_creation: true,
                ..ScpOptions::default()
            },
            "restrict_creation",
        ),
        (
            ScpOptions {
                lock_creation_templates: true,
                ..ScpOptions::default()
            },
            "lock_creation_templates",
        ),
    ] {
        match generate(&opts) {
            Err(ScpError::Lockout { control: c, .. }) => assert_eq!(c, control),
            other => panic!("{control}: {other:?}"),
        }
    }
    // Creation principals alone are enough for restrict_creation.
    let opts = ScpOptions {
        restrict_creation: true,
        creation_principals: vec!["arn:aws:iam::*:role/Pipeline".into()],
        ..ScpOptions::default()
    };
    assert!(generate(&opts).is_ok());
    // Required tags lock no one out: anyone can add the tag.
    let opts = ScpOptions {
        require_creation_tags: vec![RequiredTag {
            key: "team".into(),
            values: vec![],
        }],
        ..ScpOptions::default()
    };
    let out = generate(&opts).unwrap();
    let text = out.policies[0].document.render(Style::Minified).unwrap();
    assert!(
        text.contains(r#""Null":{"aws:RequestTag/team":"true"}"#),
        "{text}"
    );
}

#[test]
fn no_controls_is_an_error() {
    assert_eq!(
        generate(&ScpOptions::default()).unwrap_err(),
        ScpError::NoControls
    );
}

#[test]
fn mutability_key_in_extra_conditions_is_refused_with_the_explanation() {
    let mut opts = all_on();
    opts.extra_conditions = Some(
        serde_json::from_str(r#"{"StringNotEquals":{"ecr:ImageTagMutability":"IMMUTABLE"}}"#)
            .unwrap(),
    );
    let err = generate(&opts).unwrap_err();
    assert!(
        matches!(err, ScpError::NoSuchConditionKey { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("no IAM condition key exposes"), "{msg}");
    assert!(msg.contains("restrict_creation"), "{msg}");
}

#[test]
fn key_not_listed_for_an_action_is_refused() {
    // aws:ResourceTag is not carried by the registry-level template actions.
    let mut opts = all_on();
    opts.extra_conditions = Some(
        serde_json::from_str(r#"{"StringNotEquals":{"aws:ResourceTag/team":"platform"}}"#).unwrap(),
    );
    let err = generate(&opts).unwrap_err();
    match &err {
        ScpError::ConditionKeyNotListed {
            action, outcome, ..
        } => {
            assert_eq!(action, "ecr:CreateRepositoryCreationTemplate");
            assert!(outcome.contains("always true"));
        }
        other => panic!("{other:?}"),
    }
    // A global key is fine everywhere.
    opts.extra_conditions =
        Some(serde_json::from_str(r#"{"StringEquals":{"aws:PrincipalOrgID":"o-abc"}}"#).unwrap());
    assert!(generate(&opts).is_ok());
    // A duplicate of a generated entry is refused rather than silently replaced.
    opts.extra_conditions = Some(
        serde_json::from_str(r#"{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/X"}}"#)
            .unwrap(),
    );
    assert!(matches!(
        generate(&opts),
        Err(ScpError::DuplicateCondition { .. })
    ));
}

#[test]
fn principal_patterns_are_checked() {
    for (bad, why) in [
        ("ImmutagPlatform", "not an ARN"),
        ("arn:aws:sts::*:assumed-role/Admin/*", "role ARN"),
        ("arn:aws:iam::*:*", "every principal"),
        ("arn:aws:s3:::bucket", "IAM principal"),
        ("arn:aws:iam::12345:role/X", "12 digits"),
    ] {
        let mut opts = all_on();
        opts.exempt_principals = vec![bad.into()];
        let msg = generate(&opts).unwrap_err().to_string();
        assert!(msg.contains(why), "{bad}: {msg}");
    }
    // Every role (issue 13: an exemption that matches every role locks nothing) is refused;
    // a broad but partial pattern (every role under one path) is a warning.
    for everyone in [
        "arn:aws:iam::*:role/*",
        "arn:aws:iam::*:user/*",
        "arn:aws:iam::*:*/*",
    ] {
        let mut opts = all_on();
        opts.exempt_principals = vec![everyone.into()];
        let msg = generate(&opts).unwrap_err().to_string();
        assert!(
            msg.contains("every role") || msg.contains("every IAM user"),
            "{everyone}: {msg}"
        );
    }
    let mut opts = all_on();
    opts.exempt_principals = vec!["arn:aws:iam::*:role/pipelines/*".into()];
    let out = generate(&opts).unwrap();
    assert!(out.warnings.iter().any(|w| w.code == "broad-exemption"));
}

#[test]
fn platform_role_must_be_exempt() {
    let mut opts = all_on();
    opts.platform_role_name = Some("ImmutagRemediation".into());
    let err = generate(&opts).unwrap_err();
    assert!(
        matches!(err, ScpError::PlatformRoleNotExempt { .. }),
        "{err:?}"
    );
    opts.exempt_principals
        .push("arn:aws:iam::111122223333:role/Immutag*".into());
    assert!(generate(&opts).is_ok());
}

#[test]
fn exemptions_render_as_not_resource_and_resource_tag() {
    let mut opts = all_on();
    opts.exempt_repositories = vec![
        "sandbox-*".into(),
        "arn:aws:ecr:eu-west-1:*:repository/tools/*".into(),
    ];
    opts.exempt_repository_tag = Some(ExemptTag {
        key: "immutag:exempt".into(),
        value: "true".into(),
    });
    opts.regions = vec!["eu-west-1".into(), "us-east-1".into()];
    let out = generate(&opts).unwrap();
    let doc = &out.policies[0].document;
    let lock = doc
        .statements()
        .find(|s| s.sid.as_deref() == Some(SID_LOCK_MUTABILITY))
        .unwrap();
    assert!(lock.resource.is_none());
    assert_eq!(
        lock.not_resource
            .as_ref()
            .unwrap()
            .iter()
            .cloned()
            .collect::<Vec<_>>(),
        [
            "arn:aws:ecr:*:*:repository/sandbox-*",
            "arn:aws:ecr:eu-west-1:*:repository/tools/*"
        ]
    );
    let text = serde_json::to_string(lock).unwrap();
    assert!(
        text.contains(r#""StringNotEquals":{"aws:ResourceTag/immutag:exempt":"true"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}"#),
        "{text}"
    );
    let protect = doc
        .statements()
        .find(|s| s.sid.as_deref() == Some(SID_PROTECT_EXEMPTION_TAG))
        .unwrap();
    let text = serde_json::to_string(protect).unwrap();
    assert!(
        text.contains(r#""ForAnyValue:StringEqualsIgnoreCase":{"aws:TagKeys":"immutag:exempt"}"#),
        "{text}"
    );
    let templates = doc
        .statements()
        .find(|s| s.sid.as_deref() == Some(SID_LOCK_TEMPLATES))
        .unwrap();
    assert!(
        templates.not_resource.is_none(),
        "templates have no repository ARN"
    );
    let mut o = all_on();
    o.exempt_repositories = vec!["sandbox-*".into()];
    o.partition = "aws-us-gov".into();
    let text = serde_json::to_string(&generate(&o).unwrap().policies[0].document).unwrap();
    assert!(
        text.contains("arn:aws-us-gov:ecr:*:*:repository/sandbox-*"),
        "{text}"
    );
    o.partition = "aws:x".into();
    assert!(matches!(
        generate(&o),
        Err(ScpError::InvalidPartition { .. })
    ));
    for bad in [
        "*",
        "arn:aws:ecr:*:*:repository/*",
        "Sandbox",
        "arn:aws:s3:::x",
    ] {
        let mut o = all_on();
        o.exempt_repositories = vec![bad.into()];
        assert!(
            matches!(generate(&o), Err(ScpError::InvalidRepositoryPattern { .. })),
            "{bad}"
        );
    }
}

fn many_principals(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("arn:aws:iam::*:role/pipelines/team-{i:04}-deployer"))
        .collect()
}

#[test]
fn oversize_is_split_in_order_and_each_part_fits() {
    let mut opts = all_on();
    opts.creation_principals = many_principals(90);
    opts.exempt_principals = many_principals(60);
    let out = generate(&opts).unwrap();
    assert!(
        out.policies.len() >= 2,
        "{:?}",
        out.policies
            .iter()
            .map(|p| p.minified_bytes)
            .collect::<Vec<_>>()
    );
    let mut sids = Vec::new();
    for (i, p) in out.policies.iter().enumerate() {
        assert_eq!(p.name, format!("immutag-{}", i + 1));
        let text = p.document.render(Style::Minified).unwrap();
        assert_eq!(text.len(), p.minified_bytes);
        assert!(p.minified_bytes <= SCP_MAX_BYTES);
        sids.extend(p.document.statements().map(|s| s.sid.clone().unwrap()));
    }
    assert_eq!(
        sids,
        [
            SID_LOCK_MUTABILITY,
            SID_RESTRICT_CREATION,
            SID_LOCK_TEMPLATES
        ]
    );
    assert!(out.warnings.iter().any(|w| w.code == "split"));
    // Not allowed to split: refused with the count.
    opts.max_policies = 1;
    assert!(matches!(
        generate(&opts),
        Err(ScpError::TooManyPolicies { max: 1, .. })
    ));
    opts.max_policies = 6;
    assert!(matches!(
        generate(&opts),
        Err(ScpError::InvalidMaxPolicies { value: 6 })
    ));
}

#[test]
fn a_statement_too_large_alone_is_refused() {
    let mut opts = all_on();
    opts.exempt_principals = many_principals(200);
    match generate(&opts) {
        Err(ScpError::StatementTooLarge { sid, bytes }) => {
            assert_eq!(sid, SID_LOCK_MUTABILITY);
            assert!(bytes > SCP_MAX_BYTES);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn generation_is_deterministic() {
    let mut opts = all_on();
    opts.require_creation_tags = vec![RequiredTag {
        key: "env".into(),
        values: vec!["prod".into(), "dev".into()],
    }];
    let a = generate(&opts).unwrap();
    let b = generate(&opts).unwrap();
    assert_eq!(
        a.policies[0].document.render(Style::Minified).unwrap(),
        b.policies[0].document.render(Style::Minified).unwrap()
    );
    let text = a.policies[0].document.render(Style::Minified).unwrap();
    assert!(
        text.contains(r#""StringNotEquals":{"aws:RequestTag/env":["prod","dev"]}"#),
        "{text}"
    );
}

fn sids(out: &Generated) -> Vec<String> {
    out.policies
        .iter()
        .flat_map(|p| p.document.statements())
        .map(|s| s.sid.clone().unwrap())
        .collect()
}

#[test]
fn protect_tags_denies_deleting_images_and_repositories() {
    let opts = ScpOptions {
        protect_tags: true,
        exempt_principals: platform(),
        exempt_repositories: vec!["sandbox-*".into()],
        exempt_repository_tag: Some(ExemptTag {
            key: "immutag:exempt".into(),
            value: "true".into(),
        }),
        ..ScpOptions::default()
    };
    let out = generate(&opts).unwrap();
    assert_eq!(sids(&out), [SID_PROTECT_EXEMPTION_TAG, SID_PROTECT_TAGS]);
    let s = out.policies[0]
        .document
        .statements()
        .find(|s| s.sid.as_deref() == Some(SID_PROTECT_TAGS))
        .unwrap();
    let text = serde_json::to_string(s).unwrap();
    assert!(
        text.contains(r#""Action":["ecr:BatchDeleteImage","ecr:DeleteRepository"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#""NotResource":"arn:aws:ecr:*:*:repository/sandbox-*""#),
        "{text}"
    );
    assert!(
        text.contains(r#""StringNotEquals":{"aws:ResourceTag/immutag:exempt":"true"}"#),
        "{text}"
    );
    assert!(out.warnings.iter().any(|w| w.code == "protect-tags"));
    match generate(&ScpOptions {
        exempt_principals: vec![],
        ..opts
    }) {
        Err(ScpError::Lockout { control, .. }) => assert_eq!(control, "protect_tags"),
        other => panic!("{other:?}"),
    }
    // Without protect_tags, the mutability lock warns about the bypass.
    let out = generate(&all_on()).unwrap();
    assert!(out.warnings.iter().any(|w| w.code == "delete-and-repush"));
}

#[test]
fn the_rule_exemption_tag_key_is_protected() {
    let opts = ScpOptions {
        rule_exemption_tag_key: Some("team:exempt".into()),
        exempt_principals: platform(),
        ..ScpOptions::default()
    };
    let out = generate(&opts).unwrap();
    assert_eq!(sids(&out), [SID_PROTECT_EXEMPTION_TAG]);
    let text = out.policies[0].document.render(Style::Minified).unwrap();
    assert!(
        text.contains(r#""Action":["ecr:CreateRepository","ecr:TagResource","ecr:UntagResource"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#""ForAnyValue:StringEqualsIgnoreCase":{"aws:TagKeys":"team:exempt"}"#),
        "{text}"
    );
    // With the exempt repository tag too: one statement, both keys, each once.
    let both = ScpOptions {
        lock_mutability: true,
        exempt_repository_tag: Some(ExemptTag {
            key: "immutag:exempt".into(),
            value: "true".into(),
        }),
        ..opts.clone()
    };
    let text = generate(&both).unwrap().policies[0]
        .document
        .render(Style::Minified)
        .unwrap();
    assert!(
        text.contains(r#""aws:TagKeys":["immutag:exempt","team:exempt"]"#),
        "{text}"
    );
    let same = ScpOptions {
        rule_exemption_tag_key: Some("Immutag:Exempt".into()),
        ..both
    };
    let text = generate(&same).unwrap().policies[0]
        .document
        .render(Style::Minified)
        .unwrap();
    assert!(text.contains(r#""aws:TagKeys":"immutag:exempt""#), "{text}");
    // Refusals: no exemption (no one could ever exempt a repository), a reserved key.
    match generate(&ScpOptions {
        exempt_principals: vec![],
        ..opts.clone()
    }) {
        Err(ScpError::Lockout { control, .. }) => assert_eq!(control, "rule_exemption_tag_key"),
        other => panic!("{other:?}"),
    }
    let reserved = ScpOptions {
        rule_exemption_tag_key: Some("aws:exempt".into()),
        ..opts
    };
    assert!(matches!(
        generate(&reserved),
        Err(ScpError::InvalidTag { .. })
    ));
}
