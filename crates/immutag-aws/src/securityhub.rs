//! AWS Security Hub: the ECR.2 findings as the work queue (`immutag remediate
//! --from-securityhub`), a note on each finding after a change, and the suppression of the
//! findings of repositories that are compliant under the rule's parameters (`immutag scan
//! --suppress-allowed`).
//!
//! Calls: `securityhub:GetFindings` filtered on `ComplianceSecurityControlId = ECR.2`,
//! `RecordState = ACTIVE`, `ComplianceStatus = FAILED`, pages of 100, `ceil(F/100)` calls; the
//! answer is filtered again here ([`Finding::is_open`]), since an emulator ignores the
//! filters. `securityhub:BatchUpdateFindings`: at most 100 `FindingIdentifiers` per call, one
//! call per 100 findings that share a note; `UnprocessedFindings` are reported by finding id.
//! Both run in the configured region: the Security Hub aggregation region, or the findings'
//! own region.

use std::collections::BTreeMap;

use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, NoteUpdate,
    StringFilter, StringFilterComparison, WorkflowStatus as ApiWorkflowStatus, WorkflowUpdate,
};
use immutag_core::change::RepoKey;
use immutag_core::finding::{ECR2_CONTROL_ID, Finding, FindingParts, WorkflowStatus};
use immutag_core::{Evaluation, Reason, RuleParameters};
use serde::Serialize;

use crate::error::AwsError;

/// `MaxResults` of GetFindings (the API maximum).
pub const PAGE_SIZE: i32 = 100;

/// The most finding identifiers one BatchUpdateFindings call takes.
pub const UPDATE_BATCH: usize = 100;

/// The longest note text Security Hub accepts.
pub const NOTE_MAX_CHARS: usize = 512;

/// The note's `UpdatedBy`.
pub const UPDATED_BY: &str = "immutag";

/// The open ECR.2 findings (see the module documentation).
pub async fn open_findings(client: &Client) -> Result<Vec<Finding>, AwsError> {
    const OP: &str = "securityhub:GetFindings";
    let eq = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .compliance_security_control_id(eq(ECR2_CONTROL_ID))
        .record_state(eq("ACTIVE"))
        .compliance_status(eq("FAILED"))
        .build();
    let filters = &filters;
    let (found, _) = crate::ecr::paginate(OP, |token| async move {
        let resp = client
            .get_findings()
            .filters(filters.clone())
            .max_results(PAGE_SIZE)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| AwsError::api(OP, e))?;
        let mut page = Vec::with_capacity(resp.findings().len());
        for f in resp.findings() {
            page.push(finding_from_api(f).map_err(|field| AwsError::MissingField {
                operation: OP,
                field,
            })?);
        }
        Ok((page, resp.next_token().map(str::to_owned)))
    })
    .await?;
    let mut out: Vec<Finding> = found.into_iter().filter(Finding::is_open).collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.dedup_by(|a, b| a.id == b.id);
    Ok(out)
}

/// Maps one GetFindings item (the same constructor as the file reader's); an error names the
/// member it lacks.
pub fn finding_from_api(f: &AwsSecurityFinding) -> Result<Finding, &'static str> {
    FindingParts {
        id: f.id(),
        product_arn: f.product_arn(),
        account_id: f.aws_account_id(),
        region: f.region(),
        generator_id: f.generator_id(),
        security_control_id: f.compliance().and_then(|c| c.security_control_id()),
        compliance: f.compliance().and_then(|c| c.status()).map(|s| s.as_str()),
        record_state: f.record_state().map(|s| s.as_str()),
        workflow: f.workflow().and_then(|w| w.status()).map(|s| s.as_str()),
        resources: f.resources().iter().map(|r| (r.r#type(), r.id())).collect(),
    }
    .finding()
}

/// What to write on findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingUpdate {
    /// The note (cut to [`NOTE_MAX_CHARS`]).
    pub note: String,
    /// Also set the workflow status to SUPPRESSED.
    pub suppress: bool,
}

/// A finding Security Hub did not update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unprocessed {
    /// The finding id.
    pub id: String,
    /// The error code (`FindingNotFound`, `ConcurrentUpdateError`, ..., or the code of a call
    /// that failed as a whole).
    pub code: Option<String>,
    /// The message.
    pub message: String,
}

