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
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::DateTime;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::date_time::Format;
use immutag_aws::AwsError;
use immutag_aws::config::{ConfigError, RetryPolicy};
use immutag_core::Compliance;
use immutag_lambda::{ClientProvider, Clients, HandlerError, HandlerOptions, OwnAccount, handle};
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

/// The account of the fixtures' events, and of the function's own (mocked) credentials.
const OWN_ACCOUNT: &str = "123456789012";

/// GetCallerIdentity answering with `account`.
fn identity_rule(account: &'static str) -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(move || {
        GetCallerIdentityOutput::builder()
            .account(account)
            .arn(format!(
                "arn:aws:sts::{account}:assumed-role/immutag-rule/immutag-function"
            ))
            .user_id("AROAEXAMPLE:immutag-function")
            .build()
    })
}

/// Records what the handler asked for and hands out the mocked clients; the function's own
/// account comes from a mocked GetCallerIdentity through the production [`OwnAccount`].
struct MockProvider {
    clients: Clients,
    own: OwnAccount,
    asked: Mutex<Vec<(String, String, Option<String>)>>,
}

/// DescribeRepositoryCreationTemplates answering no templates (periodic runs read them).
fn no_templates() -> Rule {
    mock!(aws_sdk_ecr::Client::describe_repository_creation_templates)
        .then_output(|| DescribeRepositoryCreationTemplatesOutput::builder().build())
}

impl MockProvider {
    fn new(ecr: &[&Rule], config: &[&Rule]) -> Self {
        Self::with_sts(ecr, config, &[&identity_rule(OWN_ACCOUNT)])
    }

    fn with_sts(ecr: &[&Rule], config: &[&Rule], sts: &[&Rule]) -> Self {
        // Periodic runs also read the creation templates: none, unless a test's own rule
        // (matched first) says otherwise.
        let no_templates = no_templates();
        Self::from_clients(
            mock_client!(
                aws_sdk_ecr,
                RuleMode::MatchAny,
                ecr.iter().copied().chain([&no_templates])
            ),
            mock_client!(aws_sdk_config, RuleMode::MatchAny, config.iter().copied()),
            mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts.iter().copied()),
        )
    }

    fn from_clients(
        ecr: aws_sdk_ecr::Client,
        config: aws_sdk_config::Client,
        sts: aws_sdk_sts::Client,
    ) -> Self {
        Self {
            clients: Clients {
                ecr,
                config,
                region: "us-east-1".into(),
            },
            own: OwnAccount::new(sts),
            asked: Mutex::new(Vec::new()),
        }
    }
}

impl ClientProvider for MockProvider {
    async fn own_account(&self) -> Result<String, AwsError> {
        self.own.get().await
    }

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
    served_through_role(
        &provider,
        "change-ok-mutable.json",
        "immutag-config-rule",
        "123456789012",
    )
    .await;
}

