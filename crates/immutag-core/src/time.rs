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

/// Parses a moment given on a command line (`--since`, `--until`, `--at`): an RFC 3339
/// timestamp, a date (`2026-11-20`, midnight UTC), or a duration before `now` made of a
/// number and a unit (`30d`, `12h`, `90m`, `2w`, `45s`). The caller passes `now`: this module
/// never reads the clock.
///
/// ```
/// use immutag_core::time::{self, Timestamp};
/// let now: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
/// assert_eq!(time::format(time::parse_moment("30d", now).unwrap()), "2026-10-27T12:00:00Z");
/// assert_eq!(time::format(time::parse_moment("2026-11-20", now).unwrap()), "2026-11-20T00:00:00Z");
/// assert_eq!(time::format(time::parse_moment("2026-11-26T10:00:00Z", now).unwrap()), "2026-11-26T10:00:00Z");
/// assert!(time::parse_moment("last week", now).is_err());
/// ```
pub fn parse_moment(text: &str, now: Timestamp) -> Result<Timestamp, TimeError> {
    let t = text.trim();
    let err = |problem: &str| TimeError {
        text: crate::text::printable(text).into_owned(),
        problem: problem.to_owned(),
    };
    if let Some(unit) = t.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let digits = &t[..t.len() - unit.len_utf8()];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let n: i64 = digits
                .parse()
                .map_err(|_| err("the number of a relative time is too large"))?;
            let secs = match unit {
                's' => Some(1),
                'm' => Some(60),
                'h' => Some(3_600),
                'd' => Some(86_400),
                'w' => Some(604_800),
                _ => None,
            }
            .ok_or_else(|| {
                err("a relative time takes the unit s, m, h, d or w (for example 30d)")
            })?;
            let back = n
                .checked_mul(secs)
                .and_then(|s| jiff::SignedDuration::from_secs(s).checked_neg())
                .ok_or_else(|| err("the relative time is too large"))?;
            return now
                .checked_add(back)
                .map_err(|_| err("the relative time reaches before the year -9999"));
        }
    }
    if t.len() == 10
        && let Ok(date) = t.parse::<jiff::civil::Date>()
    {
        return date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| err(&e.to_string()));
    }
    t.parse::<Timestamp>().map_err(|e| {
        err(&format!(
            "{e} (also accepted: a date such as 2026-11-20, or a time before now such as 30d, 12h)"
        ))
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

    #[test]
    fn parses_moments() {
        let now = parse("2026-11-26T12:00:00Z").unwrap();
        let at = |s: &str| parse_moment(s, now).map(format);
        assert_eq!(at("45s").unwrap(), "2026-11-26T11:59:15Z");
        assert_eq!(at("90m").unwrap(), "2026-11-26T10:30:00Z");
        assert_eq!(at("12h").unwrap(), "2026-11-26T00:00:00Z");
        assert_eq!(at(" 2w ").unwrap(), "2026-11-12T12:00:00Z");
        assert_eq!(at("0d").unwrap(), "2026-11-26T12:00:00Z");
        assert_eq!(at("2026-02-28").unwrap(), "2026-02-28T00:00:00Z");
        assert_eq!(
            at("2026-11-26T13:00:00+01:00").unwrap(),
            "2026-11-26T12:00:00Z"
        );
        for bad in [
            "30y",
            "d",
            "-3d",
            "99999999999999999999d",
            "9999999999999d",
            "2026-02-30",
            "soon",
            "",
        ] {
            assert!(at(bad).is_err(), "{bad}");
        }
        assert!(
            at("30y")
                .unwrap_err()
                .to_string()
                .contains("s, m, h, d or w")
        );
        assert!(at("x\u{1b}").unwrap_err().to_string().contains("\\u{1b}"));
    }
}
