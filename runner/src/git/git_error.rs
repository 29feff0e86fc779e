//! What can go wrong with the config repo's git mirror.

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("failed to {operation} ({url}): {source}")]
    Git {
        operation: String,
        url: String,
        #[source]
        source: git2::Error,
    },
    #[error("branch `{branch}` not found in {url}")]
    NoSuchBranch { branch: String, url: String },
    #[error("commit `{commit}` not found in the mirror of {url}")]
    NoSuchCommit { commit: String, url: String },
}