/// Handles `file` with `ExecutionRoleName=role` and checks that the clients were asked for
/// `account` through that role.
async fn served_through_role(provider: &MockProvider, file: &str, role: &str, account: &str) {
    let event = with_params(
        fixture(file),
        &format!(r#"{{"ExecutionRoleName":"{role}"}}"#),
    );
    handle(event, provider, &options()).await.unwrap();
    assert_eq!(
        provider.asked.lock().unwrap()[0],
        (account.to_owned(), "aws".to_owned(), Some(role.to_owned()))
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

// ---------------------------------------------------------------------------------------
// Issue 11: live read of filters, unknown statuses, foreign accounts, dropped repositories,
// logs; and the Lambda's rows of the fault matrix (docs/reliability.md).
// ---------------------------------------------------------------------------------------

use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesInput;
use aws_sdk_ecr::types::{
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType,
};
use immutag_aws::faults::{Fault, MAX_ATTEMPTS, NeverAnswers, Protocol};
use immutag_aws::{fault_cells, fault_client, fault_rule};

/// `builds` as DescribeRepositories returns it: IMMUTABLE_WITH_EXCLUSION with `filters`.
fn builds_live(filters: &[&str]) -> DescribeRepositoriesOutput {
    let mut r = EcrRepository::builder()
        .repository_name("builds")
        .registry_id("123456789012")
        .repository_arn("arn:aws:ecr:us-east-1:123456789012:repository/builds")
        .image_tag_mutability(ImageTagMutability::ImmutableWithExclusion);
    for f in filters {
        r = r.image_tag_mutability_exclusion_filters(
            ImageTagMutabilityExclusionFilter::builder()
                .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                .filter(*f)
                .build()
                .unwrap(),
        );
    }
    DescribeRepositoriesOutput::builder()
        .repositories(r.build())
        .build()
}

fn asks_for_builds(r: &DescribeRepositoriesInput) -> bool {
    r.repository_names() == ["builds"] && r.registry_id() == Some("123456789012")
}

#[tokio::test]
async fn filters_the_item_does_not_list_are_read_live_and_decide() {
    for (live, want) in [
        (&["latest"][..], Compliance::Compliant),
        (&["latest", "dev-*"][..], Compliance::NonCompliant),
    ] {
        let describe = mock!(aws_sdk_ecr::Client::describe_repositories)
            .match_requests(asks_for_builds)
            .then_output(move || builds_live(live));
        let (put, sent) = put_recorder();
        let provider = MockProvider::new(&[&describe], &[&put]);
        let s = handle(
            fixture("change-exclusion-without-filters.json"),
            &provider,
            &options(),
        )
        .await
        .unwrap();
        assert_eq!(describe.num_calls(), 1);
        assert_eq!(compliance_of(&s, "builds"), want, "{live:?}");
        let a = sent.lock().unwrap()[0][0].annotation().unwrap().to_owned();
        assert!(a.starts_with("Exclusion filters read live"), "{a}");
    }
}

#[tokio::test]
async fn items_that_list_their_filters_are_not_read_again() {
    let describe =
        mock!(aws_sdk_ecr::Client::describe_repositories).then_output(|| builds_live(&["latest"]));
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&describe], &[&put]);
    let s = handle(
        fixture("change-ok-immutable-with-exclusion.json"),
        &provider,
        &options(),
    )
    .await
    .unwrap();
    assert_eq!(describe.num_calls(), 0);
    assert_eq!(compliance_of(&s, "builds"), Compliance::NonCompliant);
}

#[tokio::test]
async fn a_repository_gone_when_read_live_is_not_applicable() {
    let describe = mock!(aws_sdk_ecr::Client::describe_repositories).then_error(|| {
        aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError::RepositoryNotFoundException(
            aws_sdk_ecr::types::error::RepositoryNotFoundException::builder().message("gone").build(),
        )
    });
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&describe], &[&put]);
    let s = handle(
        fixture("change-exclusion-without-filters.json"),
        &provider,
        &options(),
    )
    .await
    .unwrap();
    assert_eq!(compliance_of(&s, "builds"), Compliance::NotApplicable);
    assert!(s.evaluations[0].annotation.contains("no longer exists"));
}

#[tokio::test]
async fn an_unknown_item_status_fails_naming_it_and_reports_nothing() {
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[], &[&put]);
    let err = handle(fixture("change-unknown-status.json"), &provider, &options())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`ResourceVanished`"), "{err}");
    assert_eq!(put.num_calls(), 0);
    assert!(provider.asked.lock().unwrap().is_empty());
}

#[tokio::test]
async fn another_account_without_an_execution_role_is_refused_before_anything_is_read() {
    let describe = mock!(aws_sdk_ecr::Client::describe_repositories)
        .then_output(|| DescribeRepositoriesOutput::builder().build());
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&describe], &[&put]);
    let err = handle(
        fixture("change-foreign-account.json"),
        &provider,
        &options(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, HandlerError::ForeignAccount { event_account, own_account }
            if event_account == "210987654321" && own_account == OWN_ACCOUNT),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("210987654321") && text.contains(OWN_ACCOUNT),
        "{text}"
    );
    assert!(text.contains("ExecutionRoleName"), "{text}");
    assert_eq!((describe.num_calls(), put.num_calls()), (0, 0));
    assert!(
        provider.asked.lock().unwrap().is_empty(),
        "no clients were even asked for"
    );

    // The same event naming an execution role is served through that role.
    served_through_role(
        &provider,
        "change-foreign-account.json",
        "ImmutagPlatform",
        "210987654321",
    )
    .await;
}

