//! The config repo in git: a bare mirror fetched incrementally, and the files of an exact
//! commit. The edge between git2 and the core, which sees only `RepoFiles`.

mod commit_files;
mod git_error;
mod mirror;

pub use commit_files::CommitFiles;
pub use git_error::GitError;
pub use mirror::Mirror;
