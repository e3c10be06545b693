//! Terraform plans (placeholder, being written).
use crate::error::InputError;
use crate::model::Repository;

/// Parses a plan.
pub fn parse(_bytes: &[u8], _file: Option<&str>) -> Result<Vec<Repository>, InputError> {
    Err(InputError::Undetected(
        "Terraform plans are not supported yet".into(),
    ))
}