#[tokio::test]
async fn the_own_account_is_read_once_per_container_and_a_failure_is_not_kept() {
    let identity = mock!(aws_sdk_sts::Client::get_caller_identity)
        .sequence()
        .http_response(|| immutag_aws::faults::response(Protocol::Query, Fault::AccessDenied))
        .output(|| {
            GetCallerIdentityOutput::builder()
                .account(OWN_ACCOUNT)
                .arn("arn:aws:sts::123456789012:assumed-role/r/s")
                .build()
        })
        .build();
    let (put, _) = put_recorder();
    let provider = MockProvider::with_sts(&[], &[&put], &[&identity]);
    let err = handle(fixture("change-ok-mutable.json"), &provider, &options())
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::OwnAccount(_)), "{err}");
    assert!(err.to_string().contains("sts:GetCallerIdentity"), "{err}");
    for _ in 0..3 {
        handle(fixture("change-ok-mutable.json"), &provider, &options())
            .await
            .unwrap();
    }
    assert_eq!(
        identity.num_calls(),
        2,
        "the failure, then one success for three invocations"
    );
    assert_eq!(put.num_calls(), 3);
}

#[tokio::test]
async fn a_repository_deleted_between_listing_and_tags_is_dropped_and_counted() {
    let pages = inventory(
        vec![
            repo("a", "MUTABLE"),
            repo("b", "MUTABLE"),
            repo("c", "IMMUTABLE"),
        ],
        1000,
    );
    let tags = mock!(aws_sdk_ecr::Client::list_tags_for_resource)
        .match_requests(|r| !r.resource_arn().unwrap_or("").ends_with("/b"))
        .then_output(|| {
            aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceOutput::builder()
                .build()
        });
    let gone = mock!(aws_sdk_ecr::Client::list_tags_for_resource)
        .match_requests(|r| r.resource_arn().unwrap_or("").ends_with("/b"))
        .then_error(|| {
            aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceError::RepositoryNotFoundException(
                aws_sdk_ecr::types::error::RepositoryNotFoundException::builder().message("gone").build(),
            )
        });
    let (put, sent) = put_recorder();
    let provider = MockProvider::new(&[&pages[0], &gone, &tags], &[&put]);
    let event = with_params(
        fixture("scheduled.json"),
        r#"{"ExemptionTagKey":"immutag:exempt"}"#,
    );
    let s = handle(event, &provider, &options()).await.unwrap();
    assert_eq!(s.dropped, 1);
    let ids: Vec<String> = sent.lock().unwrap()[0]
        .iter()
        .map(|e| e.compliance_resource_id().to_owned())
        .collect();
    assert_eq!(ids, ["a", "c"]);
}

