//! Remediation and rollback against a moto server on 127.0.0.1 (started by the test;
//! `scripts/setup.sh` installs it): two accounts (the second reached through STS AssumeRole)
//! and two regions, repositories in all four modes. Plan, dry run, apply, verification
//! through DescribeRepositories, an existing tag refused afterwards, a second run that
//! changes nothing, and a rollback that restores every mode and filter list exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use aws_sdk_ecr::types::ImageTagMutability;
use immutag_aws::change::{self, ApplyOptions, ChangeResult, Verification};
use immutag_aws::clients::{self, EcrClients, Scope};
use immutag_aws::ecr::ReadState;
use immutag_aws::journal::{self, Journal, JournalMode};
use immutag_aws::targets::{AccountSelection, NoProgress, RegionSelection, TargetOptions};
use immutag_aws::testing::{MOTO_DEFAULT_ACCOUNT, MotoServer, push_image, wildcard_filter};
use immutag_core::change::{Change, RepoKey, Setting};
use immutag_core::journal::{Operation, summarize};
use immutag_core::remediation::{Candidate, Mode, RemediationOptions, count, decide};
use immutag_core::rollback::{RollbackItem, plan_rollback};
use immutag_core::{ExclusionFilter, RuleParameters, TagMutability};

const ROLE: &str = "immutag-test-role";
const OTHER: &str = "111111111111";
const REGIONS: [&str; 2] = ["eu-west-1", "us-east-1"];

