//! The edge between a config repo on disk and the core: its commit, and the values of the
//! secrets an environment names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::config::SecretSource;
use crate::model::Environment;
use crate::render::{CommitInfo, SecretValues};

/// The commit checked out at `repo`, or an empty one when `repo` is not the top folder
/// of a git work tree (a config repo must be a repository of its own to have commits).
pub fn commit_info(repo: &Path) -> CommitInfo {
    let Ok(repository) = git2::Repository::open(repo) else {
        return CommitInfo::default();
    };
    let Ok(head) = repository.head() else {
        return CommitInfo::default();
    };
    let branch = if head.is_branch() {
        head.shorthand().unwrap_or_default().to_owned()
    } else {
        String::new()
    };
    let Ok(commit) = head.peel_to_commit() else {
        return CommitInfo::default();
    };
    CommitInfo::new(
        &commit.id().to_string(),
        commit.summary().unwrap_or_default(),
        commit.author().name().unwrap_or_default(),
        &branch,
    )
}

/// Reads the values of the named secrets of `environment`. Relative file paths are taken
/// from the config repo's folder; one trailing newline of a file is dropped.
pub fn read_secrets(
    repo: &Path,
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
        let value = match source {
            SecretSource::Env(variable) => std::env::var(variable).map_err(|_| {
                format!("secret `{name}` of environment `{}`: environment variable {variable} is not set", environment.name)
            }),
            SecretSource::File(path) => std::fs::read_to_string(repo.join(path))
                .map(|text| text.strip_suffix('\n').unwrap_or(&text).to_owned())
                .map_err(|error| {
                    format!("secret `{name}` of environment `{}`: cannot read {path}: {error}", environment.name)
                }),
        };
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

/// The person running the command, for `trigger.actor`.
pub fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default()
}
