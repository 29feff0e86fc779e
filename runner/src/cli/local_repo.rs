//! The edge between a config repo on disk and the core: its commit, and who runs shoal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::render::CommitInfo;

/// The commit checked out at `repo`, or an empty one when `repo` is not the top folder
/// of a git work tree (a config repo must be a repository of its own to have commits) or
/// git is not installed.
pub fn commit_info(repo: &Path) -> CommitInfo {
    CheckedOutCommit::start(repo).get().clone()
}

/// The commit checked out at a config repo, read by a `git` process that runs while
/// shoal goes on (loading the repo, reading the swarm) and is waited for when the commit
/// is first needed.
///
/// It asks the `git` command rather than libgit2: libgit2, built with https for the
/// daemon's fetches, loads the system's certificate bundle when it starts, which would
/// cost every `plan` and `apply` more time than the rest of an unchanged redeploy.
pub struct CheckedOutCommit {
    repo: PathBuf,
    git: Mutex<Option<Child>>,
    info: OnceLock<CommitInfo>,
}

impl CheckedOutCommit {
    /// Starts reading the commit at `repo`.
    pub fn start(repo: &Path) -> CheckedOutCommit {
        // Only the top folder of a work tree has `.git` (a folder, or a file in a linked
        // work tree or a submodule).
        let git = repo.join(".git").exists().then(|| {
            git_command(repo, &["log", "-1", "--format=%H%x00%an%x00%s"])
                .stdout(Stdio::piped())
                .spawn()
                .ok()
        });
        CheckedOutCommit {
            repo: repo.to_path_buf(),
            git: Mutex::new(git.flatten()),
            info: OnceLock::new(),
        }
    }

    /// The commit; the first call waits for `git`.
    pub fn get(&self) -> &CommitInfo {
        self.info.get_or_init(|| {
            let child = self.git.lock().map_or(None, |mut git| git.take());
            child
                .and_then(|child| success(child.wait_with_output()))
                .and_then(|head| self.parse(&head))
                .unwrap_or_default()
        })
    }

    /// `git log`'s line: the SHA, author and summary, separated by NULs.
    fn parse(&self, head: &str) -> Option<CommitInfo> {
        let mut fields = head.trim_end_matches('\n').splitn(3, '\0');
        let (sha, author, summary) = (fields.next()?, fields.next()?, fields.next()?);
        let branch = branch(&self.repo.join(".git"), &self.repo);
        Some(CommitInfo::new(sha, summary, author, &branch))
    }
}

/// The branch checked out, or an empty name when the head is detached. Read from
/// `.git/HEAD` when `.git` is a folder, saving a second process.
fn branch(dot_git: &Path, repo: &Path) -> String {
    let symbolic = if dot_git.is_dir() {
        std::fs::read_to_string(dot_git.join("HEAD")).ok()
    } else {
        git(repo, &["symbolic-ref", "--quiet", "HEAD"])
    };
    symbolic
        .as_deref()
        .map(|text| text.trim().trim_start_matches("ref:").trim())
        .and_then(|reference| reference.strip_prefix("refs/heads/"))
        .unwrap_or_default()
        .to_owned()
}

/// Runs `git -C repo ARGS`; its standard output when it succeeds.
fn git(repo: &Path, args: &[&str]) -> Option<String> {
    git_command(repo, args)
        .stdout(Stdio::piped())
        .spawn()
        .ok()
        .and_then(|child| success(child.wait_with_output()))
}

/// `git -C repo ARGS`, reading nothing and printing no error.
fn git_command(repo: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// The standard output of a process that succeeded.
fn success(output: std::io::Result<Output>) -> Option<String> {
    let output = output.ok().filter(|output| output.status.success())?;
    String::from_utf8(output.stdout).ok()
}

/// The person running the command, for `trigger.actor`.
pub fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    fn git(repo: &Path, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args([
                "-c",
                "user.name=Ana Lopes",
                "-c",
                "user.email=ana@example.org",
            ])
            .args(args)
            .status()
            .expect("git is installed (scripts/install-test-deps)");
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn the_checked_out_commit_is_read_while_shoal_goes_on() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let repo = folder.path();
        git(repo, &["init", "--quiet", "--initial-branch=main"]);
        std::fs::write(repo.join("shoal.yml"), "environments: {}\n").expect("write");
        git(repo, &["add", "shoal.yml"]);
        git(
            repo,
            &["commit", "--quiet", "--message", "Add shoal.yml\n\nBody"],
        );
        let commit = CheckedOutCommit::start(repo);
        let info = commit.get();
        assert_eq!(info.sha.len(), 40, "{info:?}");
        assert_eq!(info.short_sha, info.sha[..7]);
        assert_eq!(info.message, "Add shoal.yml");
        assert_eq!(info.author, "Ana Lopes");
        assert_eq!(info.branch, "main");
        // Asked again, it does not wait for git again.
        assert!(std::ptr::eq(commit.get(), info));
    }

    #[test]
    fn a_folder_outside_git_has_an_empty_commit() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let info = commit_info(folder.path());
        assert!(info.sha.is_empty() && info.branch.is_empty(), "{info:?}");
    }
}
