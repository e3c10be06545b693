//! Security Hub as the work queue, against aws-smithy-mocks (moto ignores GetFindings filters
//! and lacks BatchUpdateFindings): response bodies in the wire shape of the API reference
//! (tests/fixtures/securityhub), requests recorded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use aws_sdk_securityhub::Client;
use aws_smithy_mocks::mock;
use immutag_aws::securityhub::{self, FindingUpdate, UPDATE_BATCH};
use immutag_aws::testing::http_response as body;
use immutag_core::finding::{Finding, FindingParts, WorkflowStatus};
use immutag_core::{
    ExclusionFilter, InputKind, Repository, RuleParameters, TagMutability, evaluate,
};

fn fixture(name: &str) -> String {
    immutag_aws::testing::fixture(&format!("securityhub/{name}"))
}

macro_rules! client {
    ($rules:expr) => {
        immutag_aws::mocked_client!(aws_sdk_securityhub, $rules)
    };
}

fn filter_text(r: &aws_sdk_securityhub::operation::get_findings::GetFindingsInput) -> String {
    let f = r.filters().unwrap();
    let one = |v: &[aws_sdk_securityhub::types::StringFilter]| {
        v.iter()
            .map(|x| format!("{:?}={}", x.comparison().unwrap(), x.value().unwrap()))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "control[{}] record[{}] compliance[{}] max={:?}",
        one(f.compliance_security_control_id()),
        one(f.record_state()),
        one(f.compliance_status()),
        r.max_results()
    )
}

#[tokio::test]
async fn open_findings_follow_pages_and_are_filtered_here_too() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (sent.clone(), sent.clone());
    let page1 = mock!(Client::get_findings)
        .match_requests(move |r| {
            a.lock().unwrap().push(filter_text(r));
            r.next_token().is_none()
        })
        .then_http_response(|| body(200, fixture("get-findings-page-1.json")));
    let page2 = mock!(Client::get_findings)
        .match_requests(move |r| {
            b.lock().unwrap().push(filter_text(r));
            r.next_token() == Some("c2VjdXJpdHlodWItcGFnZS0y")
        })
        .then_http_response(|| body(200, fixture("get-findings-page-2.json")));
    let client = client!(&[&page1, &page2]);
    let got = securityhub::open_findings(&client).await.unwrap();
    assert_eq!((page1.num_calls(), page2.num_calls()), (1, 1));
    assert_eq!(
        sent.lock().unwrap()[0],
        "control[Equals=ECR.2] record[Equals=ACTIVE] compliance[Equals=FAILED] max=Some(100)"
    );
    // The PASSED and the ARCHIVED findings are dropped even though the service sent them.
    let repos: Vec<String> = got
        .iter()
        .map(|f| f.repository().unwrap().repository)
        .collect();
    let mut sorted = repos.clone();
    sorted.sort();
    assert_eq!(sorted, ["api", "edge", "legacy", "notified"]);
    assert!(got.iter().all(Finding::is_open));
    let notified = got
        .iter()
        .find(|f| f.repository().unwrap().repository == "notified")
        .unwrap();
    assert_eq!(notified.workflow, Some(WorkflowStatus::Notified));
}

fn finding(i: usize) -> Finding {
    let id =
        format!("arn:aws:securityhub:eu-west-1:111122223333:security-control/ECR.2/finding/{i:04}");
    let arn = format!("arn:aws:ecr:eu-west-1:111122223333:repository/repo-{i:04}");
    with(&id, &arn, "NEW")
}

/// An open ECR.2 finding `id` of the repository `arn`, in workflow `workflow`.
fn with(id: &str, arn: &str, workflow: &str) -> Finding {
    FindingParts {
        id: Some(id),
        product_arn: Some("arn:aws:securityhub:eu-west-1::product/aws/securityhub"),
        account_id: Some("111122223333"),
        region: Some("eu-west-1"),
        generator_id: Some("security-control/ECR.2"),
        security_control_id: Some("ECR.2"),
        compliance: Some("FAILED"),
        record_state: Some("ACTIVE"),
        workflow: Some(workflow),
        resources: vec![(Some("AwsEcrRepository"), Some(arn))],
    }
    .finding()
    .unwrap()
}

