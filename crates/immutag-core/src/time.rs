//! Timestamps: one parser and one formatter of RFC 3339 UTC times for the whole project
//! (plan evidence, Config capture times, journal records, CloudTrail event times).
//!
//! Pure: this module never reads the clock; callers pass the time in.
//!
//! ```
//! use immutag_core::time;
//! assert_eq!(time::rfc3339(0), "1970-01-01T00:00:00Z");
//! assert_eq!(time::rfc3339_millis(1_763_633_730_123).as_deref(), Some("2025-11-20T10:15:30.123Z"));
//! let t = time::parse("2026-11-26T15:22:48Z").unwrap();
//! assert_eq!(t.as_second(), 1_795_706_568);
//! assert!(time::parse("yesterday").unwrap_err().to_string().contains("yesterday"));
//! ```

pub use jiff::Timestamp;

/// A text that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not an RFC 3339 timestamp such as 2026-11-26T15:22:48Z: {problem}")]
pub struct TimeError {
    /// The text, with control characters escaped.
    pub text: String,
    /// The parser's message.
    pub problem: String,
}

/// Parses an RFC 3339 timestamp (`2026-11-26T15:22:48Z`, fractional seconds and offsets
/// allowed).
pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
    text.trim().parse::<Timestamp>().map_err(|e| TimeError {
        text: crate::text::printable(text).into_owned(),
        problem: e.to_string(),
    })
}

/// Formats Unix seconds as RFC 3339 UTC, whole seconds (`2026-11-26T15:04:05Z`). Seconds
/// outside the range of [`Timestamp`] (about the years -9999 to 9999) are clamped to it.
pub fn rfc3339(secs: i64) -> String {
    let t = Timestamp::from_second(secs).unwrap_or(if secs < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    format!("{:.0}", t)
}

/// Formats Unix milliseconds as RFC 3339 UTC with three fractional digits
/// (`2026-11-20T10:15:30.123Z`); `None` before 1970 or after 9999-12-30T22:00:00Z (the
/// last instant every time zone still dates in the year 9999).
pub fn rfc3339_millis(millis: i64) -> Option<String> {
    if millis < 0 {
        return None;
    }
    Timestamp::from_millisecond(millis)
        .ok()
        .map(|t| format!("{:.3}", t))
}

/// Formats a timestamp as RFC 3339 UTC, whole seconds.
pub fn format(t: Timestamp) -> String {
    format!("{:.0}", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        for secs in [0, 951_782_400, 1_795_706_568, 253_402_207_200] {
            let text = rfc3339(secs);
            assert_eq!(parse(&text).unwrap().as_second(), secs, "{text}");
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339_millis(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(rfc3339_millis(-1), None);
        assert_eq!(
            parse("2026-11-26T16:22:48+01:00").unwrap().as_second(),
            1_795_706_568
        );
        assert!(rfc3339(i64::MAX).starts_with("9999-"));
    }
}
