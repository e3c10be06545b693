//! One module per subcommand.

pub mod evaluate;
pub mod fleet;
pub mod plan;
pub mod scan;
pub mod remediate;
pub mod rollback;
pub mod schema;
pub mod scp;
