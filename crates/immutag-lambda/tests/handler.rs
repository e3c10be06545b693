//! The handler against mocked ECR and Config clients (`aws-smithy-mocks`), fed with the
//! fixture events of `tests/fixtures/events/`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};

use aws_sdk_config::operation::get_compliance_details_by_config_rule::GetComplianceDetailsByConfigRuleOutput;
use aws_sdk_config::operation::get_resource_config_history::GetResourceConfigHistoryOutput;
use aws_sdk_config::operation::put_evaluations::PutEvaluationsOutput;
use aws_sdk_config::types::{
    ComplianceType, ConfigurationItem, ConfigurationItemStatus, Evaluation, EvaluationResult,
    EvaluationResultIdentifier, EvaluationResultQualifier, ResourceType,
};
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::operation::describe_repository_creation_templates::DescribeRepositoryCreationTemplatesOutput;
use aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityOutput;
use aws_sdk_ecr::operation::update_repository_creation_template::UpdateRepositoryCreationTemplateOutput;
use aws_sdk_ecr::types::{
    ImageTagMutability, RctAppliedFor, Repository as EcrRepository, RepositoryCreationTemplate,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::date_time::Format;
use immutag_aws::config::{ConfigError, RetryPolicy};
use immutag_core::Compliance;
use immutag_lambda::{ClientProvider, Clients, HandlerError, HandlerOptions, handle};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn with_params(mut event: Value, params: &str) -> Value {
    event["ruleParameters"] = Value::String(params.into());
    event
}

fn with_token(mut event: Value, token: &str) -> Value {
    event["resultToken"] = Value::String(token.into());
    event
}

/// Records what the handler asked for and hands out the mocked clients.
struct MockProvider {
    clients: Clients,
    asked: Mutex<Vec<(String, String, Option<String>)>>,
}

impl MockProvider {
    fn new(ecr: &[&Rule], config: &[&Rule]) -> Self {
        // Periodic runs also read the creation templates: none, unless a test's own rule
        // (matched first) says otherwise.
        let no_templates = mock!(aws_sdk_ecr::Client::describe_repository_creation_templates)
            .then_output(|| DescribeRepositoryCreationTemplatesOutput::builder().build());
        let ecr = mock_client!(
            aws_sdk_ecr,
            RuleMode::MatchAny,
            ecr.iter().copied().chain([&no_templates])
        );
        let config = mock_client!(aws_sdk_config, RuleMode::MatchAny, config.iter().copied());
        Self {
            clients: Clients {
                ecr,
                config,
                region: "us-east-1".into(),
            },
            asked: Mutex::new(Vec::new()),
        }
    }
}

impl ClientProvider for MockProvider {
    async fn clients_for(
        &self,
        account_id: &str,
        partition: &str,
        role_name: Option<&str>,
    ) -> Result<Clients, HandlerError> {
        self.asked.lock().unwrap().push((
            account_id.to_owned(),
            partition.to_owned(),
            role_name.map(str::to_owned),
        ));
        Ok(self.clients.clone())
    }
}

fn options() -> HandlerOptions {
    HandlerOptions {
        retry: RetryPolicy::immediate(2),
        ..HandlerOptions::default()
    }
}

type Sent = Arc<Mutex<Vec<Vec<Evaluation>>>>;

/// A PutEvaluations rule that accepts everything and records each call's evaluations.
fn put_recorder() -> (Rule, Sent) {
    let sent: Sent = Arc::default();
    let s = sent.clone();
    let rule = mock!(aws_sdk_config::Client::put_evaluations)
        .match_requests(move |req| {
            s.lock().unwrap().push(req.evaluations().to_vec());
            true
        })
        .then_output(|| PutEvaluationsOutput::builder().build());
    (rule, sent)
}

fn repo(name: &str, mutability: &str) -> EcrRepository {
    EcrRepository::builder()
        .repository_name(name)
        .registry_id("123456789012")
        .repository_arn(format!(
            "arn:aws:ecr:us-east-1:123456789012:repository/{name}"
        ))
        .image_tag_mutability(ImageTagMutability::from(mutability))
        .build()
}

/// DescribeRepositories pages of `page` repositories each, chained by nextToken.
fn inventory(repos: Vec<EcrRepository>, page: usize) -> Vec<Rule> {
    let chunks: Vec<Vec<EcrRepository>> = repos.chunks(page).map(<[_]>::to_vec).collect();
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let token_in = (i > 0).then(|| format!("t{i}"));
            let token_out = (i + 1 < n).then(|| format!("t{}", i + 1));
            mock!(aws_sdk_ecr::Client::describe_repositories)
                .match_requests(move |req| {
                    req.next_token() == token_in.as_deref() && req.max_results() == Some(1000)
                })
                .then_output(move || {
                    DescribeRepositoriesOutput::builder()
                        .set_repositories(Some(chunk.clone()))
                        .set_next_token(token_out.clone())
                        .build()
                })
        })
        .collect()
}