// Logs: every line of an invocation carries the request id; one summary line ends it; no
// token or credential in any line.

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Lines {
    fn json(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

async fn invoke_logged(
    payload: Value,
    provider: &MockProvider,
    request_id: &str,
) -> (Result<Value, lambda_runtime::Diagnostic>, Vec<Value>) {
    let lines = Lines::default();
    let _guard = tracing::subscriber::set_default(immutag_lambda::logging::subscriber(
        tracing::level_filters::LevelFilter::DEBUG,
        lines.clone(),
    ));
    let mut context = lambda_runtime::Context::default();
    context.request_id = request_id.to_owned();
    context.deadline = 4_102_444_800_000;
    let result = immutag_lambda::invoke(
        lambda_runtime::LambdaEvent::new(payload, context),
        provider,
        &options(),
    )
    .await;
    (result, lines.json())
}

/// The request id of the invocation span among the line's spans.
fn request_id(line: &Value) -> Option<&str> {
    line["spans"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "invocation")?["request_id"]
        .as_str()
}

fn summary_line(lines: &[Value]) -> &Value {
    let last = lines.last().expect("some log lines");
    assert_eq!(last["fields"]["message"], "invocation summary", "{last}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["fields"]["message"] == "invocation summary")
            .count(),
        1
    );
    &last["fields"]
}

#[tokio::test]
async fn every_log_line_carries_the_request_id_and_one_summary_ends_the_invocation() {
    let pages = inventory(
        (0..150)
            .map(|i| {
                repo(
                    &format!("r{i:03}"),
                    if i % 3 == 0 { "IMMUTABLE" } else { "MUTABLE" },
                )
            })
            .collect(),
        1000,
    );
    let (put, _) = put_recorder();
    let provider = MockProvider::new(&[&pages[0]], &[&put]);
    let event = with_token(fixture("scheduled.json"), "TESTMODE");
    let (result, lines) = invoke_logged(event, &provider, "req-7f3a-0001").await;
    assert!(result.is_ok(), "{result:?}");
    assert!(lines.len() >= 3, "{lines:?}");
    for l in &lines {
        assert_eq!(request_id(l), Some("req-7f3a-0001"), "{l}");
    }
    let s = summary_line(&lines);
    assert_eq!(s["outcome"], "reported");
    assert_eq!(s["message_type"], "ScheduledNotification");
    assert_eq!(
        (
            s["evaluated"].as_u64(),
            s["compliant"].as_u64(),
            s["non_compliant"].as_u64()
        ),
        (Some(150), Some(50), Some(100))
    );
    assert_eq!(s["put_evaluations_calls"], 2);
    assert_eq!(s["reported"], 150);
    assert_eq!(
        (s["remediated"].as_u64(), s["not_accepted"].as_u64()),
        (Some(0), Some(0))
    );
}

#[tokio::test]
async fn a_failed_invocation_is_summarized_and_no_line_holds_a_token() {
    const TOKEN: &str = "result-token-kX93-secret";
    let pages = inventory(vec![repo("a", "MUTABLE"), repo("b", "IMMUTABLE")], 1000);
    let put = mock!(aws_sdk_config::Client::put_evaluations).then_output(|| failed_output(&["a"]));
    let none = mock!(aws_sdk_config::Client::get_compliance_details_by_config_rule)
        .then_output(|| GetComplianceDetailsByConfigRuleOutput::builder().build());
    // Credentials with a session token, to check that neither it nor the secret is logged.
    let creds = || aws_sdk_ecr::config::Credentials::for_tests_with_session_token();
    let templates = no_templates();
    let provider = MockProvider::from_clients(
        mock_client!(
            aws_sdk_ecr,
            RuleMode::MatchAny,
            [&pages[0], &templates],
            |c| c.credentials_provider(creds())
        ),
        mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put, &none], |c| c
            .credentials_provider(creds())),
        mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            [&identity_rule(OWN_ACCOUNT)],
            |c| c.credentials_provider(creds())
        ),
    );
    let (secret, session) = ("notrealrnrELgWzOk3IfjzDKtFBhDby", "notarealsessiontoken");
    let event = with_token(fixture("scheduled.json"), TOKEN);
    let (result, lines) = invoke_logged(event, &provider, "req-failed-0002").await;
    let err = result.unwrap_err();
    assert!(
        err.error_message.contains("AWS::ECR::Repository a"),
        "{}",
        err.error_message
    );
    for l in &lines {
        assert_eq!(request_id(l), Some("req-failed-0002"), "{l}");
        let text = l.to_string();
        assert!(
            !text.contains(TOKEN) && !text.contains(secret) && !text.contains(session),
            "{text}"
        );
    }
    let s = summary_line(&lines);
    assert_eq!(s["outcome"], "failed");
    assert_eq!(lines.last().unwrap()["level"], "ERROR");
    // evaluated == reported + surfaced: `b` accepted, `a` named as not accepted.
    assert_eq!(
        (
            s["evaluated"].as_u64(),
            s["reported"].as_u64(),
            s["not_accepted"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(s["put_evaluations_calls"], 3);
    assert!(
        s["error"]
            .as_str()
            .unwrap()
            .contains("AWS::ECR::Repository a")
    );
    assert!(!err.error_message.contains(TOKEN));
}

#[tokio::test]
async fn the_context_deadline_reaches_the_handler_options() {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};
    let within = |o: &HandlerOptions, want: Duration| {
        let at = o.deadline.expect("a deadline");
        let now = tokio::time::Instant::now();
        at > now + want - Duration::from_secs(2) && at <= now + want
    };
    // Lambda: milliseconds since the epoch, 40 s from now: changes stop 10 s before.
    let mut context = lambda_runtime::Context::default();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    context.deadline = u64::try_from(now_ms).unwrap() + 40_000;
    let o = HandlerOptions::default().for_context(&context);
    assert!(within(&o, Duration::from_secs(30)), "{:?}", o.deadline);
    // cargo lambda watch: the timeout (600 s) as time left.
    context.deadline = 600_000;
    let o = HandlerOptions::default().for_context(&context);
    assert!(within(&o, Duration::from_secs(590)), "{:?}", o.deadline);
}

// The Lambda's rows of the fault matrix.

/// GetCallerIdentity: the function's own account, read before anything else.
async fn get_caller_identity_row(fault: Fault) {
    let ok = || {
        GetCallerIdentityOutput::builder()
            .account(OWN_ACCOUNT)
            .arn("arn:aws:sts::123456789012:assumed-role/r/s")
            .build()
    };
    let rule = fault_rule!(
        aws_sdk_sts::Client::get_caller_identity,
        fault,
        Protocol::Query,
        ok
    );
    let never = NeverAnswers::all();
    let (put, _) = put_recorder();
    let provider = MockProvider::from_clients(
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [] as [&Rule; 0]),
        mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]),
        fault_client!(aws_sdk_sts, fault, &never, [&rule]),
    );
    let result = handle(fixture("change-ok-mutable.json"), &provider, &options()).await;
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let s = result.unwrap();
        assert_eq!(compliance_of(&s, "payments-api"), Compliance::NonCompliant);
        assert_eq!(rule.num_calls(), 2);
        return;
    }
    // Nothing is decided on an identity that cannot be read: nothing read, nothing reported.
    let err = result.unwrap_err();
    assert!(matches!(err, HandlerError::OwnAccount(_)), "{err}");
    assert!(err.to_string().contains("sts:GetCallerIdentity"), "{err}");
    assert_eq!(put.num_calls(), 0);
    assert!(provider.asked.lock().unwrap().is_empty());
    match fault {
        Fault::ServerError => assert_eq!(rule.num_calls(), MAX_ATTEMPTS as usize),
        Fault::AccessDenied => assert_eq!(rule.num_calls(), 1),
        Fault::Timeout => assert_eq!(never.attempts(), MAX_ATTEMPTS as usize),
        _ => {}
    }
}

