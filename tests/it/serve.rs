//! `shoal serve` end to end: a real git repository, a real private swarm, real HTTP with
//! real HMAC signatures. A commit on main is applied; a signed push webhook is accepted
//! and an unsigned one refused; the history survives a SIGKILL of the daemon.

use std::time::Duration;

use crate::support::serve_daemon::{ServeDaemon, github_signature, runs};
use crate::support::{PrivateSwarm, git, write_file};
use crate::test_repo::{Run, shoal};

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
    let state_folder = state.path().join("state");
    let with_secret = [
        "--webhook-secret-file".into(),
        secret_file.clone().into_os_string(),
    ];
    let daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &with_secret);
    let port = daemon.port;

    let run = daemon.wait_for_commit(&first);
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
    let signature = github_signature(b"s3cret-for-hooks", &body);
    let (unsigned, _) = daemon.post(
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-1".into()),
        ],
        &body,
    );
    assert_eq!(unsigned, 401);
    let (wrong, _) = daemon.post(
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-Hub-Signature-256", "sha256=00".into()),
        ],
        &body,
    );
    assert_eq!(wrong, 401);
    let (signed, _) = daemon.post(
        "/hooks/github",
        &[
            ("X-GitHub-Event", "push".into()),
            ("X-GitHub-Delivery", "d-2".into()),
            ("X-Hub-Signature-256", signature),
        ],
        &body,
    );
    assert_eq!(signed, 202);
    let run = daemon.wait_for_commit(&second);
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
    let step_line = shown
        .stdout
        .lines()
        .find(|line| {
            line.trim_start()
                .starts_with(&format!("local        stack {stack}"))
        })
        .unwrap_or_else(|| panic!("no line for the stack step:\n{}", shown.stdout));
    assert!(
        step_line.contains("success") && step_line.ends_with("1 change"),
        "each step with its result, duration and changes: {step_line}"
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
    let count = runs(&state_folder).len();
    let daemon = ServeDaemon::start_on(port, &state_folder, source.path(), swarm, &with_secret);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(daemon.runs().len(), count, "{:?}", daemon.runs());
}
