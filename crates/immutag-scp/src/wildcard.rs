//! IAM-style wildcard matching (`*` any run of characters, `?` any one character), used
//! to expand action patterns and to test principal patterns.

/// True when `pattern` matches the whole of `text`. `*` matches any run (possibly empty),
/// `?` exactly one character; ASCII case is ignored when `ignore_case` (IAM action names
/// are case-insensitive, ARNs are not).
///
/// ```
/// use immutag_scp::wildcard::matches;
/// assert!(matches("ecr:Put*", "ecr:PutImageTagMutability", true));
/// assert!(matches("ECR:*Mutability", "ecr:PutImageTagMutability", true));
/// assert!(matches("arn:aws:iam::*:role/Immutag?latform", "arn:aws:iam::111122223333:role/ImmutagPlatform", false));
/// assert!(!matches("arn:aws:iam::*:role/ImmutagPlatform", "arn:aws:iam::1:role/immutagplatform", false));
/// ```
pub fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || eq(p[pi], t[ti])) {
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

/// True when the text contains a wildcard character.
pub fn has_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn basics() {
        assert!(matches("*", "", false));
        assert!(matches("a*b*c", "a-b-c", false));
        assert!(!matches("a?", "a", false));
        assert!(matches("a?", "ab", false));
        assert!(!matches("ab", "abc", false));
    }

    proptest! {
        #[test]
        fn literal_pattern_matches_only_itself(a in "[a-z:/]{0,12}", b in "[a-z:/]{0,12}") {
            prop_assert_eq!(matches(&a, &b, false), a == b);
        }

        #[test]
        fn star_prefix_matches_every_suffix(prefix in "[a-z]{0,6}", rest in "[a-z]{0,6}") {
            let pattern = format!("{prefix}*");
            let text = format!("{prefix}{rest}");
            prop_assert!(matches(&pattern, &text, false));
        }
    }
}
