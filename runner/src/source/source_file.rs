//! A file of the config repo held in memory, with the line index that turns
//! character offsets into the `line:column` positions users see.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One text file of a config repo, addressed by its path relative to the repo root.
#[derive(Debug, Clone)]
pub struct SourceFile {
    path: String,
    text: Arc<str>,
    /// Byte offset of the first character of every line.
    line_starts: Vec<usize>,
}

/// A position in a [`SourceFile`]: 1-based line, 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A range in a file, in 1-based lines and columns; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct Span {
    pub start: Position,
    pub end: Position,
}

impl Span {
    /// A span of `width` characters on one line.
    pub fn on_line(line: usize, column: usize, width: usize) -> Span {
        Span {
            start: Position { line, column },
            end: Position {
                line,
                column: column + width,
            },
        }
    }
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(index, _)| index + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text of a 1-based line, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        Some(self.text[start..end].trim_end_matches('\r'))
    }

    /// The position of a byte offset into the text.
    pub fn position_of_byte(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index - 1,
        };
        let start = self.line_starts[line_index];
        let column = self
            .text
            .get(start..offset)
            .map_or(1, |prefix| prefix.chars().count() + 1);
        Position {
            line: line_index + 1,
            column,
        }
    }

    /// The span covering a byte range of the text.
    pub fn span_of_bytes(&self, range: std::ops::Range<usize>) -> Span {
        Span {
            start: self.position_of_byte(range.start),
            end: self.position_of_byte(range.end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_from_one() {
        let file = SourceFile::new("a.yml", "ab\nçd: x\n");
        assert_eq!(file.position_of_byte(0), Position { line: 1, column: 1 });
        assert_eq!(file.position_of_byte(3), Position { line: 2, column: 1 });
        // `ç` is two bytes but one column.
        assert_eq!(file.position_of_byte(5), Position { line: 2, column: 2 });
        assert_eq!(file.line(2), Some("çd: x"));
        assert_eq!(file.line(3), Some(""));
        assert_eq!(file.line(4), None);
    }
}
