//! Benchmark of `shoal serve` (issue 4's goals), against the private swarm:
//! - webhook received to the first Docker API call, over 20 pushes (goal: under 100 ms;
//!   the peers poll every 120 to 180 s by default), measured by a Unix socket proxy in
//!   front of the private engine that notes when each request arrives;
//! - a burst of 100 signed webhooks for 100 successive commits, each moving the branch,
//!   within about a second: how many apply runs it makes (goal: at most 2) and whether
//!   the last is the newest commit (each run updates a service and waits for it);
//! - the daemon's resident memory while idle (goal: under 30 MB).
//!
//! Run with `cargo build --release && cargo bench --bench serve_load` (as root, after
//! `scripts/install-test-deps`). It reports figures; it asserts nothing about time.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::serve_daemon::{ServeDaemon, github_signature};
use support::{PrivateSwarm, free_tcp_port, git, write_file};

/// What the test support expects of the test crate: where the project is.
mod test_repo {
    pub fn project_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }
}

const SECRET: &[u8] = b"bench-webhook-secret";
const LATENCY_PUSHES: usize = 20;
const BURST: usize = 100;

fn main() {
    let swarm = PrivateSwarm::shared();
    let work = tempfile::tempdir().expect("temp");
    let proxy = work.path().join("docker-proxy.sock");
    let requests = start_proxy(&proxy, swarm.docker_host());

    let source = work.path().join("repo");
    let write = |path: &str, text: &str| write_file(&source, path, text);
    write("shoal.yml", "environments: { local: {} }\n");
    // Each commit changes the one service of a stack, and a run waits for it to
    // converge, as a real deploy does: a run takes a second or more.
    let stack = swarm.unique_name("bench-serve");
    let image = swarm.image("shoal-bench/busybox:serve");
    write(
        "stacks/app.yml",
        &format!(
            "version: \"3.8\"\nservices:\n  app:\n    image: {image}\n    \
             environment: {{ VERSION: \"{{{{ commit.short_sha }}}}\" }}\n"
        ),
    );
    let workflow = |version: usize| {
        format!(
            "on:\n  push: {{ branches: [main] }}\n# version {version}\nsteps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
        )
    };
    write("workflows/deploy.yml", &workflow(0));
    std::fs::create_dir_all(&source).expect("repo");
    git(&source, &["init", "-q", "-b", "main"]);
    git(&source, &["add", "-A"]);
    git(&source, &["commit", "-q", "-m", "start"]);
    let secret_file = work.path().join("secret");
    std::fs::write(&secret_file, SECRET).expect("secret");
    let state = work.path().join("state");
    let daemon = ServeDaemon::start_with_docker(
        free_tcp_port(),
        &state,
        &source,
        &format!("unix://{}", proxy.display()),
        &[
            OsString::from("--webhook-secret-file"),
            secret_file.into_os_string(),
            OsString::from("--poll-interval"),
            OsString::from("1h"),
        ],
    );
    let head = || git(&source, &["rev-parse", "HEAD"]).trim().to_owned();
    daemon.wait_for_commit(&head());
    std::thread::sleep(Duration::from_secs(2));
    let idle_fresh = rss_kib(daemon.pid());

    let mut delivery = 0;
    let mut push = |commit: &str| {
        delivery += 1;
        let body = serde_json::json!({
            "ref": "refs/heads/main",
            "after": commit,
            "sender": { "login": "bench" }
        })
        .to_string();
        let (status, _) = daemon.post(
            "/hooks/github",
            &[
                ("X-GitHub-Event", "push".to_owned()),
                ("X-GitHub-Delivery", format!("bench-{delivery}")),
                ("X-Hub-Signature-256", github_signature(SECRET, &body)),
            ],
            &body,
        );
        assert_eq!(status, 202, "the webhook is accepted");
    };

    // Webhook to first Docker call.
    let mut latencies = Vec::new();
    for version in 1..=LATENCY_PUSHES {
        write("workflows/deploy.yml", &workflow(version));
        git(&source, &["commit", "-q", "-am", &format!("v{version}")]);
        let commit = head();
        let sent = Instant::now();
        push(&commit);
        let arrived = wait_for_request_after(&requests, sent);
        latencies.push(arrived.duration_since(sent));
        daemon.wait_for_commit(&commit);
    }
    latencies.sort();

    // A burst of pushes: the commits are made first, then each push moves the branch to
    // the next one and sends its webhook, as a forge would.
    // They are made on a branch of their own, which no workflow watches.
    let mut burst = Vec::new();
    git(&source, &["checkout", "-q", "-b", "burst"]);
    for version in 1..=BURST {
        write("workflows/deploy.yml", &workflow(LATENCY_PUSHES + version));
        git(
            &source,
            &["commit", "-q", "-am", &format!("burst {version}")],
        );
        burst.push(head());
    }
    git(&source, &["checkout", "-q", "main"]);
    std::thread::sleep(Duration::from_secs(2));
    let runs_before = all_runs(&state).len();
    let burst_started = Instant::now();
    for commit in &burst {
        git(&source, &["update-ref", "refs/heads/main", commit]);
        push(commit);
    }
    let newest = burst.last().cloned().unwrap_or_default();
    let burst_took = burst_started.elapsed();
    let last = daemon.wait_for_commit(&newest);
    std::thread::sleep(Duration::from_secs(3));
    let all = all_runs(&state);
    let burst_runs: Vec<&serde_json::Value> = all.iter().take(all.len() - runs_before).collect();
    let applies = burst_runs
        .iter()
        .filter(|run| run["mode"] == "apply" && run["status"] != "skipped")
        .count();
    let superseded = burst_runs.len() - applies;
    let burst_commits: Vec<String> = burst_runs
        .iter()
        .rev()
        .filter(|run| run["status"] != "skipped")
        .map(|run| {
            let commit = run["commit"].as_str().unwrap_or_default();
            let position = burst.iter().position(|c| c == commit).map_or(0, |p| p + 1);
            format!("#{position} {}", run["status"].as_str().unwrap_or_default())
        })
        .collect();

    std::thread::sleep(Duration::from_secs(5));
    let idle_after = rss_kib(daemon.pid());

    let median = latencies[latencies.len() / 2];
    let worst = latencies[latencies.len() - 1];
    println!("shoal serve, private swarm, {LATENCY_PUSHES} pushes:");
    println!(
        "  webhook to first Docker API call: median {:.1} ms, worst {:.1} ms (goal: under 100 ms)",
        ms(median),
        ms(worst)
    );
    println!(
        "  burst of {BURST} signed webhooks for {BURST} commits in {:.2} s: {applies} apply runs, \
         the last on the newest commit: {} ({}) (goal: at most 2, the newest applied)",
        burst_took.as_secs_f64(),
        last["commit"] == newest.as_str(),
        last["status"].as_str().unwrap_or_default()
    );
    println!(
        "    runs of the burst that ran, oldest first (#N: the Nth pushed commit): {}; {superseded} more were superseded while waiting",
        burst_commits.join(", ")
    );
    println!(
        "  resident memory idle: {:.1} MB after start, {:.1} MB after {} runs (goal: under 30 MB)",
        f64::from(idle_fresh) / 1024.0,
        f64::from(idle_after) / 1024.0,
        all.len()
    );
}

