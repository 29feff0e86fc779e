//! A pull request's plan runs in a child process under memory and CPU limits: a template
//! that doubles a string until it fills the memory kills that child, not the daemon,
//! which keeps answering and applies a push to main alongside; an alias bomb and a
//! template without an end fail their pull requests' runs on their limits, meanwhile too.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::hostile_input::{RUNAWAY_LOOPS, alias_bomb};
use crate::support::serve_daemon::{ServeDaemon, github_signature};
use crate::support::{PrivateSwarm, git, http_get, write_file};

fn head(folder: &Path) -> String {
    git(folder, &["rev-parse", "HEAD"]).trim().to_owned()
}

fn compose(image: &str, replicas: u32, before: &str) -> String {
    format!(
        "{before}version: \"3.8\"\nservices:\n  web:\n    image: \"{image}\"\n    deploy: {{ replicas: {replicas} }}\n"
    )
}

#[test]
fn a_pull_request_that_doubles_a_string_is_killed_in_its_sandbox_while_main_is_applied() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:sandbox");
    let stack = swarm.unique_name("sandbox");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write("stacks/app.yml", &compose(&image, 1, ""));
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\n  pull_request: {{ branches: [main] }}\n\
             steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "deploy web"]);
    let first = head(source.path());

    // 1 MiB doubled 40 times: far past any memory.
    let bomb = format!(
        "{{% set s = 'x' * 1048576 %}}{}",
        "{% set s = s ~ s %}".repeat(40)
    );
    git(source.path(), &["checkout", "-q", "-b", "bomb"]);
    write("stacks/app.yml", &compose(&image, 1, &bomb));
    git(source.path(), &["commit", "-q", "-am", "double a string"]);
    let bomb_head = head(source.path());
    git(source.path(), &["checkout", "-q", "main"]);

    let state = tempfile::tempdir().expect("temp");
    let secret_file = state.path().join("webhook-secret");
    std::fs::write(&secret_file, "hook-secret\n").expect("secret");
    let args: Vec<OsString> = vec!["--webhook-secret-file".into(), secret_file.into_os_string()];
    let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);
    let applied = daemon.wait_for_commit(&first);
    assert_eq!(applied["status"], "success", "{applied}");

    open_pull_request(&daemon, 7, &bomb_head);
    // A push to main meanwhile.
    write("stacks/app.yml", &compose(&image, 2, ""));
    git(source.path(), &["commit", "-q", "-am", "two replicas"]);
    let second = head(source.path());

    let health = http_get(daemon.port, "/healthz", Duration::from_secs(10)).expect("healthz");
    assert_eq!(health.status, 200);
    let planned = daemon.wait_for_commit(&bomb_head);
    assert_eq!(
        (planned["status"].as_str(), planned["mode"].as_str()),
        (Some("failure"), Some("plan")),
        "{planned}"
    );
    let summary = planned["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains(&format!(
            "planning pull request commit {} stopped: the sandboxed planner was killed \
             (it may have used more than its 1 GiB of memory)",
            &bomb_head[..7]
        )),
        "{summary}"
    );
    let applied = daemon.wait_for_commit(&second);
    assert_eq!(
        (applied["status"].as_str(), applied["mode"].as_str()),
        (Some("success"), Some("apply")),
        "{applied}"
    );
    let health = http_get(daemon.port, "/healthz", Duration::from_secs(10)).expect("healthz");
    assert_eq!(health.status, 200);
}

#[test]
fn a_pull_request_plan_that_overruns_the_load_timeout_is_killed_with_its_sandbox() {
    // A Docker engine that takes connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let docker_host = format!("tcp://{}", silent.local_addr().expect("address"));
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write("stacks/app.yml", &compose("busybox", 1, ""));
    write(
        "workflows/deploy.yml",
        "on:\n  pull_request: { branches: [main] }\n\
         steps:\n  - stack: { name: silent, compose: stacks/app.yml }\n",
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "deploy web"]);
    git(source.path(), &["checkout", "-q", "-b", "two"]);
    write("stacks/app.yml", &compose("busybox", 2, ""));
    git(source.path(), &["commit", "-q", "-am", "two replicas"]);
    let pr_head = head(source.path());

    let state = tempfile::tempdir().expect("temp");
    let secret_file = state.path().join("webhook-secret");
    std::fs::write(&secret_file, "hook-secret\n").expect("secret");
    let args: Vec<OsString> = vec![
        "--webhook-secret-file".into(),
        secret_file.into_os_string(),
        "--load-timeout".into(),
        "3s".into(),
        "--docker-timeout".into(),
        "5m".into(),
    ];
    let daemon = ServeDaemon::start_with_docker(
        crate::support::free_tcp_port(),
        &state.path().join("state"),
        source.path(),
        &docker_host,
        &args,
    );
    open_pull_request(&daemon, 8, &pr_head);
    let planned = daemon.wait_for_commit(&pr_head);
    assert_eq!(planned["status"], "failure", "{planned}");
    let summary = planned["summary"].as_str().unwrap_or_default();
    assert!(
        summary.contains(&format!(
            "planning pull request commit {} stopped: the sandboxed planner took longer than 3s",
            &pr_head[..7]
        )),
        "{summary}"
    );
    drop(silent);
}

