//! Exit codes shared by every subcommand.

/// Everything compliant or not applicable; no findings.
pub const OK: u8 = 0;
/// At least one finding: a non-compliant resource, a policy finding, a failed change.
pub const FINDINGS: u8 = 1;
/// Usage or input error: the message names the file and what was wrong.
pub const USAGE: u8 = 2;
