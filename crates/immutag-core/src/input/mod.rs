//! Reading input shapes into [`Repository`] values.
//!
//! Each shape has its own module; [`parse`] detects the shape from the content unless told.
//! All parsers take bytes, never panic on input, and return an [`InputError`] that names
//! the problem.
//!
//! | module | shape |
//! |---|---|
//! | [`config`] | AWS Config rule event, invoking event, configuration items (invocation and API form) |
//! | [`ecr`] | ECR DescribeRepositories / CreateRepository output, repository objects |
//! | [`cloudformation`] | CloudFormation templates (JSON, YAML with short-form tags), CDK `cdk.out` |
//! | [`terraform`] | Terraform plan / state JSON (`terraform show -json`) |
//! | [`detect`] | content sniffing for [`InputFormat::Auto`] |
//!
//! ```
//! use immutag_core::input::{parse, InputFormat};
//! use immutag_core::{evaluate, Compliance, InputKind, RuleParameters};
//!
//! let bytes = br#"{"repositories":[{"repositoryName":"api","imageTagMutability":"MUTABLE"}]}"#;
//! let parsed = parse(bytes, InputFormat::Auto, Some("repos.json")).unwrap();
//! assert_eq!(parsed.kind, InputKind::Ecr);
//! let params = parsed.rule_parameters.clone().unwrap_or_default();
//! let e = evaluate(&parsed.repositories[0], &params);
//! assert_eq!(e.compliance, Compliance::NonCompliant);
//! ```

use std::str::FromStr;

use crate::error::InputError;
use crate::model::{InputKind, Repository};
use crate::params::RuleParameters;

mod cfn_yaml;
pub mod cloudformation;
pub mod config;
pub mod detect;
pub mod ecr;
pub(crate) mod shared;
pub mod terraform;

/// The largest input accepted, in bytes (a CloudFormation template is at most 1 MB; a plan
/// or a describe-repositories dump of a large registry can be bigger).
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// Which shape to read the input as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// Detect from the content.
    #[default]
    Auto,
    /// A specific shape.
    Kind(InputKind),
}

impl FromStr for InputFormat {
    type Err = String;

    /// Parses the command-line spelling: `auto`, `config`, `ecr`, `cloudformation` (or
    /// `cfn`), `terraform` (or `tf`).
    ///
    /// ```
    /// use immutag_core::input::InputFormat;
    /// use immutag_core::InputKind;
    /// assert_eq!("cfn".parse::<InputFormat>().unwrap(), InputFormat::Kind(InputKind::Cloudformation));
    /// assert!("xml".parse::<InputFormat>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Self::Auto,
            "config" => Self::Kind(InputKind::Config),
            "ecr" => Self::Kind(InputKind::Ecr),
            "cloudformation" | "cfn" => Self::Kind(InputKind::Cloudformation),
            "terraform" | "tf" => Self::Kind(InputKind::Terraform),
            other => {
                return Err(format!(
                    "unknown input format `{other}`; use auto, config, ecr, cloudformation or terraform"
                ));
            }
        })
    }
}

/// What one input holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The shape that was read.
    pub kind: InputKind,
    /// The repositories (and other recorded resources) found, in document order.
    pub repositories: Vec<Repository>,
    /// The rule parameters carried by a whole Config rule event, if the input was one.
    pub rule_parameters: Option<RuleParameters>,
}

impl Parsed {
    fn of(kind: InputKind, repositories: Vec<Repository>) -> Self {
        Self {
            kind,
            repositories,
            rule_parameters: None,
        }
    }
}

/// Parses `bytes` (from `file`, used only to label sources and errors).
///
/// Inputs over [`MAX_INPUT_BYTES`] are refused; a UTF-8 byte order mark is skipped.
pub fn parse(bytes: &[u8], format: InputFormat, file: Option<&str>) -> Result<Parsed, InputError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let kind = match format {
        InputFormat::Kind(kind) => kind,
        InputFormat::Auto => match detect::sniff(bytes)? {
            detect::Sniffed::Json(kind) => kind,
            detect::Sniffed::Yaml => {
                return Ok(Parsed::of(
                    InputKind::Cloudformation,
                    cloudformation::parse_yaml(bytes, file, true)?,
                ));
            }
        },
    };
    match kind {
        InputKind::Config => {
            let c = config::parse(bytes, file)?;
            Ok(Parsed {
                kind,
                repositories: c.repositories,
                rule_parameters: c.rule_parameters,
            })
        }
        InputKind::Ecr => Ok(Parsed::of(kind, ecr::parse(bytes, file)?)),
        InputKind::Cloudformation => Ok(Parsed::of(kind, cloudformation::parse(bytes, file)?)),
        InputKind::Terraform => Ok(Parsed::of(kind, terraform::parse(bytes, file)?)),
        InputKind::Live | InputKind::ConfigAggregator | InputKind::ConfigQuery => {
            Err(InputError::Undetected(format!(
                "`{}` is not a file format: it names repositories read from AWS by immutag itself",
                kind.as_str()
            )))
        }
    }
}
