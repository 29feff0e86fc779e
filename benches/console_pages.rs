//! Benchmark of the console (issue 15's speed goals), in process, on a real SQLite store:
//! - the environments page of a daemon with 20 environments, 10 workflows (each on every
//!   environment) and 10,000 runs in its history, rendered server side (goal: under
//!   50 ms), with the stacks' health already read (it is read at most every 5 s, shared)
//!   and read again (an in-memory swarm of 3 services per environment);
//! - one run's 1 MB log followed by 50 followers while the run writes more: the memory
//!   it costs (goal: under 10 MB; the one store read per update is proved by the unit test
//!   `fifty_followers_cost_one_read_of_the_store_per_update`).
//!
//! Run with `cargo bench --bench console_pages`. It reports figures; it asserts nothing
//! about time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use shoal::console::{
    AccessTokens, CommitDescriber, Console, ConsoleSettings, EnvironmentHealth, HealthFuture,
    HealthReader, Identity, LogEvent, Role, ServiceHealth, Viewer,
};
use shoal::daemon::LoadedCommit;
use shoal::load::MemoryFiles;
use shoal::model::ConfigRepo;
use shoal::render::CommitInfo;
use shoal::store::{RunStatus, Store};
use shoal::trigger::{RunMode, RunRequest};

const ENVIRONMENTS: usize = 20;
const WORKFLOWS: usize = 10;
const RUNS: usize = 10_000;
const ROUNDS: usize = 200;
const FOLLOWERS: usize = 50;

/// Three services per environment, all running.
struct InMemorySwarm;

impl HealthReader for InMemorySwarm {
    fn read<'a>(&'a self, repo: &'a ConfigRepo) -> HealthFuture<'a> {
        Box::pin(async move {
            repo.environments
                .iter()
                .map(|environment| EnvironmentHealth {
                    environment: environment.name.clone(),
                    services: (0..3)
                        .map(|index| ServiceHealth {
                            name: format!("app-{index}_web"),
                            running: 2,
                            desired: 2,
                            failing: Vec::new(),
                        })
                        .collect(),
                    error: None,
                })
                .collect()
        })
    }
}

struct Commits;

