//! Repository creation templates against `aws-smithy-mocks` (moto implements none of the
//! template operations nor DescribePullThroughCacheRules): the paginated read, the answers of
//! an endpoint that does not implement them (recognised, not retried), access denied and
//! persistent errors (errors, not warnings), the registry rules, one target read end to end
//! with its coverage, and a template switched through the one apply path, journaled,
//! verified and rolled back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::describe_pull_through_cache_rules::DescribePullThroughCacheRulesOutput;
use aws_sdk_ecr::operation::describe_registry::DescribeRegistryOutput;
use aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesOutput;
use aws_sdk_ecr::operation::describe_repository_creation_templates::DescribeRepositoryCreationTemplatesOutput;
use aws_sdk_ecr::operation::put_image_tag_mutability::PutImageTagMutabilityOutput;
use aws_sdk_ecr::operation::update_repository_creation_template::UpdateRepositoryCreationTemplateOutput;
use aws_sdk_ecr::types::{
    EncryptionConfigurationForRepositoryCreationTemplate, EncryptionType, ImageTagMutability,
    PullThroughCacheRule, RctAppliedFor, ReplicationConfiguration, ReplicationDestination,
    ReplicationRule, Repository as ApiRepository, RepositoryCreationTemplate, RepositoryFilter,
    RepositoryFilterType, Tag,
};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_types::sdk_config::SharedTimeSource;
use immutag_aws::AwsError;
use immutag_aws::change::{self, ApplyOptions, ChangeResult, Verification};
use immutag_aws::clients::{EcrClients, Scope};
use immutag_aws::ecr::{self, ReadState};
use immutag_aws::journal::{self, Journal, JournalMode};
use immutag_aws::scan::{Reads, read_target};
use immutag_aws::session::{DEFAULT_MAX_ATTEMPTS, retry_config};
use immutag_aws::targets::Target;
use immutag_core::change::{Change, RepoKey, Setting};
use immutag_core::coverage::assess;
use immutag_core::journal::{Operation, Outcome, summarize};
use immutag_core::remediation::{Candidate, RemediationOptions};
use immutag_core::rollback::{RollbackItem, plan_rollback};
use immutag_core::{
    AppliedFor, Compliance, InputKind, Reason, Repository, ResourceKind, RuleParameters,
    TagMutability, TemplatePrefix, evaluate,
};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// A mocked client with immutag's retry settings (adaptive, 5 attempts), fast backoff, on the
/// system clock (the mock's default clock is frozen, under which the rate limiter never
/// refills).
macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_ecr, RuleMode::MatchAny, $rules, |c| c
            .retry_config(
                retry_config(DEFAULT_MAX_ATTEMPTS).with_initial_backoff(Duration::from_millis(1))
            )
            .time_source(SharedTimeSource::default()))
    };
}

fn target() -> Target {
    Target {
        account_id: ACCOUNT.into(),
        region: REGION.into(),
    }
}

fn scope() -> Scope {
    Scope {
        account: Some(ACCOUNT.into()),
        region: Some(REGION.into()),
    }
}

fn template(prefix: &str, mode: &str, applied: &[RctAppliedFor]) -> RepositoryCreationTemplate {
    RepositoryCreationTemplate::builder()
        .prefix(prefix)
        .image_tag_mutability(ImageTagMutability::from(mode))
        .set_applied_for(Some(applied.to_vec()))
        .build()
}

fn http(status: u16, headers: &[(&'static str, &'static str)], body: &'static str) -> HttpResponse {
    let mut r = HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body));
    for (k, v) in headers {
        r.headers_mut().insert(*k, *v);
    }
    r
}

/// Moto 5.2's answer to an operation it does not implement, byte for byte (captured from
/// `moto_server` for DescribeRepositoryCreationTemplates).
fn moto_not_implemented() -> HttpResponse {
    http(
        500,
        &[
            ("server", "Werkzeug/3.1.9 Python/3.11.7"),
            ("content-type", "text/html; charset=utf-8"),
        ],
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n",
    )
}

const JSON: (&str, &str) = ("content-type", "application/x-amz-json-1.1");

