//! A [`RepoMirror`] in memory, for the dispatcher's tests: commits with a parent and
//! their files, branches that tests move (forward, or back as a force push would), and
//! counts of what was read. A commit can be made slow to read, as a hostile one is slow
//! to load, and a push can wait on the remote for a slow fetch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{GitError, RepoMirror};
use crate::load::{MemoryFiles, RepoFiles};
use crate::render::CommitInfo;

#[derive(Default)]
pub struct MemoryMirror {
    state: Mutex<State>,
    /// How many times the files of a commit were opened.
    pub files_opened: AtomicUsize,
    /// How many times a commit's `shoal.yml` was read: once a load.
    pub loads: Arc<AtomicUsize>,
}

/// A commit's files that count the reads of `shoal.yml`, which every load makes.
struct CountedFiles {
    files: MemoryFiles,
    loads: Arc<AtomicUsize>,
}

impl RepoFiles for CountedFiles {
    fn read(&self, path: &str) -> Result<Arc<str>, crate::load::ReadError> {
        if path == "shoal.yml" {
            self.loads.fetch_add(1, Ordering::SeqCst);
        }
        self.files.read(path)
    }

    fn budget(&self) -> &crate::load::CommitBudget {
        self.files.budget()
    }

    fn list(&self, folder: &str) -> Vec<String> {
        self.files.list(folder)
    }

    fn exists(&self, path: &str) -> bool {
        self.files.exists(path)
    }
}

#[derive(Default)]
struct State {
    commits: HashMap<String, Commit>,
    branches: HashMap<String, String>,
    /// Branches moved on the remote, which the next fetch brings.
    remote: HashMap<String, String>,
    /// How long a fetch of the branches takes.
    fetch_delay: Duration,
}

struct Commit {
    parent: Option<String>,
    files: MemoryFiles,
    /// How long opening its files takes.
    delay: Duration,
}

impl MemoryMirror {
    /// Adds commit `sha` with its parent and files.
    pub fn commit(&self, sha: &str, parent: Option<&str>, files: MemoryFiles) {
        self.lock().commits.insert(
            sha.to_owned(),
            Commit {
                parent: parent.map(str::to_owned),
                files,
                delay: Duration::ZERO,
            },
        );
    }

    /// Makes opening the files of `sha` take `delay`.
    pub fn slow(&self, sha: &str, delay: Duration) {
        if let Some(commit) = self.lock().commits.get_mut(sha) {
            commit.delay = delay;
        }
    }

    /// Points `branch` at `sha`, as a push (or a force push) would.
    pub fn set_head(&self, branch: &str, sha: &str) {
        self.lock()
            .branches
            .insert(branch.to_owned(), sha.to_owned());
    }

    /// Points `branch` at `sha` on the remote only: the mirror has it after its next
    /// fetch, which takes `fetch_delay`.
    pub fn push_to_remote(&self, branch: &str, sha: &str, fetch_delay: Duration) {
        let mut state = self.lock();
        state.remote.insert(branch.to_owned(), sha.to_owned());
        state.fetch_delay = fetch_delay;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn missing(commit: &str) -> GitError {
        GitError::NoSuchCommit {
            commit: commit.to_owned(),
            url: "memory".to_owned(),
        }
    }

    /// `commit` and its ancestors, newest first.
    fn history(&self, commit: &str) -> Result<Vec<String>, GitError> {
        let state = self.lock();
        let mut history = Vec::new();
        let mut next = Some(commit.to_owned());
        while let Some(sha) = next {
            let found = state
                .commits
                .get(&sha)
                .ok_or_else(|| MemoryMirror::missing(&sha))?;
            next = found.parent.clone();
            history.push(sha);
        }
        Ok(history)
    }
}

impl RepoMirror for MemoryMirror {
    fn fetch_branches(&self) -> Result<(), GitError> {
        let delay = self.lock().fetch_delay;
        std::thread::sleep(delay);
        let mut state = self.lock();
        let moved: Vec<(String, String)> = state.remote.drain().collect();
        state.branches.extend(moved);
        Ok(())
    }

    fn fetch_pull_requests(&self) -> Result<(), GitError> {
        Ok(())
    }

    fn head(&self, branch: &str) -> Result<String, GitError> {
        self.lock()
            .branches
            .get(branch)
            .cloned()
            .ok_or_else(|| GitError::NoSuchBranch {
                branch: branch.to_owned(),
                url: "memory".to_owned(),
            })
    }

    /// Every file of `to`: enough for path filters in tests.
    fn changed_paths(&self, _from: Option<&str>, to: &str) -> Result<Vec<String>, GitError> {
        let files = self.files_at(to)?;
        let mut paths = files.list("");
        paths.extend(files.list("workflows"));
        Ok(paths)
    }

    fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        Ok(self.history(descendant)?.iter().any(|sha| sha == ancestor))
    }

    fn commit_order(&self, commit: &str) -> Result<u64, GitError> {
        Ok(self.history(commit)?.len() as u64)
    }

    fn commit_info(&self, commit: &str, branch: &str) -> Result<CommitInfo, GitError> {
        self.history(commit)?;
        Ok(CommitInfo::new(commit, "a commit", "ada", branch))
    }

    fn files_at(&self, commit: &str) -> Result<Arc<dyn RepoFiles>, GitError> {
        let (files, delay) = {
            let state = self.lock();
            let found = state
                .commits
                .get(commit)
                .ok_or_else(|| MemoryMirror::missing(commit))?;
            (found.files.clone(), found.delay)
        };
        self.files_opened.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(delay);
        Ok(Arc::new(CountedFiles {
            files,
            loads: self.loads.clone(),
        }))
    }
}