fn open_pull_request(daemon: &ServeDaemon, number: u32, head: &str) {
    let body = json!({
        "action": "opened",
        "number": number,
        "pull_request": { "base": { "ref": "main" }, "head": { "sha": head } },
        "sender": { "login": "mallory" },
    })
    .to_string();
    let (status, answer) = daemon.post(
        "/hooks/github",
        &[
            ("X-GitHub-Event", "pull_request".into()),
            ("X-GitHub-Delivery", format!("pr-{number}")),
            (
                "X-Hub-Signature-256",
                github_signature(b"hook-secret", &body),
            ),
        ],
        &body,
    );
    assert_eq!(status, 202, "{answer}");
}

#[test]
fn pull_requests_with_an_alias_bomb_and_a_runaway_template_fail_on_their_limits_while_main_is_applied()
 {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:sandbox");
    let stack = swarm.unique_name("limits");
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write("stacks/app.yml", &compose(&image, 1, ""));
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\n  pull_request: {{ branches: [main] }}\n\
             steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "deploy web"]);
    let first = head(source.path());

    git(source.path(), &["checkout", "-q", "-b", "bomb"]);
    write("workflows/bomb.yml", &alias_bomb());
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "a billion laughs"]);
    let bomb_head = head(source.path());
    git(source.path(), &["checkout", "-q", "main"]);
    git(source.path(), &["checkout", "-q", "-b", "runaway"]);
    write("stacks/app.yml", &compose(&image, 1, RUNAWAY_LOOPS));
    git(
        source.path(),
        &["commit", "-q", "-am", "a template without an end"],
    );
    let runaway_head = head(source.path());
    git(source.path(), &["checkout", "-q", "main"]);

    let state = tempfile::tempdir().expect("temp");
    let secret_file = state.path().join("webhook-secret");
    std::fs::write(&secret_file, "hook-secret\n").expect("secret");
    let args: Vec<OsString> = vec!["--webhook-secret-file".into(), secret_file.into_os_string()];
    let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);
    let applied = daemon.wait_for_commit(&first);
    assert_eq!(applied["status"], "success", "{applied}");

    open_pull_request(&daemon, 9, &bomb_head);
    open_pull_request(&daemon, 10, &runaway_head);
    // A push to main meanwhile.
    write("stacks/app.yml", &compose(&image, 2, ""));
    git(source.path(), &["commit", "-q", "-am", "two replicas"]);
    let second = head(source.path());
    let health = http_get(daemon.port, "/healthz", Duration::from_secs(10)).expect("healthz");
    assert_eq!(health.status, 200);

    for (commit, limit) in [
        (
            &bomb_head,
            "workflows/bomb.yml:6:12: this alias would expand the document to more than 250000 nodes",
        ),
        (
            &runaway_head,
            "local: rendering failed: stacks/app.yml:1:1: template ran out of fuel: one render may run at most 1000000 instructions (environment `local`)",
        ),
    ] {
        let planned = daemon.wait_for_commit(commit);
        assert_eq!(
            (planned["status"].as_str(), planned["mode"].as_str()),
            (Some("failure"), Some("plan")),
            "{planned}"
        );
        let summary = planned["summary"].as_str().unwrap_or_default();
        assert!(summary.contains(limit), "{summary}");
        let health = http_get(daemon.port, "/healthz", Duration::from_secs(10)).expect("healthz");
        assert_eq!(health.status, 200);
    }
    let applied = daemon.wait_for_commit(&second);
    assert_eq!(
        (applied["status"].as_str(), applied["mode"].as_str()),
        (Some("success"), Some("apply")),
        "{applied}"
    );
}
