//! `immutag completions SHELL`: print a shell completion script (clap_complete).
//!
//! The script is generated from the same command definition the binary parses with
//! ([`crate::Cli`]), so every subcommand, flag and value list is completed as it is today.

use clap::CommandFactory;
use clap_complete::Shell;

/// Arguments of `immutag completions`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Install (one of):\n  \
immutag completions bash > ~/.local/share/bash-completion/completions/immutag\n  \
immutag completions zsh > \"${fpath[1]}/_immutag\"\n  \
immutag completions fish > ~/.config/fish/completions/immutag.fish\n  \
immutag completions powershell >> $PROFILE")]
pub struct Args {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `args.shell` to stdout.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let text = script(args.shell);
    crate::cmd::fleet::with_stdout(|out| out.write_all(&text))?;
    Ok(crate::exit::OK)
}

/// The completion script of the `immutag` command for `shell`.
///
/// Generated into memory: clap_complete panics when its writer fails, and stdout can be a
/// closed pipe (`immutag completions bash | head`).
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = crate::Cli::command();
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut cmd, "immutag", &mut text);
    text
}