#[tokio::test]
async fn batch_update_findings_partial_failures_are_reported_by_finding_id() {
    // The fixture's ids are those of get-findings-page-1.json: read them from there.
    let page: serde_json::Value =
        serde_json::from_str(&fixture("get-findings-page-1.json")).unwrap();
    let ids: Vec<String> = page["Findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["Id"].as_str().unwrap().to_owned())
        .collect();
    let findings: Vec<Finding> = ids
        .iter()
        .map(|id| {
            let mut f = finding(0);
            f.id = id.clone();
            f
        })
        .collect();
    let notes = Arc::new(Mutex::new(Vec::new()));
    let n = notes.clone();
    let update = mock!(Client::batch_update_findings)
        .match_requests(move |r| {
            let note = r.note().unwrap();
            n.lock().unwrap().push(format!(
                "{}|{}|{}|{:?}",
                r.finding_identifiers().len(),
                note.updated_by().unwrap(),
                note.text().unwrap(),
                r.workflow()
                    .and_then(|w| w.status())
                    .map(|s| s.as_str().to_owned())
            ));
            true
        })
        .then_http_response(|| body(200, fixture("batch-update-partial.json")));
    let client = client!(&[&update]);
    let refs: Vec<&Finding> = findings.iter().collect();
    let report = securityhub::update(
        &client,
        &refs,
        &FindingUpdate {
            note: "immutag set IMMUTABLE".into(),
            suppress: false,
        },
    )
    .await;
    assert_eq!(update.num_calls(), 1);
    assert_eq!(
        notes.lock().unwrap().as_slice(),
        ["3|immutag|immutag set IMMUTABLE|None"]
    );
    assert_eq!(report.processed, [ids[0].clone()]);
    // One unprocessed with Security Hub's code, one that the answer did not mention at all.
    assert_eq!(report.unprocessed.len(), 2, "{:?}", report.unprocessed);
    let by = |id: &str| report.unprocessed.iter().find(|u| u.id == id).unwrap();
    assert_eq!(by(&ids[2]).code.as_deref(), Some("FindingNotFound"));
    assert_eq!(by(&ids[2]).message, "Finding Not Found");
    assert!(
        by(&ids[1])
            .message
            .contains("neither as processed nor as unprocessed")
    );
}

#[tokio::test]
async fn updates_go_100_findings_a_call_and_a_failed_call_names_each_finding() {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    let s = sizes.clone();
    let update = mock!(Client::batch_update_findings)
        .match_requests(move |r| {
            s.lock().unwrap().push(r.finding_identifiers().len());
            true
        })
        .sequence()
        .http_response(|| body(200, r#"{"ProcessedFindings":[],"UnprocessedFindings":[]}"#))
        .http_status(
            400,
            Some(
                r#"{"__type":"AccessDeniedException","Message":"not allowed to suppress"}"#
                    .to_owned(),
            ),
        )
        .build();
    let client = client!(&[&update]);
    let findings: Vec<Finding> = (0..150).map(finding).collect();
    let refs: Vec<&Finding> = findings.iter().collect();
    let report = securityhub::update(
        &client,
        &refs,
        &FindingUpdate {
            note: "x".into(),
            suppress: true,
        },
    )
    .await;
    assert_eq!(sizes.lock().unwrap().as_slice(), [UPDATE_BATCH, 50]);
    assert_eq!(report.calls, 2);
    assert_eq!(report.unprocessed.len(), 150);
    let denied: Vec<&str> = report
        .unprocessed
        .iter()
        .filter(|u| u.code.as_deref() == Some("AccessDeniedException"))
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(denied.len(), 50);
    assert!(denied[0].ends_with("/finding/0100"));
}

#[tokio::test]
async fn suppress_allowed_dry_run_changes_nothing_and_apply_suppresses_with_a_note() {
    let page = || {
        mock!(Client::get_findings).then_http_response(|| {
            body(
                200,
                fixture("get-findings-page-1.json").replace(
                    r#""NextToken": "c2VjdXJpdHlodWItcGFnZS0y""#,
                    r#""NextToken": null"#,
                ),
            )
        })
    };
    let params = RuleParameters {
        allowed_exclusion_filters: vec!["latest".into()],
        ..RuleParameters::default()
    };
    let mut edge = Repository::new("edge", InputKind::ConfigAggregator)
        .with_mutability(TagMutability::ImmutableWithExclusion)
        .with_filters(vec![ExclusionFilter::wildcard("latest")]);
    edge.account_id = Some("111122223333".into());
    edge.region = Some("eu-west-1".into());
    let mut api =
        Repository::new("api", InputKind::ConfigAggregator).with_mutability(TagMutability::Mutable);
    api.account_id = edge.account_id.clone();
    api.region = edge.region.clone();
    let evals = vec![evaluate(&edge, &params), evaluate(&api, &params)];

    let (p, update) = (
        page(),
        mock!(Client::batch_update_findings).then_http_response(|| {
            body(200, r#"{"ProcessedFindings":[],"UnprocessedFindings":[]}"#)
        }),
    );
    let client = client!(&[&p, &update]);
    let dry = securityhub::suppress_allowed(&client, &evals, &params, false)
        .await
        .unwrap();
    assert_eq!(update.num_calls(), 0);
    assert_eq!(dry.suppressions.len(), 1);
    assert!(
        dry.suppressions[0]
            .finding_id
            .contains("/finding/00000003-")
    );

    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let p = page();
    let update = mock!(Client::batch_update_findings)
        .match_requests(move |r| {
            s.lock().unwrap().push(format!(
                "{:?} {}",
                r.workflow().and_then(|w| w.status()).map(|x| x.as_str().to_owned()),
                r.note().and_then(|n| n.text()).unwrap_or_default()
            ));
            true
        })
        .then_http_response(|| {
            let id = "arn:aws:securityhub:eu-west-1:111122223333:security-control/ECR.2/finding/00000003-aaaa-bbbb-cccc-ddddeeeeffff";
            body(200, format!(r#"{{"ProcessedFindings":[{{"Id":"{id}","ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/securityhub"}}],"UnprocessedFindings":[]}}"#))
        });
    let client = client!(&[&p, &update]);
    let done = securityhub::suppress_allowed(&client, &evals, &params, true)
        .await
        .unwrap();
    assert!(!done.incomplete());
    assert_eq!(done.update.as_ref().unwrap().processed.len(), 1);
    let sent = seen.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with("Some(\"SUPPRESSED\") immutag: COMPLIANT under the Config rule parameter AllowedExclusionFilters=latest"), "{}", sent[0]);
    assert!(sent[0].contains("allowed filters [latest]"), "{}", sent[0]);
}

#[test]
fn suppresses_only_open_findings_of_allowed_exclusions() {
    let params = RuleParameters {
        allowed_exclusion_filters: vec!["latest".into(), "dev-*".into()],
        ..RuleParameters::default()
    };
    let repo = |name: &str, m: TagMutability, f: &[&str]| {
        let mut r = Repository::new(name, InputKind::ConfigAggregator)
            .with_mutability(m)
            .with_filters(f.iter().map(|x| ExclusionFilter::wildcard(*x)).collect());
        r.account_id = Some("111122223333".into());
        r.region = Some("eu-west-1".into());
        evaluate(&r, &params)
    };
    let evals = vec![
        repo(
            "allowed",
            TagMutability::ImmutableWithExclusion,
            &["latest"],
        ),
        repo("wide", TagMutability::ImmutableWithExclusion, &["*"]),
        repo("plain", TagMutability::Immutable, &[]),
        repo("open", TagMutability::Mutable, &[]),
    ];
    let arn = |n: &str| format!("arn:aws:ecr:eu-west-1:111122223333:repository/{n}");
    let findings = vec![
        with("f-allowed", &arn("allowed"), "NEW"),
        with("f-allowed-done", &arn("allowed"), "SUPPRESSED"),
        with("f-wide", &arn("wide"), "NEW"),
        with("f-plain", &arn("plain"), "NOTIFIED"),
        with("f-open", &arn("open"), "NEW"),
        with(
            "f-elsewhere",
            "arn:aws:ecr:us-east-1:111122223333:repository/allowed",
            "NEW",
        ),
    ];
    let got = securityhub::plan_suppressions(&findings, &evals, &params, "2026-11-20T10:00:00Z");
    assert_eq!(got.len(), 1, "{got:?}");
    let s = &got[0].0;
    assert_eq!(s.finding_id, "f-allowed");
    assert!(
        s.note.contains("AllowedExclusionFilters=latest,dev-*"),
        "{}",
        s.note
    );
    assert!(s.note.contains("allowed filters [latest]"), "{}", s.note);
    assert!(s.note.chars().count() <= securityhub::NOTE_MAX_CHARS);
}
