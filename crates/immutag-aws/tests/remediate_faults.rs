//! Fault tests of `immutag_aws::remediate` with `aws-smithy-mocks` (no server): throttling
//! then success, one repository failing permanently while the others complete, and the
//! journal left by a run that stops mid-way (the future dropped, as in a crash).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::describe_repositories::{
    DescribeRepositoriesError, DescribeRepositoriesOutput,
};
use aws_sdk_ecr::operation::put_image_tag_mutability::{
    PutImageTagMutabilityError, PutImageTagMutabilityOutput,
};
use aws_sdk_ecr::types::ImageTagMutability;
use aws_sdk_ecr::types::error::RepositoryNotFoundException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use immutag_aws::change::{self, ApplyOptions, ChangeResult, Verification};
use immutag_aws::clients::{self, EcrClients, Scope};
use immutag_aws::journal::{self, Journal, JournalMode};
use immutag_core::change::{Change, RepoKey, Setting};
use immutag_core::journal::{Outcome, Phase, summarize};
use immutag_core::{ExclusionFilter, TagMutability};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

fn key(name: &str) -> RepoKey {
    RepoKey::new(Some(ACCOUNT), Some(REGION), name)
}

fn scope() -> Scope {
    Scope {
        account: Some(ACCOUNT.into()),
        region: Some(REGION.into()),
    }
}

fn change(name: &str) -> Change {
    Change::mutability(
        key(name),
        Setting::new(TagMutability::Mutable, vec![]),
        Setting::immutable(),
    )
}

/// A fake ECR state shared by the mocks: name -> mode. PutImageTagMutability writes it,
/// DescribeRepositories reads it (only the names asked for, RepositoryNotFound if any is
/// unknown, as ECR does).
type State = Arc<Mutex<std::collections::BTreeMap<String, String>>>;

fn state(names: &[&str]) -> State {
    Arc::new(Mutex::new(
        names
            .iter()
            .map(|n| (n.to_string(), "MUTABLE".to_string()))
            .collect(),
    ))
}

fn describe_rule(st: State, calls: Arc<Mutex<Vec<usize>>>) -> aws_smithy_mocks::Rule {
    mock!(Client::describe_repositories).then_compute_response(move |req| {
        let names = req.repository_names().to_vec();
        calls.lock().unwrap().push(names.len());
        let st = st.lock().unwrap();
        if let Some(missing) = names.iter().find(|n| !st.contains_key(*n)) {
            return aws_smithy_mocks::MockResponse::Error(
                DescribeRepositoriesError::RepositoryNotFoundException(
                    RepositoryNotFoundException::builder()
                        .message(format!(
                            "The repository with name '{missing}' does not exist"
                        ))
                        .build(),
                ),
            );
        }
        let repos = names
            .iter()
            .map(|n| {
                aws_sdk_ecr::types::Repository::builder()
                    .repository_name(n)
                    .registry_id(ACCOUNT)
                    .image_tag_mutability(ImageTagMutability::from(st[n].as_str()))
                    .build()
            })
            .collect::<Vec<_>>();
        aws_smithy_mocks::MockResponse::Output(
            DescribeRepositoriesOutput::builder()
                .set_repositories(Some(repos))
                .build(),
        )
    })
}

fn put_rule(st: State) -> aws_smithy_mocks::Rule {
    mock!(Client::put_image_tag_mutability)
        .match_requests({
            let st = st.clone();
            move |req| {
                st.lock()
                    .unwrap()
                    .contains_key(req.repository_name().unwrap_or(""))
            }
        })
        .then_compute_output(move |req| {
            let name = req.repository_name().unwrap_or("").to_string();
            let mode = req
                .image_tag_mutability()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default();
            st.lock().unwrap().insert(name.clone(), mode.clone());
            PutImageTagMutabilityOutput::builder()
                .repository_name(name)
                .image_tag_mutability(ImageTagMutability::from(mode.as_str()))
                .build()
        })
}

/// The production retry configuration on a real clock: the mock client's test defaults use
/// a clock frozen in 2009, under which the adaptive rate limiter never refills.
fn production_retry(b: aws_sdk_ecr::config::Builder) -> aws_sdk_ecr::config::Builder {
    let clock = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .build()
        .time_source()
        .expect("the default configuration has a system clock");
    b.retry_config(clients::retry_config()).time_source(clock)
}

