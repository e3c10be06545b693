//! Fault tests with aws-smithy-mocks: what moto cannot show (it neither paginates
//! DescribeRepositories nor injects faults).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::types::{ImageDetail, ImageTagMutability, Repository};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use aws_types::sdk_config::SharedTimeSource;
use immutag_aws::session::{DEFAULT_MAX_ATTEMPTS, retry_config};
use immutag_aws::targets::{NoProgress, Target, run_targets};
use immutag_core::TagMutability;

fn repos(prefix: &str, n: usize) -> Vec<Repository> {
    (0..n)
        .map(|i| {
            Repository::builder()
                .repository_name(format!("{prefix}-{i:05}"))
                .registry_id("111122223333")
                .repository_arn(format!(
                    "arn:aws:ecr:eu-west-1:111122223333:repository/{prefix}-{i:05}"
                ))
                .image_tag_mutability(if i % 2 == 0 {
                    ImageTagMutability::Mutable
                } else {
                    ImageTagMutability::Immutable
                })
                .build()
        })
        .collect()
}

const THROTTLE: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
const SERVER: &str = r#"{"__type":"ServerException","message":"internal error"}"#;

/// A mocked client with immutag's retry settings (adaptive, 5 attempts), fast backoff, on the
/// system clock: the mock's default clock is frozen in 2009, under which the adaptive retry's
/// rate limiter never refills and a retried call waits forever.
macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, $rules, |c| c
            .retry_config(
                retry_config(DEFAULT_MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(1))
            )
            .time_source(SharedTimeSource::default()))
    };
}

#[tokio::test]
async fn inventory_asks_for_1000_and_follows_next_token() {
    let first = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token().is_none())
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 1000)))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("b", 1000)))
                .next_token("page-3")
                .build()
        });
    let third = mock!(Client::describe_repositories)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token() == Some("page-3"))
        .then_output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("c", 500)))
                .build()
        });
    let client = client!(&[&first, &second, &third]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 2500);
    // ceil(2500 / 1000) = 3 calls, one per page, nothing per repository.
    assert_eq!(
        (first.num_calls(), second.num_calls(), third.num_calls()),
        (1, 1, 1)
    );
    assert_eq!(found[0].name.as_deref(), Some("a-00000"));
    assert_eq!(found[2499].name.as_deref(), Some("c-00499"));
    let mutable = found
        .iter()
        .filter(|r| {
            r.tag_mutability == immutag_core::MutabilitySetting::set(TagMutability::Mutable)
        })
        .count();
    assert_eq!(mutable, 1250);
}

#[tokio::test]
async fn a_repeated_next_token_is_an_error_not_a_loop() {
    let looping = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("a", 1)))
            .next_token("same")
            .build()
    });
    let client = client!(&[&looping]);
    let err = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("pagination"), "{err}");
    assert_eq!(looping.num_calls(), 2);
}

#[tokio::test]
async fn throttling_is_retried() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .times(3)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 3)))
                .build()
        })
        .build();
    let client = client!(&[&rule]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(rule.num_calls(), 4, "three throttles then success");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(500, Some(SERVER.to_owned()))
        .times(2)
        .http_status(503, None)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("a", 2)))
                .build()
        })
        .build();
    let client = client!(&[&rule]);
    let found = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(rule.num_calls(), 4);
}

#[tokio::test]
async fn access_denied_is_not_retried_and_names_the_code() {
    let rule = mock!(Client::describe_repositories)
        .sequence()
        .http_status(
            400,
            Some(
                r#"{"__type":"AccessDeniedException","message":"not authorized to perform ecr:DescribeRepositories"}"#
                    .to_owned(),
            ),
        )
        .repeatedly()
        .build();
    let client = client!(&[&rule]);
    let err = immutag_aws::ecr::inventory(&client, "111122223333", "eu-west-1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    assert!(
        err.to_string().contains("ecr:DescribeRepositories"),
        "{err}"
    );
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn a_region_that_keeps_failing_is_reported_while_the_others_complete() {
    let broken = mock!(Client::describe_repositories)
        .sequence()
        .http_status(500, Some(SERVER.to_owned()))
        .repeatedly()
        .build();
    let ok_rule = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("ok", 7)))
            .build()
    });
    let throttled_then_ok = mock!(Client::describe_repositories)
        .sequence()
        .http_status(400, Some(THROTTLE.to_owned()))
        .times(2)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos("slow", 5)))
                .build()
        })
        .build();
    let target = |region: &str| Target {
        account_id: "111122223333".to_owned(),
        region: region.to_owned(),
    };
    let targets = vec![
        (client!(&[&ok_rule]), target("us-east-1")),
        (client!(&[&broken]), target("ap-south-2")),
        (client!(&[&throttled_then_ok]), target("eu-west-1")),
    ];
    let (items, failures) = run_targets(targets, 2, &NoProgress, |client, t| async move {
        immutag_aws::ecr::inventory(&client, &t.account_id, &t.region).await
    })
    .await;
    assert_eq!(items.len(), 12);
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.region.as_deref(), Some("ap-south-2"));
    assert_eq!(f.account_id.as_deref(), Some("111122223333"));
    assert_eq!(f.code.as_deref(), Some("ServerException"));
    assert!(f.error.contains("ecr:DescribeRepositories"), "{}", f.error);
    assert_eq!(
        broken.num_calls(),
        DEFAULT_MAX_ATTEMPTS as usize,
        "retried until the attempts ran out"
    );
}

