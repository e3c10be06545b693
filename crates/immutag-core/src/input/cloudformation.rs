//! CloudFormation templates (placeholder, being written).
use crate::error::InputError;
use crate::model::Repository;

/// Parses a template.
pub fn parse(_bytes: &[u8], _file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    Err(InputError::Undetected(
        "CloudFormation templates are not supported yet".into(),
    ))
}

/// Parses a YAML template.
pub fn parse_yaml(
    _bytes: &[u8],
    _file: Option<&str>,
    _require: bool,
) -> Result<Vec<Repository>, InputError> {
    Err(InputError::Undetected(
        "CloudFormation templates are not supported yet".into(),
    ))
}