#[tokio::test]
async fn templates_are_read_1000_a_page_following_next_token() {
    let first = mock!(Client::describe_repository_creation_templates)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token().is_none())
        .then_output(|| {
            DescribeRepositoryCreationTemplatesOutput::builder()
                .registry_id(ACCOUNT)
                .set_repository_creation_templates(Some(
                    (0..1000)
                        .map(|i| {
                            template(
                                &format!("team-{i:04}"),
                                "IMMUTABLE",
                                &[RctAppliedFor::CreateOnPush],
                            )
                        })
                        .collect(),
                ))
                .next_token("page-2")
                .build()
        });
    let second = mock!(Client::describe_repository_creation_templates)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeRepositoryCreationTemplatesOutput::builder()
                .repository_creation_templates(template(
                    "ROOT",
                    "MUTABLE",
                    &[RctAppliedFor::PullThroughCache, RctAppliedFor::Replication],
                ))
                .build()
        });
    let client = client!(&[&first, &second]);
    let found = ecr::creation_templates(&client, ACCOUNT, REGION)
        .await
        .unwrap();
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    assert_eq!(found.len(), 1001);
    let root = &found[1000];
    assert_eq!(root.resource_id, "ROOT");
    assert_eq!(root.kind(), Some(ResourceKind::CreationTemplate));
    assert_eq!(root.account_id.as_deref(), Some(ACCOUNT));
    assert_eq!(root.region.as_deref(), Some(REGION));
    assert_eq!(root.source.kind, InputKind::Live);
    let e = evaluate(root, &RuleParameters::default());
    assert_eq!(
        (e.compliance, e.reason),
        (Compliance::NonCompliant, Reason::Mutable)
    );
    assert!(
        e.annotation.contains("pull-through cache and replication"),
        "{}",
        e.annotation
    );

    // A service that repeats its token is an error, not an endless loop.
    let looping = mock!(Client::describe_repository_creation_templates).then_output(|| {
        DescribeRepositoryCreationTemplatesOutput::builder()
            .next_token("again")
            .build()
    });
    let client = client!(&[&looping]);
    let err = ecr::creation_templates(&client, ACCOUNT, REGION)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Pagination { .. }), "{err:?}");
}

#[tokio::test]
async fn an_endpoint_without_the_operation_is_recognised_and_not_retried() {
    type Answer = fn() -> HttpResponse;
    let answers: [(&str, Answer); 3] = [
        ("moto", moto_not_implemented),
        ("UnknownOperationException", || {
            http(
                400,
                &[JSON],
                r#"{"__type":"com.amazon.coral.service#UnknownOperationException"}"#,
            )
        }),
        ("HTTP 501", || {
            http(
                501,
                &[JSON],
                r#"{"__type":"InternalFailure","message":"API action 'DescribeRepositoryCreationTemplates' for service 'ecr' not yet implemented"}"#,
            )
        }),
    ];
    for (what, answer) in answers {
        let rule = mock!(Client::describe_repository_creation_templates).then_http_response(answer);
        let client = client!(&[&rule]);
        let err = ecr::creation_templates(&client, ACCOUNT, REGION)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, AwsError::Unsupported { operation, .. } if *operation == "ecr:DescribeRepositoryCreationTemplates"),
            "{what}: {err:?}"
        );
        assert_eq!(
            rule.num_calls(),
            1,
            "{what}: an answer that cannot change is not retried"
        );
    }
}

#[tokio::test]
async fn access_denied_and_persistent_errors_stay_errors() {
    let denied = mock!(Client::describe_repository_creation_templates).then_http_response(|| {
        http(
            400,
            &[JSON],
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/audit/immutag is not authorized to perform: ecr:DescribeRepositoryCreationTemplates"}"#,
        )
    });
    let client = client!(&[&denied]);
    let err = ecr::creation_templates(&client, ACCOUNT, REGION)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    assert_eq!(denied.num_calls(), 1);

    // ECR's own server error is retried, then an error: never taken for "not implemented".
    let server = mock!(Client::describe_repository_creation_templates).then_http_response(|| {
        http(
            500,
            &[JSON],
            r#"{"__type":"ServerException","message":"internal error"}"#,
        )
    });
    let client = client!(&[&server]);
    let err = ecr::creation_templates(&client, ACCOUNT, REGION)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ServerException"), "{err:?}");
    assert_eq!(server.num_calls(), DEFAULT_MAX_ATTEMPTS as usize);

    // A proxy's HTML error page is not moto's: an error, retried.
    let proxy = mock!(Client::describe_repository_creation_templates).then_http_response(|| {
        http(
            500,
            &[("server", "nginx"), ("content-type", "text/html")],
            "<html>oops</html>",
        )
    });
    let client = client!(&[&proxy]);
    let err = ecr::creation_templates(&client, ACCOUNT, REGION)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Api { .. }), "{err:?}");
    assert_eq!(proxy.num_calls(), DEFAULT_MAX_ATTEMPTS as usize);
}