fn moto() -> MotoServer {
    match MotoServer::start() {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// The seeded repositories of one (account, region): name, mode, filters. moto matches
/// filters as regular expressions, so they stay literal.
fn layout() -> Vec<(&'static str, ImageTagMutability, Vec<&'static str>)> {
    vec![
        ("app", ImageTagMutability::Mutable, vec![]),
        ("web", ImageTagMutability::Mutable, vec![]),
        (
            "fenced-mutable",
            ImageTagMutability::MutableWithExclusion,
            vec!["release", "stable"],
        ),
        (
            "open-exclusion",
            ImageTagMutability::ImmutableWithExclusion,
            vec!["nightly"],
        ),
        ("done", ImageTagMutability::Immutable, vec![]),
        ("sandbox-tool", ImageTagMutability::Mutable, vec![]),
    ]
}

async fn seed(config: &aws_types::SdkConfig) {
    let client = aws_sdk_ecr::Client::new(config);
    for (name, mode, filters) in layout() {
        let mut req = client
            .create_repository()
            .repository_name(name)
            .image_tag_mutability(mode);
        for f in filters {
            req = req.image_tag_mutability_exclusion_filters(wildcard_filter(f));
        }
        req.send().await.unwrap();
    }
}

struct World {
    moto: MotoServer,
    base: aws_types::SdkConfig,
    opts: TargetOptions,
}

impl World {
    async fn new() -> Self {
        let moto = moto();
        for account in [MOTO_DEFAULT_ACCOUNT, OTHER] {
            for region in REGIONS {
                let c = moto
                    .sdk_config_for_account(account, region, ROLE)
                    .await
                    .unwrap();
                seed(&c).await;
            }
        }
        let base = moto.sdk_config("eu-west-1").await;
        let opts = TargetOptions {
            accounts: AccountSelection::Listed(vec![MOTO_DEFAULT_ACCOUNT.into(), OTHER.into()]),
            regions: RegionSelection::Listed(REGIONS.iter().map(|r| r.to_string()).collect()),
            role_name: ROLE.into(),
            concurrency: 4,
        };
        Self { moto, base, opts }
    }

    async fn candidates(&self, _params: &RuleParameters) -> Vec<Candidate> {
        let inv =
            immutag_aws::scan::inventory(&self.base, &self.opts, Default::default(), &NoProgress)
                .await
                .unwrap();
        assert!(inv.failures.is_empty(), "{:?}", inv.failures);
        inv.resources
            .into_iter()
            .map(Candidate::immutable)
            .collect()
    }

    async fn clients(&self) -> EcrClients {
        let scopes = [MOTO_DEFAULT_ACCOUNT, OTHER].iter().flat_map(|a| {
            REGIONS.iter().map(|r| Scope {
                account: Some(a.to_string()),
                region: Some(r.to_string()),
            })
        });
        clients::clients_for_scopes(&self.base, scopes, ROLE)
            .await
            .unwrap()
    }

    /// Every repository's setting, read with the remediation reader.
    async fn state(&self, clients: &EcrClients) -> BTreeMap<RepoKey, Setting> {
        let mut keys = Vec::new();
        for a in [MOTO_DEFAULT_ACCOUNT, OTHER] {
            for r in REGIONS {
                for (name, _, _) in layout() {
                    keys.push(RepoKey::new(Some(a), Some(r), name));
                }
            }
        }
        immutag_aws::ecr::read_settings(clients, &keys, 4)
            .await
            .into_iter()
            .map(|(k, v)| match v {
                ReadState::Found(repo) => {
                    let s = Setting::of(&repo).unwrap();
                    (k, s)
                }
                other => panic!("{k}: {other:?}"),
            })
            .collect()
    }
}

fn changes_of(items: &[immutag_core::remediation::Decision]) -> Vec<Change> {
    items.iter().filter_map(|i| i.change()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remediate_verify_refuse_rerun_and_roll_back_across_accounts_and_regions() {
    let world = World::new().await;
    let params = RuleParameters::from_json(r#"{"ExemptRepositoryPatterns":"sandbox-*"}"#).unwrap();
    let clients = world.clients().await;
    let before = world.state(&clients).await;
    assert_eq!(before.len(), 24);

    // A tag pushed while the repository is still MUTABLE can be moved.
    let ecr_other_us = aws_sdk_ecr::Client::new(
        &world
            .moto
            .sdk_config_for_account(OTHER, "us-east-1", ROLE)
            .await
            .unwrap(),
    );
    push_image(&ecr_other_us, "app", 1, "v1").await.unwrap();
    push_image(&ecr_other_us, "app", 2, "v1").await.unwrap();

    // Plan: app, web, fenced-mutable and open-exclusion (the `nightly` filter is not allowed)
    // change in each of the 4 (account, region) pairs; done is compliant; sandbox-tool exempt.
    let opts = RemediationOptions::default();
    let items = decide(&world.candidates(&params).await, &opts, &params);
    let counts = count(&items);
    assert_eq!(counts.changes, 16, "{items:#?}");
    assert_eq!(counts.skipped.get("exempt"), Some(&4));
    assert_eq!(counts.skipped.get("compliant"), Some(&4));

    // A dry run is the plan: nothing has changed.
    assert_eq!(world.state(&clients).await, before);

    // Apply.
    let dir = tempfile::tempdir().unwrap();
    let jpath = dir.path().join("remediate.jsonl");
    let j = Journal::open(&jpath, "remediate", JournalMode::Create).unwrap();
    let reports = change::apply(&clients, changes_of(&items), &j, ApplyOptions::default())
        .await
        .unwrap();
    j.close();
    assert_eq!(reports.len(), 16);
    for r in &reports {
        assert_eq!(r.result, ChangeResult::Applied, "{r:?}");
        assert_eq!(r.verification, Some(Verification::Verified), "{r:?}");
    }

    // Read back independently of the remediation code: every changed repository is IMMUTABLE
    // with no filters; the others are untouched.
    let after = world.state(&clients).await;
    for (key, setting) in &after {
        let changed = reports.iter().any(|r| &r.change.key == key);
        if changed {
            assert_eq!(setting, &Setting::immutable(), "{key}");
        } else {
            assert_eq!(Some(setting), before.get(key), "{key}");
        }
    }
    let direct = ecr_other_us
        .describe_repositories()
        .repository_names("app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        direct.repositories()[0].image_tag_mutability(),
        Some(&ImageTagMutability::Immutable)
    );

    // Moving the existing tag is now refused (moto: ImageAlreadyExistsException); a new tag
    // still pushes.
    assert_eq!(
        push_image(&ecr_other_us, "app", 3, "v1").await,
        Err("ImageAlreadyExistsException".to_owned())
    );
    push_image(&ecr_other_us, "app", 4, "v2").await.unwrap();

    // A second run changes nothing, whichever the mode.
    for mode in [Mode::Plan, Mode::Immutable] {
        let again = decide(
            &world.candidates(&params).await,
            &RemediationOptions {
                mode,
                ..RemediationOptions::default()
            },
            &params,
        );
        assert_eq!(count(&again).changes, 0, "{mode:?}: {again:#?}");
    }

    // Roll back from the journal: every previous mode and filter list, exactly.
    let contents = journal::read(&jpath).unwrap();
    assert!(contents.warnings.is_empty());
    let entries = summarize(&contents.records);
    assert_eq!(entries.len(), 16);
    let now = world.state(&clients).await;
    let now = now
        .into_iter()
        .map(|(k, s)| {
            (
                (k, immutag_core::change::Attribute::TagMutability),
                s.into(),
            )
        })
        .collect();
    let rb = plan_rollback(&entries, &now);
    let restores: Vec<Change> = rb.iter().filter_map(RollbackItem::change).collect();
    assert_eq!(restores.len(), 16);
    let rpath = dir.path().join("rollback.jsonl");
    let rj = Journal::open(&rpath, "rollback", JournalMode::Create).unwrap();
    let rreports = change::apply(
        &clients,
        restores,
        &rj,
        ApplyOptions {
            operation: Operation::Rollback,
            ..ApplyOptions::default()
        },
    )
    .await
    .unwrap();
    rj.close();
    assert!(rreports.iter().all(|r| r.succeeded()), "{rreports:#?}");
    let restored = world.state(&clients).await;
    assert_eq!(restored, before);
    // Filters come back in the original order too.
    let key = RepoKey::new(Some(OTHER), Some("us-east-1"), "fenced-mutable");
    assert_eq!(
        restored[&key],
        Setting::new(
            TagMutability::MutableWithExclusion,
            vec![
                ExclusionFilter::wildcard("release"),
                ExclusionFilter::wildcard("stable")
            ]
        )
    );
    // The rollback journal is a journal like any other.
    let rb_entries = summarize(&journal::read(&rpath).unwrap().records);
    assert_eq!(rb_entries.len(), 16);
    assert!(
        rb_entries
            .iter()
            .all(|e| e.operation == Operation::Rollback)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_missing_repository_fails_alone_and_exclusion_targets_apply() {
    let world = World::new().await;
    let clients = world.clients().await;
    let mut changes = vec![
        Change {
            key: RepoKey::new(Some(MOTO_DEFAULT_ACCOUNT), Some("eu-west-1"), "app"),
            from: Setting::new(TagMutability::Mutable, vec![]).into(),
            to: Setting::immutable().into(),
        },
        Change {
            key: RepoKey::new(Some(MOTO_DEFAULT_ACCOUNT), Some("eu-west-1"), "ghost"),
            from: Setting::new(TagMutability::Mutable, vec![]).into(),
            to: Setting::immutable().into(),
        },
    ];
    changes.push(Change {
        key: RepoKey::new(Some(OTHER), Some("us-east-1"), "web"),
        from: Setting::new(TagMutability::Mutable, vec![]).into(),
        to: Setting::new(
            TagMutability::ImmutableWithExclusion,
            vec![ExclusionFilter::wildcard("latest")],
        )
        .into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path().join("j.jsonl"), "t", JournalMode::Create).unwrap();
    let reports = change::apply(&clients, changes, &j, ApplyOptions::default())
        .await
        .unwrap();
    j.close();
    assert!(reports[0].succeeded());
    match &reports[1].result {
        ChangeResult::Failed {
            code,
            outcome_known,
            ..
        } => {
            assert_eq!(code, "RepositoryNotFoundException");
            assert!(outcome_known);
        }
        other => panic!("{other:?}"),
    }
    assert!(reports[2].succeeded(), "{:?}", reports[2]);
    let state = world.state(&clients).await;
    assert_eq!(
        state[&RepoKey::new(Some(OTHER), Some("us-east-1"), "web")],
        Setting::new(
            TagMutability::ImmutableWithExclusion,
            vec![ExclusionFilter::wildcard("latest")]
        )
    );
}