impl CommitDescriber for Commits {
    fn describe(&self, commit: &str) -> Option<CommitInfo> {
        Some(CommitInfo::new(commit, "Bump the web image", "Ada", "main"))
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let state = tempfile::tempdir().expect("temp");
    let started = Instant::now();
    fill_history(state.path());
    println!(
        "history: {RUNS} runs of {WORKFLOWS} workflows on {ENVIRONMENTS} environments written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let head = Arc::new(LoadedCommit::load("c0ffee", Arc::new(config_repo())).expect("loads"));
    let (_, heads) = tokio::sync::watch::channel(Some(head));
    let console = Arc::new(Console::new(ConsoleSettings {
        state: state.path().to_owned(),
        tokens: AccessTokens::default(),
        heads,
        health: Arc::new(InMemorySwarm),
        commits: Arc::new(Commits),
    }));
    let viewer = Viewer {
        identity: Identity {
            name: "ana".to_owned(),
            role: Role::Operator,
        },
        csrf: "csrf".to_owned(),
    };
    runtime.block_on(async {
        let page = console.environments_page(&viewer).await.expect("renders");
        println!("environments page: {} KiB of HTML", page.len() / 1024);
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let begun = Instant::now();
            let page = console.environments_page(&viewer).await.expect("renders");
            times.push(begun.elapsed());
            std::hint::black_box(page);
        }
        report("environments page, health cached", &mut times);
    });

    // A followed 1 MB log.
    let store = Store::open(state.path()).expect("store");
    let run = store
        .create_run(&request(0, 0, RunMode::Apply), "2026-12-04T10:00:00+00:00")
        .expect("run");
    store
        .start_run(run, "2026-12-04T10:00:01+00:00")
        .expect("starts");
    let line = "x".repeat(99);
    for _ in 0..10_000 {
        store.append_log(run, &line, "t").expect("log");
    }
    let before = memory("VmRSS");
    let received = runtime.block_on(async {
        let mut followers = Vec::new();
        for _ in 0..FOLLOWERS {
            let mut events = console.logs.follow(run, 0).await.expect("reads").expect("run");
            followers.push(tokio::spawn(async move {
                let mut lines = 0_usize;
                while let Some(event) = events.recv().await {
                    match event {
                        LogEvent::Line(..) => lines += 1,
                        LogEvent::End => break,
                    }
                }
                lines
            }));
        }
        // The run goes on writing while they follow.
        for batch in 0..20 {
            for _ in 0..10 {
                store.append_log(run, &format!("line of batch {batch}"), "t").expect("log");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let during = memory("VmRSS");
        store
            .finish_run(run, RunStatus::Success, "done", "t")
            .expect("finish");
        let mut received = Vec::new();
        for follower in followers {
            received.push(follower.await.expect("follower"));
        }
        println!(
            "{FOLLOWERS} followers of a 1 MB log, 200 more lines while they follow: resident memory {} KiB before, {} KiB while they follow (+{} KiB), peak {} KiB",
            before,
            during,
            during.saturating_sub(before),
            memory("VmHWM")
        );
        received
    });
    assert!(
        received.iter().all(|lines| *lines == 10_200),
        "every follower got every line: {received:?}"
    );
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |fraction: f64| times[((times.len() - 1) as f64 * fraction) as usize];
    println!(
        "{what}: median {:.2} ms, p95 {:.2} ms, max {:.2} ms over {} renders",
        at(0.5).as_secs_f64() * 1000.0,
        at(0.95).as_secs_f64() * 1000.0,
        at(1.0).as_secs_f64() * 1000.0,
        times.len()
    );
}

/// 20 environments; 10 workflows, each deploying a stack on every one of them.
fn config_repo() -> MemoryFiles {
    let environments: Vec<String> = (0..ENVIRONMENTS)
        .map(|e| format!("env-{e}: {{}}"))
        .collect();
    let mut files = MemoryFiles::new().with(
        "shoal.yml",
        &format!("environments: {{ {} }}\n", environments.join(", ")),
    );
    files.insert(
        "stacks/app.yml",
        "version: \"3.8\"\nservices:\n  web:\n    image: busybox\n",
    );
    for workflow in 0..WORKFLOWS {
        files.insert(
            &format!("workflows/app-{workflow}.yml"),
            &format!(
                "on: {{ push: {{ branches: [main] }}, workflow_dispatch: {{}} }}\nsteps:\n  - stack: {{ name: app-{workflow}, compose: stacks/app.yml }}\n"
            ),
        );
    }
    files
}

fn request(workflow: usize, environment: usize, mode: RunMode) -> RunRequest {
    RunRequest {
        workflow: format!("app-{workflow}"),
        environments: vec![format!("env-{environment}")],
        mode,
        commit: format!("{:040x}", workflow * 1000 + environment),
        event: "push",
        actor: "ana".to_owned(),
        inputs: serde_json::Map::new(),
        image: None,
        rollback_from: None,
    }
}

/// 10,000 finished runs: applies and drift checks of every workflow on every environment.
fn fill_history(state: &std::path::Path) {
    let store = Store::open(state).expect("store");
    for index in 0..RUNS {
        let (workflow, environment) = (index % WORKFLOWS, (index / WORKFLOWS) % ENVIRONMENTS);
        let mode = if index % 3 == 0 {
            RunMode::DriftCheck
        } else {
            RunMode::Apply
        };
        let id = store
            .create_run(
                &request(workflow, environment, mode),
                "2026-12-04T10:00:00+00:00",
            )
            .expect("run");
        let status = if index % 7 == 0 {
            RunStatus::Failure
        } else {
            RunStatus::Success
        };
        store
            .finish_run(id, status, "Applied 1 change", "2026-12-04T10:00:05+00:00")
            .expect("finish");
    }
}

/// A line of /proc/self/status, in KiB.
fn memory(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .and_then(|value| value.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or(0)
}
