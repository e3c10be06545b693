//! `immutag scan`: read the ECR repositories of live accounts and regions (or AWS Config's
//! recorded state: `--aggregator NAME`, `--config-query`) and evaluate them like `immutag
//! evaluate` does (same parameters, formats and exit codes; rows carry the account and
//! region). `--suppress-allowed` suppresses the ECR.2 findings of the repositories that are
//! compliant under the rule's parameters. The flow is [`immutag_aws::scan::scan`]; the calls
//! it makes are listed there.

use immutag_aws::config_query::QueryFilter;
use immutag_aws::scan::{ScanOptions, ScanReport, ScanSource};
use immutag_aws::targets::{AccountSelection, RegionSelection};
use immutag_core::text::printable;

use crate::cmd::fleet::{self, FleetArgs};
use crate::exit;
use crate::output::progress::Bar;
use crate::output::{self, ColorChoice, Counts, Format, RenderOptions};
use crate::params::command_line_params;

/// Arguments of `immutag scan`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Reads the repositories and the repository creation templates of each account and \
region, and reports a registry whose pull-through cache or replication rules no template covers \
(ECR then creates MUTABLE repositories). An endpoint without the template operations (moto) gives \
a warning and is otherwise scanned as usual.\n\n\
Exit codes: 0 all compliant or not applicable, 1 any NON_COMPLIANT, \
2 usage or input error, 3 an account/region that could not be read (the rest is still printed).\n\n\
Examples:\n  immutag scan --regions eu-west-1,us-east-1\n  \
immutag scan --org --all-regions --role-name OrganizationAccountAccessRole --output json\n  \
immutag scan --accounts 111122223333,444455556666 --param AllowedExclusionFilters=latest\n  \
immutag scan --aggregator org-aggregator --regions eu-west-1,us-east-1 --output json\n  \
immutag scan --aggregator org-aggregator --param AllowedExclusionFilters=latest --suppress-allowed --apply"
)]
pub struct Args {
    /// Accounts, regions, credentials.
    #[command(flatten)]
    pub fleet: FleetArgs,

    /// A rule parameter, `KEY=VALUE` (repeatable). Overrides the same key from --params-file.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,

    /// A JSON object of string values, as in Config's `ruleParameters`.
    #[arg(long, value_name = "FILE")]
    pub params_file: Option<std::path::PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// When to colour the table (auto: when stdout is a terminal and NO_COLOR is not set).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Read AWS Config's recorded state through this configuration aggregator (in the
    /// configured region) instead of the live ECR API: no role in the other accounts, a few
    /// calls per 100 repositories. --accounts and --regions filter (default: everything the
    /// aggregator holds). The recorded state lags the live one by minutes.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["org", "config_query"])]
    pub aggregator: Option<String>,

    /// Read the recorded state of the caller's own AWS Config (advanced query) in the
    /// configured region, or in each of --regions / --all-regions.
    #[arg(long, conflicts_with_all = ["org", "accounts"])]
    pub config_query: bool,

    /// Suppress the Security Hub ECR.2 findings of repositories that are COMPLIANT under the
    /// rule parameters (IMMUTABLE_WITH_EXCLUSION with allowed filters) but fail ECR.2, with a
    /// note naming the parameters and the filters. Dry run unless --apply.
    #[arg(long)]
    pub suppress_allowed: bool,

    /// With --suppress-allowed: update the findings (securityhub:BatchUpdateFindings).
    #[arg(long, requires = "suppress_allowed")]
    pub apply: bool,
}

