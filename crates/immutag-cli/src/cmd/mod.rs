//! One module per subcommand.

pub mod schema;
pub mod scp;
