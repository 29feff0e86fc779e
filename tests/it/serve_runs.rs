//! A person's side of the daemon: `shoal dispatch` with its inputs checked by the daemon,
//! a run's log followed live (`shoal runs logs --follow` and the API), `shoal cancel`
//! stopping a run at its next safe point, each step recorded with its result, the
//! Prometheus metrics (checked by `promtool`), and a commit whose config repo has errors
//! recorded as a failed run that names the file, line and column.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::serve_daemon::ServeDaemon;
use crate::support::{
    PrivateSwarm, free_tcp_port, git, http_get, http_get_with_token, run, write_file,
};
use crate::test_repo::{Run, shoal};

const TOKEN: &str = "api-token-for-tests";

#[test]
fn dispatch_follow_cancel_metrics_and_a_broken_commit() {
    let swarm = PrivateSwarm::shared();
    let network = swarm.unique_name("held");
    // Nothing listens there: the wait step waits until it is cancelled.
    let silent = free_tcp_port();
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write(
        "workflows/hold.yml",
        &format!(
            "on:\n  workflow_dispatch:\n    inputs:\n      confirm: {{ type: string, required: true }}\n      \
             hold: {{ type: boolean, default: true }}\nsteps:\n  - network: {{ name: {network} }}\n  \
             - id: held\n    wait: {{ url: \"http://127.0.0.1:{silent}/\", timeout: 10m }}\n"
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "first"]);

    let state = tempfile::tempdir().expect("temp");
    let token_file = state.path().join("api-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("token");
    let state_folder = state.path().join("state");
    let daemon = ServeDaemon::start(
        &state_folder,
        source.path(),
        swarm,
        &[
            "--api-token-file".into(),
            token_file.into_os_string(),
            "--log-format".into(),
            "json".into(),
        ],
    );
    let client = |args: &[&str]| {
        let mut command = shoal();
        command
            .args(args)
            .env("SHOAL_SERVER", format!("http://127.0.0.1:{}", daemon.port))
            .env("SHOAL_API_TOKEN", TOKEN);
        Run::from(run(&mut command, Duration::from_secs(60)))
    };

    // Inputs are checked by the daemon before anything runs.
    let refused = client(&[
        "dispatch",
        "hold",
        "--env",
        "local",
        "--input",
        "hold=maybe",
    ]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("input `hold` is a boolean: give true or false, not `maybe`")
            && refused.stderr.contains("input `confirm` is required"),
        "{}",
        refused.stderr
    );
    let unauthorized = Run::from(run(
        shoal()
            .args(["dispatch", "hold", "--input", "confirm=local"])
            .env("SHOAL_SERVER", format!("http://127.0.0.1:{}", daemon.port))
            .env("SHOAL_API_TOKEN", "wrong"),
        Duration::from_secs(60),
    ));
    assert_eq!(unauthorized.code, 1);
    assert!(
        unauthorized.stderr.contains("refused the API token"),
        "{}",
        unauthorized.stderr
    );
    assert!(daemon.runs().is_empty(), "nothing ran: {:?}", daemon.runs());

    let queued = client(&[
        "dispatch",
        "hold",
        "--env",
        "local",
        "--input",
        "confirm=local",
        "--actor",
        "ana",
    ]);
    assert_eq!(queued.code, 0, "{}", queued.stderr);
    let id: i64 = queued
        .stdout
        .strip_prefix("run ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no run ID in {}", queued.stdout));

    // Two followers of the live log: the CLI on the store, and the HTTP API.
    let follower = shoal()
        .args(["runs", "logs", &id.to_string(), "--follow", "--state"])
        .arg(&state_folder)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs logs --follow");
    let port = daemon.port;
    let streamed = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("timeout");
        write!(
            stream,
            "GET /api/v1/runs/{id}/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        )
        .expect("writes");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    });

    // The run reaches its wait step, which cannot end by itself.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = client(&[
            "runs",
            "show",
            &id.to_string(),
            "--state",
            state_folder.to_str().expect("utf-8"),
        ]);
        if shown.stdout.contains("==> held") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the run never reached its wait step:\n{}",
            shown.stdout
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let cancelled = client(&["cancel", &id.to_string()]);
    assert_eq!(cancelled.code, 0, "{}", cancelled.stderr);
    assert!(
        cancelled.stdout.contains("cancelling"),
        "{}",
        cancelled.stdout
    );

    let ended = daemon.wait_for_run(|run| run["id"] == id);
    assert_eq!(ended["status"], "cancelled", "{ended}");
    assert_eq!(ended["actor"], "ana");
    assert_eq!(ended["event"], "workflow_dispatch");
    let detail = http_get_with_token(
        daemon.port,
        &format!("/api/v1/runs/{id}"),
        TOKEN,
        Duration::from_secs(10),
    )
    .expect("run detail");
    let detail: serde_json::Value = serde_json::from_str(&detail.body).expect("json");
    let steps: Vec<(String, String)> = detail["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| {
            (
                step["name"].as_str().unwrap_or_default().to_owned(),
                step["status"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("plan".to_owned(), "success".to_owned()),
            (format!("network {network}"), "success".to_owned()),
            ("held".to_owned(), "cancelled".to_owned()),
        ],
        "{detail}"
    );
    for step in detail["steps"].as_array().into_iter().flatten() {
        assert!(
            step["finished_at"].is_string(),
            "every step has ended: {step}"
        );
    }

    // Both followers saw the whole log and stopped when the run ended.
    let followed = follower.wait_with_output().expect("follower ends");
    let followed = String::from_utf8_lossy(&followed.stdout).into_owned();
    let streamed = streamed.join().expect("stream thread");
    for log in [&followed, &streamed] {
        assert!(log.contains("==> held"), "{log}");
        assert!(log.contains("<== held"), "{log}");
        assert!(log.contains(&format!("created network {network}")), "{log}");
    }

    // The daemon's JSON log lines of the run's steps carry the run's ID and environment.
    let step_lines: Vec<serde_json::Value> = daemon
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["message"] == "step finished")
        .collect();
    assert!(
        step_lines.len() == 3
            && step_lines.iter().all(|line| line["span"]["environment"] == "local"
                && line["spans"][0]["run"] == id),
        "{step_lines:?}"
    );

    let again = client(&["cancel", &id.to_string()]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("is cancelled, not running"),
        "{}",
        again.stderr
    );

    // The metrics are valid Prometheus text and count the cancelled run.
    let metrics = http_get(daemon.port, "/metrics", Duration::from_secs(10)).expect("metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains(
            "shoal_runs_total{workflow=\"hold\",environment=\"local\",result=\"cancelled\"} 1"
        ),
        "{}",
        metrics.body
    );
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus; scripts/install-test-deps installs it)");
    promtool
        .stdin
        .take()
        .expect("stdin")
        .write_all(metrics.body.as_bytes())
        .expect("writes");
    let checked = promtool.wait_with_output().expect("promtool ends");
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // A commit that breaks the config repo: nothing can run, and a failed run says where.
    write(
        "workflows/broken.yml",
        "on:\n  push: { branches: [main] }\nsteps:\n  - stack: { name: x, compose: [a.yml }\n",
    );
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "broken"]);
    let broken = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    let failed = daemon.wait_for_commit(&broken);
    assert_eq!(failed["status"], "failure", "{failed}");
    assert_eq!(failed["workflow"], "config");
    let summary = failed["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("workflows/broken.yml:4:"), "{summary}");
}