impl Args {
    /// The scan options: the source, and the suppression.
    fn scan_options(&self) -> anyhow::Result<ScanOptions> {
        let targets = self.fleet.target_options();
        let source = if let Some(name) = &self.aggregator {
            immutag_aws::config_query::check_aggregator_name(name)?;
            ScanSource::Aggregator {
                name: name.clone(),
                filter: QueryFilter {
                    accounts: match targets.accounts {
                        AccountSelection::Listed(a) => a,
                        _ => Vec::new(),
                    },
                    regions: match targets.regions {
                        RegionSelection::Listed(r) => r,
                        _ => Vec::new(),
                    },
                },
            }
        } else if self.config_query {
            ScanSource::ConfigQuery(targets)
        } else {
            ScanSource::Live(targets)
        };
        Ok(ScanOptions {
            source,
            suppress_allowed: self.suppress_allowed.then_some(self.apply),
        })
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let params =
        command_line_params(&args.params, args.params_file.as_deref())?.unwrap_or_default();
    args.fleet.validate()?;
    let opts = args.scan_options()?;
    let session_opts = args.fleet.session_options();

    let runtime = fleet::runtime()?;
    let bar = Bar::new(args.fleet.no_progress, "scanning");
    let result = runtime.block_on(async {
        let base = immutag_aws::session::load(&session_opts).await;
        immutag_aws::scan::scan(&base, &opts, &params, &bar).await
    });
    bar.clear();
    let report = result.map_err(fleet::setup_error)?;

    let evals = &report.evaluations;
    let color = args.output == Format::Table && args.color.enabled_for_stdout();
    let render = RenderOptions {
        color,
        width: output::table::terminal_width(),
    };
    fleet::with_stdout(|out| output::render(evals, args.output, &render, out))?;

    crate::output::progress::report_warnings(&report.warnings);
    crate::output::progress::report_failures(&report.failures, &report.skipped);
    crate::output::progress::report_dropped(&report.dropped);
    report_recorded(&report, args.aggregator.as_deref());
    report_suppression(&report);
    let templates = evals
        .iter()
        .filter(|e| e.resource_type.template().is_some())
        .count();
    let registries = evals
        .iter()
        .filter(|e| e.resource_type == immutag_core::ResourceType::Registry)
        .count();
    eprintln!(
        "immutag: scanned {} account/region(s), {} repositories, {templates} creation template(s){}{}",
        report.targets.len(),
        evals.len() - templates - registries,
        if registries > 0 {
            format!(", {registries} registry coverage finding(s)")
        } else {
            String::new()
        },
        match report.dropped.len() {
            0 => String::new(),
            n => format!(" ({n} deleted while being read, left out)"),
        }
    );
    Ok(exit::of_report(
        report.incomplete(),
        Counts::of(evals).non_compliant > 0,
    ))
}

/// What a recorded source could not see, and the calls it made (stderr).
fn report_recorded(report: &ScanReport, aggregator: Option<&str>) {
    let store = aggregator
        .map(|a| format!("aggregator {}", printable(a)))
        .unwrap_or_else(|| "the account's Config".to_owned());
    for n in &report.no_data {
        eprintln!(
            "immutag: note: {store} has no recorded data for {n}: its repositories are absent (Config does not record there, or it is not aggregated)"
        );
    }
    if let Some(c) = &report.calls {
        eprintln!(
            "immutag: read Config's recorded state ({store}): {} select page(s), {} batch read(s), {} coverage call(s); it lags the live state by minutes",
            c.select_pages, c.batch_reads, c.coverage
        );
    }
}

/// What --suppress-allowed would do or did (stderr: stdout holds the evaluations).
fn report_suppression(report: &ScanReport) {
    let Some(s) = &report.suppression else {
        return;
    };
    let verb = if s.applied {
        "SUPPRESS"
    } else {
        "WOULD SUPPRESS"
    };
    for x in &s.suppressions {
        eprintln!(
            "immutag: {verb} {} ({})",
            printable(&x.finding_id),
            printable(&x.repository.to_string())
        );
    }
    if let Some(u) = &s.update {
        for f in &u.unprocessed {
            eprintln!(
                "immutag: error: finding {} not updated: {}: {}",
                printable(&f.id),
                printable(f.code.as_deref().unwrap_or("error")),
                printable(&f.message)
            );
        }
    }
    let done = s
        .update
        .as_ref()
        .map(|u| {
            format!(
                ", {} suppressed, {} not updated",
                u.processed.len(),
                u.unprocessed.len()
            )
        })
        .unwrap_or_else(|| {
            if s.applied {
                String::new()
            } else {
                "; dry run: re-run with --apply to suppress them".to_owned()
            }
        });
    eprintln!(
        "immutag: security hub: {} open ECR.2 finding(s) read, {} of compliant repositories{done}",
        s.findings_read,
        s.suppressions.len()
    );
}
