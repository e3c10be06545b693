//! Static expansion of shell-style variables, as Dockerfiles (`ARG`) and Compose files
//! (environment interpolation) write them: `$NAME`, `${NAME}`, `${NAME:-default}`,
//! `${NAME-default}`, `${NAME:+alt}`, `${NAME+alt}`, `${NAME:?message}`, `${NAME?message}`.
//!
//! A variable is *known* when its value is written in the file (an `ARG` default). An unknown
//! variable with a default expands to the default (the value used unless the builder or the
//! environment overrides it); one without a default cannot be expanded, and the reference is
//! UNRESOLVED.

/// How a literal `$` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// `\$` (Dockerfile).
    Backslash(char),
    /// `$$` (Compose).
    Double,
}

/// Nesting limit of `${A:-${B:-...}}`.
const MAX_DEPTH: usize = 8;

/// Expands `text`. `lookup` returns the static value of a known variable, `None` for an
/// unknown one. The error says which variable has no static value.
pub(crate) fn expand(
    text: &str,
    escape: Escape,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    expand_at(text, escape, lookup, 0)
}

/// True when `text` holds anything [`expand`] would change.
pub(crate) fn has_variables(text: &str, escape: Escape) -> bool {
    match escape {
        Escape::Backslash(e) => text.contains('$') || text.contains(e),
        Escape::Double => text.contains('$'),
    }
}

fn expand_at(
    text: &str,
    escape: Escape,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, String> {
    if depth > MAX_DEPTH {
        return Err("variables nested too deeply".to_owned());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Escape::Backslash(e) = escape
            && c == e
        {
            let mut it = rest[c.len_utf8()..].chars();
            match it.next() {
                Some('$') => {
                    out.push('$');
                    rest = &rest[c.len_utf8() + 1..];
                }
                _ => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
            continue;
        }
        if c != '$' {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        if escape == Escape::Double && after.starts_with('$') {
            out.push('$');
            rest = &after[1..];
            continue;
        }
        if let Some(body) = after.strip_prefix('{') {
            let end = closing_brace(body).ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
            out.push_str(&braced(&body[..end], escape, lookup, depth)?);
            rest = &body[end + 1..];
            continue;
        }
        let name_len = name_len(after);
        if name_len == 0 {
            // A lone `$` is kept as written.
            out.push('$');
            rest = after;
            continue;
        }
        let name = &after[..name_len];
        out.push_str(&lookup(name).ok_or_else(|| unknown(name))?);
        rest = &after[name_len..];
    }
    Ok(out)
}

fn unknown(name: &str) -> String {
    format!("variable {name} has no static value")
}

fn name_len(s: &str) -> usize {
    let mut n = 0;
    for (i, b) in s.bytes().enumerate() {
        let ok = b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit());
        if !ok {
            break;
        }
        n += 1;
    }
    n
}

/// Index of the `}` that closes a `${` whose body starts `body`.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in body.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(i),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn braced(
    body: &str,
    escape: Escape,
    lookup: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<String, String> {
    let n = name_len(body);
    if n == 0 {
        return Err(format!("`${{{body}}}` is not a variable"));
    }
    let name = &body[..n];
    let op = &body[n..];
    let value = lookup(name);
    let word = |w: &str| expand_at(w, escape, lookup, depth + 1);
    if op.is_empty() {
        return value.ok_or_else(|| unknown(name));
    }
    let (colon, op) = match op.strip_prefix(':') {
        Some(o) => (true, o),
        None => (false, op),
    };
    let set = |v: &Option<String>| v.as_ref().is_some_and(|v| !(colon && v.is_empty()));
    match op.chars().next() {
        Some('-') => {
            if set(&value) {
                Ok(value.unwrap_or_default())
            } else {
                word(&op[1..])
            }
        }
        Some('+') => match value {
            Some(_) if set(&value) => word(&op[1..]),
            Some(_) => Ok(String::new()),
            None => Err(unknown(name)),
        },
        Some('?') => value.ok_or_else(|| unknown(name)),
        _ => Err(format!("`${{{body}}}`: expansion not supported statically")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(name: &str) -> Option<String> {
        match name {
            "REG" => Some("111122223333.dkr.ecr.eu-west-1.amazonaws.com".into()),
            "TAG" => Some("1.0".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn ex(s: &str) -> Result<String, String> {
        expand(s, Escape::Double, &look)
    }

    #[test]
    fn expands() {
        assert_eq!(
            ex("$REG/app:${TAG}").unwrap(),
            "111122223333.dkr.ecr.eu-west-1.amazonaws.com/app:1.0"
        );
        assert_eq!(ex("app:${NOPE:-2.0}").unwrap(), "app:2.0");
        assert_eq!(ex("app:${EMPTY:-2.0}").unwrap(), "app:2.0");
        assert_eq!(ex("app:${EMPTY-2.0}").unwrap(), "app:");
        assert_eq!(ex("app${TAG:+:x}").unwrap(), "app:x");
        assert_eq!(ex("a:${NOPE:-${TAG}}").unwrap(), "a:1.0");
        assert_eq!(ex("a$$b").unwrap(), "a$b");
        assert!(ex("app:${NOPE}").unwrap_err().contains("NOPE"));
        assert!(ex("app:$NOPE").is_err());
        assert!(ex("app:${NOPE:?set it}").is_err());
        assert!(ex("app:${TAG").is_err());
        assert!(ex("app:${TAG/x/y}").is_err());
        assert_eq!(
            expand(r"a\$b", Escape::Backslash('\\'), &look).unwrap(),
            "a$b"
        );
        assert!(has_variables("a$b", Escape::Double));
        assert!(!has_variables("ab", Escape::Double));
    }
}
