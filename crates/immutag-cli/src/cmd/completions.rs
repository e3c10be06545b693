//! `immutag completions SHELL`: print a shell completion script (clap_complete).
//!
//! The script is generated from the same command definition the binary parses with
//! ([`crate::Cli`]), so every subcommand, flag and value list is completed as it is today.

use std::io::Write;

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
    crate::cmd::fleet::with_stdout(|out| {
        write_script(args.shell, out);
        Ok(())
    })?;
    Ok(crate::exit::OK)
}

/// Writes the completion script of the `immutag` command for `shell` into `out`.
pub fn write_script(shell: Shell, out: &mut dyn Write) {
    let mut cmd = crate::Cli::command();
    clap_complete::generate(shell, &mut cmd, "immutag", out);
}
