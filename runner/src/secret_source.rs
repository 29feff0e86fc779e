//! The one way shoal reads a secret's value: from the environment variable or the file
//! its source names. Values go straight into `SecretValues`, which keeps them off every
//! output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::config::SecretSource;
use crate::model::Environment;
use crate::render::SecretValues;

/// Reads the values of the named secrets of `environment`. Relative file paths are taken
/// from `base` (the config repo's folder for the CLI); one trailing newline of a file is
/// dropped.
pub fn read_secrets(
    base: &Path,
    environment: &Environment,
    names: &BTreeSet<String>,
) -> Result<SecretValues, Vec<String>> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, source) in environment
        .secrets
        .iter()
        .filter(|(name, _)| names.contains(*name))
    {
        let value = read_source(base, &environment.name, name, source);
        match value {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(SecretValues::new(values))
    } else {
        Err(problems)
    }
}

/// Reads the value of one secret of `environment`, as [`read_secrets`] does: for what is
/// not rendered into files, such as a Docker client key. `None` when there is no such
/// secret.
pub fn read_secret(
    base: &Path,
    environment: &Environment,
    name: &str,
) -> Option<Result<String, String>> {
    let source = environment.secrets.get(name)?;
    Some(read_source(base, &environment.name, name, source))
}

fn read_source(
    base: &Path,
    environment: &str,
    name: &str,
    source: &SecretSource,
) -> Result<String, String> {
    match source {
        SecretSource::Env(variable) => std::env::var(variable).map_err(|_| {
            format!("secret `{name}` of environment `{environment}`: environment variable {variable} is not set")
        }),
        SecretSource::File(path) => std::fs::read_to_string(base.join(path))
            .map(|text| text.strip_suffix('\n').unwrap_or(&text).to_owned())
            .map_err(|error| {
                format!("secret `{name}` of environment `{environment}`: cannot read {path}: {error}")
            }),
    }
}
