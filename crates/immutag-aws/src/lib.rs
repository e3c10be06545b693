//! # immutag-aws
//!
//! The only crate of immutag that talks to AWS: ECR inventory and remediation, AWS Config
//! reporting, and the Organizations / STS fan-out across accounts and regions.
//!
//! * [`session`]: configuration from `aws-config` (credential chain, profiles,
//!   `AWS_ENDPOINT_URL`, adaptive retries) and STS AssumeRole into member accounts.
//! * [`config`]: AWS Config reporting (PutEvaluations in batches of 100, FailedEvaluations
//!   retried), oversized item fetch (GetResourceConfigHistory), earlier results
//!   (GetComplianceDetailsByConfigRule).
//! * [`remediate`]: fleet remediation (bounded concurrency, journal, verification); [`journal`]: the JSON-lines journal.
//! * [`auto_remediate`]: one repository switched to IMMUTABLE (the Lambda's auto-remediation).
//! * [`ecr`]: the repository inventory of one account and region (`DescribeRepositories`,
//!   `maxResults=1000`, `nextToken`), repository tags, and a repository's images.
//! * [`org`]: Organizations accounts and EC2 enabled regions.
//! * [`fanout`]: (account, region) pairs, bounded concurrency, failures reported not skipped.
//! * [`plan`]: the `immutag plan` reads (images of non-compliant repositories).
//! * `testing` (feature `test-util`): a moto server harness for tests.
#![forbid(unsafe_code)]

pub mod auto_remediate;
pub mod config;
pub mod ecr;
pub mod error;
pub mod fanout;
pub mod journal;
pub mod org;
pub mod plan;
pub mod remediate;
pub mod session;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::AwsError;
