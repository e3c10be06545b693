//! # immutag-cli
//!
//! The `immutag` command. Each subcommand lives in [`cmd`]; output formats in [`output`].
//!
//! Exit codes, the same for every subcommand ([`exit`]): 0 nothing to report, 1 findings,
//! 2 usage or input error, 3 incomplete (some targets could not be read or changed; the rest
//! is printed and the failures listed).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod cmd;
pub mod exit;
pub mod output;
pub mod params;
pub mod read;

/// immutag keeps Amazon ECR image tags immutable across an AWS organization.
#[derive(Debug, Parser)]
#[command(name = "immutag", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate, list and check the Service Control Policies that keep ECR tags immutable.
    Scp(cmd::scp::Args),
    /// Print the JSON Schemas of immutag's data types.
    Schema(cmd::schema::Args),
    /// Evaluate repository descriptions read from files or stdin.
    Evaluate(cmd::evaluate::Args),
    /// Read live ECR repositories across accounts and regions and evaluate them.
    Scan(cmd::scan::Args),
    /// Who pushed and who moved which tag, from CloudTrail PutImage events.
    History(cmd::history::Args),
    /// Recommend what to apply to each non-compliant repository, from its images.
    Plan(cmd::plan::Args),
    /// Switch repositories to their target tag mutability (dry run unless --apply), journaled.
    Remediate(cmd::remediate::Args),
    /// Restore what a remediation journal changed (dry run unless --apply).
    Rollback(cmd::rollback::Args),
    /// Find the image references of a source tree, check they are pinned to digests, pin them.
    Pins(cmd::pins::Args),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(cmd::completions::Args),
    /// Print the man page, or write one page per subcommand with --out-dir.
    Man(cmd::man::Args),
}

/// Parses the command line, runs the subcommand, and maps the outcome to an exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scp(args) => cmd::scp::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Scan(args) => cmd::scan::run(args),
        Command::History(args) => cmd::history::run(args),
        Command::Plan(args) => cmd::plan::run(args),
        Command::Remediate(args) => cmd::remediate::run(args),
        Command::Rollback(args) => cmd::rollback::run(args),
        Command::Pins(args) => cmd::pins::run(args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // Errors quote input (keys, values, file names): never a raw control character.
            eprintln!(
                "immutag: error: {}",
                immutag_core::text::printable(&format!("{e:#}"))
            );
            ExitCode::from(exit::of_error(&e))
        }
    }
}
