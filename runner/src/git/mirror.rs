//! A bare mirror of the config repo under the state folder, fetched incrementally with
//! git2. Runs never use a work tree: they read the files of their exact commit from the
//! object database ([`CommitFiles`]), so a moving branch head cannot change a run midway.
//! It is the real [`RepoMirror`]; its calls block (libgit2), so the daemon makes them on
//! blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use git2::{Oid, Repository};

use super::{CommitFiles, Fetcher, GitError, RemoteAccess, RemoteUrl, RepoMirror};
use crate::load::RepoFiles;
use crate::render::CommitInfo;

pub struct Mirror {
    /// Behind a lock: a git2 repository may move between threads but not be shared.
    repository: Mutex<Repository>,
    remote: RemoteUrl,
    access: Arc<RemoteAccess>,
    /// The remote's URL for messages, any password in it hidden.
    url: String,
    path: PathBuf,
}

impl Mirror {
    /// Opens the mirror in `path`, creating it (bare, with `url` as `origin`) when absent.
    /// It fetches anonymously until given credentials with [`Mirror::with_access`]. A
    /// mirror made for another URL is pointed at `url`.
    pub fn open(path: &Path, url: &str) -> Result<Mirror, GitError> {
        let remote = RemoteUrl::parse(url)?;
        let shown = remote.to_string();
        let git = |operation: &str| {
            let url = shown.clone();
            let operation = operation.to_owned();
            move |source| GitError::Git {
                operation,
                url,
                source,
            }
        };
        let repository = match Repository::open_bare(path) {
            Ok(repository) => {
                let current = repository
                    .find_remote("origin")
                    .map_err(git("find the remote"))?
                    .url()
                    .map(str::to_owned);
                if current.as_deref() != Some(url) {
                    repository
                        .remote_set_url("origin", url)
                        .map_err(git("change the remote's URL"))?;
                }
                repository
            }
            Err(_) => {
                let repository = Repository::init_bare(path).map_err(git("create the mirror"))?;
                repository
                    .remote_with_fetch("origin", url, "+refs/heads/*:refs/heads/*")
                    .map_err(git("add the remote"))?;
                repository
            }
        };
        Ok(Mirror {
            repository: Mutex::new(repository),
            remote,
            access: Arc::new(RemoteAccess::default()),
            url: shown,
            path: path.to_owned(),
        })
    }

    /// The token, ssh key, known hosts and certificate authorities fetches use.
    pub fn with_access(self, access: RemoteAccess) -> Mirror {
        Mirror {
            access: Arc::new(access),
            ..self
        }
    }

