//! One module per subcommand.

pub mod completions;
pub mod evaluate;
pub mod evidence;
pub mod fleet;
pub mod history;
pub mod man;
pub mod pins;
pub mod plan;
pub mod remediate;
pub mod rollback;
pub mod scan;
pub mod schema;
pub mod scp;
