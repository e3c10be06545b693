//! Properties of the generator over arbitrary options: every emitted policy fits the SCP
//! limit, renders deterministically, parses back to itself and passes the linter; whatever
//! does not fit is refused with a size error, never emitted.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use immutag_scp::{
    PolicyDocument, PolicyKind, RequiredTag, SCP_MAX_BYTES, ScpError, ScpOptions, Style,
    check_policy, generate,
};
use proptest::prelude::*;

mod support;

fn principal() -> impl Strategy<Value = String> {
    (
        "[A-Za-z0-9+=,.@_-]{1,40}",
        prop::option::of("[a-z0-9-]{1,20}"),
    )
        .prop_map(|(name, path)| match path {
            Some(p) => format!("arn:aws:iam::*:role/{p}/{name}"),
            None => format!("arn:aws:iam::*:role/{name}"),
        })
}

fn options() -> impl Strategy<Value = ScpOptions> {
    (
        any::<(bool, bool, bool, bool)>(),
        prop::collection::vec(principal(), 1..120),
        prop::collection::vec(principal(), 0..120),
        prop::collection::vec("[a-z][a-z0-9_-]{0,20}", 0..3),
        prop::collection::vec("[a-z]{2}-[a-z]{4,9}-[1-3]", 0..4),
        prop::collection::vec("[a-z][a-z0-9-]{0,15}\\*?", 0..4),
        1u8..=5,
    )
        .prop_map(
            |(
                (lock, restrict, templates, protect),
                exempt,
                creators,
                tags,
                regions,
                repos,
                max,
            )| {
                ScpOptions {
                    lock_mutability: lock,
                    restrict_creation: restrict,
                    lock_creation_templates: templates,
                    protect_tags: protect,
                    require_creation_tags: tags
                        .into_iter()
                        .map(|key| RequiredTag {
                            key,
                            values: vec![],
                        })
                        .collect(),
                    exempt_principals: exempt,
                    creation_principals: creators,
                    regions,
                    exempt_repositories: repos,
                    max_policies: max,
                    ..ScpOptions::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn emitted_policies_fit_round_trip_and_lint_clean(opts in options()) {
        match generate(&opts) {
            Ok(out) => {
                let docs: Vec<&PolicyDocument> = out.policies.iter().map(|p| &p.document).collect();
                support::corpus::record("immutag-scp generator properties", &opts, &docs);
                prop_assert!(!out.policies.is_empty());
                prop_assert!(out.policies.len() <= usize::from(opts.max_policies));
                // Deterministic: the same options give the same policies.
                prop_assert_eq!(&generate(&opts).unwrap(), &out);
                for p in &out.policies {
                    let min = p.document.render(Style::Minified).unwrap();
                    prop_assert_eq!(min.len(), p.minified_bytes);
                    prop_assert!(p.minified_bytes <= SCP_MAX_BYTES);
                    prop_assert_eq!(&PolicyDocument::from_json(&min).unwrap(), &p.document);
                    let pretty = p.document.render(Style::Pretty).unwrap();
                    prop_assert_eq!(&PolicyDocument::from_json(&pretty).unwrap(), &p.document);
                    let report = check_policy(&min, PolicyKind::Scp).unwrap();
                    prop_assert!(report.is_clean(), "{:?}", report.findings);
                }
            }
            Err(ScpError::NoControls) => {
                prop_assert!(!opts.lock_mutability && !opts.restrict_creation && !opts.lock_creation_templates && !opts.protect_tags && opts.require_creation_tags.is_empty());
            }
            Err(ScpError::StatementTooLarge { bytes, .. }) => prop_assert!(bytes > SCP_MAX_BYTES - 40),
            Err(ScpError::TooManyPolicies { needed, max }) => prop_assert!(needed > usize::from(max)),
            Err(other) => prop_assert!(false, "unexpected refusal: {other}"),
        }
    }
}
