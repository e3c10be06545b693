//! `immutag schema`: print the JSON Schemas of the public data types.

use std::io::Write;

use clap::ValueEnum;

/// Arguments of `immutag schema`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Which schema to print.
    #[arg(value_enum)]
    pub which: Which,
}

/// The types whose schema can be printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Which {
    /// Rule parameters, as AWS Config passes them.
    Params,
    /// One evaluation result (an element of `--output json`).
    Evaluation,
    /// The normalized repository model.
    Repository,
    /// The `immutag plan --output json` document (the input of `immutag remediate`).
    Plan,
    /// One image reference and its status (an element of `immutag pins check --output json`).
    Pin,
}

/// Prints the schema to stdout.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let schema = match args.which {
        Which::Params => schemars::schema_for!(immutag_core::RuleParameters),
        Which::Evaluation => schemars::schema_for!(immutag_core::Evaluation),
        Which::Repository => schemars::schema_for!(immutag_core::Repository),
        Which::Plan => schemars::schema_for!(immutag_core::plan::Plan),
        Which::Pin => schemars::schema_for!(immutag_pins::Pin),
    };
    let text = serde_json::to_string_pretty(&schema)?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => {}
        // `immutag schema params | head`: the reader left early.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
    }
    Ok(crate::exit::OK)
}