fn compliance_of(summary: &immutag_lambda::Summary, id: &str) -> Compliance {
    summary
        .evaluations
        .iter()
        .find(|e| e.resource_id == id)
        .unwrap_or_else(|| panic!("{id} not in summary"))
        .compliance
}

#[tokio::test]
async fn change_events_give_the_expected_verdicts_at_capture_time() {
    let capture = DateTime::from_str("2026-11-20T10:15:42.117Z", Format::DateTime).unwrap();
    for (file, id, want) in [
        (
            "change-ok-mutable.json",
            "payments-api",
            Compliance::NonCompliant,
        ),
        (
            "change-discovered-immutable.json",
            "web",
            Compliance::Compliant,
        ),
        (
            "change-ok-immutable-with-exclusion.json",
            "builds",
            Compliance::NonCompliant,
        ),
        (
            "change-deleted.json",
            "old-service",
            Compliance::NotApplicable,
        ),
        (
            "change-deleted-not-recorded.json",
            "old-batch",
            Compliance::NotApplicable,
        ),
        (
            "change-not-recorded.json",
            "unrecorded",
            Compliance::NotApplicable,
        ),
        (
            "change-left-scope.json",
            "payments-api",
            Compliance::NotApplicable,
        ),
    ] {
        let (put, sent) = put_recorder();
        let provider = MockProvider::new(&[], &[&put]);
        let summary = handle(fixture(file), &provider, &options()).await.unwrap();
        assert_eq!(summary.put_evaluations_calls, 1, "{file}");
        assert!(summary.test_mode, "{file}");
        assert_eq!(summary.evaluations.len(), 1, "{file}");
        assert_eq!(compliance_of(&summary, id), want, "{file}");
        let sent = sent.lock().unwrap();
        assert_eq!(sent.len(), 1);
        let e = &sent[0][0];
        assert_eq!(e.compliance_resource_id(), id);
        assert_eq!(e.compliance_resource_type(), "AWS::ECR::Repository");
        assert_eq!(e.ordering_timestamp(), &capture, "{file}");
        let a = e.annotation().unwrap();
        assert!((1..=256).contains(&a.chars().count()), "{file}: {a}");
        assert_eq!(provider.asked.lock().unwrap()[0].2, None);
    }
}

#[tokio::test]
async fn deleted_and_left_scope_say_why() {
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[], &[&put]);
    let s = handle(fixture("change-left-scope.json"), &provider, &options())
        .await
        .unwrap();
    assert!(
        s.evaluations[0].annotation.to_lowercase().contains("scope"),
        "{}",
        s.evaluations[0].annotation
    );
}

#[tokio::test]
async fn scheduled_run_of_250_repositories_reports_100_100_50() {
    let repos: Vec<_> = (0..250)
        .map(|i| {
            repo(
                &format!("svc-{i:03}"),
                if i % 3 == 0 { "IMMUTABLE" } else { "MUTABLE" },
            )
        })
        .collect();
    let pages = inventory(repos, 100);
    let (put, sent) = put_recorder();
    let ecr_rules: Vec<&Rule> = pages.iter().collect();
    let provider = MockProvider::new(&ecr_rules, &[&put]);
    let summary = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap();
    assert_eq!(summary.put_evaluations_calls, 3);
    let sent = sent.lock().unwrap();
    let sizes: Vec<usize> = sent.iter().map(Vec::len).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let when = DateTime::from_str("2026-11-20T12:00:00.000Z", Format::DateTime).unwrap();
    assert!(
        sent.iter()
            .flatten()
            .all(|e| e.ordering_timestamp() == &when)
    );
    assert_eq!(summary.counts[&Compliance::Compliant], 84);
    assert_eq!(summary.counts[&Compliance::NonCompliant], 166);
    assert_eq!(summary.evaluations.len(), 250);
    assert!(
        !summary.vanished_checked,
        "TESTMODE: Config stores nothing to read back"
    );
    for rule in &pages {
        assert_eq!(rule.num_calls(), 1);
    }
}

