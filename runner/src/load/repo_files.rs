//! The files of a config repo at one point in time: a directory on disk, a git commit,
//! or files held in memory by tests. The core reads through this trait only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{BudgetExceeded, CommitBudget};
use crate::limits::{MAX_FILE_BYTES, describe_bytes};

/// Why a file of the repo could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("file not found")]
    NotFound,
    #[error("path is outside the config repo")]
    OutsideRepo,
    #[error("file is not UTF-8 text")]
    NotText,
    #[error("could not read file: {0}")]
    Io(String),
    #[error(
        "file is too large: {size} bytes, and a file of the config repo may have at most {}",
        describe_bytes(MAX_FILE_BYTES)
    )]
    TooLarge { size: u64 },
    #[error(transparent)]
    Budget(#[from] BudgetExceeded),
}

/// Refuses a file larger than [`MAX_FILE_BYTES`], and spends its size from `budget`;
/// called with its size before it is read.
pub fn check_file_size(size: u64, budget: &CommitBudget) -> Result<(), ReadError> {
    if size > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge { size });
    }
    budget.spend_bytes(size)?;
    Ok(())
}

/// Read access to the files of a config repo, by path relative to its root with `/`.
pub trait RepoFiles: Send + Sync {
    /// The file's text; its size is checked and spent from [`RepoFiles::budget`] first.
    fn read(&self, path: &str) -> Result<Arc<str>, ReadError>;

    /// What loading and rendering from these files may spend in all. A value is one
    /// reading of a commit: its budget is spent and never refilled, so each load and
    /// render (each run) makes a value of its own, as `Mirror::files_at` does.
    fn budget(&self) -> &CommitBudget;

    /// Paths of the files directly inside a folder, sorted.
    fn list(&self, folder: &str) -> Vec<String>;

    fn exists(&self, path: &str) -> bool {
        self.read(path).is_ok()
    }
}

/// Normalises a repo-relative path (`a/./b/../c` to `a/c`), refusing absolute paths and
/// paths that climb out of the repo.
pub fn normalize(path: &str) -> Result<String, ReadError> {
    if path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return Err(ReadError::OutsideRepo);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(ReadError::OutsideRepo)?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Joins a path relative to a file's folder (`dir/of/file.yml` + `../x` = `dir/x`).
pub fn join_relative(file: &str, relative: &str) -> Result<String, ReadError> {
    match file.rsplit_once('/') {
        Some((folder, _)) => normalize(&format!("{folder}/{relative}")),
        None => normalize(relative),
    }
}

/// A config repo checked out in a directory.
pub struct DirectoryFiles {
    root: PathBuf,
    budget: CommitBudget,
}

impl DirectoryFiles {
    pub fn new(root: impl Into<PathBuf>) -> DirectoryFiles {
        DirectoryFiles {
            root: root.into(),
            budget: CommitBudget::default(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl RepoFiles for DirectoryFiles {
    fn budget(&self) -> &CommitBudget {
        &self.budget
    }

    fn read(&self, path: &str) -> Result<Arc<str>, ReadError> {
        let relative = normalize(path)?;
        let full = self.root.join(&relative);
        // A symbolic link could point out of the repo: resolve and check.
        let resolved = full.canonicalize().map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(error.to_string()),
        })?;
        let root = self
            .root
            .canonicalize()
            .map_err(|error| ReadError::Io(error.to_string()))?;
        if !resolved.starts_with(&root) {
            return Err(ReadError::OutsideRepo);
        }
        let metadata =
            std::fs::metadata(&resolved).map_err(|error| ReadError::Io(error.to_string()))?;
        if !metadata.is_file() {
            return Err(ReadError::NotFound);
        }
        check_file_size(metadata.len(), &self.budget)?;
        let bytes = std::fs::read(&resolved).map_err(|error| ReadError::Io(error.to_string()))?;
        String::from_utf8(bytes)
            .map(Arc::from)
            .map_err(|_| ReadError::NotText)
    }

    fn list(&self, folder: &str) -> Vec<String> {
        let Ok(relative) = normalize(folder) else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(self.root.join(&relative)) else {
            return Vec::new();
        };
        let mut paths: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_type()
                    .is_ok_and(|t| t.is_file() || t.is_symlink())
            })
            .filter_map(|entry| entry.file_name().into_string().ok())
            .map(|name| {
                if relative.is_empty() {
                    name
                } else {
                    format!("{relative}/{name}")
                }
            })
            .collect();
        paths.sort();
        paths
    }
}

/// Files held in memory: for tests, and for repos read from git objects.
#[derive(Debug, Default, Clone)]
pub struct MemoryFiles {
    files: BTreeMap<String, Arc<str>>,
    budget: CommitBudget,
}

impl MemoryFiles {
    pub fn new() -> MemoryFiles {
        MemoryFiles::default()
    }

    pub fn with(mut self, path: &str, text: &str) -> MemoryFiles {
        self.insert(path, text);
        self
    }

    pub fn insert(&mut self, path: &str, text: &str) {
        self.files.insert(path.to_owned(), Arc::from(text));
    }
}

impl RepoFiles for MemoryFiles {
    fn budget(&self) -> &CommitBudget {
        &self.budget
    }

    fn read(&self, path: &str) -> Result<Arc<str>, ReadError> {
        let path = normalize(path)?;
        let text = self.files.get(&path).ok_or(ReadError::NotFound)?;
        check_file_size(text.len() as u64, &self.budget)?;
        Ok(text.clone())
    }

    fn list(&self, folder: &str) -> Vec<String> {
        let Ok(folder) = normalize(folder) else {
            return Vec::new();
        };
        let prefix = if folder.is_empty() {
            String::new()
        } else {
            format!("{folder}/")
        };
        self.files
            .keys()
            .filter(|path| {
                path.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_climb_out() {
        assert_eq!(normalize("a/./b/../c"), Ok("a/c".to_owned()));
        assert_eq!(normalize("../x"), Err(ReadError::OutsideRepo));
        assert_eq!(normalize("/etc/passwd"), Err(ReadError::OutsideRepo));
        assert_eq!(
            join_relative("stacks/a/compose.yml", "./cfg/t.yaml"),
            Ok("stacks/a/cfg/t.yaml".to_owned())
        );
        assert_eq!(
            join_relative("compose.yml", "../t"),
            Err(ReadError::OutsideRepo)
        );
    }

    #[test]
    fn files_over_the_size_limit_are_refused_before_they_are_read() {
        let folder = tempfile::tempdir().expect("a folder");
        let size = MAX_FILE_BYTES + 1;
        let file = std::fs::File::create(folder.path().join("big.yml")).expect("a file");
        file.set_len(size).expect("a sparse file");
        let error = DirectoryFiles::new(folder.path())
            .read("big.yml")
            .expect_err("refused");
        assert_eq!(
            error.to_string(),
            "file is too large: 1048577 bytes, and a file of the config repo may have at most 1 MiB"
        );
        let within = "x".repeat(MAX_FILE_BYTES as usize);
        assert!(
            MemoryFiles::new()
                .with("a.yml", &within)
                .read("a.yml")
                .is_ok()
        );
    }
}