#[tokio::test]
async fn images_are_paginated_with_1000() {
    let first = mock!(Client::describe_images)
        .match_requests(|r| {
            r.max_results() == Some(1000)
                && r.next_token().is_none()
                && r.repository_name() == Some("web")
        })
        .then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:1")
                        .image_tags("latest")
                        .build(),
                )
                .next_token("n")
                .build()
        });
    let second = mock!(Client::describe_images)
        .match_requests(|r| r.next_token() == Some("n"))
        .then_output(|| {
            DescribeImagesOutput::builder()
                .image_details(ImageDetail::builder().image_digest("sha256:2").build())
                .build()
        });
    let client = client!(&[&first, &second]);
    let images = immutag_aws::ecr::images(&client, Some("111122223333"), "web")
        .await
        .unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0].tags, vec!["latest"]);
    assert!(images[1].tags.is_empty());
}

// ---------------------------------------------------------------------------------------
// The fault matrix (docs/reliability.md, section "Faults"): for each AWS call and each fault
// of `immutag_aws::faults::Fault`, the observable outcome and the invariant
// `evaluated == reported + surfaced` at the level of the library function.
// ---------------------------------------------------------------------------------------

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_ecr::operation::list_tags_for_resource::{
    ListTagsForResourceError, ListTagsForResourceOutput,
};
use aws_sdk_ecr::types::Tag;
use aws_sdk_ecr::types::error::RepositoryNotFoundException;
use immutag_aws::config::{ConfigError, ConfigEvaluation, RetryPolicy};
use immutag_aws::faults::{Fault, MAX_ATTEMPTS, NeverAnswers, Protocol};
use immutag_aws::{fault_cells, fault_client, fault_rule};
use immutag_core::Compliance;

fn ecr_target(region: &str) -> Target {
    Target {
        account_id: "111122223333".to_owned(),
        region: region.to_owned(),
    }
}

// DescribeRepositories (inventory): the throttling, 5xx and access-denied cells are the tests
// above (`throttling_is_retried`, `a_region_that_keeps_failing_is_reported_while_the_others_complete`,
// `access_denied_is_not_retried_and_names_the_code`); timeout and malformed here.
async fn describe_repositories_row(fault: Fault) {
    let ok = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("ok", 4)))
            .build()
    });
    let never = NeverAnswers::all();
    let faulted = fault_rule!(Client::describe_repositories, fault, Protocol::Json, || {
        DescribeRepositoriesOutput::builder()
            .set_repositories(Some(repos("late", 3)))
            .build()
    });
    let targets = vec![
        (client!(&[&ok]), ecr_target("eu-west-1")),
        (
            fault_client!(aws_sdk_ecr, fault, &never, [&faulted]),
            ecr_target("ap-south-2"),
        ),
    ];
    let (items, failures) = run_targets(targets, 2, &NoProgress, |client, t| async move {
        immutag_aws::ecr::inventory(&client, &t.account_id, &t.region).await
    })
    .await;
    // Invariant: each target is read (its repositories evaluated) or named as failed.
    assert_eq!(items.len() + 3 * failures.len(), 7, "{failures:?}");
    match fault {
        Fault::Timeout => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].region.as_deref(), Some("ap-south-2"));
            assert!(failures[0].error.contains("ecr:DescribeRepositories"));
            assert!(
                failures[0].error.to_lowercase().contains("timeout"),
                "{}",
                failures[0].error
            );
            assert_eq!(
                never.attempts(),
                MAX_ATTEMPTS as usize,
                "a timed-out attempt is retried"
            );
        }
        Fault::Malformed => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].region.as_deref(), Some("ap-south-2"));
            assert!(
                failures[0].error.contains("ecr:DescribeRepositories"),
                "{}",
                failures[0].error
            );
        }
        other => unreachable!("{other:?} has its own test"),
    }
}

