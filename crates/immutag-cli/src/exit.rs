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
