//! Fetching into the mirror, on its own handle to the repository: it can run on another
//! thread than the one that reads the mirror.

use std::path::PathBuf;
use std::sync::Arc;

use git2::{FetchOptions, FetchPrune, Repository};

use super::remote_access::RefusalReasons;
use super::{GitError, RemoteAccess, RemoteUrl};

pub struct Fetcher {
    path: PathBuf,
    remote: RemoteUrl,
    access: Arc<RemoteAccess>,
    /// The remote's URL for messages, any password in it hidden.
    url: String,
}

impl Fetcher {
    pub(super) fn new(
        path: PathBuf,
        remote: RemoteUrl,
        access: Arc<RemoteAccess>,
        url: String,
    ) -> Fetcher {
        Fetcher {
            path,
            remote,
            access,
            url,
        }
    }

    /// Fetches every branch (incrementally: only what is new comes over).
    pub fn fetch(&self) -> Result<(), GitError> {
        self.fetch_refspecs(&["+refs/heads/*:refs/heads/*"], FetchPrune::On)
    }

    /// Fetches the branches and the pull request heads a forge publishes
    /// (`refs/pull/N/head`).
    pub fn fetch_pull_requests(&self) -> Result<(), GitError> {
        self.fetch_refspecs(
            &[
                "+refs/heads/*:refs/heads/*",
                "+refs/pull/*/head:refs/pull/*/head",
            ],
            FetchPrune::Unspecified,
        )
    }

    fn fetch_refspecs(&self, refspecs: &[&str], prune: FetchPrune) -> Result<(), GitError> {
        let error = |operation: &str, source| GitError::Git {
            operation: operation.to_owned(),
            url: self.url.clone(),
            source,
        };
        let repository =
            Repository::open_bare(&self.path).map_err(|source| error("open the mirror", source))?;
        let mut remote = repository
            .find_remote("origin")
            .map_err(|source| error("find the remote", source))?;
        let reasons = RefusalReasons::default();
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(self.access.callbacks(&self.remote, &reasons))
            .prune(prune);
        remote
            .fetch(refspecs, Some(&mut options), None)
            .map_err(|source| error("fetch", reasons.explain(source)))
    }
}
