//! Security Hub findings of control ECR.2 (AWS Security Finding Format, `aws-facts.md` §13),
//! the work queue of `immutag remediate --from-securityhub` and of `immutag scan
//! --suppress-allowed`. Pure: the reader of a `aws securityhub get-findings` file is
//! [`parse_findings`]; the AWS edge maps `GetFindings` output to the same [`Finding`].
//!
//! A finding is *open* ([`Finding::is_open`]) when it is of control ECR.2, its record is
//! `ACTIVE` and its compliance `FAILED`. Its repository is the `AwsEcrRepository` resource
//! it names ([`Finding::repository`], from the resource ARN).
//!
//! ```
//! use immutag_core::finding::{parse_findings, WorkflowStatus};
//! let file = br#"{"Findings":[{"Id":"arn:aws:securityhub:eu-west-1:111122223333:security-control/ECR.2/finding/1",
//!   "ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/securityhub","AwsAccountId":"111122223333",
//!   "Region":"eu-west-1","GeneratorId":"security-control/ECR.2","RecordState":"ACTIVE",
//!   "Compliance":{"Status":"FAILED","SecurityControlId":"ECR.2"},"Workflow":{"Status":"NEW"},
//!   "Resources":[{"Type":"AwsEcrRepository","Id":"arn:aws:ecr:eu-west-1:111122223333:repository/team/api"}]}]}"#;
//! let findings = parse_findings(file).unwrap();
//! assert!(findings[0].is_open());
//! assert_eq!(findings[0].workflow, Some(WorkflowStatus::New));
//! assert_eq!(findings[0].repository().unwrap().to_string(), "111122223333/eu-west-1/team/api");
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::change::RepoKey;
use crate::error::InputError;
use crate::input::shared::{json_error, split_arn};

/// The Security Hub control immutag answers: ECR private repositories should have tag
/// immutability configured.
pub const ECR2_CONTROL_ID: &str = "ECR.2";

/// The ASFF resource type of an ECR repository.
pub const REPOSITORY_RESOURCE_TYPE: &str = "AwsEcrRepository";

const SHAPE: &str = "Security Hub findings";

macro_rules! asff_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this project does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The ASFF spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($text => Self::$variant,)+
                    _ => Self::Unknown(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

asff_enum!(
    /// `Compliance.Status`.
    ComplianceStatus {
        /// The control passed.
        Passed = "PASSED",
        /// The control failed.
        Failed = "FAILED",
        /// The control could not be checked fully.
        Warning = "WARNING",
        /// The check could not run.
        NotAvailable = "NOT_AVAILABLE",
    }
);

asff_enum!(
    /// `RecordState`.
    RecordState {
        /// The finding is current.
        Active = "ACTIVE",
        /// The finding is archived (the resource is gone, or the control disabled).
        Archived = "ARCHIVED",
    }
);

asff_enum!(
    /// `Workflow.Status`.
    WorkflowStatus {
        /// Not yet reviewed.
        New = "NEW",
        /// The owner was told.
        Notified = "NOTIFIED",
        /// Someone marked it resolved.
        Resolved = "RESOLVED",
        /// Someone decided no action is needed.
        Suppressed = "SUPPRESSED",
    }
);

/// One Security Hub finding, as much of it as immutag uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// `Id`: what `BatchUpdateFindings` names the finding by (with `ProductArn`).
    pub id: String,
    /// `ProductArn`.
    pub product_arn: String,
    /// `AwsAccountId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `Region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The control: `Compliance.SecurityControlId`, else the last part of a standard's
    /// `GeneratorId` (`aws-foundational-security-best-practices/v/1.0.0/ECR.2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_id: Option<String>,
    /// `Compliance.Status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<ComplianceStatus>,
    /// `RecordState`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_state: Option<RecordState>,
    /// `Workflow.Status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowStatus>,
    /// The `Id`s of the `AwsEcrRepository` resources (repository ARNs).
    #[serde(default)]
    pub repository_arns: Vec<String>,
}

