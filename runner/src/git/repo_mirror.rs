//! The git mirror as the daemon sees it: a port with the real git2 [`super::Mirror`] and
//! an in-memory one for tests. Every call may block (libgit2 reads the disk, a fetch
//! talks to a remote), so the dispatcher makes them on blocking threads, never on its
//! loop.

use std::sync::Arc;

use super::GitError;
use crate::load::RepoFiles;
use crate::render::CommitInfo;

pub trait RepoMirror: Send + Sync {
    /// Fetches every branch.
    fn fetch_branches(&self) -> Result<(), GitError>;
    /// Fetches the branches and the pull request heads a forge publishes.
    fn fetch_pull_requests(&self) -> Result<(), GitError>;
    /// The head commit of `branch`, as last fetched.
    fn head(&self, branch: &str) -> Result<String, GitError>;
    /// Files changed between two commits, or every file of `to` when there is no `from`.
    fn changed_paths(&self, from: Option<&str>, to: &str) -> Result<Vec<String>, GitError>;
    /// Whether `ancestor` is `descendant` or one of its ancestors.
    fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError>;
    /// How many commits `commit` is from the root along first parents.
    fn commit_order(&self, commit: &str) -> Result<u64, GitError>;
    /// The commit's metadata, for templates (`commit.*`).
    fn commit_info(&self, commit: &str, branch: &str) -> Result<CommitInfo, GitError>;
    /// The files of `commit`, readable from any thread.
    fn files_at(&self, commit: &str) -> Result<Arc<dyn RepoFiles>, GitError>;
}