fn registry_rules() -> (Rule, Rule, Rule) {
    let registry = mock!(Client::describe_registry).then_output(|| {
        DescribeRegistryOutput::builder()
            .registry_id(ACCOUNT)
            .replication_configuration(
                ReplicationConfiguration::builder()
                    .rules(
                        ReplicationRule::builder()
                            .destinations(
                                ReplicationDestination::builder()
                                    .region("eu-west-1")
                                    .registry_id(ACCOUNT)
                                    .build()
                                    .unwrap(),
                            )
                            .repository_filters(
                                RepositoryFilter::builder()
                                    .filter("prod/")
                                    .filter_type(RepositoryFilterType::PrefixMatch)
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let cache = |prefix: &str| {
        PullThroughCacheRule::builder()
            .ecr_repository_prefix(prefix)
            .upstream_registry_url("registry-1.docker.io")
            .build()
    };
    let page1 = mock!(Client::describe_pull_through_cache_rules)
        .match_requests(|r| r.max_results() == Some(1000) && r.next_token().is_none())
        .then_output(move || {
            DescribePullThroughCacheRulesOutput::builder()
                .pull_through_cache_rules(cache("docker-hub"))
                .next_token("more")
                .build()
        });
    let page2 = mock!(Client::describe_pull_through_cache_rules)
        .match_requests(|r| r.next_token() == Some("more"))
        .then_output(move || {
            DescribePullThroughCacheRulesOutput::builder()
                .pull_through_cache_rules(cache("quay"))
                .build()
        });
    (registry, page1, page2)
}

#[tokio::test]
async fn registry_rules_read_replication_and_every_cache_page() {
    let (registry, page1, page2) = registry_rules();
    let client = client!(&[&registry, &page1, &page2]);
    let rules = ecr::registry_rules(&client).await.unwrap();
    assert_eq!(rules.pull_through_cache, ["docker-hub", "quay"]);
    assert_eq!(rules.replication.len(), 1);
    assert_eq!(
        rules.replication[0].destinations,
        [(ACCOUNT.to_owned(), "eu-west-1".to_owned())]
    );
    assert_eq!(rules.replication[0].prefixes, ["prod/"]);
}

fn repositories() -> Rule {
    mock!(Client::describe_repositories).then_output(|| {
        DescribeRepositoriesOutput::builder()
            .repositories(
                ApiRepository::builder()
                    .repository_name("app")
                    .registry_id(ACCOUNT)
                    .image_tag_mutability(ImageTagMutability::Mutable)
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn a_target_read_reports_templates_coverage_and_what_failed() {
    let reads = Reads {
        tags: false,
        coverage: true,
    };
    // Everything answers: the template covers the cache prefix docker-hub only.
    let repos = repositories();
    let templates = mock!(Client::describe_repository_creation_templates).then_output(|| {
        DescribeRepositoryCreationTemplatesOutput::builder()
            .repository_creation_templates(template(
                "docker-hub",
                "IMMUTABLE",
                &[RctAppliedFor::PullThroughCache],
            ))
            .build()
    });
    let (registry, page1, page2) = registry_rules();
    let client = client!(&[&repos, &templates, &registry, &page1, &page2]);
    let read = read_target(&client, &target(), reads, 4).await.unwrap();
    assert!(
        read.warnings.is_empty() && read.failures.is_empty(),
        "{read:?}"
    );
    let ids: Vec<&str> = read
        .resources
        .iter()
        .map(|r| r.resource_id.as_str())
        .collect();
    assert_eq!(ids, ["app", "docker-hub"]);
    let findings = assess(&[read.registry]);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.compliance, f.reason),
        (Compliance::NonCompliant, Reason::UncoveredCreation)
    );
    assert!(
        f.annotation
            .contains("ECR will create MUTABLE repositories"),
        "{}",
        f.annotation
    );
    assert!(
        f.annotation.contains("quay") && !f.annotation.contains("docker-hub"),
        "{}",
        f.annotation
    );
    // eu-west-1 (the replication destination) was not read: it cannot be shown covered.
    assert!(f.annotation.contains("not read"), "{}", f.annotation);

    // An endpoint without the operations: one warning, the repositories still read.
    let repos = repositories();
    let templates = mock!(Client::describe_repository_creation_templates)
        .then_http_response(moto_not_implemented);
    let client = client!(&[&repos, &templates]);
    let read = read_target(&client, &target(), reads, 4).await.unwrap();
    assert_eq!(read.warnings.len(), 1, "{read:?}");
    assert!(read.failures.is_empty());
    assert_eq!(read.resources.len(), 1);
    assert!(read.registry.templates.is_none());
    assert!(assess(&[read.registry]).is_empty());

    // Access denied on the templates: a failure (the scan is incomplete), no warning.
    let repos = repositories();
    let denied = mock!(Client::describe_repository_creation_templates).then_http_response(|| {
        http(
            400,
            &[JSON],
            r#"{"__type":"AccessDeniedException","message":"denied"}"#,
        )
    });
    let client = client!(&[&repos, &denied]);
    let read = read_target(&client, &target(), reads, 4).await.unwrap();
    assert!(read.warnings.is_empty());
    assert_eq!(read.failures.len(), 1, "{read:?}");
    assert_eq!(
        read.failures[0].code.as_deref(),
        Some("AccessDeniedException")
    );
    assert!(
        read.failures[0].error.contains("creation templates"),
        "{:?}",
        read.failures
    );
    assert_eq!(
        read.resources.len(),
        1,
        "the repositories are still evaluated"
    );

    // Templates read, pull-through cache rules not implemented: a warning, no finding.
    let repos = repositories();
    let templates = mock!(Client::describe_repository_creation_templates)
        .then_output(|| DescribeRepositoryCreationTemplatesOutput::builder().build());
    let (registry, _, _) = registry_rules();
    let cache =
        mock!(Client::describe_pull_through_cache_rules).then_http_response(moto_not_implemented);
    let client = client!(&[&repos, &templates, &registry, &cache]);
    let read = read_target(&client, &target(), reads, 4).await.unwrap();
    assert_eq!(read.warnings.len(), 1, "{read:?}");
    assert!(
        read.warnings[0]
            .message
            .contains("registry coverage not checked")
    );
    assert!(assess(&[read.registry]).is_empty());
}

/// A fake registry of templates shared by the mocks: Describe reads it (the prefixes asked
/// for), Update writes it and keeps every request.
#[derive(Clone, Default)]
struct Templates {
    state: Arc<Mutex<BTreeMap<String, RepositoryCreationTemplate>>>,
    updates: Arc<Mutex<Vec<aws_sdk_ecr::operation::update_repository_creation_template::UpdateRepositoryCreationTemplateInput>>>,
}

impl Templates {
    fn with(templates: Vec<RepositoryCreationTemplate>) -> Self {
        let t = Self::default();
        for x in templates {
            t.state
                .lock()
                .unwrap()
                .insert(x.prefix().unwrap().to_owned(), x);
        }
        t
    }

    fn describe(&self) -> Rule {
        let st = self.state.clone();
        mock!(Client::describe_repository_creation_templates).then_compute_output(move |req| {
            let st = st.lock().unwrap();
            let found = st
                .values()
                .filter(|t| {
                    req.prefixes().is_empty()
                        || req
                            .prefixes()
                            .iter()
                            .any(|p| Some(p.as_str()) == t.prefix())
                })
                .cloned()
                .collect();
            DescribeRepositoryCreationTemplatesOutput::builder()
                .registry_id(ACCOUNT)
                .set_repository_creation_templates(Some(found))
                .build()
        })
    }

    fn update(&self) -> Rule {
        let st = self.state.clone();
        let updates = self.updates.clone();
        mock!(Client::update_repository_creation_template).then_compute_response(move |req| {
            updates.lock().unwrap().push(req.clone());
            let prefix = req.prefix().unwrap_or_default().to_owned();
            let t = RepositoryCreationTemplate::builder()
                .prefix(&prefix)
                .set_description(req.description().map(str::to_owned))
                .set_encryption_configuration(req.encryption_configuration().cloned())
                .set_resource_tags(Some(req.resource_tags().to_vec()))
                .set_repository_policy(req.repository_policy().map(str::to_owned))
                .set_lifecycle_policy(req.lifecycle_policy().map(str::to_owned))
                .set_applied_for(Some(req.applied_for().to_vec()))
                .set_custom_role_arn(req.custom_role_arn().map(str::to_owned))
                // Omitted means MUTABLE (the API reference), so an update that forgot it shows.
                .image_tag_mutability(
                    req.image_tag_mutability()
                        .cloned()
                        .unwrap_or(ImageTagMutability::Mutable),
                )
                .set_image_tag_mutability_exclusion_filters(Some(
                    req.image_tag_mutability_exclusion_filters().to_vec(),
                ))
                .build();
            st.lock().unwrap().insert(prefix, t.clone());
            MockResponse::Output(
                UpdateRepositoryCreationTemplateOutput::builder()
                    .registry_id(ACCOUNT)
                    .repository_creation_template(t)
                    .build(),
            )
        })
    }

    fn mode(&self, prefix: &str) -> String {
        self.state.lock().unwrap()[prefix]
            .image_tag_mutability()
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default()
    }
}

/// The pull-through cache template of a real registry: every member set.
fn cache_template() -> RepositoryCreationTemplate {
    RepositoryCreationTemplate::builder()
        .prefix("ROOT")
        .description("defaults")
        .encryption_configuration(
            EncryptionConfigurationForRepositoryCreationTemplate::builder()
                .encryption_type(EncryptionType::Kms)
                .kms_key("arn:aws:kms:us-east-1:123456789012:key/1")
                .build()
                .unwrap(),
        )
        .resource_tags(
            Tag::builder()
                .key("team")
                .value("platform")
                .build()
                .unwrap(),
        )
        .repository_policy(r#"{"Version":"2012-10-17","Statement":[]}"#)
        .lifecycle_policy(r#"{"rules":[]}"#)
        .applied_for(RctAppliedFor::PullThroughCache)
        .applied_for(RctAppliedFor::Replication)
        .custom_role_arn("arn:aws:iam::123456789012:role/ecr-templates")
        .image_tag_mutability(ImageTagMutability::Mutable)
        .build()
}

#[tokio::test]
async fn a_template_is_switched_journaled_verified_and_rolled_back() {
    let fake = Templates::with(vec![cache_template()]);
    let put = mock!(Client::put_image_tag_mutability)
        .then_output(|| PutImageTagMutabilityOutput::builder().build());
    let (describe, update) = (fake.describe(), fake.update());
    let client = client!(&[&describe, &update, &put]);
    let clients = EcrClients::single(scope(), client);

    // Decide on the live template (read again now), as remediate does.
    let mut stale = Repository::creation_template(TemplatePrefix::Root, vec![], InputKind::Live);
    stale.account_id = Some(ACCOUNT.into());
    stale.region = Some(REGION.into());
    let params = RuleParameters::default();
    let decisions = change::decide_live(
        &clients,
        vec![Candidate::immutable(stale)],
        &RemediationOptions::default(),
        &params,
        4,
    )
    .await;
    let changes: Vec<Change> = decisions.iter().filter_map(|d| d.change()).collect();
    assert_eq!(changes.len(), 1, "{decisions:#?}");
    let key = RepoKey::template(Some(ACCOUNT), Some(REGION), &TemplatePrefix::Root);
    assert_eq!(changes[0].key, key);
    assert_eq!(
        changes[0].from,
        Setting::new(TagMutability::Mutable, vec![]).into()
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let j = Journal::open(path.clone(), "remediate-test", JournalMode::Create).unwrap();
    let reports = change::apply(&clients, changes, &j, ApplyOptions::default())
        .await
        .unwrap();
    j.close();
    assert!(reports[0].succeeded(), "{reports:#?}");
    assert_eq!(reports[0].verification, Some(Verification::Verified));
    assert_eq!(fake.mode("ROOT"), "IMMUTABLE");
    // Everything else about the template was sent back as it was.
    {
        let updates = fake.updates.lock().unwrap();
        assert_eq!(updates.len(), 1);
        let u = &updates[0];
        let was = cache_template();
        assert_eq!(u.description(), was.description());
        assert_eq!(u.encryption_configuration(), was.encryption_configuration());
        assert_eq!(u.resource_tags(), was.resource_tags());
        assert_eq!(u.repository_policy(), was.repository_policy());
        assert_eq!(u.lifecycle_policy(), was.lifecycle_policy());
        assert_eq!(u.applied_for(), was.applied_for());
        assert_eq!(u.custom_role_arn(), was.custom_role_arn());
        assert_eq!(
            u.image_tag_mutability(),
            Some(&ImageTagMutability::Immutable)
        );
    }
    assert_eq!(
        put.num_calls(),
        0,
        "a template is never sent to PutImageTagMutability"
    );

    // The journal names the template as one.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines()
            .all(|l| l.contains(r#""resource_kind":"creation_template""#)),
        "{text}"
    );
    let records = journal::read(&path).unwrap().records;
    let entries = summarize(&records);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].outcome, Outcome::Verified);
    assert_eq!(entries[0].key, key);

    // Roll back: read the template now, restore the previous setting through the same path.
    let keys: Vec<RepoKey> = entries.iter().map(|e| e.key.clone()).collect();
    let read = ecr::read_settings(&clients, &keys, 4).await;
    let current = read
        .iter()
        .filter_map(|(k, v)| {
            Some((
                (k.clone(), immutag_core::change::Attribute::TagMutability),
                v.setting()?.ok()?.into(),
            ))
        })
        .collect();
    let items = plan_rollback(&entries, &current);
    let restores: Vec<Change> = items.iter().filter_map(RollbackItem::change).collect();
    assert_eq!(restores.len(), 1, "{items:#?}");
    let opts = ApplyOptions {
        operation: Operation::Rollback,
        ..ApplyOptions::default()
    };
    let j = Journal::open(path.clone(), "rollback-test", JournalMode::Append).unwrap();
    let reports = change::apply(&clients, restores, &j, opts).await.unwrap();
    j.close();
    assert!(reports[0].succeeded(), "{reports:#?}");
    assert_eq!(fake.mode("ROOT"), "MUTABLE");
    let state = fake.state.lock().unwrap()["ROOT"].clone();
    assert_eq!(state.custom_role_arn(), cache_template().custom_role_arn());
    assert_eq!(state.applied_for(), cache_template().applied_for());
    // The journal chains both runs: the template is back at its first setting.
    let entries = summarize(&journal::read(&path).unwrap().records);
    assert_eq!(entries[0].operation, Operation::Rollback);
    assert_eq!(
        entries[0].new,
        Setting::new(TagMutability::Mutable, vec![]).into()
    );
}

#[tokio::test]
async fn a_template_changed_since_decided_or_gone_is_not_sent() {
    let mut changed = cache_template().clone();
    changed.image_tag_mutability = Some(ImageTagMutability::ImmutableWithExclusion);
    let fake = Templates::with(vec![changed]);
    let (describe, update) = (fake.describe(), fake.update());
    let client = client!(&[&describe, &update]);
    let clients = EcrClients::single(scope(), client);
    let decided = |prefix: &str| Change {
        key: RepoKey::template(Some(ACCOUNT), Some(REGION), &TemplatePrefix::parse(prefix)),
        from: Setting::new(TagMutability::Mutable, vec![]).into(),
        to: Setting::immutable().into(),
    };
    let reports = change::apply(
        &clients,
        vec![decided("ROOT"), decided("gone")],
        &change::LogRecorder,
        ApplyOptions::default(),
    )
    .await
    .unwrap();
    assert!(
        matches!(&reports[0].result, ChangeResult::Failed { code, outcome_known: true, .. } if code == "ChangedSinceDecided"),
        "{:?}",
        reports[0]
    );
    assert!(
        matches!(&reports[1].result, ChangeResult::Failed { code, outcome_known: true, .. } if code == "TemplateNotFoundException"),
        "{:?}",
        reports[1]
    );
    assert_eq!(update.num_calls(), 0);
    assert_eq!(fake.mode("ROOT"), "IMMUTABLE_WITH_EXCLUSION");

    // Reading back names a missing template as missing.
    let read = ecr::read_settings(&clients, &[decided("gone").key], 4).await;
    assert_eq!(read.values().next(), Some(&ReadState::Missing));
}

#[test]
fn applied_for_round_trips_the_api_values() {
    for v in [
        RctAppliedFor::PullThroughCache,
        RctAppliedFor::Replication,
        RctAppliedFor::CreateOnPush,
    ] {
        assert_eq!(AppliedFor::parse(v.as_str()).as_str(), v.as_str());
        assert!(!matches!(
            AppliedFor::parse(v.as_str()),
            AppliedFor::Unknown(_)
        ));
    }
}
