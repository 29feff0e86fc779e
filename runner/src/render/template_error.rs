//! Turns a minijinja error into a diagnostic that points into the template file, so that
//! an undefined variable reads like a compiler error at the place it is used.

use minijinja::ErrorKind;

use crate::limits::{MAX_RENDERED_BYTES, TEMPLATE_FUEL, describe_bytes};
use crate::load::RepoFiles;
use crate::source::{Diagnostic, SourceFile, Span};

/// A diagnostic for a failed render of `path`. The error may concern
/// a template that `path` includes; the diagnostic then points into that one.
pub fn template_diagnostic(
    files: &dyn RepoFiles,
    path: &str,
    error: &minijinja::Error,
) -> Diagnostic {
    let failing_path = error.name().unwrap_or(path).to_owned();
    let source = error
        .template_source()
        .map(str::to_owned)
        .or_else(|| files.read(&failing_path).ok().map(|text| text.to_string()));
    let snippet = |range: &std::ops::Range<usize>| -> Option<String> {
        source
            .as_ref()
            .and_then(|text| text.get(range.clone()))
            .map(str::to_owned)
    };
    let detail = error.detail().map(str::to_owned);
    let message = match error.kind() {
        ErrorKind::UndefinedError => {
            let what = error.range().as_ref().and_then(snippet).map_or_else(
                || "a value".to_owned(),
                |expression| format!("`{}`", expression.trim()),
            );
            format!("undefined variable {what}")
        }
        ErrorKind::SyntaxError => format!(
            "template syntax error: {}",
            detail.clone().unwrap_or_default()
        ),
        ErrorKind::TemplateNotFound => {
            format!("template not found: {}", detail.clone().unwrap_or_default())
        }
        ErrorKind::UnknownFilter => {
            format!("unknown filter: {}", detail.clone().unwrap_or_default())
        }
        ErrorKind::OutOfFuel => format!(
            "template ran out of fuel: one render may run at most {TEMPLATE_FUEL} instructions"
        ),
        ErrorKind::WriteFailure => format!(
            "rendered file is too large: one render may write at most {}",
            describe_bytes(MAX_RENDERED_BYTES as u64)
        ),
        _ => format!(
            "template error: {}",
            detail.clone().unwrap_or_else(|| error.kind().to_string())
        ),
    };
    let reads_trigger_image = error
        .range()
        .as_ref()
        .and_then(snippet)
        .is_some_and(|expression| expression.trim().starts_with(".image"));
    let help = match error.kind() {
        ErrorKind::UndefinedError if reads_trigger_image => Some(
            "`trigger.image` is set only in the runs a registry push starts (`on.registry_push`), never in `shoal plan` or `shoal apply`; test it with `trigger.image is defined`".to_owned(),
        ),
        ErrorKind::UndefinedError => Some(
            "define it in shoal.yml (`vars`), give a default with `| default(...)`, or test it with `is defined`".to_owned(),
        ),
        ErrorKind::OutOfFuel | ErrorKind::WriteFailure => Some(
            "a loop that runs too long or without end stops here; shoal bounds every render so that no pull request can stall the runner".to_owned(),
        ),
        ErrorKind::UnknownFilter => Some("shoal adds to_yaml, to_json, b64encode, b64decode and sha256 to Jinja's filters, and the function fail(message)".to_owned()),
        _ => None,
    };
    let diagnostic = match (&source, error.range(), error.line()) {
        (Some(text), Some(range), _) => {
            let file = SourceFile::new(failing_path.clone(), text.as_str());
            Diagnostic::error(&file, file.span_of_bytes(range), message)
        }
        (Some(text), None, Some(line)) => {
            let file = SourceFile::new(failing_path.clone(), text.as_str());
            Diagnostic::error(&file, Span::on_line(line, 1, 1), message)
        }
        _ => Diagnostic::file_error(failing_path, message),
    };
    match help {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}
