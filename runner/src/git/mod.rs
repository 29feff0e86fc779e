//! The config repo in git: a bare mirror fetched incrementally, and the files of an exact
//! commit. The edge between git2 and the core, which sees only `RepoFiles`.

mod certificate_authorities;
mod commit_files;
mod fetcher;
mod git_error;
#[cfg(test)]
mod memory_mirror;
mod mirror;
mod ref_watcher;
mod remote_access;
mod remote_url;
mod repo_mirror;

pub use crate::known_hosts::{HostKey, HostKeyProblem, KnownHosts};
pub use certificate_authorities::{CertificateAuthorities, CertificateFileError};
pub use commit_files::CommitFiles;
pub use fetcher::Fetcher;
pub use git_error::GitError;
#[cfg(test)]
pub use memory_mirror::MemoryMirror;
pub use mirror::Mirror;
pub use ref_watcher::RefWatcher;
pub use remote_access::{GitToken, RemoteAccess};
pub use remote_url::{RemoteKind, RemoteUrl};
pub use repo_mirror::RepoMirror;
