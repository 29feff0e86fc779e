//! The edge between a config repo on disk and the core: its commit, and who runs shoal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::cli::loose_commit;
use crate::render::CommitInfo;

/// The commit checked out at `repo`, or an empty one when `repo` is not the top folder
/// of a git work tree (a config repo must be a repository of its own to have commits) or
/// git is not installed.
pub fn commit_info(repo: &Path) -> CommitInfo {
    CheckedOutCommit::start(repo).get().clone()
}

/// The commit checked out at a config repo: read from the repository's files when they
/// hold it as a loose object, which takes no process; else by a `git` process that runs
/// while shoal goes on (loading the repo, reading the swarm) and is waited for when the
/// commit is first needed.
///
/// It never asks libgit2: libgit2, built with https for the daemon's fetches, loads the
/// system's certificate bundle when it starts, which would cost every `plan` and `apply`
/// more time than the rest of an unchanged redeploy.
pub struct CheckedOutCommit {
    repo: PathBuf,
    git: Mutex<Option<Child>>,
    info: OnceLock<CommitInfo>,
}

impl CheckedOutCommit {
    /// A commit already read, such as the one a rollback applies.
    pub fn known(repo: &Path, info: CommitInfo) -> CheckedOutCommit {
        CheckedOutCommit {
            repo: repo.to_path_buf(),
            git: Mutex::new(None),
            info: OnceLock::from(info),
        }
    }

    /// Starts reading the commit at `repo`: from its files when the commit is a loose
    /// object (see [`loose_commit`]), else through `git`.
    pub fn start(repo: &Path) -> CheckedOutCommit {
        let dot_git = repo.join(".git");
        let info = OnceLock::new();
        if dot_git.is_dir()
            && let Some(head) = loose_commit::read_head(&dot_git)
        {
            let _ = info.set(head);
            return CheckedOutCommit {
                repo: repo.to_path_buf(),
                git: Mutex::new(None),
                info,
            };
        }
        // Only the top folder of a work tree has `.git` (a folder, or a file in a linked
        // work tree or a submodule).
        let git = dot_git.exists().then(|| {
            git_command(repo, &["log", "-1", "--format=%H%x00%an%x00%s"])
                .stdout(Stdio::piped())
                .spawn()
                .ok()
        });
        CheckedOutCommit {
            repo: repo.to_path_buf(),
            git: Mutex::new(git.flatten()),
            info,
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

/// The commit `name` (a SHA, a prefix of one, a branch, `HEAD~2`) names in the repository
/// at `repo`, as templates see it (on the branch checked out there); `None` when it names
/// no commit, or `repo` is no git work tree.
pub fn named_commit(repo: &Path, name: &str) -> Option<CommitInfo> {
    let line = git(
        repo,
        &[
            "log",
            "-1",
            "--format=%H%x00%an%x00%s",
            &format!("{name}^{{commit}}"),
            "--",
        ],
    )?;
    let mut fields = line.trim_end_matches('\n').splitn(3, '\0');
    let (sha, author, summary) = (fields.next()?, fields.next()?, fields.next()?);
    let branch = branch(&repo.join(".git"), repo);
    Some(CommitInfo::new(sha, summary, author, &branch))
}

/// The folder of the repository's objects (its `.git`, or the common one of a linked
/// work tree), which commits are read from.
pub fn git_folder(repo: &Path) -> Option<PathBuf> {
    let path = git(
        repo,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    )?;
    Some(PathBuf::from(path.trim_end_matches('\n')))
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

    fn git_output(repo: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .output()
            .expect("git is installed (scripts/install-test-deps)");
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8(output.stdout).expect("UTF-8")
    }

    /// Reads the commit at `repo`; whether `git` had to be asked.
    fn read(repo: &Path) -> (CommitInfo, bool) {
        let commit = CheckedOutCommit::start(repo);
        let asked_git = commit.git.lock().expect("lock").is_some();
        let info = commit.get().clone();
        // Asked again, it does not wait for git again.
        assert!(std::ptr::eq(commit.get(), commit.get()));
        (info, asked_git)
    }

    #[test]
    fn the_checked_out_commit_is_read_from_files_or_else_from_git() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let repo = folder.path();
        git(repo, &["init", "--quiet", "--initial-branch=main"]);
        std::fs::write(repo.join("shoal.yml"), "environments: {}\n").expect("write");
        git(repo, &["add", "shoal.yml"]);
        git(
            repo,
            &[
                "commit",
                "--quiet",
                "--message",
                "Add shoal.yml\nfor staging\n\nBody",
            ],
        );
        let sha = git_output(repo, &["rev-parse", "HEAD"]).trim().to_owned();
        let expected = CommitInfo::new(&sha, "Add shoal.yml for staging", "Ana Lopes", "main");
        // A new commit is a loose object: read without git.
        assert_eq!(read(repo), (expected.clone(), false));
        // Its branch in packed-refs, the commit still loose.
        git(repo, &["pack-refs", "--all"]);
        assert_eq!(read(repo), (expected.clone(), false));
        // The commit in a pack: git tells.
        git(repo, &["gc", "--quiet"]);
        assert_eq!(read(repo), (expected, true));
        // A detached head has no branch.
        git(repo, &["checkout", "--quiet", "--detach"]);
        let (detached, _) = read(repo);
        assert_eq!(
            (detached.sha.as_str(), detached.branch.as_str()),
            (sha.as_str(), "")
        );
    }

    #[test]
    fn a_folder_outside_git_has_an_empty_commit() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let info = commit_info(folder.path());
        assert!(info.sha.is_empty() && info.branch.is_empty(), "{info:?}");
    }
}
