//! One module per subcommand.

pub mod evaluate;
pub mod fleet;
pub mod remediate;
pub mod rollback;
pub mod schema;
