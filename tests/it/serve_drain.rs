//! `shoal serve` stopped by SIGTERM or SIGINT: it drains. No new run starts, the running
//! run stops at its next safe point (here, while its wait step waits) and is recorded as
//! interrupted, the queued run stays queued and runs at the next start, and the process
//! exits 0. A second signal while it drains stops it at once.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, free_tcp_port, git, http_get_with_token, write_file};

const TOKEN: &str = "drain-token";

fn wait_until(what: &str, done: &dyn Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn statuses(daemon: &ServeDaemon) -> Vec<String> {
    let mut statuses: Vec<String> = daemon
        .runs()
        .iter()
        .map(|run| run["status"].as_str().unwrap_or_default().to_owned())
        .collect();
    statuses.reverse();
    statuses
}

#[test]
fn sigterm_lets_the_running_run_reach_a_safe_point_keeps_the_queued_one_and_exits_0() {
    let swarm = PrivateSwarm::shared();
    let network = swarm.unique_name("drain");
    let silent = free_tcp_port();
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    let hanging = |label: &str| {
        format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - network: {{ name: {network}, labels: {{ version: \"{label}\" }} }}\n  \
             - id: held\n    wait: {{ url: \"http://127.0.0.1:{silent}/\", timeout: 10m }}\n"
        )
    };
    write("shoal.yml", "environments: { local: {} }\n");
    write("workflows/deploy.yml", &hanging("1"));
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "one"]);

    let state = tempfile::tempdir().expect("temp");
    let token_file = state.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let state_folder = state.path().join("state");
    let arguments = ["--api-token-file".into(), token_file.into_os_string()];
    let mut daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &arguments);
    let port = daemon.port;
    wait_until("the first run holding in its wait step", &|| {
        http_get_with_token(port, "/api/v1/runs/1", TOKEN, Duration::from_secs(5)).is_ok_and(
            |answer| answer.body.contains("\"held\"") && answer.body.contains("\"running\""),
        )
    });
    write("workflows/deploy.yml", &hanging("2"));
    git(source.path(), &["commit", "-q", "-am", "two"]);
    wait_until("the second run queued", &|| {
        statuses(&daemon) == ["running", "queued"]
    });

    daemon.signal("TERM");
    let exit = daemon
        .wait_for_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("still running after SIGTERM:\n{}", daemon.log()));
    assert_eq!(exit.code(), Some(0), "{}", daemon.log());
    assert_eq!(
        statuses(&daemon),
        ["interrupted", "queued"],
        "{}",
        daemon.log()
    );
    let first = &daemon.runs()[1];
    assert!(
        first["summary"].as_str().is_some_and(|summary| summary
            .starts_with("the runner stopped during this run, at a safe point: local: ")),
        "{first}"
    );
    let created = swarm.run_docker(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        created.lines().any(|name| name == network),
        "the step before the wait was applied: {created}"
    );

    // Started again: the queued run runs.
    drop(daemon);
    let daemon = ServeDaemon::start_on(port, &state_folder, source.path(), swarm, &arguments);
    wait_until("the queued run started again", &|| {
        statuses(&daemon) == ["interrupted", "running"]
    });
    let (cancelled, body) = daemon.post(
        "/api/v1/runs/2/cancel",
        &[("Authorization", format!("Bearer {TOKEN}"))],
        "",
    );
    assert_eq!(cancelled, 202, "{body}");
    wait_until("the second run cancelled", &|| {
        statuses(&daemon) == ["interrupted", "cancelled"]
    });
}

#[test]
fn a_second_signal_stops_a_draining_daemon_at_once() {
    // A Docker endpoint that accepts connections and never answers: the run's plan step
    // waits on it for the whole `--docker-timeout`, and a plan step has no safe point.
    let docker = TcpListener::bind("127.0.0.1:0").expect("listens");
    let docker_host = format!("tcp://{}", docker.local_addr().expect("address"));
    let source = tempfile::tempdir().expect("temp");
    write_file(source.path(), "shoal.yml", "environments: { local: {} }\n");
    write_file(
        source.path(),
        "workflows/deploy.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - network: { name: never-made }\n",
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "one"]);
    let state = tempfile::tempdir().expect("temp");
    let mut daemon = ServeDaemon::start_with_docker(
        free_tcp_port(),
        &state.path().join("state"),
        source.path(),
        &docker_host,
        &["--docker-timeout".into(), "10m".into()],
    );
    wait_until("the run started", &|| statuses(&daemon) == ["running"]);

    daemon.signal("TERM");
    wait_until("the daemon draining", &|| {
        daemon
            .log()
            .contains("stopping once running runs reach a safe point")
    });
    assert_eq!(
        daemon.wait_for_exit(Duration::from_secs(2)),
        None,
        "a drain waits for the running run"
    );
    daemon.signal("INT");
    let exit = daemon
        .wait_for_exit(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("still running after a second signal:\n{}", daemon.log()));
    assert_eq!(exit.code(), Some(130), "{}", daemon.log());
    assert!(
        daemon.log().contains("second signal: stopping at once"),
        "{}",
        daemon.log()
    );
}
