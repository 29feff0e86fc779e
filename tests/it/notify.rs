//! Notifications from a real `shoal serve` on the private swarm: a failing run announced
//! once to a signed webhook (whose receiver fails first and is retried), a Slack-compatible
//! webhook and a command; the same failure again, after a restart, announced nowhere; the
//! recovery announced everywhere; a receiver answering 404 given up at once and listed by
//! `shoal runs show` without its URL; no secret value in the daemon's log.

use std::time::Duration;

use hmac::Mac as _;

use crate::support::serve_daemon::ServeDaemon;
use crate::support::webhook_receiver::{Received, WebhookReceiver};
use crate::support::{PrivateSwarm, git, run, write_file};
use crate::test_repo::{Run, shoal};

const TOKEN: &str = "api-token-for-notify-tests";
const HMAC_KEY: &str = "notify-hmac-key-for-tests";
const WAIT: Duration = Duration::from_secs(60);

#[test]
fn a_failure_is_announced_once_then_its_recovery_to_webhook_slack_and_command() {
    let swarm = PrivateSwarm::shared();
    let network = swarm.unique_name("notified");
    let receiver = WebhookReceiver::start();
    // The run's `wait` step probes the receiver: failing while it answers 503.
    receiver.set_health(503);
    // The first delivery to the webhook is refused: shoal tries again.
    receiver.fail_first("/hook", &[500]);

    let secrets = tempfile::tempdir().expect("temp");
    let hook_url = receiver.url("/hook?token=hook-url-token");
    let slack_url = receiver.url("/slack");
    let secret_file = |name: &str, value: &str| {
        let path = secrets.path().join(name);
        std::fs::write(&path, format!("{value}\n")).expect("secret");
        path.display().to_string()
    };
    let hook_url_file = secret_file("hook-url", &hook_url);
    let hook_key_file = secret_file("hook-key", HMAC_KEY);
    let slack_url_file = secret_file("slack-url", &slack_url);
    let gone_url = receiver.url("/gone?token=gone-url-token");
    let gone_url_file = secret_file("gone-url", &gone_url);
    // A receiver that answers 404 for good: given up at once, and recorded.
    receiver.fail_first("/gone", &[404]);
    let events_file = secrets.path().join("events");
    let events = events_file.display().to_string();

    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write(
        "shoal.yml",
        &format!(
            "environments:\n  local:\n    secrets:\n      HOOK_URL: {{ file: {hook_url_file} }}\n      \
             HOOK_KEY: {{ file: {hook_key_file} }}\n      SLACK_URL: {{ file: {slack_url_file} }}\n      \
             GONE_URL: {{ file: {gone_url_file} }}\n    notify:\n      - webhook: {{ url_secret: GONE_URL }}\n        \
             on: [failure]\n\
             notify:\n  - webhook: {{ url_secret: HOOK_URL, key_secret: HOOK_KEY }}\n  \
             - slack: {{ url_secret: SLACK_URL }}\n    on: [failure, recovery]\n"
        ),
    );
    write(
        "workflows/probe.yml",
        &format!(
            "on:\n  workflow_dispatch: {{}}\nnotify:\n  - command:\n      argv: [sh, -c, \
             'cat > {events}-$SHOAL_RUN_ID.json && echo \"$SHOAL_EVENT $SHOAL_ENVIRONMENTS\" >> {events}']\n    \
             timeout: 5s\nsteps:\n  - network: {{ name: {network} }}\n  \
             - wait: {{ url: \"{}\", timeout: 2s }}\n",
            receiver.url("/health")
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "notify"]);

    let state = tempfile::tempdir().expect("temp");
    let token_file = state.path().join("api-token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).expect("token");
    let state_folder = state.path().join("state");
    let arguments = [
        "--api-token-file".into(),
        token_file.clone().into_os_string(),
    ];
    let mut daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &arguments);
    let dispatch = |daemon: &ServeDaemon| -> serde_json::Value {
        // A daemon just started may not have fetched the branch yet.
        let deadline = std::time::Instant::now() + WAIT;
        let queued = loop {
            let mut command = shoal();
            command
                .args(["dispatch", "probe", "--env", "local"])
                .env("SHOAL_SERVER", format!("http://127.0.0.1:{}", daemon.port))
                .env("SHOAL_API_TOKEN", TOKEN);
            let queued = Run::from(run(&mut command, Duration::from_secs(60)));
            if queued.code == 0
                || !queued.stderr.contains("not found")
                || std::time::Instant::now() > deadline
            {
                break queued;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(queued.code, 0, "{}", queued.stderr);
        let id: i64 = queued
            .stdout
            .strip_prefix("run ")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("no run ID in {}", queued.stdout));
        daemon.wait_for_run(|run| run["id"] == id)
    };
    let announced = || std::fs::read_to_string(&events_file).unwrap_or_default();

    // 1. The first failure: announced to all three, the webhook after a retry.
    let first = dispatch(&daemon);
    assert_eq!(first["status"], "failure", "{first}");
    let hook = receiver.wait_for_delivered("/hook", 1, WAIT);
    assert_eq!(
        hook.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 200],
        "the refused delivery is tried again"
    );
    let body = signed_body(&hook[1]);
    assert_eq!(body["version"], 1);
    assert_eq!(body["event"], "failure");
    assert_eq!(body["run"]["id"], first["id"]);
    assert_eq!(body["run"]["workflow"], "probe");
    assert_eq!(body["run"]["status"], "failure");
    assert_eq!(body["environments"][0]["name"], "local");
    assert_eq!(body["environments"][0]["event"], "failure");
    assert_eq!(hook[1].headers["x-shoal-event"], "failure");
    assert_eq!(hook[1].headers["content-type"], "application/json");

    let slack = receiver.wait_for_delivered("/slack", 1, WAIT);
    let text: serde_json::Value = serde_json::from_slice(&slack[0].body).expect("JSON");
    let expected_start = format!("shoal: probe failed (run {}, commit ", first["id"]);
    assert!(
        text["text"].as_str().is_some_and(
            |text| text.starts_with(&expected_start) && text.contains("\n• local: failure — ")
        ),
        "{text}"
    );
    assert_eq!(
        text.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["text".to_owned()]),
        "a Slack incoming webhook body"
    );
    wait_until(|| announced() == "failure local\n", announced);
    let gone = receiver.wait_for_posts("/gone", 1, WAIT);
    assert_eq!(gone[0].status, 404);
    let shown = wait_for_shown(
        &state_folder,
        first["id"].as_i64().expect("id"),
        "notification failed",
    );
    assert!(
        shown.contains("notify webhook (GONE_URL): answered 404: ok"),
        "{shown}"
    );
    assert!(!shown.contains("gone-url-token"), "{shown}");
    let stdin =
        std::fs::read(format!("{events}-{}.json", first["id"])).expect("the command's input");
    let stdin: serde_json::Value = serde_json::from_slice(&stdin).expect("JSON on stdin");
    assert_eq!(stdin["event"], "failure");
    assert_eq!(stdin["run"]["id"], first["id"]);

    // 2. After a restart, the same failure again: announced nowhere.
    drop(daemon);
    daemon = ServeDaemon::start(&state_folder, source.path(), swarm, &arguments);
    let second = dispatch(&daemon);
    assert_eq!(second["status"], "failure", "{second}");
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        receiver.posts("/hook").len(),
        2,
        "{:?}",
        receiver.posts("/hook")
    );
    assert_eq!(receiver.posts("/slack").len(), 1);
    assert_eq!(receiver.posts("/gone").len(), 1, "a 404 is not retried");
    assert_eq!(announced(), "failure local\n");

    // 3. The recovery: announced to all three.
    receiver.set_health(200);
    let third = dispatch(&daemon);
    assert_eq!(third["status"], "success", "{third}");
    let hook = receiver.wait_for_delivered("/hook", 2, WAIT);
    let body = signed_body(&hook[2]);
    assert_eq!(body["event"], "recovery");
    assert_eq!(body["run"]["id"], third["id"]);
    let slack = receiver.wait_for_delivered("/slack", 2, WAIT);
    let text: serde_json::Value = serde_json::from_slice(&slack[1].body).expect("JSON");
    assert!(
        text["text"]
            .as_str()
            .is_some_and(|t| t.contains("probe recovered")),
        "{text}"
    );
    wait_until(
        || announced() == "failure local\nrecovery local\n",
        announced,
    );

    let log = daemon.log();
    for secret in [
        hook_url.as_str(),
        "hook-url-token",
        HMAC_KEY,
        slack_url.as_str(),
    ] {
        assert!(
            !log.contains(secret),
            "the daemon's log shows a secret: {log}"
        );
    }
}

/// The JSON body of `received`, once its signature is checked against the key.
fn signed_body(received: &Received) -> serde_json::Value {
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(HMAC_KEY.as_bytes()).expect("any key length");
    mac.update(&received.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(
        received.headers.get("x-shoal-signature-256"),
        Some(&expected),
        "the signature of {}",
        String::from_utf8_lossy(&received.body)
    );
    serde_json::from_slice(&received.body).expect("a JSON body")
}

/// `shoal runs show ID` once it prints `wanted`.
fn wait_for_shown(state: &std::path::Path, id: i64, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let mut command = shoal();
        command
            .args(["runs", "show", &id.to_string(), "--state"])
            .arg(state);
        let shown = Run::from(run(&mut command, Duration::from_secs(30)));
        if shown.stdout.contains(wanted) {
            return shown.stdout;
        }
        assert!(std::time::Instant::now() < deadline, "{}", shown.stdout);
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_until(done: impl Fn() -> bool, shown: impl Fn() -> String) {
    let deadline = std::time::Instant::now() + WAIT;
    while !done() {
        assert!(std::time::Instant::now() < deadline, "{}", shown());
        std::thread::sleep(Duration::from_millis(100));
    }
}
