//! `shoal serve` killed with SIGKILL in the middle of a run, with another run waiting and
//! a push arriving while it is down. Started again: the run that was running is marked
//! interrupted (never run again), the waiting one runs, the push made meanwhile is
//! applied, and no commit gets a second run.

use std::time::{Duration, Instant};

use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, free_tcp_port, git, http_get_with_token, write_file};

const TOKEN: &str = "restart-token";

#[test]
fn a_sigkill_mid_run_loses_no_push_and_applies_none_twice() {
    let swarm = PrivateSwarm::shared();
    let network = swarm.unique_name("restart");
    let silent = free_tcp_port();
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    // Commits whose workflow waits on a URL that never answers: their runs hang until
    // cancelled (or killed).
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
    let first = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();

    let state = tempfile::tempdir().expect("temp");
    let token_file = state.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let state_folder = state.path().join("state");
    let arguments = ["--api-token-file".into(), token_file.into_os_string()];
    let daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &arguments);
    let port = daemon.port;
    let status_of = |daemon: &ServeDaemon, commit: &str| -> Vec<String> {
        daemon
            .runs()
            .iter()
            .filter(|run| run["commit"] == commit)
            .map(|run| run["status"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !done() {
            assert!(Instant::now() < deadline, "{what} never happened");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    wait_until("the first run holding in its wait step", &|| {
        http_get_with_token(port, "/api/v1/runs/1", TOKEN, Duration::from_secs(5)).is_ok_and(
            |answer| answer.body.contains("\"held\"") && answer.body.contains("\"running\""),
        )
    });

    // A second push waits behind the running run.
    write("workflows/deploy.yml", &hanging("2"));
    git(source.path(), &["commit", "-q", "-am", "two"]);
    let second = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    wait_until("the second run queued", &|| {
        status_of(&daemon, &second) == ["queued"]
    });

    // SIGKILL; a third push arrives while the daemon is down; no more waiting steps.
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &daemon.pid().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    drop(daemon);
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - network: {{ name: {network} }}\n  \
             - network: {{ name: {network}-3 }}\n"
        ),
    );
    git(source.path(), &["commit", "-q", "-am", "three"]);
    let third = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();

    let daemon = ServeDaemon::start_on(port, &state_folder, source.path(), swarm, &arguments);
    assert_eq!(status_of(&daemon, &first), ["interrupted"]);
    let steps =
        http_get_with_token(port, "/api/v1/runs/1", TOKEN, Duration::from_secs(5)).expect("run 1");
    assert!(
        steps.body.contains("\"interrupted\"") && !steps.body.contains("\"running\""),
        "the step that was running is interrupted too: {}",
        steps.body
    );
    // The waiting run was queued again and started; it holds, so cancel it.
    wait_until("the second run started again", &|| {
        status_of(&daemon, &second) == ["running"]
    });
    let (cancelled, body) = daemon.post(
        "/api/v1/runs/2/cancel",
        &[("Authorization", format!("Bearer {TOKEN}"))],
        "",
    );
    assert_eq!(cancelled, 202, "{body}");
    let applied = daemon.wait_for_commit(&third);
    assert_eq!(applied["status"], "success", "{applied}");
    assert_eq!(status_of(&daemon, &second), ["cancelled"]);
    assert_eq!(
        status_of(&daemon, &first),
        ["interrupted"],
        "never run twice"
    );
    assert_eq!(daemon.runs().len(), 3, "{:?}", daemon.runs());
    let created = swarm.run_docker(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        created.lines().any(|name| name == format!("{network}-3")),
        "the newest push is what the swarm has: {created}"
    );
}