#[tokio::test]
async fn snapshot_delivery_is_a_periodic_run_too() {
    let pages = inventory(
        vec![repo("a", "IMMUTABLE"), repo("sandbox-b", "MUTABLE")],
        1000,
    );
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&pages[0]], &[&put]);
    let s = handle(
        fixture("snapshot-delivery-completed.json"),
        &provider,
        &options(),
    )
    .await
    .unwrap();
    assert_eq!(s.message_type, "ConfigurationSnapshotDeliveryCompleted");
    assert_eq!(compliance_of(&s, "a"), Compliance::Compliant);
    assert_eq!(compliance_of(&s, "sandbox-b"), Compliance::NotApplicable);
}

fn failed_output(ids: &[&str]) -> PutEvaluationsOutput {
    PutEvaluationsOutput::builder()
        .set_failed_evaluations(Some(
            ids.iter()
                .map(|id| {
                    Evaluation::builder()
                        .compliance_resource_type("AWS::ECR::Repository")
                        .compliance_resource_id(*id)
                        .compliance_type(ComplianceType::NonCompliant)
                        .ordering_timestamp(DateTime::from_secs(0))
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .build()
}

#[tokio::test]
async fn failed_evaluations_are_retried_then_fail_the_invocation() {
    let pages = inventory(vec![repo("a", "MUTABLE"), repo("b", "IMMUTABLE")], 1000);
    let put = mock!(aws_sdk_config::Client::put_evaluations).then_output(|| failed_output(&["a"]));
    let provider = MockProvider::new(&[&pages[0]], &[&put]);
    let err = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap_err();
    assert_eq!(put.num_calls(), 3, "one attempt and two retries");
    match &err {
        HandlerError::Config(ConfigError::FailedEvaluations { failed, .. }) => {
            assert_eq!(failed.len(), 1);
            assert_eq!(failed[0].resource_id, "a");
        }
        other => panic!("unexpected {other}"),
    }
    assert!(err.to_string().contains("AWS::ECR::Repository a"), "{err}");
}

#[tokio::test]
async fn failed_evaluations_that_clear_on_retry_succeed() {
    let pages = inventory(vec![repo("a", "MUTABLE"), repo("b", "IMMUTABLE")], 1000);
    let put = mock!(aws_sdk_config::Client::put_evaluations)
        .sequence()
        .output(|| failed_output(&["a"]))
        .output(|| PutEvaluationsOutput::builder().build())
        .build();
    let provider = MockProvider::new(&[&pages[0]], &[&put]);
    let s = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap();
    assert_eq!(s.put_evaluations_calls, 2);
    assert_eq!(put.num_calls(), 2);
}

fn throttle() -> HttpResponse {
    HttpResponse::new(
        400.try_into().unwrap(),
        SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
    )
}

#[tokio::test]
async fn throttling_is_retried_on_ecr_and_config() {
    let describe = mock!(aws_sdk_ecr::Client::describe_repositories)
        .sequence()
        .http_response(throttle)
        .output(|| {
            DescribeRepositoriesOutput::builder()
                .repositories(repo("a", "MUTABLE"))
                .build()
        })
        .build();
    let put = mock!(aws_sdk_config::Client::put_evaluations)
        .sequence()
        .http_response(throttle)
        .output(|| PutEvaluationsOutput::builder().build())
        .build();
    let provider = MockProvider::new(&[&describe], &[&put]);
    let s = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap();
    assert_eq!((describe.num_calls(), put.num_calls()), (2, 2));
    assert_eq!(
        s.put_evaluations_calls, 1,
        "one logical call, retried by the SDK"
    );
    assert_eq!(compliance_of(&s, "a"), Compliance::NonCompliant);
}

#[tokio::test]
async fn oversized_item_is_fetched_at_capture_time_and_evaluated() {
    let capture = DateTime::from_str("2026-11-20T10:15:42.117Z", Format::DateTime).unwrap();
    let history = mock!(aws_sdk_config::Client::get_resource_config_history)
        .match_requests(move |req| {
            req.resource_type() == Some(&ResourceType::from("AWS::ECR::Repository"))
                && req.resource_id() == Some("monorepo-images")
                && req.later_time() == Some(&capture)
                && req.limit() == Some(1)
        })
        .then_output(move || {
            GetResourceConfigHistoryOutput::builder()
                .configuration_items(
                    ConfigurationItem::builder()
                        .version("1.3")
                        .account_id("123456789012")
                        .configuration_item_capture_time(capture)
                        .configuration_item_status(ConfigurationItemStatus::Ok)
                        .arn("arn:aws:ecr:us-east-1:123456789012:repository/monorepo-images")
                        .resource_type(ResourceType::from("AWS::ECR::Repository"))
                        .resource_id("monorepo-images")
                        .resource_name("monorepo-images")
                        .aws_region("us-east-1")
                        .configuration(
                            r#"{"RepositoryName":"monorepo-images","ImageTagMutability":"IMMUTABLE_WITH_EXCLUSION","ImageTagMutabilityExclusionFilters":[{"filterType":"WILDCARD","filter":"latest"}]}"#,
                        )
                        .build(),
                )
                .build()
        });
    let (put, sent) = put_recorder();
    let provider = MockProvider::new(&[], &[&history, &put]);
    let s = handle(fixture("oversized.json"), &provider, &options())
        .await
        .unwrap();
    assert_eq!(history.num_calls(), 1);
    // The fixture allows the exclusion filter `latest`.
    assert_eq!(compliance_of(&s, "monorepo-images"), Compliance::Compliant);
    assert_eq!(sent.lock().unwrap()[0][0].ordering_timestamp(), &capture);
}

#[tokio::test]
async fn oversized_deleted_item_is_not_fetched() {
    let history = mock!(aws_sdk_config::Client::get_resource_config_history)
        .then_output(|| GetResourceConfigHistoryOutput::builder().build());
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[], &[&history, &put]);
    let mut event = fixture("oversized.json");
    let mut inner: Value = serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    inner["configurationItemSummary"]["configurationItemStatus"] = "ResourceDeleted".into();
    event["invokingEvent"] = Value::String(inner.to_string());
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(history.num_calls(), 0);
    assert_eq!(
        compliance_of(&s, "monorepo-images"),
        Compliance::NotApplicable
    );
}

fn earlier(id: &str, kind: &str) -> EvaluationResult {
    EvaluationResult::builder()
        .evaluation_result_identifier(
            EvaluationResultIdentifier::builder()
                .evaluation_result_qualifier(
                    EvaluationResultQualifier::builder()
                        .config_rule_name("immutag-ecr-tag-immutability")
                        .resource_type(kind)
                        .resource_id(id)
                        .build(),
                )
                .build(),
        )
        .compliance_type(ComplianceType::NonCompliant)
        .build()
}

#[tokio::test]
async fn periodic_run_marks_vanished_resources_not_applicable() {
    let pages = inventory(vec![repo("kept", "IMMUTABLE")], 1000);
    let page1 = mock!(aws_sdk_config::Client::get_compliance_details_by_config_rule)
        .match_requests(|r| {
            r.next_token().is_none() && r.config_rule_name() == Some("immutag-ecr-tag-immutability")
        })
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .evaluation_results(earlier("kept", "AWS::ECR::Repository"))
                .evaluation_results(earlier("gone-1", "AWS::ECR::Repository"))
                .next_token("p2")
                .build()
        });
    let page2 = mock!(aws_sdk_config::Client::get_compliance_details_by_config_rule)
        .match_requests(|r| r.next_token() == Some("p2"))
        .then_output(|| {
            GetComplianceDetailsByConfigRuleOutput::builder()
                .evaluation_results(earlier("gone-2", "AWS::ECR::Repository"))
                .evaluation_results(earlier("some-bucket", "AWS::S3::Bucket"))
                .build()
        });
    let (put, sent) = put_recorder();
    let provider = MockProvider::new(&[&pages[0]], &[&page1, &page2, &put]);
    let event = with_token(fixture("scheduled.json"), "real-result-token");
    let s = handle(event, &provider, &options()).await.unwrap();
    assert!(s.vanished_checked && !s.test_mode);
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
    let ids: Vec<&str> = s
        .evaluations
        .iter()
        .map(|e| e.resource_id.as_str())
        .collect();
    assert_eq!(ids, ["kept", "gone-1", "gone-2"]);
    assert_eq!(compliance_of(&s, "kept"), Compliance::Compliant);
    assert_eq!(compliance_of(&s, "gone-1"), Compliance::NotApplicable);
    assert_eq!(compliance_of(&s, "gone-2"), Compliance::NotApplicable);
    assert!(s.evaluations[1].annotation.contains("no longer exists"));
    let sent = sent.lock().unwrap();
    assert!(
        sent[0]
            .iter()
            .all(|e| e.compliance_resource_id() != "some-bucket")
    );
}

/// A live ECR for the re-read before a change and the read back after it: DescribeRepositories
/// by name answers from `state`, PutImageTagMutability updates it (unless `stuck`) and
/// records the repository in `flipped`.
struct LiveEcr {
    describe: Rule,
    flip: Rule,
    flipped: Arc<Mutex<Vec<String>>>,
}

impl LiveEcr {
    fn new(repos: &[(&str, &str)], stuck: bool) -> Self {
        let state: Arc<Mutex<Vec<(String, String)>>> = Arc::new(Mutex::new(
            repos
                .iter()
                .map(|(n, m)| ((*n).to_owned(), (*m).to_owned()))
                .collect(),
        ));
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (st, ask) = (state.clone(), asked.clone());
        let describe = mock!(aws_sdk_ecr::Client::describe_repositories)
            .match_requests(move |req| {
                if req.repository_names().is_empty() {
                    return false;
                }
                *ask.lock().unwrap() = req.repository_names().to_vec();
                true
            })
            .then_output(move || {
                let asked = asked.lock().unwrap().clone();
                let found = st
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|(n, _)| asked.contains(n))
                    .map(|(n, m)| repo(n, m))
                    .collect();
                DescribeRepositoriesOutput::builder()
                    .set_repositories(Some(found))
                    .build()
            });
        let flipped: Arc<Mutex<Vec<String>>> = Arc::default();
        let (f, st) = (flipped.clone(), state);
        let flip = mock!(aws_sdk_ecr::Client::put_image_tag_mutability)
            .match_requests(move |r| {
                assert_eq!(
                    r.image_tag_mutability(),
                    Some(&ImageTagMutability::Immutable)
                );
                assert_eq!(r.registry_id(), Some("123456789012"));
                let name = r.repository_name().unwrap_or_default().to_owned();
                if !stuck {
                    for (n, m) in st.lock().unwrap().iter_mut() {
                        if *n == name {
                            *m = "IMMUTABLE".to_owned();
                        }
                    }
                }
                f.lock().unwrap().push(name);
                true
            })
            .then_output(|| PutImageTagMutabilityOutput::builder().build());
        Self {
            describe,
            flip,
            flipped,
        }
    }

    fn flipped(&self) -> Vec<String> {
        let mut v = self.flipped.lock().unwrap().clone();
        v.sort();
        v
    }
}

