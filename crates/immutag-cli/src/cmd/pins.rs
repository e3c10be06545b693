//! `immutag pins check` and `immutag pins resolve`: the image references of a source tree,
//! whether they are pinned to digests, and pinning the ECR ones.
//!
//! The finding, parsing and rewriting are `immutag_pins`; the live reads are
//! `immutag_aws::pins` (one DescribeRepositories per account and region, one BatchGetImage per
//! repository). This module parses flags, calls them and renders.

use std::path::PathBuf;

use immutag_core::text::printable;
use immutag_pins::files;

use crate::cmd::fleet::{self, FleetArgs};
use crate::exit;
use crate::output::progress::Bar;
use crate::output::{self, ColorChoice, Format, RenderOptions, pins as render};
use crate::params::command_line_params;

/// Arguments of `immutag pins`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands of `immutag pins`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the image references of files and directories and whether each is pinned to a
    /// digest (with --live: whether its ECR tag can move now, its digest still exists, its tag
    /// moved).
    Check(CheckArgs),
    /// Pin every unpinned ECR reference to the digest its tag names now: print the diff, or
    /// apply it with --write.
    Resolve(ResolveArgs),
}

/// Arguments of `immutag pins check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Statuses: PINNED, UNPINNED (a tag, or none: latest), UNRESOLVED (a variable \
or expression not known statically), INVALID; with --live, for ECR references: MUTABLE_REPOSITORY \
(unpinned, and the repository is not compliant), DIGEST_MISSING, TAG_MOVED.\n\n\
Exit codes: 0 every reference PINNED, 1 any other status, 2 usage error or a file that cannot be \
read or parsed (the rest is printed), 3 some registries could not be read live (the rest is printed).\n\n\
Examples:\n  immutag pins check .\n  helm template ./chart | immutag pins check -\n  \
immutag pins check services/ k8s/ --live --output sarif > pins.sarif"
)]
pub struct CheckArgs {
    /// Files and directories to read (directories are walked, respecting .gitignore and
    /// .immutagignore); `-` reads standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Also read the ECR registries the references name: repository mutability (judged with
    /// the rule parameters), the digest each tag names, the digests that exist.
    #[arg(long)]
    pub live: bool,

    /// A rule parameter, `KEY=VALUE` (repeatable), for judging repositories with --live.
    #[arg(long = "param", value_name = "KEY=VALUE", requires = "live")]
    pub params: Vec<String>,

    /// A JSON object of string values, as in Config's `ruleParameters` (with --live).
    #[arg(long, value_name = "FILE", requires = "live")]
    pub params_file: Option<PathBuf>,

    /// Credentials and the accounts and regions read with --live (by default every account
    /// and region the references name; --accounts and --regions narrow it).
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// When to colour the table (auto: when stdout is a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Arguments of `immutag pins resolve`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Only the reference text changes (`repo:tag` becomes `repo:tag@sha256:...`; \
a reference without tag gets `:latest@sha256:...`); comments, quoting, indentation and line \
endings stay as they are. A reference that is exactly one Dockerfile ARG is pinned at the ARG's \
default. For a multi-platform image the digest is that of its index. References outside ECR, \
and those not known statically, are listed and left alone.\n\n\
Exit codes: 0 every unpinned ECR reference resolved (and written with --write), 1 some could \
not be (a tag that does not exist, text that cannot be rewritten in place), 2 usage error or a \
file that cannot be read or parsed, 3 some registries could not be read or a file not written.\n\n\
Examples:\n  immutag pins resolve .\n  immutag pins resolve k8s/ Dockerfile --write"
)]
pub struct ResolveArgs {
    /// Files and directories to read; `-` reads standard input (not with --write).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Write the changes to the files (default: print the unified diff only).
    #[arg(long)]
    pub write: bool,

    /// Credentials and the accounts and regions read.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        Command::Check(a) => check(a),
        Command::Resolve(a) => resolve(a),
    }
}

/// `--org` and `--all-regions` select targets for scan; here the references do.
fn validate_fleet(fleet: &FleetArgs) -> anyhow::Result<()> {
    if fleet.org || fleet.all_regions {
        anyhow::bail!(
            "--org and --all-regions do not apply to pins: the accounts and regions are those the references name (narrow them with --accounts and --regions)"
        );
    }
    fleet.validate()
}

fn live_options(
    fleet: &FleetArgs,
    params: immutag_core::RuleParameters,
) -> immutag_aws::pins::LiveOptions {
    immutag_aws::pins::LiveOptions {
        role_name: fleet.role_name.clone(),
        concurrency: fleet.concurrency,
        accounts: fleet.accounts.iter().map(|a| a.trim().to_owned()).collect(),
        regions: fleet.regions.iter().map(|r| r.trim().to_owned()).collect(),
        params,
    }
}