fault_cells!(get_caller_identity_row:
    get_caller_identity_throttling_is_retried => Throttling,
    get_caller_identity_server_error_fails_the_invocation => ServerError,
    get_caller_identity_timeout_fails_the_invocation => Timeout,
    get_caller_identity_access_denied_fails_the_invocation => AccessDenied,
    get_caller_identity_malformed_fails_the_invocation => Malformed,
);

fn history_ok() -> GetResourceConfigHistoryOutput {
    GetResourceConfigHistoryOutput::builder()
        .configuration_items(
            ConfigurationItem::builder()
                .account_id("123456789012")
                .configuration_item_status(ConfigurationItemStatus::Ok)
                .resource_type(ResourceType::from("AWS::ECR::Repository"))
                .resource_id("monorepo-images")
                .aws_region("us-east-1")
                .configuration(
                    r#"{"RepositoryName":"monorepo-images","ImageTagMutability":"IMMUTABLE"}"#,
                )
                .build(),
        )
        .build()
}

/// GetResourceConfigHistory: the item of an oversized change.
async fn get_resource_config_history_row(fault: Fault) {
    let rule = fault_rule!(
        aws_sdk_config::Client::get_resource_config_history,
        fault,
        Protocol::Json,
        history_ok
    );
    let (put, _) = put_recorder();
    let never = NeverAnswers::when_body_contains("monorepo-images");
    let provider = MockProvider::from_clients(
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [] as [&Rule; 0]),
        fault_client!(aws_sdk_config, fault, &never, [&rule, &put]),
        mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            [&identity_rule(OWN_ACCOUNT)]
        ),
    );
    let result = handle(fixture("oversized.json"), &provider, &options()).await;
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let s = result.unwrap();
        assert_eq!(compliance_of(&s, "monorepo-images"), Compliance::Compliant);
        assert_eq!(rule.num_calls(), 2);
        return;
    }
    // evaluated (1) == reported (0) + surfaced (the invocation error names the resource).
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("GetResourceConfigHistory") && err.contains("`monorepo-images`"),
        "{err}"
    );
    assert_eq!(put.num_calls(), 0);
    if fault == Fault::ServerError {
        assert_eq!(rule.num_calls(), MAX_ATTEMPTS as usize);
    }
}