fault_cells!(describe_repositories_row:
    describe_repositories_timeout_fails_the_target_by_name => Timeout,
    describe_repositories_malformed_fails_the_target_by_name => Malformed,
);

// ListTagsForResource (ecr::fill_tags_all, ExemptionTagKey): three repositories, `b` faulted.
fn tagged_repos() -> Vec<immutag_core::Repository> {
    ["a", "b", "c"]
        .iter()
        .map(|n| {
            let mut r = immutag_core::Repository::new(*n, immutag_core::InputKind::Live);
            r.arn = Some(format!("arn:aws:ecr:eu-west-1:111122223333:repository/{n}"));
            r
        })
        .collect()
}

fn tags_ok() -> ListTagsForResourceOutput {
    ListTagsForResourceOutput::builder()
        .tags(Tag::builder().key("team").value("core").build().unwrap())
        .build()
}

async fn list_tags_row(fault: Fault) {
    let ok = mock!(Client::list_tags_for_resource)
        .match_requests(|r| !r.resource_arn().unwrap_or("").ends_with("/b"))
        .then_output(tags_ok);
    let faulted = fault_rule!(
        Client::list_tags_for_resource,
        fault,
        Protocol::Json,
        tags_ok,
        match = |r: &aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceInput| {
            r.resource_arn().unwrap_or("").ends_with("/b")
        }
    );
    let never = NeverAnswers::when_body_contains("repository/b");
    let client = fault_client!(aws_sdk_ecr, fault, &never, [&faulted, &ok]);
    let result = immutag_aws::ecr::fill_tags_all(&client, tagged_repos(), 2).await;
    if fault == Fault::Malformed {
        assert_eq!(faulted.num_calls(), 1, "a malformed answer is not retried");
    }
    match fault {
        Fault::Throttling => {
            let t = result.unwrap();
            assert_eq!(t.repositories.len(), 3);
            assert!(t.repositories.iter().all(|r| r.tags["team"] == "core"));
            assert!(t.dropped.is_empty());
            assert_eq!(faulted.num_calls(), 2, "one throttle, then success");
        }
        _ => {
            // The run of this account/region fails with an error naming the call and the
            // repository: nothing is evaluated without the tags an exemption may rest on.
            let err = result.unwrap_err();
            let text = err.to_string();
            assert!(
                text.contains("ecr:ListTagsForResource") && text.contains("repository b"),
                "{text}"
            );
            match fault {
                Fault::ServerError => {
                    assert_eq!(err.code(), Some("ServerException"));
                    assert_eq!(faulted.num_calls(), MAX_ATTEMPTS as usize);
                }
                Fault::AccessDenied => {
                    assert_eq!(err.code(), Some("AccessDeniedException"));
                    assert_eq!(faulted.num_calls(), 1, "not retried");
                }
                Fault::Timeout => assert_eq!(never.attempts(), MAX_ATTEMPTS as usize),
                _ => {}
            }
        }
    }
}

fault_cells!(list_tags_row:
    list_tags_throttling_is_retried => Throttling,
    list_tags_server_error_fails_naming_the_repository => ServerError,
    list_tags_timeout_fails_naming_the_repository => Timeout,
    list_tags_access_denied_fails_naming_the_repository => AccessDenied,
    list_tags_malformed_fails_naming_the_repository => Malformed,
);

#[tokio::test]
async fn a_repository_deleted_before_its_tags_are_read_is_dropped_and_counted() {
    let ok = mock!(Client::list_tags_for_resource)
        .match_requests(|r| !r.resource_arn().unwrap_or("").ends_with("/b"))
        .then_output(tags_ok);
    let gone = mock!(Client::list_tags_for_resource)
        .match_requests(|r| r.resource_arn().unwrap_or("").ends_with("/b"))
        .then_error(|| {
            ListTagsForResourceError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder()
                    .message("The repository with name 'b' does not exist in the registry with id '111122223333'")
                    .build(),
            )
        });
    let client = client!(&[&gone, &ok]);
    let t = immutag_aws::ecr::fill_tags_all(&client, tagged_repos(), 3)
        .await
        .unwrap();
    let names: Vec<&str> = t
        .repositories
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    assert_eq!(names, ["a", "c"], "the survivors, in order");
    assert_eq!(t.dropped, ["b"]);
    assert_eq!(gone.num_calls(), 1, "not retried");
}