fn read_journal(path: &std::path::Path) -> Vec<immutag_core::journal::JournalRecord> {
    let back = journal::read(path).unwrap();
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    back.records
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    let st = state(&["app"]);
    let throttled_then_ok = mock!(Client::put_image_tag_mutability)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .times(2)
        .output(|| {
            PutImageTagMutabilityOutput::builder()
                .repository_name("app")
                .image_tag_mutability(ImageTagMutability::Immutable)
                .build()
        })
        .build();
    let calls = Arc::new(Mutex::new(Vec::new()));
    st.lock().unwrap().insert("app".into(), "IMMUTABLE".into());
    let describe = describe_rule(st.clone(), calls.clone());
    let client = mock_client!(
        aws_sdk_ecr,
        RuleMode::MatchAny,
        [&throttled_then_ok, &describe],
        production_retry
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::open(&path, "t", JournalMode::Create).unwrap();
    let reports = change::apply(
        &EcrClients::single(scope(), client),
        vec![change("app")],
        &j,
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    j.close();
    assert_eq!(
        throttled_then_ok.num_calls(),
        3,
        "two throttles then success"
    );
    assert_eq!(reports[0].result, ChangeResult::Applied);
    assert_eq!(reports[0].verification, Some(Verification::Verified));
    let phases: Vec<Phase> = read_journal(&path).iter().map(|r| r.phase).collect();
    assert_eq!(phases, [Phase::Intent, Phase::Applied, Phase::Verified]);
}

#[tokio::test]
async fn one_repository_failing_does_not_stop_the_others() {
    let names: Vec<String> = (0..250).map(|i| format!("repo-{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let st = state(&refs);
    // "repo-007" exists for reads but every write is refused: AccessDenied.
    let denied = mock!(Client::put_image_tag_mutability)
        .match_requests(|req| req.repository_name() == Some("repo-007"))
        .then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"AccessDeniedException","message":"not authorized to perform: ecr:PutImageTagMutability"}"#,
                ),
            )
        });
    // "ghost" is in the plan but was deleted since.
    let not_found = mock!(Client::put_image_tag_mutability)
        .match_requests(|req| req.repository_name() == Some("ghost"))
        .then_error(|| {
            PutImageTagMutabilityError::RepositoryNotFoundException(
                RepositoryNotFoundException::builder()
                    .message("The repository with name 'ghost' does not exist")
                    .build(),
            )
        });
    let calls = Arc::new(Mutex::new(Vec::new()));
    let describe = describe_rule(st.clone(), calls.clone());
    let ok = put_rule(st.clone());
    let client = mock_client!(
        aws_sdk_ecr,
        RuleMode::MatchAny,
        [&denied, &not_found, &ok, &describe],
        production_retry
    );
    let mut changes: Vec<Change> = names.iter().map(|n| change(n)).collect();
    changes.insert(100, change("ghost"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::open(&path, "t", JournalMode::Create).unwrap();
    let reports = change::apply(
        &EcrClients::single(scope(), client),
        changes,
        &j,
        ApplyOptions {
            concurrency: 8,
            ..ApplyOptions::default()
        },
    )
    .await
    .unwrap();
    j.close();

    assert_eq!(reports.len(), 251);
    let failed: Vec<(&str, &str, bool)> = reports
        .iter()
        .filter_map(|r| match &r.result {
            ChangeResult::Failed {
                code,
                outcome_known,
                ..
            } => Some((
                r.change.key.repository.as_str(),
                code.as_str(),
                *outcome_known,
            )),
            ChangeResult::Applied | ChangeResult::NotAttempted { .. } => None,
        })
        .collect();
    assert_eq!(
        failed,
        [
            ("repo-007", "AccessDeniedException", true),
            ("ghost", "RepositoryNotFoundException", true)
        ]
    );
    assert_eq!(reports.iter().filter(|r| r.succeeded()).count(), 249);
    // Each permanent failure was tried once: no retry of a non-retryable error.
    assert_eq!(denied.num_calls(), 1);
    assert_eq!(not_found.num_calls(), 1);
    // Everything else is IMMUTABLE now, and verified by batched reads of <= 100 names.
    let st = st.lock().unwrap();
    assert_eq!(st.values().filter(|m| *m == "IMMUTABLE").count(), 249);
    assert_eq!(st["repo-007"], "MUTABLE");
    let calls = calls.lock().unwrap();
    assert!(calls.iter().all(|n| *n <= 100), "{calls:?}");
    assert_eq!(calls.iter().sum::<usize>(), 249);
    assert_eq!(calls.len(), 3, "249 names read in 3 calls: {calls:?}");

    let entries = summarize(&read_journal(&path));
    assert_eq!(entries.len(), 251);
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.outcome == Outcome::Verified)
            .count(),
        249
    );
    let ghost = entries
        .iter()
        .find(|e| e.key.repository == "ghost")
        .unwrap();
    assert_eq!(ghost.outcome, Outcome::Failed);
    assert!(ghost.error.as_deref().unwrap().contains("does not exist"));
}

