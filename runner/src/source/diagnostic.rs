//! A problem found in a user's files, reported the way a compiler does:
//! `path:line:column: message`, the offending source line, and a caret under it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{SourceFile, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem, located in a file of the config repo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Path relative to the config repo root, with `/` separators.
    pub path: String,
    /// Where in the file; `None` when the problem concerns the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The source line the span starts on, kept so that the diagnostic prints without the file.
    #[serde(skip)]
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// An error at a span of a file.
    pub fn error(file: &SourceFile, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            path: file.path().to_owned(),
            span: Some(span),
            message: message.into(),
            help: None,
            source_line: file.line(span.start.line).map(str::to_owned),
        }
    }

    /// An error about a whole file, or a file that could not be read.
    pub fn file_error(path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            span: None,
            message: message.into(),
            help: None,
            source_line: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn into_warning(mut self) -> Diagnostic {
        self.severity = Severity::Warning;
        self
    }

    /// `path:line:column` (or just `path` when the whole file is concerned).
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => format!("{}:{}:{}", self.path, span.start.line, span.start.column),
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        writeln!(f, "{}: {severity}{}", self.location(), self.message)?;
        if let (Some(span), Some(line)) = (self.span, &self.source_line) {
            let number = span.start.line.to_string();
            let gutter = " ".repeat(number.len());
            let line_width = line.chars().count();
            let width = if span.end.line == span.start.line && span.end.column > span.start.column {
                span.end.column - span.start.column
            } else {
                1
            };
            // Never draw carets past the end of the line (a span may end on a later line).
            let width = width.min((line_width + 1).saturating_sub(span.start.column).max(1));
            let indent: String = line
                .chars()
                .take(span.start.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{gutter} |")?;
            writeln!(f, "{number} | {line}")?;
            writeln!(f, "{gutter} | {indent}{}", "^".repeat(width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in one pass, in the order of files and positions.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(transparent)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        if !self.items.contains(&diagnostic) {
            self.items.push(diagnostic);
        }
    }

    pub fn extend(&mut self, other: Diagnostics) {
        for diagnostic in other.items {
            self.push(diagnostic);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics sorted by path and position, errors and warnings interleaved.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by(|a, b| (&a.path, a.span).cmp(&(&b.path, b.span)));
        items
    }

    /// Merges the diagnostics of renders for several environments: a problem found for
    /// more than one environment is reported once, naming them all.
    pub fn for_environments(renders: Vec<(String, Diagnostics)>) -> Diagnostics {
        let mut merged: Vec<(Diagnostic, Vec<String>)> = Vec::new();
        for (environment, diagnostics) in renders {
            for diagnostic in diagnostics.items {
                match merged.iter_mut().find(|(seen, _)| *seen == diagnostic) {
                    Some((_, environments)) => environments.push(environment.clone()),
                    None => merged.push((diagnostic, vec![environment.clone()])),
                }
            }
        }
        let mut result = Diagnostics::default();
        for (mut diagnostic, environments) in merged {
            let names: Vec<String> = environments
                .iter()
                .map(|name| format!("`{name}`"))
                .collect();
            let plural = if names.len() == 1 { "" } else { "s" };
            diagnostic.message = format!(
                "{} (environment{plural} {})",
                diagnostic.message,
                names.join(", ")
            );
            result.push(diagnostic);
        }
        result
    }

    /// The number of distinct files with at least one error.
    pub fn files_with_errors(&self) -> usize {
        let mut paths: Vec<&str> = self
            .items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.path.as_str())
            .collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_a_compiler() {
        let file = SourceFile::new("workflows/a.yml", "steps:\n  - stak: {}\n");
        let diagnostic = Diagnostic::error(&file, Span::on_line(2, 5, 4), "unknown key `stak`")
            .with_help("did you mean `stack`?");
        assert_eq!(
            diagnostic.to_string(),
            "workflows/a.yml:2:5: unknown key `stak`\n  |\n2 |   - stak: {}\n  |     ^^^^\n  = help: did you mean `stack`?\n"
        );
    }
}
