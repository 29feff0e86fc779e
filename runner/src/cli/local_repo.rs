//! The edge between a config repo on disk and the core: its commit, and who runs shoal.

use std::path::Path;

use crate::render::CommitInfo;

/// The commit checked out at `repo`, or an empty one when `repo` is not the top folder
/// of a git work tree (a config repo must be a repository of its own to have commits).
pub fn commit_info(repo: &Path) -> CommitInfo {
    let Ok(repository) = git2::Repository::open(repo) else {
        return CommitInfo::default();
    };
    let Ok(head) = repository.head() else {
        return CommitInfo::default();
    };
    let branch = if head.is_branch() {
        head.shorthand().unwrap_or_default().to_owned()
    } else {
        String::new()
    };
    let Ok(commit) = head.peel_to_commit() else {
        return CommitInfo::default();
    };
    CommitInfo::new(
        &commit.id().to_string(),
        commit.summary().unwrap_or_default(),
        commit.author().name().unwrap_or_default(),
        &branch,
    )
}

/// The person running the command, for `trigger.actor`.
pub fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default()
}