#[tokio::test]
async fn verification_isolates_a_repository_deleted_after_the_change() {
    let st = state(&["a", "b", "c", "d"]);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let describe = describe_rule(st.clone(), calls.clone());
    let put = put_rule(st.clone());
    let client = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&put, &describe]);
    let clients = EcrClients::single(scope(), client);
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path().join("j.jsonl"), "t", JournalMode::Create).unwrap();
    let changes: Vec<Change> = ["a", "b", "c", "d"].iter().map(|n| change(n)).collect();
    let mut reports = change::apply(
        &clients,
        changes,
        &j,
        ApplyOptions {
            verify: false,
            ..ApplyOptions::default()
        },
    )
    .await
    .unwrap();
    assert!(reports.iter().all(|r| r.verification.is_none()));
    // Someone deletes "c" and turns "d" back to MUTABLE before verification.
    st.lock().unwrap().remove("c");
    st.lock().unwrap().insert("d".into(), "MUTABLE".into());
    change::verify(&clients, &mut reports, &j, ApplyOptions::default())
        .await
        .unwrap();
    let v: Vec<Option<Verification>> = reports.iter().map(|r| r.verification.clone()).collect();
    assert_eq!(v[0], Some(Verification::Verified));
    assert_eq!(v[1], Some(Verification::Verified));
    assert_eq!(v[2], Some(Verification::Missing));
    assert_eq!(
        v[3],
        Some(Verification::Mismatch {
            observed: Setting::new(TagMutability::Mutable, vec![]).into()
        })
    );
    assert!(!reports[2].succeeded() && !reports[3].succeeded());
}

/// An HTTP client that answers every request with `{}` except PutImageTagMutability on one
/// repository, which never answers: the run is stuck there when it is dropped.
fn hang_on(repository: &str) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_runtime_api::client::http::HttpConnectorFuture;
    let marker = format!("\"repositoryName\":\"{repository}\"");
    immutag_aws::faults::client_fn(move |request| {
        let body = request
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        if body.contains(&marker) {
            return HttpConnectorFuture::new(futures::future::pending());
        }
        HttpConnectorFuture::ready(Ok(aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(200).unwrap(),
            aws_smithy_types::body::SdkBody::from("{}"),
        )))
    })
}