/// What BatchUpdateFindings did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdateReport {
    /// The ids of the findings updated.
    pub processed: Vec<String>,
    /// The findings not updated, by id.
    pub unprocessed: Vec<Unprocessed>,
    /// Calls made.
    pub calls: usize,
}

impl UpdateReport {
    fn extend(&mut self, other: UpdateReport) {
        self.processed.extend(other.processed);
        self.unprocessed.extend(other.unprocessed);
        self.calls += other.calls;
    }
}

/// Cuts `text` to [`NOTE_MAX_CHARS`] characters (ending in `...` when cut).
pub fn note_text(text: &str) -> String {
    if text.chars().count() <= NOTE_MAX_CHARS {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(NOTE_MAX_CHARS - 3).collect();
    s.push_str("...");
    s
}

/// Writes `update` on `findings`, [`UPDATE_BATCH`] per call. A call that fails leaves each
/// of its findings unprocessed, with the call's error.
pub async fn update(
    client: &Client,
    findings: &[&Finding],
    update: &FindingUpdate,
) -> UpdateReport {
    const OP: &str = "securityhub:BatchUpdateFindings";
    let mut report = UpdateReport::default();
    let note = NoteUpdate::builder()
        .text(note_text(&update.note))
        .updated_by(UPDATED_BY)
        .build();
    for chunk in findings.chunks(UPDATE_BATCH) {
        let ids: Vec<AwsSecurityFindingIdentifier> = chunk
            .iter()
            .map(|f| {
                AwsSecurityFindingIdentifier::builder()
                    .id(&f.id)
                    .product_arn(&f.product_arn)
                    .build()
            })
            .collect();
        let mut req = client
            .batch_update_findings()
            .set_finding_identifiers(Some(ids))
            .note(note.clone());
        if update.suppress {
            req = req.workflow(
                WorkflowUpdate::builder()
                    .status(ApiWorkflowStatus::Suppressed)
                    .build(),
            );
        }
        report.calls += 1;
        match req.send().await {
            Ok(resp) => {
                let failed: BTreeMap<&str, (Option<&str>, Option<&str>)> = resp
                    .unprocessed_findings()
                    .iter()
                    .filter_map(|u| {
                        u.finding_identifier()
                            .and_then(|i| i.id())
                            .map(|id| (id, (u.error_code(), u.error_message())))
                    })
                    .collect();
                let processed: Vec<&str> = resp
                    .processed_findings()
                    .iter()
                    .filter_map(|p| p.id())
                    .collect();
                for f in chunk {
                    if let Some((code, message)) = failed.get(f.id.as_str()) {
                        report.unprocessed.push(Unprocessed {
                            id: f.id.clone(),
                            code: code.map(str::to_owned),
                            message: message.unwrap_or("not updated").to_owned(),
                        });
                    } else if processed.contains(&f.id.as_str()) {
                        report.processed.push(f.id.clone());
                    } else {
                        report.unprocessed.push(Unprocessed {
                            id: f.id.clone(),
                            code: None,
                            message: format!(
                                "{OP} listed it neither as processed nor as unprocessed"
                            ),
                        });
                    }
                }
            }
            Err(e) => {
                let err = AwsError::api(OP, e);
                report.extend(UpdateReport {
                    processed: Vec::new(),
                    unprocessed: chunk
                        .iter()
                        .map(|f| Unprocessed {
                            id: f.id.clone(),
                            code: err.code().map(str::to_owned),
                            message: err.to_string(),
                        })
                        .collect(),
                    calls: 0,
                });
            }
        }
    }
    report
}

/// Writes each group's update on its findings (one BatchUpdateFindings per 100 findings of
/// a group).
pub async fn update_groups(
    client: &Client,
    groups: &[(FindingUpdate, Vec<&Finding>)],
) -> UpdateReport {
    let mut report = UpdateReport::default();
    for (u, findings) in groups {
        report.extend(update(client, findings, u).await);
    }
    report
}

/// One finding to suppress: the repository is compliant under the rule's parameters
/// (IMMUTABLE_WITH_EXCLUSION with allowed filters), ECR.2 fails it (it passes only IMMUTABLE).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// The finding.
    pub finding_id: String,
    /// The repository.
    pub repository: RepoKey,
    /// The note written with the suppression.
    pub note: String,
}

