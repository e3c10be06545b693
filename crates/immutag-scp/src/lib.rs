//! # immutag-scp
//!
//! Generates the Service Control Policies that IAM can actually enforce for ECR tag
//! immutability, and checks existing policies for the common mistakes. Pure: no I/O.
#![forbid(unsafe_code)]