// DescribeImages (plan::plan_target_with): two MUTABLE repositories, the images of `b` faulted.
async fn describe_images_row(fault: Fault) {
    let inventory = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .repositories(
                Repository::builder()
                    .repository_name("a")
                    .registry_id("111122223333")
                    .image_tag_mutability(ImageTagMutability::Mutable)
                    .build(),
            )
            .repositories(
                Repository::builder()
                    .repository_name("b")
                    .registry_id("111122223333")
                    .image_tag_mutability(ImageTagMutability::Mutable)
                    .build(),
            )
            .build()
    });
    let images_ok = || {
        DescribeImagesOutput::builder()
            .image_details(
                ImageDetail::builder()
                    .image_digest("sha256:1")
                    .image_tags("v1")
                    .build(),
            )
            .build()
    };
    let ok = mock!(Client::describe_images)
        .match_requests(|r| r.repository_name() == Some("a"))
        .then_output(images_ok);
    let faulted = fault_rule!(
        Client::describe_images,
        fault,
        Protocol::Json,
        images_ok,
        match = |r: &aws_sdk_ecr::operation::describe_images::DescribeImagesInput| {
            r.repository_name() == Some("b")
        }
    );
    // The plan reads the creation templates too: none here.
    let no_templates = mock!(Client::describe_repository_creation_templates).then_output(|| {
        aws_sdk_ecr::operation::describe_repository_creation_templates::DescribeRepositoryCreationTemplatesOutput::builder().build()
    });
    let never = NeverAnswers::when_body_contains(r#""repositoryName":"b""#);
    let client = fault_client!(
        aws_sdk_ecr,
        fault,
        &never,
        [&inventory, &faulted, &ok, &no_templates]
    );
    let items = immutag_aws::plan::plan_target_with(
        &client,
        &ecr_target("eu-west-1"),
        &immutag_aws::plan::PlanInputs::guess(&immutag_core::RuleParameters::default()),
        2,
    )
    .await
    .unwrap();
    use immutag_aws::plan::Planned;
    let planned: BTreeSet<String> = items
        .iter()
        .filter_map(|i| match i {
            Planned::Recommendation(p) => Some(p.name.clone()),
            _ => None,
        })
        .collect();
    let failed: Vec<&immutag_aws::targets::Failure> = items
        .iter()
        .filter_map(|i| match i {
            Planned::Failed(f) => Some(f),
            _ => None,
        })
        .collect();
    // Invariant: both non-compliant repositories are planned or named as failed.
    assert_eq!(planned.len() + failed.len(), 2, "{items:?}");
    if fault == Fault::Malformed {
        assert_eq!(faulted.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        assert_eq!(planned.len(), 2);
        assert_eq!(faulted.num_calls(), 2);
        return;
    }
    assert!(planned.contains("a"));
    assert_eq!(failed[0].repository.as_deref(), Some("b"));
    assert!(
        failed[0].error.contains("ecr:DescribeImages"),
        "{}",
        failed[0].error
    );
    match fault {
        Fault::ServerError => assert_eq!(failed[0].code.as_deref(), Some("ServerException")),
        Fault::AccessDenied => {
            assert_eq!(failed[0].code.as_deref(), Some("AccessDeniedException"));
            assert_eq!(faulted.num_calls(), 1);
        }
        Fault::Timeout => assert_eq!(never.attempts(), MAX_ATTEMPTS as usize),
        _ => {}
    }
}

fault_cells!(describe_images_row:
    describe_images_throttling_is_retried => Throttling,
    describe_images_server_error_fails_the_repository_by_name => ServerError,
    describe_images_timeout_fails_the_repository_by_name => Timeout,
    describe_images_access_denied_fails_the_repository_by_name => AccessDenied,
    describe_images_malformed_fails_the_repository_by_name => Malformed,
);

// PutEvaluations (config::put_evaluations): 250 evaluations in batches of 100/100/50, the
// call of batch 2 faulted; every batch is sent whatever happens to batch 2.
fn evaluations(n: usize) -> Vec<ConfigEvaluation> {
    (0..n)
        .map(|i| ConfigEvaluation {
            resource_type: "AWS::ECR::Repository".into(),
            resource_id: format!("repo-{i:04}"),
            compliance: Compliance::NonCompliant,
            annotation: "a".into(),
            ordering_timestamp: aws_smithy_types::DateTime::from_secs(1_700_000_000),
        })
        .collect()
}

type Ids = Arc<Mutex<BTreeSet<String>>>;

/// Accepts every PutEvaluations call it matches and records the ids.
fn accepting(
    accepted: Ids,
    matcher: impl Fn(&aws_sdk_config::operation::put_evaluations::PutEvaluationsInput) -> bool
    + Send
    + Sync
    + 'static,
) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_config::Client::put_evaluations)
        .match_requests(move |r| {
            if !matcher(r) {
                return false;
            }
            accepted.lock().unwrap().extend(
                r.evaluations()
                    .iter()
                    .map(|e| e.compliance_resource_id().to_owned()),
            );
            true
        })
        .then_output(|| PutEvaluationsOutput::builder().build())
}

