//! Wildcard matching for exclusion filters and repository name patterns.
//!
//! The exact algorithm ECR uses is not documented (see `aws-facts.md` §3), so immutag
//! treats `*` as "any run of characters, possibly empty", requires the whole text to match,
//! and treats every other character literally (case-sensitive: ECR tags are).

/// True when `pattern` matches the whole of `text`; `*` matches any run of characters.
///
/// ```
/// use immutag_core::wildcard::matches;
/// assert!(matches("latest", "latest"));
/// assert!(matches("dev-*", "dev-1234"));
/// assert!(matches("*-rc*", "1.2.0-rc1"));
/// assert!(!matches("dev-*", "prod-dev-1"));
/// assert!(!matches("latest", "Latest"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    // Iterative glob match with single-star backtracking: O(len(p) * len(t)) worst case,
    // no recursion, no allocation.
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// True when `pattern` matches every possible text: it is non-empty and made of `*` only.
///
/// ```
/// use immutag_core::wildcard::is_catch_all;
/// assert!(is_catch_all("*"));
/// assert!(is_catch_all("**"));
/// assert!(!is_catch_all("*-dev"));
/// ```
pub fn is_catch_all(pattern: &str) -> bool {
    !pattern.is_empty() && pattern.chars().all(|c| c == '*')
}

/// True when `filter` is a valid ECR exclusion filter: 1 to 128 characters of
/// `[0-9a-zA-Z._*-]` (the API pattern).
///
/// ```
/// use immutag_core::wildcard::is_valid_filter;
/// assert!(is_valid_filter("release-*"));
/// assert!(!is_valid_filter("feature/x"));
/// assert!(!is_valid_filter(""));
/// ```
pub fn is_valid_filter(filter: &str) -> bool {
    let len = filter.chars().count();
    (1..=128).contains(&len)
        && filter
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '*' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_empty_and_runs() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything"));
        assert!(matches("a*", "a"));
        assert!(matches("a*b*c", "a-b-c"));
        assert!(matches("a*b*c", "abxbc"));
        assert!(!matches("a*b*c", "a-b-"));
        assert!(!matches("", "a"));
        assert!(matches("", ""));
    }

    #[test]
    fn literal_characters_are_literal() {
        assert!(matches("v1.2", "v1.2"));
        assert!(!matches("v1.2", "v1x2"));
        assert!(!matches("latest", "latest2"));
    }

    #[test]
    fn pathological_pattern_terminates() {
        let p = "*a*a*a*a*a*a*a*a*b";
        let t = "a".repeat(200);
        assert!(!matches(p, &t));
    }
}
