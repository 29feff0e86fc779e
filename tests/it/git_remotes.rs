//! The mirror against authenticated remotes, and the watcher of a local repo: a real https
//! git server (lighttpd, git's http-backend, a CA made for the test, a token), a real
//! OpenSSH sshd checked against known_hosts, and `shoal serve` picking up a local commit
//! without polling.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use shoal::git::{CertificateAuthorities, GitError, GitToken, Mirror, RefWatcher, RemoteAccess};

use crate::support::git_servers::{HttpGitServer, SshGitServer, ssh_keygen};
use crate::support::serve_daemon::{ServeDaemon, runs};
use crate::support::{free_tcp_port, git, run_successfully, write_file};
use crate::test_repo::shoal;

const TOKEN: &str = "s3cret-token-for-the-forge";

/// A repository holding a valid config repo on `main`, in `parent/name`.
fn source_repo(parent: &Path, name: &str) -> std::path::PathBuf {
    let repo = parent.join(name);
    std::fs::create_dir_all(&repo).expect("folder");
    git(&repo, &["init", "-q"]);
    write_file(&repo, "shoal.yml", "environments: { local: {} }\n");
    write_file(
        &repo,
        "workflows/deploy.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - network: { name: net }\n",
    );
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    repo
}

fn commit(repo: &Path, message: &str) -> String {
    write_file(repo, "stacks/notes.txt", message);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
    git(repo, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn head(repo: &Path) -> String {
    git(repo, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn https_access(token: Option<&str>, ca_file: Option<&Path>) -> RemoteAccess {
    RemoteAccess {
        token: token.map(|token| GitToken::new(token.to_owned())),
        certificate_authorities: ca_file
            .map(|path| CertificateAuthorities::read(path).expect("the CA file reads")),
        ..RemoteAccess::default()
    }
}

fn fetch_error(url: &str, access: RemoteAccess) -> String {
    let state = tempfile::tempdir().expect("temp");
    let mirror = Mirror::open(&state.path().join("m.git"), url)
        .expect("opens")
        .with_access(access);
    match mirror.fetch() {
        Ok(()) => panic!("fetching {url} should have failed"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn an_https_mirror_fetches_with_the_token_and_the_extra_certificate_authority() {
    let repositories = tempfile::tempdir().expect("temp");
    let source = source_repo(repositories.path(), "infra");
    let server = HttpGitServer::start(repositories.path(), TOKEN);
    let state = tempfile::tempdir().expect("temp");
    let mirror = Mirror::open(&state.path().join("m.git"), &server.url("infra"))
        .expect("opens")
        .with_access(https_access(Some(TOKEN), Some(&server.ca_file())));
    mirror.fetch().expect("the first fetch clones");
    assert_eq!(mirror.head("main").expect("main"), head(&source));

    let second = commit(&source, "second");
    mirror.fetch().expect("the second fetch");
    assert_eq!(mirror.head("main").expect("main"), second);
    // The token went through the credentials callback, never into the stored remote.
    let config = std::fs::read_to_string(state.path().join("m.git/config")).expect("config");
    assert!(config.contains(&server.url("infra")), "{config}");
    assert!(!config.contains(TOKEN), "{config}");
}

#[test]
fn an_https_mirror_refuses_a_wrong_or_missing_token_and_an_unknown_certificate() {
    let repositories = tempfile::tempdir().expect("temp");
    source_repo(repositories.path(), "infra");
    let server = HttpGitServer::start(repositories.path(), TOKEN);
    let url = server.url("infra");
    let ca = server.ca_file();

    let wrong = "wrong-token-0123456789";
    let error = fetch_error(&url, https_access(Some(wrong), Some(&ca)));
    assert_eq!(
        error,
        format!(
            "failed to fetch ({url}): the remote refused the token (from --git-token-file or SHOAL_GIT_TOKEN)"
        )
    );
    let error = fetch_error(&url, https_access(None, Some(&ca)));
    assert_eq!(
        error,
        format!(
            "failed to fetch ({url}): the remote asks for credentials; give a token with --git-token-file or SHOAL_GIT_TOKEN"
        )
    );
    // Without the test's CA, the server's certificate is not trusted, token or not.
    let error = fetch_error(&url, https_access(Some(TOKEN), None));
    assert_eq!(
        error,
        format!("failed to fetch ({url}): the SSL certificate is invalid; class=Ssl (16)")
    );
    // A CA that did not sign it does not help either.
    let other = HttpGitServer::start(repositories.path(), TOKEN);
    let error = fetch_error(&url, https_access(Some(TOKEN), Some(&other.ca_file())));
    assert_eq!(
        error,
        format!(
            "failed to fetch ({url}): the certificate of 127.0.0.1 is trusted neither by the system nor by {} (unable to get local issuer certificate)",
            other.ca_file().display()
        )
    );
}

#[test]
fn an_http_mirror_never_sends_the_token_in_clear() {
    let repositories = tempfile::tempdir().expect("temp");
    source_repo(repositories.path(), "infra");
    let server = HttpGitServer::start_without_tls(repositories.path(), TOKEN);
    let url = server.url("infra");
    assert!(url.starts_with("http://"), "{url}");
    assert_eq!(
        fetch_error(&url, https_access(Some(TOKEN), None)),
        format!(
            "failed to fetch ({url}): the remote asks for credentials over plain http; shoal sends its token only over https"
        )
    );
}

#[test]
fn an_ssh_mirror_fetches_with_the_key_when_the_host_key_is_known() {
    let repositories = tempfile::tempdir().expect("temp");
    let source = source_repo(repositories.path(), "infra");
    let server = SshGitServer::start();
    let keys = tempfile::tempdir().expect("temp");
    let known_hosts = keys.path().join("known_hosts");
    std::fs::write(
        &known_hosts,
        server.known_hosts_line(&server.host_public_key()),
    )
    .expect("known_hosts");
    let access = || RemoteAccess {
        ssh_key: Some(server.client_key()),
        known_hosts: Some(known_hosts.clone()),
        ..RemoteAccess::default()
    };
    let state = tempfile::tempdir().expect("temp");
    let mirror = Mirror::open(&state.path().join("m.git"), &server.url(&source))
        .expect("opens")
        .with_access(access());
    mirror.fetch().expect("fetches over ssh");
    assert_eq!(mirror.head("main").expect("main"), head(&source));
    let second = commit(&source, "second");

    // The same host, recorded hashed as `ssh-keygen -H` (and HashKnownHosts) write it.
    run_successfully(
        Command::new("ssh-keygen")
            .arg("-H")
            .arg("-f")
            .arg(&known_hosts),
        Duration::from_secs(30),
    );
    let hashed = std::fs::read_to_string(&known_hosts).expect("known_hosts");
    assert!(hashed.starts_with("|1|"), "{hashed}");
    let mirror = mirror.with_access(access());
    mirror.fetch().expect("fetches with a hashed known_hosts");
    assert_eq!(mirror.head("main").expect("main"), second);
}

#[test]
fn an_ssh_mirror_refuses_an_unknown_or_changed_host_key_and_a_wrong_key() {
    let repositories = tempfile::tempdir().expect("temp");
    let source = source_repo(repositories.path(), "infra");
    let server = SshGitServer::start();
    let url = server.url(&source);
    let keys = tempfile::tempdir().expect("temp");
    let fingerprint = run_successfully(
        Command::new("ssh-keygen")
            .arg("-lf")
            .arg(server.host_public_key()),
        Duration::from_secs(30),
    )
    .split_whitespace()
    .nth(1)
    .expect("a fingerprint")
    .to_owned();
    let host = format!("[127.0.0.1]:{}", server.port());
    let access = |known_hosts: &Path, key: &Path| RemoteAccess {
        ssh_key: Some(key.to_owned()),
        known_hosts: Some(known_hosts.to_owned()),
        ..RemoteAccess::default()
    };

    let empty = keys.path().join("empty_known_hosts");
    std::fs::write(&empty, "").expect("known_hosts");
    let error = fetch_error(&url, access(&empty, &server.client_key()));
    assert!(
        error.contains(&format!(
            "the host key of {host} (ssh-ed25519 {fingerprint}) is not in {}",
            empty.display()
        )),
        "{error}"
    );

    // Another key on record for this host and port: a changed host key.
    ssh_keygen(&keys.path().join("impostor"));
    let changed = keys.path().join("changed_known_hosts");
    std::fs::write(
        &changed,
        server.known_hosts_line(&keys.path().join("impostor.pub")),
    )
    .expect("known_hosts");
    let error = fetch_error(&url, access(&changed, &server.client_key()));
    assert!(
        error.contains(&format!(
            "the host key of {host} has changed: it offered ssh-ed25519 {fingerprint}, which is not the key recorded in {} line 1",
            changed.display()
        )),
        "{error}"
    );

    // The right host key, but a client key sshd does not know.
    let known = keys.path().join("known_hosts");
    std::fs::write(&known, server.known_hosts_line(&server.host_public_key()))
        .expect("known_hosts");
    let stranger = keys.path().join("impostor");
    let error = fetch_error(&url, access(&known, &stranger));
    assert!(
        error.contains(&format!(
            "the remote refused the ssh key {}",
            stranger.display()
        )),
        "{error}"
    );
}

#[test]
fn a_mirror_opened_with_another_url_fetches_from_it() {
    let repositories = tempfile::tempdir().expect("temp");
    let old = source_repo(repositories.path(), "old");
    let new = source_repo(repositories.path(), "new");
    let moved = commit(&new, "only in the new repo");
    let state = tempfile::tempdir().expect("temp");
    let path = state.path().join("m.git");
    let mirror = Mirror::open(&path, &old.display().to_string()).expect("opens");
    mirror.fetch().expect("fetches");
    assert_eq!(mirror.head("main").expect("main"), head(&old));
    drop(mirror);
    let url = format!("file://{}", new.display());
    let mirror = Mirror::open(&path, &url).expect("opens again");
    mirror.fetch().expect("fetches");
    assert_eq!(mirror.head("main").expect("main"), moved);
    assert_eq!(mirror.remote().as_str(), url);
}

#[test]
fn a_ref_watcher_reports_a_local_commit_once_the_refs_are_quiet() {
    let folder = tempfile::tempdir().expect("temp");
    let source = source_repo(folder.path(), "infra");
    let (changes, changed) = mpsc::channel();
    let _watcher = RefWatcher::start(&source, move || {
        let _ = changes.send(Instant::now());
    })
    .expect("watches");
    // Writing files and staging them touches no ref: no report.
    write_file(&source, "stacks/notes.txt", "draft");
    git(&source, &["add", "-A"]);
    assert!(changed.recv_timeout(Duration::from_millis(600)).is_err());

    let committed = Instant::now();
    git(&source, &["commit", "-q", "-m", "second"]);
    // The bound only tells a report from none: durations are for benchmarks.
    let reported = changed
        .recv_timeout(Duration::from_secs(30))
        .expect("the commit is reported");
    let latency = reported - committed;
    assert!(
        latency >= Duration::from_millis(150) && latency < Duration::from_secs(30),
        "{latency:?}"
    );
    // One commit, one report.
    assert!(changed.recv_timeout(Duration::from_millis(600)).is_err());
}

#[test]
fn a_ref_watcher_refuses_a_folder_that_is_no_repository() {
    let folder = tempfile::tempdir().expect("temp");
    let error = RefWatcher::start(folder.path(), || {})
        .err()
        .expect("refused");
    assert!(matches!(error, GitError::Git { .. }), "{error}");
}

fn runs_on(state: &Path, commit: &str) -> Vec<serde_json::Value> {
    runs(state)
        .into_iter()
        .filter(|run| run["commit"] == commit)
        .collect()
}

/// Waits until a run on `commit` is recorded, finished or not; returns it and how long
/// that took.
fn wait_for_run(state: &Path, commit: &str, within: Duration) -> (serde_json::Value, Duration) {
    let start = Instant::now();
    loop {
        if let Some(run) = runs_on(state, commit).into_iter().next() {
            return (run, start.elapsed());
        }
        assert!(
            start.elapsed() < within,
            "no run on {commit} within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `shoal serve` on `repo` with a poll interval of an hour, logging to `log`, with the
/// arguments and environment `configure` adds. Runs need no swarm here: the Docker
/// endpoint is a socket nobody listens on, so they fail, but they are recorded on their
/// commit, which is what these tests look at.
fn serve(
    repo: &str,
    state: &Path,
    log: &Path,
    configure: impl FnOnce(&mut Command) -> &mut Command,
) -> ServeDaemon {
    let port = free_tcp_port();
    let mut command = shoal();
    command
        .args(["serve", "--branch", "main", "--poll-interval", "1h"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--repo", repo])
        .arg("--state")
        .arg(state)
        .arg("--docker-host")
        .arg(format!(
            "unix://{}",
            state.with_extension("no-docker.sock").display()
        ))
        .args(["--docker-timeout", "2s"])
        .env_remove("SHOAL_GIT_TOKEN")
        .env_remove("SHOAL_GIT_SSH_KEY")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).expect("log file"));
    configure(&mut command);
    ServeDaemon::spawn(command, port, state)
}

#[test]
fn serve_runs_a_local_commit_without_waiting_for_the_poll() {
    let folder = tempfile::tempdir().expect("temp");
    let source = source_repo(folder.path(), "infra");
    let first = head(&source);
    let state = folder.path().join("state");
    let _daemon = serve(
        &source.display().to_string(),
        &state,
        &folder.path().join("serve.log"),
        |command| command,
    );
    // The poll at start-up sees the first commit.
    wait_for_run(&state, &first, Duration::from_secs(30));

    let second = commit(&source, "second");
    // Far less than the poll interval (an hour), on a machine however busy.
    let (run, waited) = wait_for_run(&state, &second, Duration::from_secs(30));
    assert_eq!(run["event"], "push", "{run}");
    eprintln!("a local commit became run {} after {waited:?}", run["id"]);
}

#[test]
fn serve_fetches_over_https_and_ssh_with_its_flags_and_environment_and_never_logs_the_token() {
    let repositories = tempfile::tempdir().expect("temp");
    let source = source_repo(repositories.path(), "infra");
    let first = head(&source);
    let folder = tempfile::tempdir().expect("temp");
    let path = |name: &str| folder.path().join(name);

    // The token from the environment this time, the key from a flag.
    let https = HttpGitServer::start(repositories.path(), TOKEN);
    let ca = https.ca_file();
    let _https = serve(
        &https.url("infra"),
        &path("https-state"),
        &path("https.log"),
        |command| {
            command
                .env("SHOAL_GIT_TOKEN", TOKEN)
                .arg("--git-ca-file")
                .arg(&ca)
        },
    );
    wait_for_run(&path("https-state"), &first, Duration::from_secs(30));

    let ssh = SshGitServer::start();
    std::fs::write(
        path("known_hosts"),
        ssh.known_hosts_line(&ssh.host_public_key()),
    )
    .expect("known_hosts");
    let key = ssh.client_key();
    let _ssh = serve(
        &ssh.url(&source),
        &path("ssh-state"),
        &path("ssh.log"),
        |command| {
            command
                .arg("--git-ssh-key")
                .arg(&key)
                .arg("--git-known-hosts")
                .arg(path("known_hosts"))
        },
    );
    wait_for_run(&path("ssh-state"), &first, Duration::from_secs(30));

    // A wrong token from a file: the fetch fails, the log says why, and no token is in it.
    let wrong = "wrong-token-0123456789";
    std::fs::write(path("wrong-token"), format!("{wrong}\n")).expect("token file");
    let daemon = serve(
        &https.url("infra"),
        &path("wrong-state"),
        &path("wrong.log"),
        |command| {
            command
                .arg("--git-token-file")
                .arg(path("wrong-token"))
                .arg("--git-ca-file")
                .arg(&ca)
        },
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let log = loop {
        let log = std::fs::read_to_string(path("wrong.log")).unwrap_or_default();
        if log.contains("fetch failed") || Instant::now() > deadline {
            break log;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(daemon);
    assert!(log.contains("the remote refused the token"), "{log}");
    assert!(!log.contains(wrong) && !log.contains(TOKEN), "{log}");
    assert!(runs_on(&path("wrong-state"), &first).is_empty());
}
