//! Packs statements into documents of at most [`SCP_MAX_BYTES`], in order.

use crate::error::ScpError;
use crate::limits::SCP_MAX_BYTES;
use crate::policy::{PolicyDocument, Statement};

use super::ServiceControlPolicy;

/// Packs statements, in order, into as few documents of at most [`SCP_MAX_BYTES`] as
/// possible without reordering them.
pub(crate) fn pack(
    name: &str,
    statements: Vec<Statement>,
    max: u8,
) -> Result<Vec<ServiceControlPolicy>, ScpError> {
    let overhead = PolicyDocument::new(Vec::new()).minified_len()?;
    let mut bins: Vec<Vec<Statement>> = Vec::new();
    let mut current: Vec<Statement> = Vec::new();
    let mut current_len = overhead;
    for s in statements {
        let len = s.minified_len()?;
        if overhead + len > SCP_MAX_BYTES {
            return Err(ScpError::StatementTooLarge {
                sid: s.sid.clone().unwrap_or_default(),
                bytes: len,
            });
        }
        let added = len + usize::from(!current.is_empty());
        if current_len + added > SCP_MAX_BYTES {
            bins.push(std::mem::take(&mut current));
            current_len = overhead;
            current.push(s);
            current_len += len;
        } else {
            current.push(s);
            current_len += added;
        }
    }
    if !current.is_empty() {
        bins.push(current);
    }
    if bins.len() > usize::from(max) {
        return Err(ScpError::TooManyPolicies {
            needed: bins.len(),
            max,
        });
    }
    let count = bins.len();
    let mut out = Vec::with_capacity(count);
    for (i, statements) in bins.into_iter().enumerate() {
        let document = PolicyDocument::new(statements);
        let minified_bytes = document.minified_len()?;
        if minified_bytes > SCP_MAX_BYTES {
            // The arithmetic above is exact; this is the fail-closed backstop.
            return Err(ScpError::TooManyPolicies {
                needed: count + 1,
                max,
            });
        }
        out.push(ServiceControlPolicy {
            name: if count == 1 {
                name.to_owned()
            } else {
                format!("{name}-{}", i + 1)
            },
            document,
            minified_bytes,
        });
    }
    Ok(out)
}
