//! # immutag-aws
//!
//! The only crate of immutag that talks to AWS: the reads (ECR inventory, tags, images,
//! settings), the one path that changes repositories, AWS Config reporting, the
//! organization-wide targets, and the flows of the `immutag` commands.
//!
//! * [`session`]: configuration from `aws-config` (credential chain, profiles,
//!   `AWS_ENDPOINT_URL`, adaptive retries), caller identity, STS AssumeRole.
//! * [`ecr`]: ECR reads: the repository inventory of one account and region
//!   (`DescribeRepositories`, `maxResults=1000`, `nextToken`), tags, images, and the live
//!   setting of named repositories (100 names per call).
//! * [`clients`]: ECR clients per account and region ([`clients::Scope`]).
//! * [`change`]: the one apply path: decide on the live state ([`change::decide_live`]),
//!   apply, record, verify ([`change::apply`]); used by `immutag remediate`, `immutag
//!   rollback` and the Config rule's auto-remediation.
//! * [`config`]: AWS Config reporting (PutEvaluations in batches of 100, FailedEvaluations
//!   retried), oversized item fetch, earlier results.
//! * With feature `fleet` (the CLI): [`targets`] (accounts x regions, bounded concurrency,
//!   failures reported not skipped), [`org`] (Organizations accounts, enabled regions),
//!   [`journal`] (the JSON-lines journal on disk), [`config_query`] (the recorded state of a
//!   Config aggregator or of the caller's own Config, by advanced query), [`securityhub`]
//!   (ECR.2 findings: the work queue, notes, suppression), the flows [`scan`], [`plan`],
//!   [`remediate`] and [`rollback`] that the CLI calls once each, and [`pins`] (the live
//!   reads of `immutag pins`: repositories judged by the evaluator, tags and digests by
//!   `BatchGetImage`), and [`evidence`] (CloudTrail `PutImage` events from log files on disk
//!   or in S3, event history or Athena, into `immutag_core::evidence::Evidence`).
//! * `testing` (feature `test-util`): a moto server harness for tests; `faults` (same
//!   feature): fault injection for the fault matrix (`docs/reliability.md`).
//!
//! Without `fleet` (the Config rule Lambda) the fleet modules and their SDK crates
//! (Organizations, EC2, Security Hub, S3, CloudTrail, Athena) are not compiled, nor is the
//! journal.
#![forbid(unsafe_code)]

pub mod change;
pub mod clients;
pub mod config;
#[cfg(feature = "fleet")]
pub mod config_query;
pub mod ecr;
pub mod error;
#[cfg(feature = "fleet")]
pub mod evidence;
#[cfg(feature = "test-util")]
pub mod faults;
#[cfg(feature = "fleet")]
pub mod journal;
#[cfg(feature = "fleet")]
pub mod org;
#[cfg(feature = "fleet")]
pub mod pins;
#[cfg(feature = "fleet")]
pub mod plan;
#[cfg(feature = "fleet")]
pub mod remediate;
#[cfg(feature = "fleet")]
pub mod rollback;
#[cfg(feature = "fleet")]
pub mod scan;
#[cfg(feature = "fleet")]
pub mod securityhub;
pub mod session;
#[cfg(feature = "fleet")]
pub mod targets;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::AwsError;
