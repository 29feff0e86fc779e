//! A setting shoal accepts but cannot honour yet, and where it was written.

use std::fmt;

use crate::source::Span;

/// A setting of a config repo that loads, so that a repo written for a later version of
/// shoal still validates, but that does nothing yet. `validate` warns of it, and a command
/// that would use it refuses to run rather than act as if it were not there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnimplementedSetting {
    /// The file it is in, relative to the config repo.
    pub path: String,
    /// Where: its key, or its value when the value is what is not implemented.
    pub span: Span,
    /// What is not implemented and what shoal does instead, a sentence without its
    /// position: "npipe:// Docker hosts (Windows named pipes) are not implemented: …".
    pub message: String,
}

impl UnimplementedSetting {
    /// `path:line:column`.
    pub fn location(&self) -> String {
        format!(
            "{}:{}:{}",
            self.path, self.span.start.line, self.span.start.column
        )
    }
}

impl fmt::Display for UnimplementedSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}