fn in_batch_2(r: &aws_sdk_config::operation::put_evaluations::PutEvaluationsInput) -> bool {
    r.evaluations()
        .first()
        .is_some_and(|e| e.compliance_resource_id() == "repo-0100")
}

async fn put_evaluations_row(fault: Fault) {
    let accepted: Ids = Arc::default();
    let faulted = fault_rule!(
        aws_sdk_config::Client::put_evaluations,
        fault,
        Protocol::Json,
        || PutEvaluationsOutput::builder().build(),
        match = in_batch_2
    );
    let ok = accepting(accepted.clone(), |r| !in_batch_2(r));
    let never = NeverAnswers::when_body_contains("repo-0100");
    let client = fault_client!(aws_sdk_config, fault, &never, [&faulted, &ok]);
    let all = evaluations(250);
    let result =
        immutag_aws::config::put_evaluations(&client, "tok", &all, &RetryPolicy::immediate(1))
            .await;
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.contains("repo-0249"),
        "batch 3 is sent whatever batch 2 did"
    );
    if fault == Fault::Malformed {
        assert_eq!(faulted.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let s = result.unwrap();
        assert_eq!(s.reported, 250);
        assert_eq!(faulted.num_calls(), 2, "one throttle, then success");
        return;
    }
    let Err(ConfigError::FailedEvaluations {
        failed, attempts, ..
    }) = result
    else {
        panic!("{result:?}")
    };
    // Invariant: every evaluation is accepted, or named as not accepted; never both.
    let named: BTreeSet<String> = failed.iter().map(|f| f.resource_id.clone()).collect();
    assert_eq!(named.len(), 100);
    assert!(named.is_disjoint(&accepted));
    assert_eq!(named.len() + accepted.len(), all.len());
    assert!(failed.iter().all(|f| f.batch == 2), "{failed:?}");
    let (code, tries) = (failed[0].code.as_deref(), failed[0].attempts);
    match fault {
        Fault::ServerError => {
            assert_eq!(code, Some("ServerException"));
            assert_eq!(tries, MAX_ATTEMPTS, "retried by the SDK, then listed");
        }
        Fault::AccessDenied => assert_eq!((code, tries), (Some("AccessDeniedException"), 1)),
        Fault::Timeout => {
            assert_eq!((code, tries), (None, MAX_ATTEMPTS));
            assert_eq!(never.attempts(), MAX_ATTEMPTS as usize);
        }
        Fault::Malformed => assert_eq!(code, None),
        Fault::Throttling => unreachable!(),
    }
    assert_eq!(attempts, tries);
}

fault_cells!(put_evaluations_row:
    put_evaluations_throttling_is_retried => Throttling,
    put_evaluations_server_error_lists_the_batch_and_sends_the_rest => ServerError,
    put_evaluations_timeout_lists_the_batch_and_sends_the_rest => Timeout,
    put_evaluations_access_denied_lists_the_batch_and_sends_the_rest => AccessDenied,
    put_evaluations_malformed_lists_the_batch_and_sends_the_rest => Malformed,
);