const MIXED: [(&str, &str); 4] = [
    ("app", "MUTABLE"),
    ("sandbox-tmp", "MUTABLE"),
    ("web", "IMMUTABLE"),
    ("legacy", "MUTABLE_WITH_EXCLUSION"),
];

fn mixed_inventory() -> Vec<Rule> {
    inventory(MIXED.iter().map(|(n, m)| repo(n, m)).collect(), 1000)
}

#[tokio::test]
async fn auto_remediation_flips_only_non_exempt_non_compliant_repositories() {
    let pages = mixed_inventory();
    let live = LiveEcr::new(&MIXED, false);
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&pages[0], &live.describe, &live.flip], &[&put]);
    let event = with_params(
        fixture("scheduled.json"),
        r#"{"ExemptRepositoryPatterns":"sandbox-*","Remediation":"IMMUTABLE"}"#,
    );
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(live.flipped(), ["app", "legacy"]);
    assert_eq!(s.remediated, 2);
    assert_eq!(compliance_of(&s, "app"), Compliance::Compliant);
    assert_eq!(compliance_of(&s, "legacy"), Compliance::Compliant);
    assert_eq!(compliance_of(&s, "sandbox-tmp"), Compliance::NotApplicable);
    assert_eq!(compliance_of(&s, "web"), Compliance::Compliant);
    let app = s
        .evaluations
        .iter()
        .find(|e| e.resource_id == "app")
        .unwrap();
    assert!(
        app.annotation.contains("immutag changed") && app.annotation.contains("it was MUTABLE"),
        "{}",
        app.annotation
    );
    let legacy = s
        .evaluations
        .iter()
        .find(|e| e.resource_id == "legacy")
        .unwrap();
    assert!(
        legacy.annotation.contains("MUTABLE_WITH_EXCLUSION"),
        "{}",
        legacy.annotation
    );
}

