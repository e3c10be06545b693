//! The `immutag` binary: a thin wrapper over [`immutag_cli::run`].
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    immutag_cli::main_entry()
}