#[tokio::test]
async fn a_run_stopped_mid_way_leaves_a_journal_that_says_what_was_done() {
    let client = Client::from_conf(
        aws_sdk_ecr::Config::builder()
            .with_test_defaults_v2()
            .http_client(hang_on("r3"))
            .build(),
    );
    let previous = Setting::new(
        TagMutability::MutableWithExclusion,
        vec![ExclusionFilter::wildcard("release-*")],
    );
    let changes: Vec<Change> = (1..=6)
        .map(|i| Change {
            from: previous.clone().into(),
            ..change(&format!("r{i}"))
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.jsonl");
    let j = Journal::open(&path, "crash", JournalMode::Create).unwrap();
    let clients = EcrClients::single(scope(), client);
    let run = change::apply(
        &clients,
        changes,
        &j,
        ApplyOptions {
            concurrency: 1,
            ..ApplyOptions::default()
        },
    );
    // The "crash": the run is abandoned while r3's call is in flight.
    let r = tokio::time::timeout(Duration::from_millis(500), run).await;
    assert!(r.is_err(), "the run should still be stuck on r3");
    j.close();

    let records = read_journal(&path);
    let entries = summarize(&records);
    let got: Vec<(&str, Outcome)> = entries
        .iter()
        .map(|e| (e.key.repository.as_str(), e.outcome))
        .collect();
    assert_eq!(
        got,
        [
            ("r1", Outcome::Applied),
            ("r2", Outcome::Applied),
            ("r3", Outcome::Unknown)
        ]
    );
    // The journal keeps the previous setting with its filters, for rollback.
    assert!(
        entries
            .iter()
            .all(|e| e.previous == previous.clone().into())
    );
}

// The fault matrix (docs/reliability.md), PutImageTagMutability through change::apply:
// the throttling cell is `throttling_is_retried_then_succeeds`, the access-denied cell
// `one_repository_failing_does_not_stop_the_others`; 5xx, timeout and malformed here. `b`'s
// change is faulted; `a` and `c` are applied and verified whatever happens to it.
async fn put_image_tag_mutability_row(fault: immutag_aws::faults::Fault) {
    use immutag_aws::faults::{Fault, NeverAnswers, Protocol};
    let st = state(&["a", "b", "c"]);
    let calls = Arc::new(Mutex::new(Vec::new()));
    let describe = describe_rule(st.clone(), calls);
    let ok = put_rule(st.clone());
    let faulted = immutag_aws::fault_rule!(
        Client::put_image_tag_mutability,
        fault,
        Protocol::Json,
        || PutImageTagMutabilityOutput::builder().build(),
        match = |r: &aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityInput| {
            r.repository_name() == Some("b")
        }
    );
    let never = NeverAnswers::when_body_contains(r#""repositoryName":"b""#);
    let client = immutag_aws::fault_client!(aws_sdk_ecr, fault, &never, [&faulted, &ok, &describe]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.jsonl");
    let j = Journal::open(&path, "t", JournalMode::Create).unwrap();
    let reports = change::apply(
        &EcrClients::single(scope(), client),
        ["a", "b", "c"].iter().map(|n| change(n)).collect(),
        &j,
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    j.close();
    // Invariant: every change is reported, applied and verified or failed by name.
    assert_eq!(reports.len(), 3);
    let ok: Vec<&str> = reports
        .iter()
        .filter(|r| r.succeeded())
        .map(|r| r.change.key.repository.as_str())
        .collect();
    assert_eq!(ok, ["a", "c"]);
    let b = &reports[1];
    assert_eq!(b.change.key.repository, "b");
    let ChangeResult::Failed {
        code,
        outcome_known,
        ..
    } = &b.result
    else {
        panic!("{b:?}")
    };
    // No answer, a server error or an unreadable answer: the change may have been made, so
    // it is read back, and the read-back (still MUTABLE) says it was not.
    assert!(!outcome_known, "{code}");
    match fault {
        Fault::ServerError => {
            assert_eq!(code, "ServerException");
            assert_eq!(
                faulted.num_calls(),
                immutag_aws::faults::MAX_ATTEMPTS as usize
            );
        }
        Fault::Timeout => {
            assert_eq!(code, "Timeout");
            assert_eq!(never.attempts(), immutag_aws::faults::MAX_ATTEMPTS as usize);
        }
        Fault::Malformed => assert_eq!(code, "UnreadableResponse"),
        other => unreachable!("{other:?} has its own test"),
    }
    assert_eq!(
        b.verification,
        Some(Verification::Mismatch {
            observed: Setting::new(TagMutability::Mutable, vec![]).into()
        })
    );
    assert_eq!(st.lock().unwrap()["b"], "MUTABLE");
    let entries = summarize(&read_journal(&path));
    assert_eq!(entries.len(), 3, "each change journaled");
}

#[tokio::test]
async fn put_image_tag_mutability_server_error_fails_by_name_and_is_read_back() {
    put_image_tag_mutability_row(immutag_aws::faults::Fault::ServerError).await
}

#[tokio::test]
async fn put_image_tag_mutability_timeout_fails_by_name_and_is_read_back() {
    put_image_tag_mutability_row(immutag_aws::faults::Fault::Timeout).await
}

#[tokio::test]
async fn put_image_tag_mutability_malformed_fails_by_name_and_is_read_back() {
    put_image_tag_mutability_row(immutag_aws::faults::Fault::Malformed).await
}