fault_cells!(get_resource_config_history_row:
    get_resource_config_history_throttling_is_retried => Throttling,
    get_resource_config_history_server_error_fails_naming_the_resource => ServerError,
    get_resource_config_history_timeout_fails_naming_the_resource => Timeout,
    get_resource_config_history_access_denied_fails_naming_the_resource => AccessDenied,
    get_resource_config_history_malformed_fails_naming_the_resource => Malformed,
);

/// GetComplianceDetailsByConfigRule: the read-back of a periodic run. When it fails, every
/// repository found is still reported, then the invocation fails saying what is missing.
async fn get_compliance_details_row(fault: Fault) {
    let pages = inventory(
        vec![repo("kept", "IMMUTABLE"), repo("open", "MUTABLE")],
        1000,
    );
    let rule = fault_rule!(
        aws_sdk_config::Client::get_compliance_details_by_config_rule,
        fault,
        Protocol::Json,
        || GetComplianceDetailsByConfigRuleOutput::builder()
            .evaluation_results(earlier("gone", "AWS::ECR::Repository"))
            .build()
    );
    let (put, sent) = put_recorder();
    let never = NeverAnswers::when_body_contains("ConfigRuleName");
    let templates = no_templates();
    let provider = MockProvider::from_clients(
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&pages[0], &templates]),
        fault_client!(aws_sdk_config, fault, &never, [&rule, &put]),
        mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            [&identity_rule(OWN_ACCOUNT)]
        ),
    );
    let event = with_token(fixture("scheduled.json"), "real-result-token");
    let result = handle(event, &provider, &options()).await;
    let reported: Vec<String> = sent
        .lock()
        .unwrap()
        .iter()
        .flatten()
        .map(|e| e.compliance_resource_id().to_owned())
        .collect();
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        let s = result.unwrap();
        assert!(s.vanished_checked);
        assert_eq!(reported, ["kept", "open", "gone"]);
        return;
    }
    // Every repository found is reported (evaluated == reported); what could not be
    // checked is the invocation's error.
    assert_eq!(reported, ["kept", "open"]);
    let err = result.unwrap_err();
    assert!(matches!(err, HandlerError::VanishedCheck(_)), "{err}");
    assert!(
        err.to_string().contains("GetComplianceDetailsByConfigRule"),
        "{err}"
    );
}

fault_cells!(get_compliance_details_row:
    get_compliance_details_throttling_is_retried => Throttling,
    get_compliance_details_server_error_reports_then_fails => ServerError,
    get_compliance_details_timeout_reports_then_fails => Timeout,
    get_compliance_details_access_denied_reports_then_fails => AccessDenied,
    get_compliance_details_malformed_reports_then_fails => Malformed,
);

/// DescribeRepositories (live read of one repository's exclusion filters).
async fn live_read_row(fault: Fault) {
    let rule = fault_rule!(
        aws_sdk_ecr::Client::describe_repositories,
        fault,
        Protocol::Json,
        || builds_live(&["latest"])
    );
    let (put, _) = put_recorder();
    let never = NeverAnswers::all();
    let provider = MockProvider::from_clients(
        fault_client!(aws_sdk_ecr, fault, &never, [&rule]),
        mock_client!(aws_sdk_config, RuleMode::MatchAny, [&put]),
        mock_client!(
            aws_sdk_sts,
            RuleMode::MatchAny,
            [&identity_rule(OWN_ACCOUNT)]
        ),
    );
    let result = handle(
        fixture("change-exclusion-without-filters.json"),
        &provider,
        &options(),
    )
    .await;
    if fault == Fault::Malformed {
        assert_eq!(rule.num_calls(), 1, "a malformed answer is not retried");
    }
    if fault == Fault::Throttling {
        assert_eq!(
            compliance_of(&result.unwrap(), "builds"),
            Compliance::Compliant
        );
        return;
    }
    // Nothing is decided on a guess: the invocation fails naming the repository.
    let err = result.unwrap_err();
    assert!(matches!(err, HandlerError::LiveRead { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("`builds`") && text.contains("ecr:DescribeRepositories"),
        "{text}"
    );
    assert_eq!(put.num_calls(), 0);
}

fault_cells!(live_read_row:
    live_read_throttling_is_retried => Throttling,
    live_read_server_error_fails_naming_the_repository => ServerError,
    live_read_timeout_fails_naming_the_repository => Timeout,
    live_read_access_denied_fails_naming_the_repository => AccessDenied,
    live_read_malformed_fails_naming_the_repository => Malformed,
);
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
