//! `shoal serve` as the tests run it: on a free loopback port, against the private swarm,
//! killed (SIGKILL) when dropped; and the calls tests make to it.

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{PrivateSwarm, free_tcp_port, http_get};

/// A running daemon. Dropping it kills it with SIGKILL, as a crash would.
pub struct ServeDaemon {
    child: Child,
    pub port: u16,
    pub state: PathBuf,
}

impl ServeDaemon {
    /// Starts `shoal serve` on the config repo `source` (branch main, polled every
    /// second), with its state in `state`, the private swarm for every environment, and
    /// `extra` arguments; returns once it answers /healthz.
    pub fn start(
        state: &Path,
        source: &Path,
        swarm: &PrivateSwarm,
        extra: &[OsString],
    ) -> ServeDaemon {
        ServeDaemon::start_on(free_tcp_port(), state, source, swarm, extra)
    }

    /// The same, on a given port (a restart where the last one listened).
    pub fn start_on(
        port: u16,
        state: &Path,
        source: &Path,
        swarm: &PrivateSwarm,
        extra: &[OsString],
    ) -> ServeDaemon {
        ServeDaemon::start_with_docker(port, state, source, swarm.docker_host(), extra)
    }

    /// The same, with every environment on `docker_host`.
    pub fn start_with_docker(
        port: u16,
        state: &Path,
        source: &Path,
        docker_host: &str,
        extra: &[OsString],
    ) -> ServeDaemon {
        // Polled every second, unless `extra` says otherwise.
        let poll: &[&str] = if extra.iter().any(|arg| arg == "--poll-interval") {
            &[]
        } else {
            &["--poll-interval", "1s"]
        };
        let mut command = shoal();
        command
            .args(["serve", "--branch", "main"])
            .args(poll)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--repo")
            .arg(source)
            .arg("--state")
            .arg(state)
            .args(["--docker-host", docker_host])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log_path(state)).expect("log file"));
        ServeDaemon::spawn(command, port, state)
    }

    /// Runs a `shoal serve` command the caller made, which listens on 127.0.0.1:`port`
    /// and keeps its state in `state`; returns once it answers /healthz.
    pub fn spawn(mut command: Command, port: u16, state: &Path) -> ServeDaemon {
        let child = command.spawn().expect("shoal serve starts");
        let daemon = ServeDaemon {
            child,
            port,
            state: state.to_owned(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get(port, "/healthz", Duration::from_secs(2))
            .map(|r| r.status)
            .ok()
            != Some(200)
        {
            assert!(
                Instant::now() < deadline,
                "shoal serve did not answer /healthz"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        daemon
    }

    /// What the daemon wrote on standard error so far (when `start` started it).
    pub fn log(&self) -> String {
        std::fs::read_to_string(log_path(&self.state)).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every run the history has, newest first (`shoal runs --output json`).
    pub fn runs(&self) -> Vec<serde_json::Value> {
        runs(&self.state)
    }

    /// Waits until a run matching `wanted` has ended; returns it.
    pub fn wait_for_run(&self, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let found = self.runs().into_iter().find(|run| {
                wanted(run) && !matches!(run["status"].as_str(), Some("queued" | "running"))
            });
            if let Some(run) = found {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "no such finished run: {:?}",
                self.runs()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Waits until a run on `commit` has ended; returns it.
    pub fn wait_for_commit(&self, commit: &str) -> serde_json::Value {
        self.wait_for_run(|run| run["commit"] == commit)
    }

    /// Sends the daemon a signal (`TERM`, `INT`, ...).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -{name}");
    }

    /// How the daemon exited, if it did within `timeout`.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A POST to the daemon: the status code and the body.
    pub fn post(&self, path: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
        post(self.port, path, headers, body)
    }
}

impl Drop for ServeDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where the daemon's standard error goes: beside its state folder.
fn log_path(state: &Path) -> PathBuf {
    state.with_extension("log")
}

/// The shoal binary cargo built for these tests.
fn shoal() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shoal"))
}

/// The runs in a state folder, newest first.
pub fn runs(state: &Path) -> Vec<serde_json::Value> {
    let output = shoal()
        .args(["runs", "--output", "json", "--state"])
        .arg(state)
        .output()
        .expect("runs");
    serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|value| value["runs"].as_array().cloned())
        .unwrap_or_default()
}

/// The `X-Hub-Signature-256` header GitHub would send with `body`.
pub fn github_signature(secret: &[u8], body: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A POST on loopback: the status code and the body.
pub fn post(port: u16, path: &str, headers: &[(&str, String)], body: &str) -> (u16, String) {
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