#[tokio::test]
async fn without_remediation_nothing_is_changed() {
    let pages = mixed_inventory();
    let live = LiveEcr::new(&MIXED, false);
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&pages[0], &live.describe, &live.flip], &[&put]);
    let s = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap();
    assert_eq!(live.flip.num_calls(), 0);
    assert_eq!(s.remediated, 0);
    assert_eq!(compliance_of(&s, "app"), Compliance::NonCompliant);
}

#[tokio::test]
async fn remediation_on_a_change_event_and_a_failed_flip_stays_non_compliant() {
    let flip = mock!(aws_sdk_ecr::Client::put_image_tag_mutability).then_error(|| {
        aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityError::RepositoryNotFoundException(
            aws_sdk_ecr::types::error::RepositoryNotFoundException::builder().message("gone").build(),
        )
    });
    let (put, _) = put_recorder();
    let live = LiveEcr::new(&[("payments-api", "MUTABLE")], false);
    let provider = MockProvider::new(&[&live.describe, &flip], &[&put]);
    let event = with_params(
        fixture("change-ok-mutable.json"),
        r#"{"Remediation":"IMMUTABLE"}"#,
    );
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(flip.num_calls(), 1);
    assert_eq!((s.remediated, s.remediation_failures), (0, 1));
    assert_eq!(compliance_of(&s, "payments-api"), Compliance::NonCompliant);
    assert!(
        s.evaluations[0]
            .annotation
            .starts_with("Auto-remediation failed")
    );
}