impl Finding {
    /// True for an open ECR.2 failure: control ECR.2, record `ACTIVE`, compliance `FAILED`.
    /// `GetFindings` is asked for exactly these, and the answer is checked again with this
    /// (an emulator ignores the filters).
    pub fn is_open(&self) -> bool {
        self.control_id.as_deref() == Some(ECR2_CONTROL_ID)
            && self.record_state == Some(RecordState::Active)
            && self.compliance == Some(ComplianceStatus::Failed)
    }

    /// The repository the finding is about: its one `AwsEcrRepository` resource, as a key
    /// (account, region, name) read from the ARN
    /// `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`. An error says why there is none.
    pub fn repository(&self) -> Result<RepoKey, String> {
        let arn = match self.repository_arns.as_slice() {
            [one] => one,
            [] => return Err(format!("names no {REPOSITORY_RESOURCE_TYPE} resource")),
            many => {
                return Err(format!(
                    "names {} {REPOSITORY_RESOURCE_TYPE} resources (expected one)",
                    many.len()
                ));
            }
        };
        repository_key(arn)
            .ok_or_else(|| format!("resource id `{arn}` is not an ECR repository ARN"))
    }
}

/// The key of a repository ARN (`arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`), `None`
/// when it is not one.
///
/// ```
/// use immutag_core::finding::repository_key;
/// let k = repository_key("arn:aws:ecr:us-east-1:111122223333:repository/web").unwrap();
/// assert_eq!((k.account.as_deref(), k.region.as_deref(), k.repository.as_str()),
///            (Some("111122223333"), Some("us-east-1"), "web"));
/// assert!(repository_key("arn:aws:s3:::bucket").is_none());
/// ```
pub fn repository_key(arn: &str) -> Option<RepoKey> {
    let parts = split_arn(arn)?;
    let service = arn.split(':').nth(2)?;
    let name = parts.name.filter(|n| !n.is_empty())?;
    if service != "ecr" || parts.region.is_empty() || parts.account.is_empty() {
        return None;
    }
    Some(RepoKey::new(Some(parts.account), Some(parts.region), name))
}

/// The ASFF members immutag reads (PascalCase, as Security Hub writes them).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawFinding {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    product_arn: Option<String>,
    #[serde(default)]
    aws_account_id: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    generator_id: Option<String>,
    #[serde(default)]
    compliance: Option<RawCompliance>,
    #[serde(default)]
    record_state: Option<String>,
    #[serde(default)]
    workflow: Option<RawWorkflow>,
    #[serde(default)]
    resources: Option<Vec<RawResource>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawCompliance {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    security_control_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawWorkflow {
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawResource {
    #[serde(default, rename = "Type")]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawFile {
    findings: Vec<RawFinding>,
}

/// The parts of one finding, as the AWS edge reads them from `GetFindings` (SDK types) or a
/// file: one constructor for both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingParts<'a> {
    /// `Id`.
    pub id: Option<&'a str>,
    /// `ProductArn`.
    pub product_arn: Option<&'a str>,
    /// `AwsAccountId`.
    pub account_id: Option<&'a str>,
    /// `Region`.
    pub region: Option<&'a str>,
    /// `GeneratorId`.
    pub generator_id: Option<&'a str>,
    /// `Compliance.SecurityControlId`.
    pub security_control_id: Option<&'a str>,
    /// `Compliance.Status`.
    pub compliance: Option<&'a str>,
    /// `RecordState`.
    pub record_state: Option<&'a str>,
    /// `Workflow.Status`.
    pub workflow: Option<&'a str>,
    /// `Resources[]`: (`Type`, `Id`).
    pub resources: Vec<(Option<&'a str>, Option<&'a str>)>,
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

impl FindingParts<'_> {
    /// The finding; an error names the member it lacks (`Id`, `ProductArn`: without them it
    /// cannot be updated).
    pub fn finding(&self) -> Result<Finding, &'static str> {
        let id = present(self.id).ok_or("Id")?.to_owned();
        let product_arn = present(self.product_arn).ok_or("ProductArn")?.to_owned();
        let control_id = present(self.security_control_id)
            .or_else(|| {
                present(self.generator_id)
                    .and_then(|g| g.rsplit('/').next())
                    .filter(|c| *c == ECR2_CONTROL_ID)
            })
            .map(str::to_owned);
        let repository_arns = self
            .resources
            .iter()
            .filter(|(kind, _)| *kind == Some(REPOSITORY_RESOURCE_TYPE))
            .filter_map(|(_, id)| present(*id).map(str::to_owned))
            .collect();
        Ok(Finding {
            id,
            product_arn,
            account_id: present(self.account_id).map(str::to_owned),
            region: present(self.region).map(str::to_owned),
            control_id,
            compliance: present(self.compliance).map(|s| s.to_owned().into()),
            record_state: present(self.record_state).map(|s| s.to_owned().into()),
            workflow: present(self.workflow).map(|s| s.to_owned().into()),
            repository_arns,
        })
    }
}

