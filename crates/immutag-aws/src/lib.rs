//! # immutag-aws
//!
//! The only crate of immutag that talks to AWS: ECR inventory and remediation, AWS Config
//! reporting, and the Organizations / STS fan-out across accounts and regions.
#![forbid(unsafe_code)]

pub mod journal;
pub mod remediate;
