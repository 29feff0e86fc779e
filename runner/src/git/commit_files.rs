//! The files of one commit, read from the mirror's object database: the `RepoFiles` a run
//! loads and renders from. Each read opens the repository anew, so that the value can be
//! shared between threads (a git2 repository cannot).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};

use crate::load::{CommitBudget, ReadError, RepoFiles, check_file_size, normalize};

pub struct CommitFiles {
    repository: PathBuf,
    tree: Oid,
    budget: CommitBudget,
}

impl CommitFiles {
    pub fn open(repository: &Path, commit: Oid) -> Result<CommitFiles, git2::Error> {
        let tree = Repository::open_bare(repository)?
            .find_commit(commit)?
            .tree_id();
        Ok(CommitFiles {
            repository: repository.to_owned(),
            tree,
            budget: CommitBudget::default(),
        })
    }

    fn with_tree<T>(
        &self,
        read: impl FnOnce(&Repository, &git2::Tree<'_>) -> T,
    ) -> Result<T, ReadError> {
        let repository = Repository::open_bare(&self.repository)
            .map_err(|error| ReadError::Io(error.to_string()))?;
        let tree = repository
            .find_tree(self.tree)
            .map_err(|error| ReadError::Io(error.to_string()))?;
        Ok(read(&repository, &tree))
    }
}

impl RepoFiles for CommitFiles {
    fn budget(&self) -> &CommitBudget {
        &self.budget
    }

    fn read(&self, path: &str) -> Result<Arc<str>, ReadError> {
        let path = normalize(path)?;
        self.with_tree(|repository, tree| {
            let entry = tree
                .get_path(Path::new(&path))
                .map_err(|_| ReadError::NotFound)?;
            if entry.kind() != Some(ObjectType::Blob) {
                return Err(ReadError::NotFound);
            }
            // A symbolic link is stored as a blob holding its target: never follow it.
            if entry.filemode() == 0o120_000 {
                return Err(ReadError::OutsideRepo);
            }
            // The size is in the object's header: a large blob is refused unread.
            let (size, _) = repository
                .odb()
                .and_then(|odb| odb.read_header(entry.id()))
                .map_err(|error| ReadError::Io(error.to_string()))?;
            check_file_size(size as u64, &self.budget)?;
            let blob = repository
                .find_blob(entry.id())
                .map_err(|error| ReadError::Io(error.to_string()))?;
            String::from_utf8(blob.content().to_vec())
                .map(Arc::from)
                .map_err(|_| ReadError::NotText)
        })?
    }

    fn list(&self, folder: &str) -> Vec<String> {
        let Ok(folder) = normalize(folder) else {
            return Vec::new();
        };
        self.with_tree(|repository, tree| {
            let subtree = if folder.is_empty() {
                Some(tree.clone())
            } else {
                tree.get_path(Path::new(&folder))
                    .ok()
                    .and_then(|entry| repository.find_tree(entry.id()).ok())
            };
            let Some(subtree) = subtree else {
                return Vec::new();
            };
            let mut names: Vec<String> = subtree
                .iter()
                .filter(|entry| entry.kind() == Some(ObjectType::Blob))
                .filter_map(|entry| entry.name().map(str::to_owned))
                .map(|name| {
                    if folder.is_empty() {
                        name
                    } else {
                        format!("{folder}/{name}")
                    }
                })
                .collect();
            names.sort();
            names
        })
        .unwrap_or_default()
    }
}