fn check(args: CheckArgs) -> anyhow::Result<u8> {
    validate_fleet(&args.fleet)?;
    if !args.live && (!args.fleet.accounts.is_empty() || !args.fleet.regions.is_empty()) {
        anyhow::bail!("--accounts and --regions select what --live reads: add --live");
    }
    let params = if args.live {
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default()
    } else {
        immutag_core::RuleParameters::default()
    };
    let (mut scan, _) = files::scan_inputs(&args.paths, std::io::stdin().lock())?;

    let mut live_failed = false;
    if args.live {
        let opts = live_options(&args.fleet, params);
        let runtime = fleet::runtime()?;
        let bar = Bar::new(args.fleet.no_progress, "reading registries");
        let result = runtime.block_on(async {
            let base = immutag_aws::session::load(&args.fleet.session_options()).await;
            immutag_aws::pins::check(&base, &mut scan.pins, &opts, &bar).await
        });
        bar.clear();
        let registries = result.map_err(fleet::setup_error)?;
        live_failed = crate::output::progress::report_failures(&registries.failures, &[]);
        for t in &registries.not_selected {
            eprintln!(
                "immutag: note: {}/{}: not selected, not read live",
                t.account_id, t.region
            );
        }
    }

    let render_opts = RenderOptions {
        color: args.output == Format::Table && args.color.enabled_for_stdout(),
        width: output::table::terminal_width(),
    };
    fleet::with_stdout(|out| render::render(&scan.pins, args.output, &render_opts, out))?;
    let files_failed = render::report_files(&scan);
    eprintln!(
        "immutag: read {} file(s), {}",
        scan.files_read,
        render::summary(&scan.pins)
    );
    Ok(if files_failed {
        exit::USAGE
    } else {
        exit::of_report(live_failed, scan.pins.iter().any(|p| p.status.is_finding()))
    })
}

fn resolve(args: ResolveArgs) -> anyhow::Result<u8> {
    validate_fleet(&args.fleet)?;
    if args.write && args.paths.iter().any(|p| p.as_os_str() == "-") {
        anyhow::bail!("--write cannot write to standard input: name the files");
    }
    let (scan, stdin_text) = files::scan_inputs(&args.paths, std::io::stdin().lock())?;
    let files_failed = render::report_files(&scan);

    let opts = live_options(&args.fleet, immutag_core::RuleParameters::default());
    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "resolving tags");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&args.fleet.session_options()).await;
        immutag_aws::pins::resolve(&base, &scan.pins, &opts, &bar).await
    });
    bar.clear();
    let (plan, registries) = result.map_err(fleet::setup_error)?;
    let mut incomplete = crate::output::progress::report_failures(&registries.failures, &[]);

    // The diff (and the writes), file by file.
    let mut written = 0usize;
    let mut diffs = Vec::new();
    for f in &plan.files {
        let old = match (f.file.as_str(), &stdin_text) {
            ("-", Some(t)) => t.clone(),
            _ => match files::read_text(std::path::Path::new(&f.file)) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("immutag: error: {}: {}", printable(&f.file), e);
                    incomplete = true;
                    continue;
                }
            },
        };
        let new = match immutag_pins::rewrite::apply(&old, &f.edits) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("immutag: error: {}: {}", printable(&f.file), e);
                incomplete = true;
                continue;
            }
        };
        let mut d = Vec::new();
        render::diff(&f.file, &old, &new, &mut d)?;
        diffs.push(d);
        if args.write {
            match files::write_text(std::path::Path::new(&f.file), &new) {
                Ok(()) => written += 1,
                Err(e) => {
                    eprintln!("immutag: error: {}: {}", printable(&f.file), e);
                    incomplete = true;
                }
            }
        }
    }
    fleet::with_stdout(|out| diffs.iter().try_for_each(|d| out.write_all(d)))?;

    let (pinned, left_alone, failed) = render::report_outcomes(&plan.outcomes);
    let action = if args.write {
        format!("written to {written} file(s)")
    } else {
        format!("in {} file(s), not written (add --write)", plan.files.len())
    };
    eprintln!(
        "immutag: {pinned} reference(s) pinned {action}; {left_alone} left alone; {failed} could not be pinned"
    );
    Ok(if files_failed {
        exit::USAGE
    } else {
        exit::of_report(incomplete, failed > 0)
    })
}
