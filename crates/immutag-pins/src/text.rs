//! Positions in a source text: byte offsets to 1-based lines and character columns.

/// The line starts of a text.
pub(crate) struct Lines<'a> {
    source: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// Indexes `source` (lines end at `\n`; a `\r` before it belongs to the line).
    pub fn new(source: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { source, starts }
    }

    /// The text.
    pub fn source(&self) -> &'a str {
        self.source
    }

    /// The 1-based line and character column of byte `offset`.
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let idx = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(idx).copied().unwrap_or(0);
        let column = self
            .source
            .get(start..offset.min(self.source.len()))
            .map_or(0, |s| s.chars().count());
        (
            u32::try_from(idx + 1).unwrap_or(u32::MAX),
            u32::try_from(column + 1).unwrap_or(u32::MAX),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let l = Lines::new("ab\r\nüc\nd");
        assert_eq!(l.position(0), (1, 1));
        assert_eq!(l.position(4), (2, 1));
        assert_eq!(l.position(6), (2, 2)); // after the two bytes of ü
        assert_eq!(l.position(8), (3, 1));
    }
}
