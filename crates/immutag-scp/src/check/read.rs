//! The linter's reader: text in, a parsed policy (or an error that says why) out. The one
//! entry point for untrusted policy text ([`read_policy`]), so that it can be fuzzed alone.

use crate::error::ScpError;
use crate::policy::PolicyDocument;

/// A policy document read from text, with the sizes the limits are judged on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPolicy {
    /// The document.
    pub document: PolicyDocument,
    /// Size of the document's text as given (unwrapped from a CLI output), in bytes.
    pub raw_bytes: usize,
    /// Size of that text minified (whitespace removed, everything else kept), in bytes.
    pub minified_bytes: usize,
}

/// Reads a JSON policy document: a bare document, or the output of
/// `aws organizations describe-policy` (`Policy.Content`, a JSON string) or of
/// `aws iam get-policy-version` (`PolicyVersion.Document`, a string or an object).
///
/// Errors ([`ScpError::PolicyParse`]) when the text is not JSON or not a policy document;
/// the message names the element that is wrong. Never panics, whatever the input.
///
/// ```
/// use immutag_scp::check::read_policy;
/// let p = read_policy(r#"{"Policy":{"Content":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}}"#).unwrap();
/// assert_eq!(p.document.statements().count(), 0);
/// assert_eq!(p.minified_bytes, p.raw_bytes);
/// assert!(read_policy("{").is_err());
/// assert!(read_policy(r#"{"Policy":{"Content":7}}"#).is_err());
/// ```
pub fn read_policy(text: &str) -> Result<ParsedPolicy, ScpError> {
    let outer: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ScpError::PolicyParse(e.to_string()))?;
    let inner: Option<String> = if outer.get("Statement").is_some() {
        None
    } else if let Some(content) = outer.pointer("/Policy/Content") {
        Some(
            content
                .as_str()
                .ok_or_else(|| ScpError::PolicyParse("Policy.Content is not a string".to_owned()))?
                .to_owned(),
        )
    } else if let Some(document) = outer.pointer("/PolicyVersion/Document") {
        Some(match document.as_str() {
            Some(s) => s.to_owned(),
            None => serde_json::to_string(document).map_err(|e| ScpError::Render(e.to_string()))?,
        })
    } else {
        None
    };
    let text = inner.as_deref().unwrap_or(text);
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ScpError::PolicyParse(e.to_string()))?;
    let document = PolicyDocument::from_json(text)?;
    let minified_bytes = serde_json::to_string(&value)
        .map_err(|e| ScpError::Render(e.to_string()))?
        .len();
    Ok(ParsedPolicy {
        document,
        raw_bytes: text.len(),
        minified_bytes,
    })
}