/// Reads the output of `aws securityhub get-findings` (`{"Findings":[...]}`, other members
/// ignored) or a JSON array of findings. Every finding must carry `Id` and `ProductArn`; an
/// error names the one that does not. Which findings are open is for the caller to decide
/// ([`Finding::is_open`]).
pub fn parse_findings(bytes: &[u8]) -> Result<Vec<Finding>, InputError> {
    if bytes.len() > crate::input::MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: crate::input::MAX_INPUT_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let (raw, base): (Vec<RawFinding>, &str) = if first == Some(b'[') {
        (
            serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?,
            "",
        )
    } else {
        let file: RawFile = serde_json::from_slice(bytes).map_err(|e| json_error(&e, SHAPE))?;
        (file.findings, "/Findings")
    };
    raw.iter()
        .enumerate()
        .map(|(i, f)| {
            let parts = FindingParts {
                id: f.id.as_deref(),
                product_arn: f.product_arn.as_deref(),
                account_id: f.aws_account_id.as_deref(),
                region: f.region.as_deref(),
                generator_id: f.generator_id.as_deref(),
                security_control_id: f
                    .compliance
                    .as_ref()
                    .and_then(|c| c.security_control_id.as_deref()),
                compliance: f.compliance.as_ref().and_then(|c| c.status.as_deref()),
                record_state: f.record_state.as_deref(),
                workflow: f.workflow.as_ref().and_then(|w| w.status.as_deref()),
                resources: f
                    .resources
                    .iter()
                    .flatten()
                    .map(|r| (r.kind.as_deref(), r.id.as_deref()))
                    .collect(),
            };
            parts.finding().map_err(|member| InputError::Shape {
                shape: SHAPE,
                pointer: format!("{base}/{i}/{member}"),
                problem: format!("the finding has no `{member}` (needed to update it)"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(extra: &str) -> String {
        format!(
            r#"{{"SchemaVersion":"2018-10-08","Id":"f-1","ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/securityhub",
            "GeneratorId":"security-control/ECR.2","AwsAccountId":"111122223333","Region":"eu-west-1",
            "Resources":[{{"Type":"AwsEcrRepository","Id":"arn:aws:ecr:eu-west-1:111122223333:repository/api","Partition":"aws","Region":"eu-west-1"}}]
            {extra}}}"#
        )
    }

    #[test]
    fn open_means_ecr2_active_failed() {
        let f = &parse_findings(
            format!(
                "[{}]",
                finding(
                    r#","RecordState":"ACTIVE","Compliance":{"Status":"FAILED","SecurityControlId":"ECR.2"}"#
                )
            )
            .as_bytes(),
        )
        .unwrap()[0];
        assert!(f.is_open());
        for extra in [
            r#","RecordState":"ARCHIVED","Compliance":{"Status":"FAILED","SecurityControlId":"ECR.2"}"#,
            r#","RecordState":"ACTIVE","Compliance":{"Status":"PASSED","SecurityControlId":"ECR.2"}"#,
            r#","RecordState":"ACTIVE","Compliance":{"Status":"FAILED","SecurityControlId":"ECR.1"}"#,
            r#","RecordState":"ACTIVE","Compliance":{"Status":"failed","SecurityControlId":"ECR.2"}"#,
            r#","Compliance":{"Status":"FAILED","SecurityControlId":"ECR.2"}"#,
        ] {
            let f = &parse_findings(format!("[{}]", finding(extra)).as_bytes()).unwrap()[0];
            assert!(!f.is_open(), "{extra}");
        }
        // A standard-specific finding names the control in its GeneratorId only.
        let std = finding(r#","RecordState":"ACTIVE","Compliance":{"Status":"FAILED"}"#).replace(
            "security-control/ECR.2",
            "aws-foundational-security-best-practices/v/1.0.0/ECR.2",
        );
        assert!(parse_findings(format!("[{std}]").as_bytes()).unwrap()[0].is_open());
    }

    #[test]
    fn unknown_states_are_kept_verbatim() {
        let f = &parse_findings(
            format!(
                r#"{{"Findings":[{}],"NextToken":null}}"#,
                finding(r#","RecordState":"PAUSED","Workflow":{"Status":"DEFERRED"}"#)
            )
            .as_bytes(),
        )
        .unwrap()[0];
        assert_eq!(f.record_state, Some(RecordState::Unknown("PAUSED".into())));
        assert_eq!(f.workflow.as_ref().unwrap().as_str(), "DEFERRED");
        assert!(!f.is_open());
    }

    #[test]
    fn the_repository_comes_from_the_one_ecr_resource() {
        let f = &parse_findings(format!("[{}]", finding("")).as_bytes()).unwrap()[0];
        let k = f.repository().unwrap();
        assert_eq!(k.to_string(), "111122223333/eu-west-1/api");
        let none = finding("").replace("AwsEcrRepository", "AwsS3Bucket");
        let f = &parse_findings(format!("[{none}]").as_bytes()).unwrap()[0];
        assert!(f.repository().unwrap_err().contains("no AwsEcrRepository"));
        let bad = finding("").replace("arn:aws:ecr:eu-west-1:111122223333:repository/api", "api");
        let f = &parse_findings(format!("[{bad}]").as_bytes()).unwrap()[0];
        assert!(f.repository().unwrap_err().contains("`api`"));
        assert!(repository_key("arn:aws:ecr:eu-west-1:111122223333:repository/").is_none());
        assert!(repository_key("arn:aws:ecr::111122223333:repository/x").is_none());
    }

    #[test]
    fn a_finding_without_id_or_product_arn_is_named() {
        let no_id = finding("").replace(r#""Id":"f-1","#, "");
        let err = parse_findings(format!(r#"{{"Findings":[{no_id}]}}"#).as_bytes()).unwrap_err();
        assert!(err.to_string().contains("/Findings/0/Id"), "{err}");
        let no_product = finding("").replace("\"ProductArn\"", "\"Product\"");
        let err = parse_findings(format!("[{no_product}]").as_bytes()).unwrap_err();
        assert!(err.to_string().contains("/0/ProductArn"), "{err}");
    }

    #[test]
    fn malformed_files_are_errors() {
        for bad in [
            "",
            "{",
            "{}",
            "5",
            r#"{"Findings":{}}"#,
            r#"{"Findings":[5]}"#,
            r#"{"Findings":[{"Id":5}]}"#,
        ] {
            assert!(parse_findings(bad.as_bytes()).is_err(), "{bad}");
        }
        let whole = format!(r#"{{"Findings":[{}]}}"#, finding(""));
        for cut in (0..whole.len()).step_by(11) {
            assert!(
                parse_findings(&whole.as_bytes()[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }
}
