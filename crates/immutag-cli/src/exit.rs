//! Exit codes shared by every subcommand: one meaning everywhere.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | nothing to report: everything compliant or not applicable, every change made |
//! | 1 | findings: a non-compliant resource, a policy finding, a moved tag, an unpinned image |
//! | 2 | usage or input error: the message names the flag or the file and what was wrong |
//! | 3 | incomplete: some targets could not be read or changed; the rest is printed and the failures listed |

/// Nothing to report.
pub const OK: u8 = 0;
/// At least one finding.
pub const FINDINGS: u8 = 1;
/// Usage or input error: the message names the file and what was wrong.
pub const USAGE: u8 = 2;
/// Incomplete: some accounts, regions or repositories could not be read or changed (the rest
/// is printed, the failures are listed on stderr and in the report).
pub const INCOMPLETE: u8 = 3;

/// An error after which the run is incomplete (AWS could not be read or changed at all): the
/// binary exits [`INCOMPLETE`] rather than [`USAGE`].
#[derive(Debug)]
pub struct Incomplete(pub anyhow::Error);

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for Incomplete {}

/// Marks `e` as leaving the run incomplete (exit 3).
pub fn incomplete(e: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(Incomplete(e))
}

/// The exit code of an error that stopped a command: [`INCOMPLETE`] for an [`Incomplete`]
/// one, [`USAGE`] (a usage or input error) for any other.
pub fn of_error(e: &anyhow::Error) -> u8 {
    if e.chain().any(|c| c.downcast_ref::<Incomplete>().is_some()) {
        INCOMPLETE
    } else {
        USAGE
    }
}

/// The exit code of a report: [`INCOMPLETE`] when something could not be read or changed,
/// else [`FINDINGS`] when there are findings, else [`OK`].
pub fn of_report(incomplete: bool, findings: bool) -> u8 {
    if incomplete {
        INCOMPLETE
    } else if findings {
        FINDINGS
    } else {
        OK
    }
}
