//! The console in a real browser: Debian's chromium, headless, driven by Playwright
//! (`tests/it/browser/console_walkthrough.py`) against a real `shoal serve` on the
//! private swarm. The script logs in, reads the environments and their stacks' health,
//! dispatches through the form (a wrong input refused with the field's message), watches
//! the run's log grow live, cancels it, filters the runs, reads as a viewer on a phone in
//! dark mode without JavaScript, and logs out; it writes a screenshot of each page. The
//! API beside it needs a token for reads and an operator's for writes.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::serve_daemon::ServeDaemon;
use crate::support::{PrivateSwarm, free_tcp_port, git, run, write_file};

const OPERATOR_TOKEN: &str = "operator-token-for-the-browser";
const VIEWER_TOKEN: &str = "viewer-token-for-the-browser";

#[test]
fn the_console_in_a_real_browser() {
    require_browser();
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-test/busybox:console");
    let stack = swarm.unique_name("console");
    let network = swarm.unique_name("held");
    let gate = free_tcp_port();
    let source = tempfile::tempdir().expect("temp");
    let write = |path: &str, text: &str| write_file(source.path(), path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    write(
        "stacks/app.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: \"{image}\"\n    deploy: {{ replicas: 1 }}\n"
        ),
    );
    write(
        "workflows/deploy.yml",
        &format!(
            "on:\n  push: {{ branches: [main] }}\nsteps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        ),
    );
    write(
        "workflows/hold.yml",
        &format!(
            "on:\n  workflow_dispatch:\n    inputs:\n      \
             confirm: {{ type: string, required: true, confirms: environment, description: \"the environment, typed out\" }}\n      \
             mode: {{ type: choice, options: [fast, careful], default: fast }}\n      \
             hold: {{ type: boolean, default: true }}\n\
             steps:\n  - network: {{ name: {network} }}\n  \
             - id: first\n    wait: {{ url: \"http://127.0.0.1:{gate}/first\", timeout: 10m }}\n  \
             - id: second\n    wait: {{ url: \"http://127.0.0.1:{gate}/second\", timeout: 10m }}\n"
        ),
    );
    git(source.path(), &["init", "-q", "-b", "main"]);
    git(source.path(), &["add", "-A"]);
    git(source.path(), &["commit", "-q", "-m", "first commit"]);
    let first = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();

    let state = tempfile::tempdir().expect("temp");
    let tokens = state.path().join("tokens");
    std::fs::write(
        &tokens,
        format!(
            "# who may use the console\nana operator {OPERATOR_TOKEN}\nbob viewer {VIEWER_TOKEN}\n"
        ),
    )
    .expect("tokens");
    let state_folder = state.path().join("state");
    let daemon = ServeDaemon::start(
        &state_folder,
        source.path(),
        swarm,
        &["--access-tokens-file".into(), tokens.into_os_string()],
    );
    let applied = daemon.wait_for_commit(&first);
    assert_eq!(applied["status"], "success", "{applied}");
    // A second commit, applied: the browser rolls it back to the first.
    write(
        "stacks/app.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  web:\n    image: \"{image}\"\n    deploy: {{ replicas: 2 }}\n"
        ),
    );
    git(source.path(), &["commit", "-q", "-am", "second commit"]);
    let second = git(source.path(), &["rev-parse", "HEAD"]).trim().to_owned();
    let applied = daemon.wait_for_commit(&second);
    assert_eq!(applied["status"], "success", "{applied}");
    swarm.wait_for_running_tasks(&format!("{stack}_web"), 2, Duration::from_secs(60));

    // The JSON API: reads need a token too, writes an operator's.
    assert_eq!(request(daemon.port, "GET", "/api/v1/runs", None).0, 401);
    let (status, body) = request(daemon.port, "GET", "/api/v1/runs", Some(VIEWER_TOKEN));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&first), "{body}");
    let (status, body) = request(
        daemon.port,
        "POST",
        "/api/v1/runs/1/cancel",
        Some(VIEWER_TOKEN),
    );
    assert_eq!(
        (status, body.as_str()),
        (
            403,
            "bob is a viewer: only an operator may dispatch, cancel or roll back\n"
        )
    );
    // A page without a session goes to the login.
    let (status, _) = request(daemon.port, "GET", "/runs", None);
    assert_eq!(status, 303);

    let screenshots = screenshots_folder();
    let walkthrough = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/it/browser/console_walkthrough.py");
    let output = run(
        Command::new("python3")
            .arg(&walkthrough)
            // localhost: a secure context, where chromium keeps the Secure session cookie.
            .env("SHOAL_URL", format!("http://localhost:{}", daemon.port))
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env("VIEWER_TOKEN", VIEWER_TOKEN)
            .env("GATE_PORT", gate.to_string())
            .env("STACK", &stack)
            .env("SCREENSHOTS", &screenshots),
        Duration::from_secs(600),
    );
    let said = format!(
        "{}{}\ndaemon log:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        daemon.log()
    );
    assert!(output.status.success(), "the walkthrough failed:\n{said}");
    assert!(said.contains("walkthrough done"), "{said}");

    // What the browser did is recorded with who did it.
    let runs = daemon.runs();
    let held = runs
        .iter()
        .find(|run| run["workflow"] == "hold")
        .unwrap_or_else(|| panic!("no hold run: {runs:?}"));
    assert_eq!(held["actor"], "ana", "{held}");
    assert_eq!(held["status"], "cancelled", "{held}");
    assert_eq!(
        runs.iter().filter(|run| run["workflow"] == "hold").count(),
        1,
        "{runs:?}"
    );
    let rolled_back = runs
        .iter()
        .find(|run| run["workflow"] == "deploy" && run["commit"] == first && run["actor"] == "ana")
        .unwrap_or_else(|| panic!("no rollback to the first commit by ana: {runs:?}"));
    assert_eq!(rolled_back["status"], "success", "{rolled_back}");
    for name in [
        "login.png",
        "environments.png",
        "dispatch-refused.png",
        "run-live.png",
        "run-cancelled.png",
        "rollback-refused.png",
        "rollback-run.png",
        "runs.png",
        "environments-phone-dark.png",
        "run-phone-dark.png",
    ] {
        let shot = screenshots.join(name);
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "{} was not written", shot.display());
    }
    swarm.run_docker(&["stack", "rm", &stack]);
}

/// Fails loudly when chromium or Playwright is missing: scripts/install-test-deps
/// installs both.
fn require_browser() {
    assert!(
        std::path::Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing: run scripts/install-test-deps (Debian's chromium)"
    );
    let playwright = Command::new("python3")
        .args(["-c", "import playwright.sync_api"])
        .output()
        .expect("python3 runs");
    assert!(
        playwright.status.success(),
        "Playwright for Python is missing: run scripts/install-test-deps (pip install playwright): {}",
        String::from_utf8_lossy(&playwright.stderr)
    );
}

/// Where the screenshots go: `target/tmp/console-screenshots` (a few are copied to docs/).
fn screenshots_folder() -> PathBuf {
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&folder).expect("screenshots folder");
    folder
}

/// A request on loopback with an optional bearer token: the status and the body.
fn request(port: u16, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 0\r\n{authorization}\r\n"
    )
    .expect("writes");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}
