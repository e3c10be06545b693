//! # immutag-lambda
//!
//! The AWS Config custom-rule Lambda: event parsing and the handler. `main.rs` only wires
//! the handler to `lambda_runtime`.
#![forbid(unsafe_code)]