/// Every run in the daemon's history, newest first, read from its store (`shoal runs`
/// shows the newest 50 only).
fn all_runs(state: &Path) -> Vec<serde_json::Value> {
    let store = shoal::store::Store::open_reader(state).expect("the daemon's store");
    store
        .runs(usize::MAX / 2)
        .expect("runs")
        .into_iter()
        .map(|run| serde_json::to_value(run).expect("a run as JSON"))
        .collect()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The daemon's resident set, from /proc, in KiB.
fn rss_kib(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}

/// Waits for the first request the proxy received after `after`.
fn wait_for_request_after(requests: &Mutex<Vec<Instant>>, after: Instant) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(at) = requests
            .lock()
            .expect("lock")
            .iter()
            .copied()
            .find(|at| *at > after)
        {
            return at;
        }
        assert!(
            Instant::now() < deadline,
            "no Docker call after the webhook"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A Unix socket in front of the engine's: it copies bytes both ways, and notes the time
/// each connection's first bytes (a request) arrive.
fn start_proxy(path: &Path, docker_host: &str) -> Arc<Mutex<Vec<Instant>>> {
    let engine = docker_host
        .strip_prefix("unix://")
        .expect("a unix socket")
        .to_owned();
    let listener = UnixListener::bind(path).expect("proxy socket");
    let requests = Arc::new(Mutex::new(Vec::new()));
    let noted = requests.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let engine = engine.clone();
            let noted = noted.clone();
            std::thread::spawn(move || relay(client, &engine, &noted));
        }
    });
    requests
}

fn relay(mut client: UnixStream, engine: &str, noted: &Mutex<Vec<Instant>>) {
    let Ok(mut upstream) = UnixStream::connect(engine) else {
        return;
    };
    let (Ok(mut client_reader), Ok(mut upstream_writer)) =
        (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut upstream, &mut client);
    });
    let mut buffer = vec![0_u8; 64 * 1024];
    loop {
        let Ok(read) = client_reader.read(&mut buffer) else {
            return;
        };
        if read == 0 {
            let _ = upstream_writer.shutdown(std::net::Shutdown::Write);
            return;
        }
        noted.lock().expect("lock").push(Instant::now());
        if upstream_writer.write_all(&buffer[..read]).is_err() {
            return;
        }
    }
}
