//! What a run over AWS writes to stderr: the progress bar (drawn only on a terminal), the
//! account-regions and repositories that could not be read, what was skipped, repositories
//! deleted while read, and what an endpoint does not implement. Control characters are
//! escaped everywhere.

use std::io::{self, IsTerminal};

use immutag_aws::AwsError;
use immutag_aws::targets::{Failure, Progress, Skipped, Target, Warning};
use immutag_core::text::printable;

/// An indicatif bar on stderr with `template`, drawn only when stderr is a terminal and
/// `hidden` is false.
pub fn stderr_bar(hidden: bool, template: &str) -> indicatif::ProgressBar {
    let target = if hidden || !io::stderr().is_terminal() {
        indicatif::ProgressDrawTarget::hidden()
    } else {
        indicatif::ProgressDrawTarget::stderr()
    };
    let bar = indicatif::ProgressBar::with_draw_target(None, target);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub struct Bar {
    bar: indicatif::ProgressBar,
}

impl Bar {
    /// A bar (hidden when `hidden` or when stderr is not a terminal).
    pub fn new(hidden: bool, what: &str) -> Self {
        let bar = stderr_bar(
            hidden,
            "{spinner} {msg} [{bar:30}] {pos}/{len} account-regions ({elapsed})",
        );
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Self { bar }
    }

    /// Removes the bar.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, targets: usize) {
        self.bar.set_length(targets as u64);
    }

    fn finish(&self, target: &Target, result: Result<usize, &AwsError>) {
        self.bar.inc(1);
        if let Err(e) = result {
            self.bar.suspend(|| {
                eprintln!(
                    "immutag: error: {}/{}: {}",
                    target.account_id,
                    target.region,
                    printable(&e.to_string())
                );
            });
        }
    }
}

/// Writes what could not be read, and what was skipped, to stderr; returns whether anything
/// failed.
pub fn report_failures(failures: &[Failure], skipped: &[Skipped]) -> bool {
    for s in skipped {
        eprintln!(
            "immutag: note: {}/{}: skipped, {}",
            s.account_id,
            s.region,
            printable(&s.reason)
        );
    }
    if failures.is_empty() {
        return false;
    }
    eprintln!(
        "immutag: {} account/region(s) or repositories could not be read:",
        failures.len()
    );
    for f in failures {
        eprintln!("  {}: {}", failure_label(f), printable(&f.error));
    }
    true
}

/// Writes a note to stderr for each repository deleted while it was being read (listed,
/// then not found), which the run left out (control characters escaped).
pub fn report_dropped(dropped: &[immutag_core::change::RepoKey]) {
    for d in dropped {
        eprintln!(
            "immutag: note: {}/{}/{}: deleted while being read, left out",
            printable(d.account.as_deref().unwrap_or("-")),
            printable(d.region.as_deref().unwrap_or("-")),
            printable(&d.repository)
        );
    }
}

/// Writes what the endpoints do not implement (not checked; not a failure) to stderr, one line
/// per account and region.
pub fn report_warnings(warnings: &[Warning]) {
    for w in warnings {
        eprintln!(
            "immutag: warning: {}/{}: {}",
            printable(&w.account_id),
            printable(&w.region),
            printable(&w.message)
        );
    }
}

/// `account/region/repository` with the parts known (control characters escaped).
pub fn failure_label(f: &Failure) -> String {
    let label = [&f.account_id, &f.region, &f.repository]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect::<Vec<_>>()
        .join("/");
    printable(&label).into_owned()
}
