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
//! | [`locate`] | the line of a JSON pointer, the members of a JSON object (the one JSON line locator) |
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
use crate::evaluate::{Evaluation, evaluate};
use crate::model::{InputKind, Repository};
use crate::params::RuleParameters;

mod cfn_yaml;
pub mod cloudformation;
pub mod config;
pub mod detect;
pub mod ecr;
pub mod locate;
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

/// How to read an input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The shape, or [`InputFormat::Auto`] to detect it.
    pub format: InputFormat,
    /// Values of CloudFormation template parameters for the deployment (`--cfn-parameters`).
    pub cfn_parameters: cloudformation::Parameters,
}

impl ReadOptions {
    /// Options that read `format` with no deployment values.
    pub fn of(format: InputFormat) -> Self {
        Self {
            format,
            cfn_parameters: cloudformation::Parameters::default(),
        }
    }
}

/// Parses `bytes` (from `file`, used only to label sources and errors).
///
/// Inputs over [`MAX_INPUT_BYTES`] are refused; a UTF-8 byte order mark is skipped. The
/// repositories of JSON inputs carry the line of their resource.
pub fn parse(bytes: &[u8], format: InputFormat, file: Option<&str>) -> Result<Parsed, InputError> {
    parse_with(bytes, file, &ReadOptions::of(format))
}

/// [`parse`] with all the [`ReadOptions`].
pub fn parse_with(
    bytes: &[u8],
    file: Option<&str>,
    opts: &ReadOptions,
) -> Result<Parsed, InputError> {
    let (bytes, shape) = shape_of(bytes, opts.format)?;
    let deployed = &opts.cfn_parameters;
    let mut parsed = match shape {
        Shape::Yaml => {
            let mut repos = Vec::new();
            cloudformation::read_sniffed_yaml(bytes, file, deployed, &mut |r| repos.push(r))?;
            return Ok(Parsed::of(InputKind::Cloudformation, repos));
        }
        Shape::Kind(kind) => parse_kind(bytes, kind, file, deployed)?,
    };
    locate::fill_json_lines(bytes, &mut parsed.repositories);
    Ok(parsed)
}

/// Reads one input and evaluates every resource in it, in document order, handing each
/// verdict to `sink` as soon as it is made: a CloudFormation template is read resource by
/// resource, so memory stays about the size of the input. `params` (the command line's)
/// replace the rule parameters a whole Config rule event carries; without either, the
/// defaults apply. Nothing reaches `sink` when the input does not read. Returns the number
/// of verdicts.
///
/// ```
/// use immutag_core::input::{evaluate_input, ReadOptions};
/// use immutag_core::Compliance;
/// let template = br#"{"Resources":{"Api":{"Type":"AWS::ECR::Repository","Properties":{"ImageTagMutability":"MUTABLE"}}}}"#;
/// let mut verdicts = Vec::new();
/// evaluate_input(template, Some("t.json"), &ReadOptions::default(), None, &mut |e| verdicts.push(e)).unwrap();
/// assert_eq!(verdicts[0].compliance, Compliance::NonCompliant);
/// assert_eq!(verdicts[0].source.line, Some(1));
/// ```
pub fn evaluate_input(
    bytes: &[u8],
    file: Option<&str>,
    opts: &ReadOptions,
    params: Option<&RuleParameters>,
    sink: &mut dyn FnMut(Evaluation),
) -> Result<usize, InputError> {
    let (bytes, shape) = shape_of(bytes, opts.format)?;
    let defaults = RuleParameters::default();
    let deployed = &opts.cfn_parameters;
    let given = params.unwrap_or(&defaults);
    match shape {
        Shape::Yaml => cloudformation::read_sniffed_yaml(bytes, file, deployed, &mut |r| {
            sink(evaluate(&r, given))
        }),
        Shape::Kind(InputKind::Cloudformation) => {
            cloudformation::read(bytes, file, deployed, &mut |r| sink(evaluate(&r, given)))
        }
        Shape::Kind(kind) => {
            let mut parsed = parse_kind(bytes, kind, file, deployed)?;
            locate::fill_json_lines(bytes, &mut parsed.repositories);
            let params = params
                .or(parsed.rule_parameters.as_ref())
                .unwrap_or(&defaults);
            for repo in &parsed.repositories {
                sink(evaluate(repo, params));
            }
            Ok(parsed.repositories.len())
        }
    }
}

/// What an input turned out to be.
enum Shape {
    /// Not JSON: read as a YAML CloudFormation template (only that YAML shape is known).
    Yaml,
    /// A JSON input of this shape, or the shape asked for.
    Kind(InputKind),
}

/// Checks the size, strips a byte order mark and decides the shape.
fn shape_of(bytes: &[u8], format: InputFormat) -> Result<(&[u8], Shape), InputError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            size: bytes.len(),
            limit: MAX_INPUT_BYTES,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let shape = match format {
        InputFormat::Kind(kind) => Shape::Kind(kind),
        InputFormat::Auto => match detect::sniff(bytes)? {
            detect::Sniffed::Json(kind) => Shape::Kind(kind),
            detect::Sniffed::Yaml => Shape::Yaml,
        },
    };
    Ok((bytes, shape))
}

fn parse_kind(
    bytes: &[u8],
    kind: InputKind,
    file: Option<&str>,
    deployed: &cloudformation::Parameters,
) -> Result<Parsed, InputError> {
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
        InputKind::Cloudformation => Ok(Parsed::of(
            kind,
            cloudformation::parse_with(bytes, file, deployed)?,
        )),
        InputKind::Terraform => Ok(Parsed::of(kind, terraform::parse(bytes, file)?)),
        InputKind::Live | InputKind::ConfigAggregator | InputKind::ConfigQuery => {
            Err(InputError::Undetected(format!(
                "`{}` is not a file format: it names repositories read from AWS by immutag itself",
                kind.as_str()
            )))
        }
    }
}
