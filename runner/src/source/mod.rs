//! Source files and the diagnostics that point into them.

mod diagnostic;
mod source_file;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use source_file::{Position, SourceFile, Span};
