//! The limits AWS puts on policies (`aws-facts.md` §2): what the generator packs into and
//! the linter measures against. No dependency on the rest of the crate.

/// The largest SCP AWS Organizations accepts, in bytes of the uploaded (minified) JSON
/// (`aws-facts.md` §2: 5,120 characters; immutag counts UTF-8 bytes, which is never less).
pub const SCP_MAX_BYTES: usize = 5120;

/// The largest customer-managed identity policy IAM accepts, in characters (whitespace not
/// counted by IAM for identity policies; immutag compares the minified size).
pub const IDENTITY_POLICY_MAX_BYTES: usize = 6144;

/// At most this many SCPs can be attached directly to one root, OU or account
/// (`FullAWSAccess` usually being one of them).
pub const MAX_SCPS_PER_TARGET: u8 = 5;