/// A configuration item can be stale: the live setting decides, and a repository already
/// IMMUTABLE live is not changed again but reported COMPLIANT from the live read.
#[tokio::test]
async fn remediation_decides_on_the_live_setting_not_the_item() {
    let live = LiveEcr::new(&[("payments-api", "IMMUTABLE")], false);
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&live.describe, &live.flip], &[&put]);
    let event = with_params(
        fixture("change-ok-mutable.json"),
        r#"{"Remediation":"IMMUTABLE"}"#,
    );
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(live.flip.num_calls(), 0);
    assert_eq!(live.describe.num_calls(), 1);
    assert_eq!((s.remediated, s.remediation_failures), (0, 0));
    assert_eq!(compliance_of(&s, "payments-api"), Compliance::Compliant);
    assert!(
        s.evaluations[0].annotation.contains("live setting"),
        "{}",
        s.evaluations[0].annotation
    );
}

/// After the change the repository is read back; one that does not read back as IMMUTABLE
/// stays NON_COMPLIANT and says so.
#[tokio::test]
async fn remediation_is_verified_by_reading_back() {
    let live = LiveEcr::new(&[("payments-api", "MUTABLE")], true);
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&live.describe, &live.flip], &[&put]);
    let event = with_params(
        fixture("change-ok-mutable.json"),
        r#"{"Remediation":"IMMUTABLE"}"#,
    );
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(live.flip.num_calls(), 1);
    assert_eq!(live.describe.num_calls(), 2, "read before and read back");
    assert_eq!((s.remediated, s.remediation_failures), (0, 1));
    assert_eq!(compliance_of(&s, "payments-api"), Compliance::NonCompliant);
    assert!(
        s.evaluations[0]
            .annotation
            .contains("reads back as MUTABLE"),
        "{}",
        s.evaluations[0].annotation
    );
}

/// With no time left before the deadline, nothing is sent: every repository that needed a
/// change is reported NON_COMPLIANT with an annotation saying it was not changed in time.
#[tokio::test]
async fn remediation_stops_at_the_deadline_and_reports_what_is_left() {
    let pages = mixed_inventory();
    let live = LiveEcr::new(&MIXED, false);
    let (put, sent) = put_recorder();
    let provider = MockProvider::new(&[&pages[0], &live.describe, &live.flip], &[&put]);
    let event = with_params(
        fixture("scheduled.json"),
        r#"{"ExemptRepositoryPatterns":"sandbox-*","Remediation":"IMMUTABLE"}"#,
    );
    let opts = HandlerOptions {
        deadline: Some(tokio::time::Instant::now()),
        ..options()
    };
    let s = handle(event, &provider, &opts).await.unwrap();
    assert_eq!(live.flip.num_calls(), 0);
    assert_eq!((s.remediated, s.remediation_failures), (0, 2));
    for id in ["app", "legacy"] {
        assert_eq!(compliance_of(&s, id), Compliance::NonCompliant, "{id}");
        let e = s.evaluations.iter().find(|e| e.resource_id == id).unwrap();
        assert!(
            e.annotation.contains("not changed in time"),
            "{}",
            e.annotation
        );
    }
    // Every repository evaluated is still reported.
    assert_eq!(sent.lock().unwrap().iter().map(Vec::len).sum::<usize>(), 4);
}

