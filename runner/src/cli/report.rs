//! Printing diagnostics to the terminal, the same way for every command.

use crate::render::SecretValues;
use crate::source::Diagnostics;

/// Prints every diagnostic to stderr, then a summary line when there are errors.
pub fn print_diagnostics(diagnostics: &Diagnostics, secrets: &SecretValues) {
    for diagnostic in diagnostics.sorted() {
        eprint!("{}", secrets.redact(&diagnostic.to_string()));
    }
    if diagnostics.has_errors() {
        let errors = diagnostics.error_count();
        let files = diagnostics.files_with_errors();
        eprintln!(
            "error: {errors} error{} in {files} file{}",
            if errors == 1 { "" } else { "s" },
            if files == 1 { "" } else { "s" }
        );
    }
}
