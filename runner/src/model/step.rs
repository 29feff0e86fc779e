//! A validated step: the common settings and exactly one kind.

use std::time::Duration;

use crate::source::Span;
use crate::steps::StepKind;

/// Whether `text` (a step's object name, URL…) holds template syntax. Text without it
/// renders as it is written.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: Option<String>,
    /// A display name: the `name`, else the `id`, else the kind and its object's name.
    pub name: String,
    /// The `if` expression and where it was written.
    pub condition: Option<(String, Span)>,
    pub timeout: Option<Duration>,
    pub continue_on_error: bool,
    pub kind: StepKind,
    /// Where the step starts in its workflow file.
    pub span: Span,
}
