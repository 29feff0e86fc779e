//! Tokens and secrets given to the CLI: a file named by a flag, or an environment
//! variable (never a flag's value, which `ps` would show).

use std::path::PathBuf;

use anyhow::Context as _;

/// A secret from a file (trailing newline dropped) or an environment variable.
pub fn secret(file: Option<&PathBuf>, variable: &str) -> anyhow::Result<Option<String>> {
    match file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Some(text.trim_end_matches('\n').to_owned()))
        }
        None => Ok(std::env::var(variable)
            .ok()
            .filter(|value| !value.is_empty())),
    }
}
