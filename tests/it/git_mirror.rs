//! The git mirror against real repositories: over `file://` and over the git protocol
//! from a real `git daemon`, fetched incrementally, read commit by commit.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shoal::git::Mirror;
use shoal::load::{RepoFiles, load_repo};

use crate::support::{free_tcp_port, git, write_file};

/// A source repo with a valid config repo on `main`.
fn source_repo() -> tempfile::TempDir {
    let folder = tempfile::tempdir().expect("temp");
    let repo = folder.path();
    git(repo, &["init", "-q"]);
    write_file(repo, "shoal.yml", "environments: { local: {} }\n");
    write_file(
        repo,
        "workflows/deploy.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - network: { name: net }\n",
    );
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "first"]);
    folder
}

#[test]
fn a_file_url_mirror_fetches_incrementally_and_reads_exact_commits() {
    let source = source_repo();
    let state = tempfile::tempdir().expect("temp");
    let url = format!("file://{}", source.path().display());
    let mirror = Mirror::open(&state.path().join("mirror.git"), &url).expect("opens");
    mirror.fetch().expect("fetches");
    let first = mirror.head("main").expect("main");
    assert_eq!(first, git(source.path(), &["rev-parse", "HEAD"]).trim());

    write_file(
        source.path(),
        "stacks/app.yml",
        "version: \"3.8\"\nservices: {}\n",
    );
    write_file(
        source.path(),
        "workflows/deploy.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - network: { name: net2 }\n",
    );
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "second"]);
    mirror.fetch().expect("fetches again");
    let second = mirror.head("main").expect("main");
    assert_ne!(first, second);
    assert_eq!(
        mirror.changed_paths(Some(&first), &second).expect("diff"),
        ["stacks/app.yml", "workflows/deploy.yml"]
    );
    assert!(
        mirror.commit_order(&second).expect("order") > mirror.commit_order(&first).expect("order")
    );
    assert_eq!(
        mirror.commit_info(&second, "main").expect("info").message,
        "second"
    );

    // Each commit reads as it was, whatever the branch head is now.
    let old = mirror.files_at(&first).expect("files");
    assert!(
        old.read("workflows/deploy.yml")
            .expect("read")
            .contains("name: net }")
    );
    assert!(!old.exists("stacks/app.yml"));
    let (repo, diagnostics) = load_repo(mirror.files_at(&second).expect("files").as_ref());
    assert!(repo.is_some(), "{diagnostics:?}");
    assert_eq!(old.list("workflows"), ["workflows/deploy.yml"]);

    // Force-pushed back to the first commit: the old head is no ancestor of the new one.
    assert!(mirror.is_ancestor(&first, &second).expect("ancestry"));
    git(source.path(), &["reset", "-q", "--hard", &first]);
    mirror.fetch().expect("fetches the rewound branch");
    assert_eq!(mirror.head("main").expect("main"), first);
    assert!(!mirror.is_ancestor(&second, &first).expect("ancestry"));
    assert!(mirror.is_ancestor(&first, &first).expect("ancestry"));
}

#[test]
fn a_symbolic_link_in_a_commit_is_never_followed() {
    let source = source_repo();
    std::os::unix::fs::symlink("/etc/passwd", source.path().join("passwd")).expect("symlink");
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "link"]);
    let state = tempfile::tempdir().expect("temp");
    let mirror = Mirror::open(
        &state.path().join("m.git"),
        &source.path().display().to_string(),
    )
    .expect("opens");
    mirror.fetch().expect("fetches a local path");
    let files = mirror
        .files_at(&mirror.head("main").expect("main"))
        .expect("files");
    assert!(files.read("passwd").is_err());
}

struct GitDaemon(Child);

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_mirror_fetches_from_a_real_git_daemon() {
    let source = source_repo();
    let base = source.path().parent().expect("parent").to_owned();
    let name = source
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let port = free_tcp_port();
    let daemon = GitDaemon(
        Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
            ])
            .arg(format!("--base-path={}", base.display()))
            .arg(&base)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts (Debian's git)"),
    );
    let state = tempfile::tempdir().expect("temp");
    let mirror = Mirror::open(
        &state.path().join("m.git"),
        &format!("git://127.0.0.1:{port}/{name}"),
    )
    .expect("opens");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match mirror.fetch() {
            Ok(()) => break,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(error) => panic!("git daemon never answered: {error}"),
        }
    }
    assert_eq!(
        mirror.head("main").expect("main"),
        git(source.path(), &["rev-parse", "HEAD"]).trim()
    );
    drop(daemon);
}