/// Issue 11: batch 1 keeps rejecting one evaluation, batch 2's call fails with a 5xx after
/// the SDK's retries; batch 3 is still sent, and the error names both.
#[tokio::test]
async fn every_batch_is_sent_and_the_error_names_each_failure() {
    let accepted: Ids = Arc::default();
    let rejects_one = mock!(aws_sdk_config::Client::put_evaluations)
        .match_requests(|r| {
            r.evaluations()
                .iter()
                .any(|e| e.compliance_resource_id() == "repo-0001")
        })
        .then_output(|| {
            PutEvaluationsOutput::builder()
                .failed_evaluations(
                    aws_sdk_config::types::Evaluation::builder()
                        .compliance_resource_type("AWS::ECR::Repository")
                        .compliance_resource_id("repo-0001")
                        .compliance_type(aws_sdk_config::types::ComplianceType::NonCompliant)
                        .ordering_timestamp(aws_smithy_types::DateTime::from_secs(1_700_000_000))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let server_error = fault_rule!(
        aws_sdk_config::Client::put_evaluations,
        Fault::ServerError,
        Protocol::Json,
        || PutEvaluationsOutput::builder().build(),
        match = in_batch_2
    );
    let ok = accepting(accepted.clone(), |_| true);
    let client = fault_client!(
        aws_sdk_config,
        Fault::ServerError,
        &NeverAnswers::all(),
        [&rejects_one, &server_error, &ok]
    );
    let err = immutag_aws::config::put_evaluations(
        &client,
        "result-token-0f3c",
        &evaluations(250),
        &RetryPolicy::immediate(2),
    )
    .await
    .unwrap_err();
    // Batch 3 was sent and accepted.
    let accepted = accepted.lock().unwrap().clone();
    assert!((200..250).all(|i| accepted.contains(&format!("repo-{i:04}"))));
    assert_eq!(
        rejects_one.num_calls(),
        3,
        "batch 1: one attempt and two retries"
    );
    assert_eq!(server_error.num_calls(), MAX_ATTEMPTS as usize);
    let ConfigError::FailedEvaluations { failed, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(failed.len(), 101);
    assert_eq!(
        (
            failed[0].resource_id.as_str(),
            failed[0].batch,
            failed[0].code.as_deref(),
            failed[0].attempts
        ),
        ("repo-0001", 1, None, 3)
    );
    assert!(
        failed[1..]
            .iter()
            .all(|f| f.batch == 2 && f.code.as_deref() == Some("ServerException"))
    );
    let text = err.to_string();
    assert!(text.contains("AWS::ECR::Repository repo-0001"), "{text}");
    assert!(
        text.contains("batch 1: rejected in FailedEvaluations after 3 attempt(s)"),
        "{text}"
    );
    assert!(
        text.contains("batch 2 (100 evaluations, 99 sent before it): PutEvaluations failed after 3 attempt(s) (ServerException)"),
        "{text}"
    );
    assert!(
        text.contains("repo-0100") && !text.contains("result-token-0f3c"),
        "{text}"
    );
}

// ListAccounts (org::active_accounts, `--org`): the organization's accounts, or the run
// fails before anything is read, naming the call.
fn accounts_ok() -> aws_sdk_organizations::operation::list_accounts::ListAccountsOutput {
    use aws_sdk_organizations::types::{Account, AccountState};
    aws_sdk_organizations::operation::list_accounts::ListAccountsOutput::builder()
        .accounts(
            Account::builder()
                .id("111122223333")
                .state(AccountState::Active)
                .build(),
        )
        .accounts(
            Account::builder()
                .id("444455556666")
                .state(AccountState::Active)
                .build(),
        )
        .build()
}

async fn list_accounts_row(fault: Fault) {
    let rule = fault_rule!(
        aws_sdk_organizations::Client::list_accounts,
        fault,
        Protocol::Json,
        accounts_ok
    );
    let never = NeverAnswers::all();
    let client = fault_client!(aws_sdk_organizations, fault, &never, [&rule]);
    let result = immutag_aws::org::active_accounts(&client).await;
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let ids: Vec<String> = result.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["111122223333", "444455556666"]);
        assert_eq!(rule.num_calls(), 2);
        return;
    }
    // Nothing was read, so nothing is evaluated; the run stops with an error naming the call.
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains("organizations:ListAccounts"),
        "{err}"
    );
    match fault {
        Fault::ServerError => assert_eq!(rule.num_calls(), MAX_ATTEMPTS as usize),
        Fault::AccessDenied => {
            assert_eq!(err.code(), Some("AccessDeniedException"));
            assert_eq!(rule.num_calls(), 1);
        }
        Fault::Timeout => assert_eq!(never.attempts(), MAX_ATTEMPTS as usize),
        _ => {}
    }
}

fault_cells!(list_accounts_row:
    list_accounts_throttling_is_retried => Throttling,
    list_accounts_server_error_fails_the_run => ServerError,
    list_accounts_timeout_fails_the_run => Timeout,
    list_accounts_access_denied_fails_the_run => AccessDenied,
    list_accounts_malformed_fails_the_run => Malformed,
);

// DescribeRegions (org::regions, `--all-regions`): an error is the account's failure in the
// fan-out (targets::resolve names the account), the other accounts still run.
fn regions_ok() -> aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput {
    use aws_sdk_ec2::types::Region;
    aws_sdk_ec2::operation::describe_regions::DescribeRegionsOutput::builder()
        .regions(
            Region::builder()
                .region_name("eu-west-1")
                .opt_in_status("opt-in-not-required")
                .build(),
        )
        .regions(
            Region::builder()
                .region_name("af-south-1")
                .opt_in_status("not-opted-in")
                .build(),
        )
        .build()
}

async fn describe_regions_row(fault: Fault) {
    let rule = fault_rule!(
        aws_sdk_ec2::Client::describe_regions,
        fault,
        Protocol::Ec2,
        regions_ok
    );
    let never = NeverAnswers::all();
    let client = fault_client!(aws_sdk_ec2, fault, &never, [&rule]);
    let result = immutag_aws::org::regions(&client).await;
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let r = result.unwrap();
        assert_eq!(r.enabled, ["eu-west-1"]);
        assert_eq!(r.disabled.len(), 1);
        assert_eq!(rule.num_calls(), 2);
        return;
    }
    let err = result.unwrap_err();
    assert!(err.to_string().contains("ec2:DescribeRegions"), "{err}");
    match fault {
        Fault::ServerError => {
            assert_eq!(err.code(), Some("InternalError"));
            assert_eq!(rule.num_calls(), MAX_ATTEMPTS as usize);
        }
        Fault::AccessDenied => {
            assert_eq!(err.code(), Some("UnauthorizedOperation"));
            assert_eq!(rule.num_calls(), 1);
        }
        Fault::Timeout => assert_eq!(never.attempts(), MAX_ATTEMPTS as usize),
        _ => {}
    }
}

