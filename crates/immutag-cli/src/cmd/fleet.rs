//! What the commands that read AWS share: which accounts and regions to read (the targets),
//! how to reach them, the async runtime, stdout, and the errors that stop a run (the progress
//! bar and the failure notes are [`crate::output::progress`]).

use clap::builder::TypedValueParser;
use std::io::{self, Write};

use anyhow::Context;
use immutag_aws::AwsError;
use immutag_aws::session::{self, DEFAULT_ROLE_NAME, SessionOptions};
use immutag_aws::targets::{AccountSelection, DEFAULT_CONCURRENCY, RegionSelection, TargetOptions};
use immutag_core::text::printable;

/// Accounts, regions and credentials.
#[derive(Debug, Clone, clap::Args)]
pub struct FleetArgs {
    /// Read every ACTIVE account of the organization (organizations:ListAccounts; run with
    /// the management account or a delegated administrator).
    #[arg(long, conflicts_with = "accounts")]
    pub org: bool,

    /// Read these accounts (comma-separated 12-digit ids). Default: the caller's account.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub accounts: Vec<String>,

    /// The role assumed in every account other than the caller's
    /// (arn:PARTITION:iam::ACCOUNT:role/ROLE).
    #[arg(long, default_value = DEFAULT_ROLE_NAME, value_name = "ROLE")]
    pub role_name: String,

    /// Read these regions (comma-separated). Default: the configured region (AWS_REGION or
    /// the profile's).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "REGION,...",
        conflicts_with = "all_regions"
    )]
    pub regions: Vec<String>,

    /// Read every region enabled for each account (ec2:DescribeRegions); regions that are not
    /// opted in are listed as skipped.
    #[arg(long)]
    pub all_regions: bool,

    /// How many (account, region) pairs to read at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256).map(usize::from))]
    pub concurrency: usize,

    /// The AWS profile (default: AWS_PROFILE, else the standard chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// An endpoint for every AWS service (default: AWS_ENDPOINT_URL), e.g. a local emulator.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// Attempts per API call, first included (adaptive retry mode).
    #[arg(long, default_value_t = session::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,

    /// Never draw the progress bar (it is drawn on stderr only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

impl FleetArgs {
    /// The targets to read.
    pub fn target_options(&self) -> TargetOptions {
        TargetOptions {
            accounts: if self.org {
                AccountSelection::Organization
            } else if self.accounts.is_empty() {
                AccountSelection::Current
            } else {
                AccountSelection::Listed(
                    self.accounts.iter().map(|a| a.trim().to_owned()).collect(),
                )
            },
            regions: if self.all_regions {
                RegionSelection::AllEnabled
            } else if self.regions.is_empty() {
                RegionSelection::Configured
            } else {
                RegionSelection::Listed(self.regions.iter().map(|r| r.trim().to_owned()).collect())
            },
            role_name: self.role_name.clone(),
            concurrency: self.concurrency,
        }
    }

    /// The session options.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions {
            profile: self.profile.clone(),
            region: None,
            endpoint_url: self.endpoint_url.clone(),
            max_attempts: Some(self.max_attempts),
        }
    }

    /// True when accounts or regions are selected (a plan or a journal names its own).
    pub fn selects_targets(&self) -> bool {
        self.org || !self.accounts.is_empty() || !self.regions.is_empty() || self.all_regions
    }

    /// Checks the identifiers before any call.
    pub fn validate(&self) -> anyhow::Result<()> {
        for a in &self.accounts {
            immutag_aws::error::check_account_id(a.trim()).context("--accounts")?;
        }
        for r in &self.regions {
            immutag_aws::error::check_region(r.trim()).context("--regions")?;
        }
        immutag_aws::error::check_role_name(&self.role_name).context("--role-name")?;
        Ok(())
    }
}

/// The flags of a run that may change repositories (`remediate`, `rollback`).
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Make the changes. Without it, nothing is changed: the command prints what would be.
    #[arg(long)]
    pub apply: bool,

    /// The journal to write (JSON lines, created with mode 0600). Default:
    /// `immutag-journal-YYYYMMDDTHHMMSSZ.jsonl` (`immutag-rollback-journal-...` for a rollback)
    /// in the current directory. An existing file is refused unless `--append-journal` is
    /// given.
    #[arg(long, value_name = "PATH")]
    pub journal: Option<std::path::PathBuf>,

    /// Add to the journal named by `--journal` when it exists.
    #[arg(long, requires = "journal")]
    pub append_journal: bool,
}

impl RunArgs {
    /// The run options, with the concurrency and role of `fleet`.
    pub fn run_options(&self, fleet: &FleetArgs) -> immutag_aws::remediate::RunOptions {
        use immutag_aws::journal::JournalMode;
        immutag_aws::remediate::RunOptions {
            apply: self.apply,
            journal: immutag_aws::remediate::JournalTarget {
                path: self.journal.clone(),
                mode: if self.append_journal {
                    JournalMode::Append
                } else {
                    JournalMode::Create
                },
            },
            concurrency: fleet.concurrency,
            role_name: fleet.role_name.clone(),
        }
    }
}

/// A multi-threaded tokio runtime.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `write` against a buffered stdout; a closed pipe (`| head`) is not an error.
pub fn with_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("writing the output"),
    }
}

/// Turns an AWS error that stops the whole run into a message that says what to check; the
/// run is incomplete (exit 3).
pub fn setup_error(e: AwsError) -> anyhow::Error {
    let hint = match &e {
        AwsError::Api { operation, .. } if operation.starts_with("sts:GetCallerIdentity") => {
            " (check the credentials: AWS_PROFILE / --profile, or `aws sts get-caller-identity`)"
        }
        AwsError::Api { operation, .. } if operation.starts_with("organizations:") => {
            " (--org needs the management account or a delegated administrator, with organizations:ListAccounts)"
        }
        _ => "",
    };
    crate::exit::incomplete(anyhow::anyhow!("{}{hint}", printable(&e.to_string())))
}