#[tokio::test]
async fn execution_role_is_requested_for_the_event_account() {
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[], &[&put]);
    let event = with_params(
        fixture("change-ok-mutable.json"),
        r#"{"ExecutionRoleName":"immutag-config-rule"}"#,
    );
    handle(event, &provider, &options()).await.unwrap();
    assert_eq!(
        provider.asked.lock().unwrap()[0],
        (
            "123456789012".to_owned(),
            "aws".to_owned(),
            Some("immutag-config-rule".to_owned())
        )
    );
}

#[tokio::test]
async fn invalid_events_fail_and_report_nothing() {
    for (file, needle) in [
        ("invalid-parameters.json", "`Remediate`"),
        ("unknown-message-type.json", "ComplianceChangeNotification"),
    ] {
        let (put, _) = put_recorder();
        let describe = mock!(aws_sdk_ecr::Client::describe_repositories)
            .then_output(|| DescribeRepositoriesOutput::builder().build());
        let provider = MockProvider::new(&[&describe], &[&put]);
        let err = handle(fixture(file), &provider, &options())
            .await
            .unwrap_err();
        assert!(err.to_string().contains(needle), "{file}: {err}");
        assert_eq!((put.num_calls(), describe.num_calls()), (0, 0), "{file}");
        assert!(provider.asked.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn an_unreadable_inventory_reports_nothing() {
    let describe = mock!(aws_sdk_ecr::Client::describe_repositories).then_error(|| {
        aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError::ServerException(
            aws_sdk_ecr::types::error::ServerException::builder()
                .message("boom")
                .build(),
        )
    });
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&describe], &[&put]);
    let err = handle(fixture("scheduled.json"), &provider, &options())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("DescribeRepositories"), "{err}");
    assert_eq!(put.num_calls(), 0);
}

fn creation_template(prefix: &str, mode: &str, applied: &[&str]) -> RepositoryCreationTemplate {
    RepositoryCreationTemplate::builder()
        .prefix(prefix)
        .image_tag_mutability(ImageTagMutability::from(mode))
        .set_applied_for(Some(
            applied.iter().map(|a| RctAppliedFor::from(*a)).collect(),
        ))
        .build()
}

fn templates_rule(templates: Vec<RepositoryCreationTemplate>) -> Rule {
    mock!(aws_sdk_ecr::Client::describe_repository_creation_templates)
        .match_requests(|r| r.max_results() == Some(1000))
        .then_output(move || {
            DescribeRepositoryCreationTemplatesOutput::builder()
                .registry_id("123456789012")
                .set_repository_creation_templates(Some(templates.clone()))
                .build()
        })
}

/// Earlier results of the rule: a repository, a template still there, one gone.
fn earlier_results() -> Rule {
    mock!(aws_sdk_config::Client::get_compliance_details_by_config_rule).then_output(|| {
        GetComplianceDetailsByConfigRuleOutput::builder()
            .evaluation_results(earlier("kept", "AWS::ECR::Repository"))
            .evaluation_results(earlier("ROOT", "AWS::ECR::RepositoryCreationTemplate"))
            .evaluation_results(earlier("retired", "AWS::ECR::RepositoryCreationTemplate"))
            .build()
    })
}