fault_cells!(describe_regions_row:
    describe_regions_throttling_is_retried => Throttling,
    describe_regions_server_error_fails_the_account => ServerError,
    describe_regions_timeout_fails_the_account => Timeout,
    describe_regions_access_denied_fails_the_account => AccessDenied,
    describe_regions_malformed_fails_the_account => Malformed,
);

// AssumeRole (session::assume_role, then targets::run_targets): the member account is read
// with the assumed credentials, or named as failed; the caller's own account still is read.
const ASSUMED: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>ASIAMEMBEREXAMPLE</AccessKeyId><SecretAccessKey>member-secret</SecretAccessKey><SessionToken>member-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROAMEMBER:immutag</AssumedRoleId><Arn>arn:aws:sts::444455556666:assumed-role/OrganizationAccountAccessRole/immutag</Arn></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"#;

/// An HTTP client for a whole SDK configuration: STS answers with `fault` (or the assumed
/// credentials), ECR with one repository named after the access key that signed the call.
fn router(
    fault: Fault,
    sts_calls: Arc<std::sync::atomic::AtomicUsize>,
) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_runtime_api::client::http::HttpConnectorFuture;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    immutag_aws::faults::client_fn(move |request| {
        let ok = |body: String| {
            HttpConnectorFuture::ready(Ok(Response::new(
                StatusCode::try_from(200).unwrap(),
                aws_smithy_types::body::SdkBody::from(body),
            )))
        };
        if request.uri().contains("sts.") {
            let n = sts_calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return match fault {
                Fault::Throttling if n > 0 => ok(ASSUMED.to_owned()),
                Fault::Timeout => HttpConnectorFuture::new(futures::future::pending()),
                f => HttpConnectorFuture::ready(Ok(immutag_aws::faults::response(
                    Protocol::Query,
                    f,
                ))),
            };
        }
        let signer = request.headers().get("authorization").unwrap_or_default();
        let name = if signer.contains("ASIAMEMBEREXAMPLE") {
            "member-repo"
        } else {
            "own-repo"
        };
        ok(format!(
            r#"{{"repositories":[{{"repositoryName":"{name}","imageTagMutability":"MUTABLE"}}]}}"#
        ))
    })
}

