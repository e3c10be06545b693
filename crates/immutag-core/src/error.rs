//! The errors of immutag-core.

use thiserror::Error;

/// A rule parameter that could not be accepted. Every variant names the key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParamError {
    /// The parameters are not a JSON object of strings.
    #[error("rule parameters are not a JSON object of strings: {0}")]
    NotAnObject(String),
    /// A key the rule does not know.
    #[error("unknown rule parameter `{key}`; known parameters: {known}")]
    UnknownKey {
        /// The key as given.
        key: String,
        /// The known keys, comma-separated.
        known: String,
    },
    /// A value that is not a string.
    #[error(
        "rule parameter `{key}` must be a string (Config passes every value as a string), got {found}"
    )]
    NotAString {
        /// The key.
        key: String,
        /// A description of what was found.
        found: String,
    },
    /// A malformed value.
    #[error("rule parameter `{key}`: {problem}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong and what is expected.
        problem: String,
    },
}

/// An input that could not be read as any supported shape.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InputError {
    /// Not valid JSON / YAML.
    #[error("{format} syntax error{}: {message}", location.as_ref().map(|l| format!(" at {l}")).unwrap_or_default())]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// `line L column C`, when known.
        location: Option<String>,
        /// The parser's message.
        message: String,
    },
    /// The content does not look like any supported input shape.
    #[error("cannot tell what this input is: {0}. Use --input config|ecr|cloudformation|terraform")]
    Undetected(String),
    /// The content is of the expected shape but a required member is missing or of the
    /// wrong type.
    #[error("{shape}: {problem} (at {pointer})")]
    Shape {
        /// The input shape being read.
        shape: &'static str,
        /// A JSON pointer to the offending member.
        pointer: String,
        /// What is wrong.
        problem: String,
    },
    /// The input is a Config event that carries no configuration item; the rule would
    /// have to fetch it from AWS.
    #[error("{0}")]
    NeedsAws(String),
    /// The input is larger than immutag accepts.
    #[error("input is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Rule parameters embedded in the input are invalid.
    #[error("ruleParameters: {0}")]
    Params(#[from] ParamError),
}