#[tokio::test]
async fn periodic_run_evaluates_the_creation_templates_live_and_reports_them() {
    let pages = inventory(vec![repo("kept", "IMMUTABLE")], 1000);
    let templates = templates_rule(vec![
        creation_template("ROOT", "MUTABLE", &["PULL_THROUGH_CACHE", "REPLICATION"]),
        creation_template("prod", "IMMUTABLE", &["REPLICATION"]),
    ]);
    let (put, sent) = put_recorder();
    let history = earlier_results();
    let provider = MockProvider::new(&[&pages[0], &templates], &[&history, &put]);
    let event = with_token(fixture("scheduled.json"), "real-result-token");
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(templates.num_calls(), 1);
    assert_eq!(s.templates_not_read, None);
    let rows: Vec<(&str, &str, Compliance)> = s
        .evaluations
        .iter()
        .map(|e| {
            (
                e.resource_type.as_str(),
                e.resource_id.as_str(),
                e.compliance,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("AWS::ECR::Repository", "kept", Compliance::Compliant),
            (
                "AWS::ECR::RepositoryCreationTemplate",
                "ROOT",
                Compliance::NonCompliant
            ),
            (
                "AWS::ECR::RepositoryCreationTemplate",
                "prod",
                Compliance::Compliant
            ),
            (
                "AWS::ECR::RepositoryCreationTemplate",
                "retired",
                Compliance::NotApplicable
            ),
        ]
    );
    assert!(
        s.evaluations[1]
            .annotation
            .contains("pull-through cache and replication repositories"),
        "{}",
        s.evaluations[1].annotation
    );
    assert!(s.evaluations[3].annotation.contains("no longer exists"));
    // Config gets the template type and the prefix as the resource id.
    let sent = sent.lock().unwrap();
    let root = sent[0]
        .iter()
        .find(|e| e.compliance_resource_id() == "ROOT")
        .unwrap();
    assert_eq!(
        root.compliance_resource_type(),
        "AWS::ECR::RepositoryCreationTemplate"
    );
    assert_eq!(root.compliance_type(), &ComplianceType::NonCompliant);
}

#[tokio::test]
async fn an_endpoint_without_templates_still_reports_the_repositories() {
    let pages = inventory(vec![repo("kept", "MUTABLE")], 1000);
    // moto's answer to an operation it does not implement.
    let templates = mock!(aws_sdk_ecr::Client::describe_repository_creation_templates)
        .then_http_response(|| {
            let mut r = HttpResponse::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(500).unwrap(),
                SdkBody::from("<!doctype html>\n<title>500 Internal Server Error</title>"),
            );
            r.headers_mut()
                .insert("server", "Werkzeug/3.1.9 Python/3.11.7");
            r.headers_mut()
                .insert("content-type", "text/html; charset=utf-8");
            r
        });
    let (put, _) = put_recorder();
    let history = earlier_results();
    let provider = MockProvider::new(&[&pages[0], &templates], &[&history, &put]);
    let event = with_token(fixture("scheduled.json"), "real-result-token");
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(templates.num_calls(), 1, "not retried");
    let why = s.templates_not_read.as_deref().unwrap_or_default();
    assert!(why.contains("not implemented"), "{why}");
    let ids: Vec<&str> = s
        .evaluations
        .iter()
        .map(|e| e.resource_id.as_str())
        .collect();
    // The repository is reported; templates reported earlier are not taken for vanished.
    assert_eq!(ids, ["kept"]);
    assert_eq!(compliance_of(&s, "kept"), Compliance::NonCompliant);
}

#[tokio::test]
async fn template_change_events_are_not_evaluated_from_the_item() {
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[], &[&put]);
    let s = handle(
        fixture("change-creation-template.json"),
        &provider,
        &options(),
    )
    .await
    .unwrap();
    assert!(s.evaluations.is_empty(), "{:?}", s.evaluations);
    assert_eq!(put.num_calls(), 0);
    assert_eq!(s.put_evaluations_calls, 0);
}

#[tokio::test]
async fn auto_remediation_leaves_creation_templates_alone() {
    let pages = inventory(vec![repo("kept", "IMMUTABLE")], 1000);
    let templates = templates_rule(vec![creation_template(
        "ROOT",
        "MUTABLE",
        &["PULL_THROUGH_CACHE"],
    )]);
    let update = mock!(aws_sdk_ecr::Client::update_repository_creation_template)
        .then_output(|| UpdateRepositoryCreationTemplateOutput::builder().build());
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&pages[0], &templates, &update], &[&put]);
    let event = with_params(fixture("scheduled.json"), r#"{"Remediation":"IMMUTABLE"}"#);
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(update.num_calls(), 0);
    assert_eq!(s.remediated, 0);
    assert_eq!(compliance_of(&s, "ROOT"), Compliance::NonCompliant);
}
