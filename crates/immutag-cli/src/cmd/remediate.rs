//! `immutag remediate`: switch repositories to their target tag mutability, dry run by
//! default, journaled, verified. The flow is [`immutag_aws::remediate::remediate`] (it reads
//! the work list, re-reads every repository that would change right before deciding, and
//! applies through the one apply path); the report is rendered by
//! [`crate::output::changes`].

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ValueEnum;
use immutag_aws::remediate::{Findings, RemediateError, RemediateOptions, Source};
use immutag_core::remediation::{Mode, RemediationOptions};

use crate::cmd::fleet::{self, FleetArgs, RunArgs};
use crate::exit;
use crate::output::changes::{ReportFormat, write_remediation};
use crate::output::progress::Bar;
use crate::params::command_line_params;

/// Arguments of `immutag remediate`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit codes: 0 nothing left to do (every change made and verified), 1 changes \
pending (a dry run) or repositories marked for review, 2 usage or input error, 3 a target or \
repository that could not be read or changed (the rest is still printed)."
)]
pub struct Args {
    /// A plan from `immutag plan --output json` (a file, or `-` for stdin). Without it,
    /// immutag reads the accounts and regions given by the scan options and, with `--mode
    /// plan`, plans them on the spot as `immutag plan` would (images read); with `--mode
    /// immutable`, targets plain IMMUTABLE for every non-compliant repository.
    #[arg(long, value_name = "FILE", conflicts_with = "from_securityhub")]
    pub plan: Option<String>,

    /// Work on the repositories of the open Security Hub ECR.2 findings (ACTIVE, FAILED):
    /// read with securityhub:GetFindings in the configured region, or from FILE (the output of
    /// `aws securityhub get-findings`, or `-` for stdin). Each repository is read live and
    /// planned as with --mode; after --apply, each finding of a repository that changed gets a
    /// note (securityhub:BatchUpdateFindings) naming the change, the time and the journal.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub from_securityhub: Option<Option<String>>,

    /// How the target is chosen: `plan` (the plan's recommendation) or `immutable` (plain
    /// IMMUTABLE). Either way only NON_COMPLIANT repositories are changed (under the rule
    /// parameters); compliant ones are kept and repositories marked REVIEW are skipped.
    #[arg(long, value_enum, default_value_t = ModeArg::Plan)]
    pub mode: ModeArg,

    /// Only repositories whose name matches one of these patterns (`*` matches any run of
    /// characters; repeatable or comma-separated).
    #[arg(long = "repositories", value_name = "PATTERN", value_delimiter = ',')]
    pub repositories: Vec<String>,

    /// Only creation templates whose prefix matches one of these patterns (`ROOT` is the
    /// default template; `*` wildcards; repeatable or comma-separated). Without
    /// `--repositories` and `--templates`, every repository and template is in scope; with
    /// either, only what they match.
    #[arg(long = "templates", value_name = "PREFIX", value_delimiter = ',')]
    pub templates: Vec<String>,

    /// Also apply the plan's suggested lifecycle policy (expire untagged images 14 days after
    /// push) where a repository has none, journaled and rolled back like a mutability change;
    /// a repository with a lifecycle policy of its own is left alone and listed. Needs a plan
    /// (`--plan`, or a live scan in `--mode plan`).
    #[arg(long)]
    pub lifecycle: bool,

    /// `--apply`, `--journal`, `--append-journal`.
    #[command(flatten)]
    pub run: RunArgs,

    /// A rule parameter, as for `immutag scan` (repeatable): exemptions
    /// (`ExemptRepositoryPatterns`, `ExemptionTagKey`) are honoured, `AllowedExclusionFilters`
    /// decides what is compliant (and so kept).
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// Rule parameters from a JSON file (an object of strings); `--param` overrides.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<PathBuf>,

    /// Report format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,

    /// Accounts, regions and credentials, as for `immutag scan`. With `--plan`, the plan
    /// names the accounts and regions; `--role-name`, `--profile` and `--endpoint-url` say
    /// how to reach them. `--concurrency` also bounds the changes in flight.
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The plan's recommendation.
    Plan,
    /// Plain IMMUTABLE.
    Immutable,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    args.fleet.validate()?;
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    if args.plan.is_some() && args.fleet.selects_targets() {
        bail!(
            "--plan names the accounts and regions: --org, --accounts, --regions and --all-regions apply to a live scan only"
        );
    }
    if args.lifecycle && args.plan.is_none() && args.mode == ModeArg::Immutable {
        bail!(
            "--lifecycle applies the lifecycle policy a plan suggests: give --plan, or use --mode plan"
        );
    }
    if args.from_securityhub.is_some() && args.fleet.selects_targets() {
        bail!(
            "--from-securityhub: the findings name the repositories: --org, --accounts, --regions and --all-regions apply to a live scan only"
        );
    }
    let source = match (&args.plan, &args.from_securityhub) {
        (Some(file), _) => Source::Plan(Box::new(read_plan(file)?)),
        (None, Some(None)) => Source::SecurityHub(Findings::Live),
        (None, Some(Some(file))) => Source::SecurityHub(Findings::File(read_findings(file)?)),
        (None, None) => Source::Live(args.fleet.target_options()),
    };
    let opts = RemediateOptions {
        source,
        remediation: RemediationOptions {
            mode: match args.mode {
                ModeArg::Plan => Mode::Plan,
                ModeArg::Immutable => Mode::Immutable,
            },
            repositories: args.repositories.clone(),
            templates: args.templates.clone(),
        },
        run: args.run.run_options(&args.fleet),
        lifecycle: args.lifecycle,
    };
    let session = args.fleet.session_options();
    let bar = Bar::new(args.fleet.no_progress, "reading");
    let result = fleet::runtime()?.block_on(async {
        let base = immutag_aws::session::load(&session).await;
        immutag_aws::remediate::remediate(&base, &opts, &params, &bar).await
    });
    bar.clear();
    let report = result.map_err(|e| match e {
        RemediateError::Aws(e) => fleet::setup_error(e),
        RemediateError::Journal(e) => anyhow::Error::new(e),
        e @ RemediateError::Apply(_) => exit::incomplete(e.into()),
    })?;
    crate::output::progress::report_warnings(&report.warnings);
    crate::output::progress::report_failures(&report.failures, &[]);
    fleet::with_stdout(|out| write_remediation(&report, args.output, out))?;
    Ok(exit::of_report(report.incomplete(), report.findings()))
}

/// Reads and checks a plan (a file, or `-` for stdin), bounded like every input
/// ([`crate::read`]).
fn read_plan(file: &str) -> anyhow::Result<immutag_core::plan::Plan> {
    let shown = crate::read::shown(file);
    let text = crate::read::read_text(file, immutag_core::input::MAX_INPUT_BYTES)
        .with_context(|| format!("the plan {shown}"))?;
    immutag_core::plan::parse_plan(&text).with_context(|| format!("the plan {shown}"))
}

/// Reads Security Hub findings (`aws securityhub get-findings` output; a file, or `-`),
/// bounded like every input ([`crate::read`]).
fn read_findings(file: &str) -> anyhow::Result<Vec<immutag_core::finding::Finding>> {
    let shown = crate::read::shown(file);
    let bytes = crate::read::read_bytes(file, immutag_core::input::MAX_INPUT_BYTES)
        .with_context(|| format!("the findings {shown}"))?;
    immutag_core::finding::parse_findings(&bytes).with_context(|| format!("the findings {shown}"))
}
