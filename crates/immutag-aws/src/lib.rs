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
//! * `remediate` (feature `fleet`): fleet remediation (bounded concurrency, journal,
//!   verification); [`journal`]: the JSON-lines journal.
//! * [`auto_remediate`]: one repository switched to IMMUTABLE (the Lambda's auto-remediation).
//! * [`ecr`]: the repository inventory of one account and region (`DescribeRepositories`,
//!   `maxResults=1000`, `nextToken`), repository tags, and a repository's images.
//! * `org` (feature `fleet`): Organizations accounts and EC2 enabled regions.
//! * `fanout` (feature `fleet`): (account, region) pairs, bounded concurrency, failures
//!   reported not skipped.
//! * `plan` (feature `fleet`): the `immutag plan` reads (images of non-compliant repositories).
//! * `evidence` (feature `fleet`): CloudTrail `PutImage` events from log files on disk or in
//!   S3, event history (`LookupEvents`) or Athena, into `immutag_core::evidence::Evidence`.
//! * `testing` (feature `test-util`): a moto server harness for tests.
//!
//! Feature `fleet` (used by the CLI) adds the organization-wide modules and their SDK crates
//! (Organizations, EC2, S3, CloudTrail, Athena); without it (the Config rule Lambda) they are not compiled.
#![forbid(unsafe_code)]

pub mod auto_remediate;
pub mod config;
pub mod ecr;
pub mod error;
#[cfg(feature = "fleet")]
pub mod evidence;
#[cfg(feature = "fleet")]
pub mod fanout;
pub mod journal;
#[cfg(feature = "fleet")]
pub mod org;
#[cfg(feature = "fleet")]
pub mod plan;
#[cfg(feature = "fleet")]
pub mod remediate;
pub mod session;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::AwsError;