/// What `--suppress-allowed` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuppressReport {
    /// Whether the findings were updated (`--apply`).
    pub applied: bool,
    /// The findings to suppress (suppressed, with `--apply`).
    pub suppressions: Vec<Suppression>,
    /// The open findings read.
    pub findings_read: usize,
    /// What BatchUpdateFindings did (with `--apply`).
    pub update: Option<UpdateReport>,
}

impl SuppressReport {
    /// True when some finding could not be updated (exit 3).
    pub fn incomplete(&self) -> bool {
        self.update
            .as_ref()
            .is_some_and(|u| !u.unprocessed.is_empty())
    }
}

/// The key of an evaluation: (account, region, name).
fn eval_key(e: &Evaluation) -> Option<RepoKey> {
    let name = e
        .arn
        .as_deref()
        .and_then(immutag_core::finding::repository_key)
        .map(|k| k.repository)
        .unwrap_or_else(|| e.resource_id.clone());
    Some(RepoKey::new(
        e.account_id.as_deref(),
        e.region.as_deref(),
        &name,
    ))
}

/// The suppressions `findings` call for, given the scan's `evaluations` under `params` (pure):
/// an open finding, NEW or NOTIFIED, of a repository the scan found COMPLIANT with allowed
/// exclusion filters. Each note names the rule parameter and the repository's filters.
pub fn plan_suppressions(
    findings: &[Finding],
    evaluations: &[Evaluation],
    params: &RuleParameters,
    now: &str,
) -> Vec<(Suppression, Finding)> {
    let by_key: BTreeMap<RepoKey, &Evaluation> = evaluations
        .iter()
        .filter(|e| e.reason == Reason::ImmutableWithAllowedExclusions)
        .filter_map(|e| eval_key(e).map(|k| (k, e)))
        .collect();
    let mut out = Vec::new();
    for f in findings {
        if !f.is_open()
            || !matches!(
                f.workflow,
                None | Some(WorkflowStatus::New) | Some(WorkflowStatus::Notified)
            )
        {
            continue;
        }
        let Ok(key) = f.repository() else { continue };
        let Some(e) = by_key.get(&key) else { continue };
        let filters: Vec<&str> = e
            .exclusion_filters
            .filters()
            .iter()
            .map(|x| x.filter.as_str())
            .collect();
        let note = format!(
            "immutag: COMPLIANT under the Config rule parameter AllowedExclusionFilters={}: \
             IMMUTABLE_WITH_EXCLUSION with allowed filters [{}]. ECR.2 passes only IMMUTABLE. \
             Suppressed by immutag scan --suppress-allowed at {now}.",
            params.allowed_exclusion_filters.join(","),
            filters.join(", ")
        );
        out.push((
            Suppression {
                finding_id: f.id.clone(),
                repository: key,
                note,
            },
            f.clone(),
        ));
    }
    out
}

/// `immutag scan --suppress-allowed`: reads the open findings, plans the suppressions
/// ([`plan_suppressions`]) and, with `apply`, sets each finding's workflow to SUPPRESSED
/// with its note.
pub async fn suppress_allowed(
    client: &Client,
    evaluations: &[Evaluation],
    params: &RuleParameters,
    apply: bool,
) -> Result<SuppressReport, AwsError> {
    let findings = open_findings(client).await?;
    let now = immutag_core::time::rfc3339(unix_now());
    let planned = plan_suppressions(&findings, evaluations, params, &now);
    let mut report = SuppressReport {
        applied: apply,
        suppressions: planned.iter().map(|(s, _)| s.clone()).collect(),
        findings_read: findings.len(),
        update: None,
    };
    if apply && !planned.is_empty() {
        let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
        for (s, f) in &planned {
            groups.entry(s.note.clone()).or_default().push(f);
        }
        let groups: Vec<(FindingUpdate, Vec<&Finding>)> = groups
            .into_iter()
            .map(|(note, fs)| {
                (
                    FindingUpdate {
                        note,
                        suppress: true,
                    },
                    fs,
                )
            })
            .collect();
        report.update = Some(update_groups(client, &groups).await);
    }
    Ok(report)
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_fit_security_hub() {
        assert_eq!(note_text("short"), "short");
        let long = "x".repeat(600);
        let cut = note_text(&long);
        assert_eq!(cut.chars().count(), NOTE_MAX_CHARS);
        assert!(cut.ends_with("..."));
    }
}
