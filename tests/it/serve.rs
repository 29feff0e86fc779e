//! `shoal serve` end to end: a real git repository, a real private swarm, real HTTP with
//! real HMAC signatures. A commit on main is applied; a signed push webhook is accepted
//! and an unsigned one refused; the history survives a SIGKILL of the daemon.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac as _};

use crate::support::{Daemon, PrivateSwarm, free_tcp_port, git, wait_for_health, write_file};
use crate::test_repo::{Run, shoal};

/// A POST on loopback; the status code.
fn post(port: u16, path: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("writes");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn runs(state: &Path) -> serde_json::Value {
    let run = Run::from(
        shoal()
            .args(["runs", "--output", "json", "--state"])
            .arg(state)
            .output()
            .expect("runs"),
    );
    serde_json::from_str(&run.stdout).unwrap_or(serde_json::Value::Null)
}

/// Waits until a run on `commit` has ended; returns it.
fn wait_for_run(state: &Path, commit: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let found = runs(state)["runs"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|run| {
                run["commit"] == commit
                    && !matches!(run["status"].as_str(), Some("queued" | "running"))
            })
            .cloned();
        if let Some(run) = found {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "no finished run on {commit}: {}",
            runs(state)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn start(
    state: &Path,
    source: &Path,
    port: u16,
    swarm: &PrivateSwarm,
    secret_file: &Path,
) -> Daemon {
    let daemon = Daemon(
        shoal()
            .args([
                "serve",
                "--branch",
                "main",
                "--poll-interval",
                "1s",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .arg("--repo")
            .arg(source)
            .arg("--state")
            .arg(state)
            .arg("--webhook-secret-file")
            .arg(secret_file)
            .args(["--docker-host", swarm.docker_host()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("shoal serve starts"),
    );
    wait_for_health(port, String::new);
    daemon
}

#[test]
fn serve_applies_pushes_checks_webhook_signatures_and_keeps_its_history() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:serve");
    let stack = swarm.unique_name("serve");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write(
        "shoal.yml",
        &format!("environments: {{ local: {{ vars: {{ image: \"{image}\", replicas: 1 }} }} }}\n"),
    );
    write(
        "stacks/app.yml",
        "version: \"3.8\"\nservices:\n  web:\n    image: \"{{ vars.image }}\"\n    deploy: { replicas: {{ vars.replicas }} }\n",
    );
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        ),
    );
    git(source.path(), &["init", "-q"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "first"]);
    let first = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();

    let state = tempfile::tempdir().expect("temp");
    let secret_file = state.path().join("webhook-secret");
    std::fs::write(&secret_file, "s3cret-for-hooks\n").expect("secret");
    let port = free_tcp_port();
    let daemon = start(
        &state.path().join("state"),
        source.path(),
        port,
        swarm,
        &secret_file,
    );
    let state_folder = state.path().join("state");

    let run = wait_for_run(&state_folder, &first);
    assert_eq!(run["status"], "success", "{run}");
    assert_eq!(run["event"], "push");
    swarm.wait_for_running_tasks(&format!("{stack}_web"), 1, Duration::from_secs(60));

    // A new commit, announced by a signed webhook.
    write(
        "shoal.yml",
        &format!("environments: {{ local: {{ vars: {{ image: \"{image}\", replicas: 2 }} }} }}\n"),
    );
    git(source.path(), &["commit", "-q", "-am", "two replicas"]);
    let second = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    let body = serde_json::json!({ "ref": "refs/heads/main", "after": second, "sender": { "login": "octocat" } }).to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"s3cret-for-hooks").expect("key");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let unsigned = post(
        port,
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-1".into()),
        ],
        &body,
    );
    assert_eq!(unsigned, 401);
    let wrong = post(
        port,
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", "sha256=00".into()),
        ],
        &body,
    );
    assert_eq!(wrong, 401);
    let signed = post(
        port,
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-2".into()),
            ("X-Hub-Signature-256", signature),
        ],
        &body,
    );
    assert_eq!(signed, 202);
    let run = wait_for_run(&state_folder, &second);
    assert_eq!(run["status"], "success", "{run}");
    swarm.wait_for_running_tasks(&format!("{stack}_web"), 2, Duration::from_secs(60));
    let id = run["id"].as_i64().expect("id");
    let shown = Run::from(
        shoal()
            .args(["runs", "show", &id.to_string(), "--state"])
            .arg(&state_folder)
            .output()
            .expect("runs show"),
    );
    assert!(
        shown.stdout.contains("local: success (1 changes)"),
        "{}",
        shown.stdout
    );
    assert!(
        shown
            .stdout
            .contains(&format!("updated service {stack}_web")),
        "{}",
        shown.stdout
    );

    // SIGKILL, then a restart: the history is there, nothing is applied twice.
    drop(daemon);
    let count = runs(&state_folder)["runs"].as_array().map_or(0, Vec::len);
    let _daemon = start(&state_folder, source.path(), port, swarm, &secret_file);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        runs(&state_folder)["runs"].as_array().map_or(0, Vec::len),
        count,
        "{}",
        runs(&state_folder)
    );
}
