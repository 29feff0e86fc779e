//! docker contexts: a context made by the docker CLI (`docker context create` in a
//! temporary `DOCKER_CONFIG`) for a private engine with mutual TLS, used by `plan` and
//! `apply` through `docker: { context: NAME }`, `--docker-context` and `DOCKER_CONTEXT`,
//! and by `serve --docker-context`; the docker CLI through the same context is the oracle.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::pipeline_parity::Commit;
use crate::support::serve_daemon::ServeDaemon;
use crate::support::test_pki::TestCa;
use crate::support::{PrivateSwarm, free_tcp_port, run_successfully};
use crate::test_repo::{TestRepo, shoal};

/// The docker CLI with the contexts of `config`.
fn docker(config: &Path, args: &[&str]) -> String {
    run_successfully(
        Command::new("docker")
            .args(args)
            .env("DOCKER_CONFIG", config)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .stdin(Stdio::null()),
        Duration::from_secs(60),
    )
}

fn stack_repo(shoal_yml: &str, stack: &str, image: &str, config: &Path) -> TestRepo {
    TestRepo::new()
        .file("shoal.yml", shoal_yml)
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!("steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"),
        )
        .env("DOCKER_CONFIG", &config.display().to_string())
        .env("DOCKER_HOST", "")
        .env("DOCKER_CONTEXT", "")
}

#[test]
fn plan_and_apply_through_a_context_the_docker_cli_made() {
    let ca = TestCa::new("shoal context CA");
    let (client, client_key) = ca.client("shoal");
    let swarm = PrivateSwarm::with_tls(ca.folder());
    let host = swarm.tls_host().to_owned();
    let image = swarm.image("shoal-test/busybox:context");
    let config = tempfile::tempdir().expect("temp");
    docker(
        config.path(),
        &[
            "context",
            "create",
            "private-tls",
            "--docker",
            &format!(
                "host={host},ca={},cert={},key={}",
                ca.certificate().display(),
                client.display(),
                client_key.display()
            ),
        ],
    );
    // The oracle: the docker CLI reaches the manager through the context.
    let oracle = docker(
        config.path(),
        &[
            "--context",
            "private-tls",
            "info",
            "--format",
            "{{.Swarm.ControlAvailable}}",
        ],
    );
    assert_eq!(oracle.trim(), "true");

    let stack = swarm.unique_name("context");
    let repo = stack_repo(
        "environments:\n  prod:\n    docker: { context: private-tls }\n",
        &stack,
        &image,
        config.path(),
    );
    let apply = repo.run(&["apply", "--env", "prod"]);
    assert_eq!(apply.code, 0, "{}{}", apply.stdout, apply.stderr);
    let services = docker(
        config.path(),
        &[
            "--context",
            "private-tls",
            "service",
            "ls",
            "--format",
            "{{.Name}}",
        ],
    );
    assert!(
        services.lines().any(|name| name == format!("{stack}_web")),
        "{services}"
    );
    let plan = repo.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);

    // An environment without a `docker` block: `--docker-context`, or `DOCKER_CONTEXT` as
    // for the docker CLI.
    let bare = stack_repo("environments: { prod: {} }", &stack, &image, config.path());
    let plan = bare.run(&["plan", "--env", "prod", "--docker-context", "private-tls"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);
    let bare = bare.env("DOCKER_CONTEXT", "private-tls");
    let plan = bare.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("Plan: no changes."), "{}", plan.stdout);

    // The daemon, for every environment: `serve --docker-context`.
    let daemon_stack = swarm.unique_name("context-daemon");
    let daemon_repo = TestRepo::new()
        .file("shoal.yml", "environments: { prod: {} }\n")
        .file(
            "stacks/app.yml",
            &format!("services:\n  web:\n    image: {image}\n"),
        )
        .file(
            "workflows/deploy.yml",
            &format!(
                "on: {{ push: {{ branches: [main] }} }}\nsteps:\n  - stack: {{ name: \
                 {daemon_stack}, compose: stacks/app.yml }}\n"
            ),
        );
    let commit = Commit::of(daemon_repo.path(), "through a context");
    let state = tempfile::tempdir().expect("temp");
    let port = free_tcp_port();
    let mut command = shoal();
    command
        .args(["serve", "--branch", "main", "--poll-interval", "1s"])
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--repo")
        .arg(daemon_repo.path())
        .arg("--state")
        .arg(state.path())
        .args(["--docker-context", "private-tls"])
        .env("DOCKER_CONFIG", config.path())
        .env_remove("SHOAL_DOCKER_HOST")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let daemon = ServeDaemon::spawn(command, port, state.path());
    let run = daemon.wait_for_commit(&commit.sha);
    assert_eq!(run["status"], "success", "{run}");
    drop(daemon);
    let services = docker(
        config.path(),
        &[
            "--context",
            "private-tls",
            "service",
            "ls",
            "--format",
            "{{.Name}}",
        ],
    );
    assert!(
        services
            .lines()
            .any(|name| name == format!("{daemon_stack}_web")),
        "{services}"
    );

    // A context that does not exist names those that do.
    let unknown = stack_repo(
        "environments:\n  prod:\n    docker: { context: private }\n",
        &stack,
        &image,
        config.path(),
    );
    let plan = unknown.run(&["plan", "--env", "prod"]);
    assert_eq!(plan.code, 1, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(
        plan.stderr,
        format!(
            "error: environment `prod`: docker context `private` does not exist ({}/contexts \
             has: private-tls; `docker context create` makes one)\n",
            config.path().display()
        )
    );
}
