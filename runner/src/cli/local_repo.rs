//! The edge between a config repo on disk and the core: its commit, and who runs shoal.

use std::path::Path;

use crate::render::CommitInfo;

/// The commit checked out at `repo`, or an empty one when `repo` is not the top folder
/// of a git work tree (a config repo must be a repository of its own to have commits) or
/// git is not installed.
///
/// It asks the `git` command rather than libgit2: libgit2, built with https for the
/// daemon's fetches, loads the system's certificate bundle when it starts, which would
/// cost every `plan` and `apply` more time than the rest of an unchanged redeploy.
pub fn commit_info(repo: &Path) -> CommitInfo {
    // Only the top folder of a work tree has `.git` (a folder, or a file in a linked
    // work tree or a submodule).
    let dot_git = repo.join(".git");
    if !dot_git.exists() {
        return CommitInfo::default();
    }
    let Ok(head) = git(repo, &["log", "-1", "--format=%H%x00%an%x00%s"]) else {
        return CommitInfo::default();
    };
    let mut fields = head.trim_end_matches('\n').splitn(3, '\0');
    let (Some(sha), Some(author), Some(summary)) = (fields.next(), fields.next(), fields.next())
    else {
        return CommitInfo::default();
    };
    CommitInfo::new(sha, summary, author, &branch(&dot_git, repo))
}

/// The branch checked out, or an empty name when the head is detached. Read from
/// `.git/HEAD` when `.git` is a folder, saving a second process.
fn branch(dot_git: &Path, repo: &Path) -> String {
    let symbolic = if dot_git.is_dir() {
        std::fs::read_to_string(dot_git.join("HEAD")).ok()
    } else {
        git(repo, &["symbolic-ref", "--quiet", "HEAD"]).ok()
    };
    symbolic
        .as_deref()
        .map(|text| text.trim().trim_start_matches("ref:").trim())
        .and_then(|reference| reference.strip_prefix("refs/heads/"))
        .unwrap_or_default()
        .to_owned()
}

/// Runs `git -C repo ARGS`; its standard output when it succeeds.
fn git(repo: &Path, args: &[&str]) -> Result<String, ()> {
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|_| ())?;
    if !output.status.success() {
        return Err(());
    }
    String::from_utf8(output.stdout).map_err(|_| ())
}

/// The person running the command, for `trigger.actor`.
pub fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default()
}
