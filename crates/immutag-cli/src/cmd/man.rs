//! `immutag man`: print the man page (clap_mangen), or write one page per command.
//!
//! `immutag man` prints `immutag(1)` (every subcommand listed) to stdout;
//! `immutag man --out-dir DIR` writes `immutag.1` and one page per subcommand
//! (`immutag-evaluate.1`, `immutag-pins-check.1`, ...) for packagers.

use std::path::PathBuf;

use anyhow::Context;
use clap::CommandFactory;

/// Arguments of `immutag man`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  immutag man | man -l -\n  \
immutag man --out-dir /usr/local/share/man/man1")]
pub struct Args {
    /// Write `immutag.1` and one page per subcommand (`immutag-evaluate.1`, ...) into this
    /// directory (created if missing) instead of printing `immutag(1)`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the man page, or writes every page into `--out-dir`.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let cmd = crate::Cli::command();
    match args.out_dir {
        None => {
            crate::cmd::fleet::with_stdout(|out| clap_mangen::Man::new(cmd).render(out))?;
        }
        Some(dir) => {
            let shown = immutag_core::text::printable(&dir.display().to_string()).into_owned();
            std::fs::create_dir_all(&dir).with_context(|| format!("{shown}: cannot create"))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("{shown}: cannot write"))?;
        }
    }
    Ok(crate::exit::OK)
}
