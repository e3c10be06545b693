//! `immutag-pre-commit`: the `immutag` command under the binary name the pre-commit hooks of
//! `.pre-commit-hooks.yaml` call (`immutag-pre-commit evaluate`, `immutag-pre-commit pins
//! check`). pre-commit builds it with `cargo install --bins --path .` at the repository root.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    immutag_cli::main_entry()
}