async fn assume_role_row(fault: Fault) {
    let sts_calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(router(fault, sts_calls.clone()))
        .region(aws_types::region::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "AKIDOWNEXAMPLE",
            "own-secret",
            None,
            None,
            "faults",
        ))
        .retry_config(immutag_aws::faults::retry())
        .timeout_config(immutag_aws::faults::timeouts())
        .load()
        .await;
    let arn =
        immutag_aws::session::role_arn("aws", "444455556666", "OrganizationAccountAccessRole")
            .unwrap();
    let member = immutag_aws::session::assume_role(&base, &arn).await;
    let target = |account: &str| Target {
        account_id: account.to_owned(),
        region: "us-east-1".to_owned(),
    };
    let targets = vec![
        (base, target("111122223333")),
        (member, target("444455556666")),
    ];
    let (items, failures) = run_targets(targets, 2, &NoProgress, |config, t| async move {
        let client = aws_sdk_ecr::Client::new(&config);
        immutag_aws::ecr::inventory(&client, &t.account_id, &t.region).await
    })
    .await;
    // Invariant: each account is read, or named as failed.
    assert_eq!(items.len() + failures.len(), 2, "{failures:?}");
    let names: Vec<&str> = items.iter().filter_map(|r| r.name.as_deref()).collect();
    assert!(names.contains(&"own-repo"), "{names:?}");
    let sts_calls = sts_calls.load(std::sync::atomic::Ordering::SeqCst);
    if fault == Fault::Throttling {
        // Retried; the member account is then read with the assumed credentials.
        assert!(names.contains(&"member-repo"), "{names:?}");
        assert_eq!(sts_calls, 2);
        return;
    }
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!(f.account_id.as_deref(), Some("444455556666"));
    assert!(f.error.contains("ecr:DescribeRepositories"), "{}", f.error);
    if fault == Fault::Timeout {
        // The ECR call's attempt times out while the credentials are still being fetched.
        assert!(f.error.contains("timed out"), "{}", f.error);
    } else {
        assert!(f.error.contains("credentials"), "{}", f.error);
    }
    match fault {
        Fault::AccessDenied => {
            assert!(f.error.contains("AccessDenied"), "{}", f.error);
            assert_eq!(sts_calls, 1, "not retried");
        }
        Fault::ServerError | Fault::Timeout => {
            assert_eq!(sts_calls, MAX_ATTEMPTS as usize, "retried")
        }
        _ => {}
    }
}

fault_cells!(assume_role_row:
    assume_role_throttling_is_retried => Throttling,
    assume_role_server_error_fails_the_account_by_name => ServerError,
    assume_role_timeout_fails_the_account_by_name => Timeout,
    assume_role_access_denied_fails_the_account_by_name => AccessDenied,
    assume_role_malformed_fails_the_account_by_name => Malformed,
);

// The cost of moved tags: DescribeImages over two pages, untagged images with their sizes,
// and untagged referrers (a cosign signature by artifact type, an SBOM by subject) that moto
// cannot represent; only the images a moved tag left behind are counted and priced.
#[tokio::test]
async fn untagged_images_are_sized_across_pages_and_referrers_are_not_counted() {
    let inventory = mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .repositories(
                Repository::builder()
                    .repository_name("web")
                    .registry_id("111122223333")
                    .image_tag_mutability(ImageTagMutability::Mutable)
                    .build(),
            )
            .build()
    });
    let docker = "application/vnd.docker.container.image.v1+json";
    let first = mock!(Client::describe_images)
        .match_requests(|r| r.next_token().is_none())
        .then_output(move || {
            DescribeImagesOutput::builder()
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:new")
                        .image_tags("latest")
                        .image_size_in_bytes(1 << 30)
                        .artifact_media_type(docker)
                        .build(),
                )
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:old1")
                        .image_size_in_bytes(3 << 29)
                        .artifact_media_type(docker)
                        .build(),
                )
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::describe_images)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(move || {
            DescribeImagesOutput::builder()
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:old2")
                        .image_size_in_bytes(1 << 29)
                        .build(),
                )
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:sig")
                        .image_size_in_bytes(1 << 30)
                        .artifact_media_type("application/vnd.dev.cosign.artifact.sig.v1+json")
                        .build(),
                )
                .image_details(
                    ImageDetail::builder()
                        .image_digest("sha256:sbom")
                        .image_size_in_bytes(1 << 30)
                        .subject_manifest_digest("sha256:new")
                        .build(),
                )
                .build()
        });
    // The plan reads the creation templates too: none here.
    let no_templates = mock!(Client::describe_repository_creation_templates).then_output(|| {
        aws_sdk_ecr::operation::describe_repository_creation_templates::DescribeRepositoryCreationTemplatesOutput::builder().build()
    });
    let client = client!(&[&inventory, &first, &second, &no_templates]);
    let params = immutag_core::RuleParameters::default();
    let items = immutag_aws::plan::plan_target_with(
        &client,
        &ecr_target("eu-west-1"),
        &immutag_aws::plan::PlanInputs::guess(&params),
        1,
    )
    .await
    .unwrap();
    let plan = immutag_aws::plan::assemble(items, Vec::new(), 0.10);
    let web = &plan.repositories[0];
    assert_eq!(web.basis.images, 5);
    assert_eq!(web.basis.untagged_images, 2);
    assert_eq!(web.basis.referrers, 2);
    assert_eq!(web.basis.untagged_bytes, 2 << 30, "1.5 GiB + 0.5 GiB");
    assert!((web.basis.untagged_monthly_usd - 0.20).abs() < 1e-9);
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}