    /// What fetches into this mirror from another thread, so that a slow or hung remote
    /// never holds up the caller (libgit2's fetches have no timeout of their own).
    pub fn fetcher(&self) -> Fetcher {
        Fetcher::new(
            self.path.clone(),
            self.remote.clone(),
            self.access.clone(),
            self.url.clone(),
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn remote(&self) -> &RemoteUrl {
        &self.remote
    }

    /// Fetches every branch (incrementally: only what is new comes over).
    pub fn fetch(&self) -> Result<(), GitError> {
        self.fetcher().fetch()
    }

    /// Fetches the branches and the pull request heads a forge publishes
    /// (`refs/pull/N/head`), then checks that `commit` is there.
    pub fn fetch_commit(&self, commit: &str) -> Result<(), GitError> {
        self.fetcher().fetch_pull_requests()?;
        self.oid(&self.repository(), commit).map(|_| ())
    }

    /// The head commit of `branch`, as last fetched.
    pub fn head(&self, branch: &str) -> Result<String, GitError> {
        self.repository()
            .find_branch(branch, git2::BranchType::Local)
            .ok()
            .and_then(|branch| branch.get().target())
            .map(|oid| oid.to_string())
            .ok_or_else(|| GitError::NoSuchBranch {
                branch: branch.to_owned(),
                url: self.url.clone(),
            })
    }

    /// Files changed between two commits (added, modified, deleted, both sides of a
    /// rename), or every file of `to` when there is no `from`.
    pub fn changed_paths(&self, from: Option<&str>, to: &str) -> Result<Vec<String>, GitError> {
        let git = |operation: &str| {
            let url = self.url.clone();
            let operation = operation.to_owned();
            move |source| GitError::Git {
                operation,
                url,
                source,
            }
        };
        let repository = self.repository();
        let new_tree = self
            .commit(&repository, to)?
            .tree()
            .map_err(git("read a tree"))?;
        let old_tree = match from {
            Some(from) => Some(
                self.commit(&repository, from)?
                    .tree()
                    .map_err(git("read a tree"))?,
            ),
            None => None,
        };
        let diff = repository
            .diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)
            .map_err(git("compare commits"))?;
        let mut paths: Vec<String> = diff
            .deltas()
            .flat_map(|delta| [delta.old_file().path(), delta.new_file().path()])
            .flatten()
            .map(|path| path.to_string_lossy().replace('\\', "/"))
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// How many commits `commit` is from the root along first parents: a number that
    /// grows along a branch, for telling newer commits from older ones.
    pub fn commit_order(&self, commit: &str) -> Result<u64, GitError> {
        let repository = self.repository();
        let mut walk = repository
            .revwalk()
            .map_err(|source| self.error("walk history", source))?;
        walk.push(self.oid(&repository, commit)?)
            .map_err(|source| self.error("walk history", source))?;
        walk.simplify_first_parent()
            .map_err(|source| self.error("walk history", source))?;
        Ok(walk.count() as u64)
    }

    /// Whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        let repository = self.repository();
        let (ancestor, descendant) = (
            self.oid(&repository, ancestor)?,
            self.oid(&repository, descendant)?,
        );
        Ok(ancestor == descendant
            || repository
                .graph_descendant_of(descendant, ancestor)
                .map_err(|source| self.error("walk history", source))?)
    }

    /// The commit's metadata, for templates (`commit.*`).
    pub fn commit_info(&self, commit: &str, branch: &str) -> Result<CommitInfo, GitError> {
        let repository = self.repository();
        let found = self.commit(&repository, commit)?;
        Ok(CommitInfo::new(
            &found.id().to_string(),
            found.summary().unwrap_or_default(),
            found.author().name().unwrap_or_default(),
            branch,
        ))
    }

    /// The files of `commit`, for loading and rendering.
    pub fn files_at(&self, commit: &str) -> Result<Arc<CommitFiles>, GitError> {
        let oid = self.commit(&self.repository(), commit)?.id();
        CommitFiles::open(&self.path, oid)
            .map(Arc::new)
            .map_err(|source| self.error("read a commit", source))
    }

    fn repository(&self) -> MutexGuard<'_, Repository> {
        self.repository
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn oid(&self, repository: &Repository, commit: &str) -> Result<Oid, GitError> {
        repository
            .revparse_single(commit)
            .and_then(|object| object.peel_to_commit())
            .map(|found| found.id())
            .map_err(|_| GitError::NoSuchCommit {
                commit: commit.to_owned(),
                url: self.url.clone(),
            })
    }

    fn commit<'r>(
        &self,
        repository: &'r Repository,
        commit: &str,
    ) -> Result<git2::Commit<'r>, GitError> {
        let oid = self.oid(repository, commit)?;
        repository
            .find_commit(oid)
            .map_err(|source| self.error("read a commit", source))
    }

    fn error(&self, operation: &str, source: git2::Error) -> GitError {
        GitError::Git {
            operation: operation.to_owned(),
            url: self.url.clone(),
            source,
        }
    }
}

impl RepoMirror for Mirror {
    fn fetch_branches(&self) -> Result<(), GitError> {
        self.fetcher().fetch()
    }

    fn fetch_pull_requests(&self) -> Result<(), GitError> {
        self.fetcher().fetch_pull_requests()
    }

    fn head(&self, branch: &str) -> Result<String, GitError> {
        Mirror::head(self, branch)
    }

    fn changed_paths(&self, from: Option<&str>, to: &str) -> Result<Vec<String>, GitError> {
        Mirror::changed_paths(self, from, to)
    }

    fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool, GitError> {
        Mirror::is_ancestor(self, ancestor, descendant)
    }

    fn commit_order(&self, commit: &str) -> Result<u64, GitError> {
        Mirror::commit_order(self, commit)
    }

    fn commit_info(&self, commit: &str, branch: &str) -> Result<CommitInfo, GitError> {
        Mirror::commit_info(self, commit, branch)
    }

    fn files_at(&self, commit: &str) -> Result<Arc<dyn RepoFiles>, GitError> {
        Ok(Mirror::files_at(self, commit)?)
    }
}
