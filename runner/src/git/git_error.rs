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
    #[error(
        "`{url}` is not a repository shoal can fetch: give a path, or a file://, https://, http://, ssh://, scp-like user@host:path or git:// URL"
    )]
    UnsupportedUrl { url: String },
    #[error("cannot watch {path} for new commits: {source}")]
    Watch {
        path: String,
        #[source]
        source: notify::Error,
    },
}
