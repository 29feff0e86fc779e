//! The dispatcher against fakes: an in-memory mirror, an executor that holds each run
//! until the test releases it (or it is cancelled), and the SQLite store in a temporary
//! folder. Each test drives the loop with the events the edges send and reads the store.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::*;
use crate::apply::CancelSignal;
use crate::daemon::{EnvironmentExecutor, ExecutionFuture, FakeClock};
use crate::git::MemoryMirror;
use crate::load::{MemoryFiles, RepoFiles};
use crate::render::CommitInfo;
use crate::store::{SqliteRunStore, Store};

/// Holds each run's environment until its commit is released or the run is cancelled.
struct HeldExecutor {
    released: watch::Sender<Vec<String>>,
}

impl HeldExecutor {
    fn release(&self, commit: &str) {
        self.released
            .send_modify(|released| released.push(commit.to_owned()));
    }
}

impl EnvironmentExecutor for HeldExecutor {
    fn execute<'a>(
        &'a self,
        _files: Arc<dyn RepoFiles>,
        request: &'a RunRequest,
        environment: &'a str,
        _commit: &'a CommitInfo,
        _sink: &'a mut ProgressSink,
        mut cancel: CancelSignal,
    ) -> ExecutionFuture<'a> {
        let mut released = self.released.subscribe();
        Box::pin(async move {
            let status = loop {
                if released.borrow().contains(&request.commit) {
                    break RunStatus::Success;
                }
                tokio::select! {
                    _ = released.changed() => {}
                    slept = cancel.sleep(Duration::from_secs(3600)) => if !slept {
                        break RunStatus::Cancelled;
                    },
                }
            };
            EnvironmentOutcome {
                environment: environment.to_owned(),
                status,
                summary: status.as_str().to_owned(),
                changes: 0,
                plan: String::new(),
                diagnostics: Vec::new(),
                drift: false,
                timed_out: false,
                certificates: Vec::new(),
            }
        })
    }
}

/// A config repo whose `deploy` workflow runs on pushes, pull requests and dispatches,
/// in environment `local`; `label` tells commits apart.
fn repo(label: &str) -> MemoryFiles {
    MemoryFiles::new()
        .with("shoal.yml", "environments: { local: {} }\n")
        .with(
            "workflows/deploy.yml",
            &format!(
                "on:\n  push: {{ branches: [main] }}\n  pull_request: {{ branches: [main] }}\n  \
                 workflow_dispatch: {{}}\nsteps:\n  - network: {{ name: net-{label} }}\n"
            ),
        )
}

/// A repo with a schedule far from now, so that ticks only read it.
fn scheduled_repo() -> MemoryFiles {
    repo("s").with(
        "workflows/drift.yml",
        "on:\n  schedule:\n    - cron: \"0 0 1 1 *\"\nsteps:\n  - network: { name: drift }\n",
    )
}

struct Daemon {
    mirror: Arc<MemoryMirror>,
    executor: Arc<HeldExecutor>,
    events: mpsc::Sender<DaemonEvent>,
    looping: Option<tokio::task::JoinHandle<()>>,
    folder: tempfile::TempDir,
}

impl Daemon {
    fn start(mirror: Arc<MemoryMirror>, folder: tempfile::TempDir) -> Daemon {
        Daemon::start_with(mirror, folder, LOAD_TIMEOUT)
    }

    fn start_with(
        mirror: Arc<MemoryMirror>,
        folder: tempfile::TempDir,
        load_timeout: Duration,
    ) -> Daemon {
        Daemon::start_clocked(mirror, folder, load_timeout, Arc::new(SystemClock))
    }

    fn start_clocked(
        mirror: Arc<MemoryMirror>,
        folder: tempfile::TempDir,
        load_timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Daemon {
        let store = SqliteRunStore::open(folder.path()).expect("store");
        let executor = Arc::new(HeldExecutor {
            released: watch::channel(Vec::new()).0,
        });
        let dispatcher = Dispatcher::new(
            Arc::new(store),
            mirror.clone(),
            executor.clone(),
            "main".to_owned(),
        )
        .with_load_timeout(load_timeout)
        .with_clock(clock);
        let (events, receiver) = mpsc::channel(64);
        Daemon {
            mirror,
            executor,
            events,
            looping: Some(tokio::spawn(dispatcher.run(receiver))),
            folder,
        }
    }

    async fn send(&self, event: DaemonEvent) {
        self.events.send(event).await.expect("the loop runs");
    }

    /// Moves main to `commit` and polls.
    async fn push(&self, commit: &str) {
        self.mirror.set_head("main", commit);
        self.send(DaemonEvent::Poll).await;
    }

    /// (commit, status, summary) of every run, oldest first.
    fn runs(&self) -> Vec<(String, String, String)> {
        let store = Store::open_reader(self.folder.path()).expect("reader");
        let mut runs: Vec<_> = store
            .runs(100)
            .expect("runs")
            .into_iter()
            .map(|run| (run.commit, run.status.as_str().to_owned(), run.summary))
            .collect();
        runs.reverse();
        runs
    }

    fn statuses(&self) -> Vec<(String, String)> {
        self.runs()
            .into_iter()
            .map(|(commit, status, _)| (commit, status))
            .collect()
    }

    async fn eventually(&self, what: &str, done: impl Fn(&[(String, String)]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if done(&self.statuses()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what} never happened: {:?}",
                self.runs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn cancel(&self, run: i64) -> Result<String, String> {
        let (reply, answer) = oneshot::channel();
        self.send(DaemonEvent::Cancel {
            run,
            actor: "ana".to_owned(),
            reply,
        })
        .await;
        answer.await.expect("answered")
    }

    /// Dispatches workflow `deploy` by `actor`; the IDs of the runs queued.
    async fn dispatch(&self, actor: &str) -> Vec<i64> {
        let (reply, answer) = oneshot::channel();
        self.send(DaemonEvent::Dispatch {
            workflow: "deploy".to_owned(),
            environments: Vec::new(),
            inputs: serde_json::Map::new(),
            actor: actor.to_owned(),
            reply,
        })
        .await;
        answer
            .await
            .expect("answered")
            .expect("queued, not refused")
    }

    /// Drains and waits for the loop to end; returns the state folder.
    async fn stop(mut self) -> tempfile::TempDir {
        self.send(DaemonEvent::Shutdown).await;
        if let Some(looping) = self.looping.take() {
            tokio::time::timeout(Duration::from_secs(20), looping)
                .await
                .expect("the loop ends once nothing runs")
                .expect("the loop did not panic");
        }
        self.folder
    }
}

fn pair(commit: &str, status: &str) -> (String, String) {
    (commit.to_owned(), status.to_owned())
}

/// c1 ← c2 ← c3 ← c4 on main.
fn linear_history() -> Arc<MemoryMirror> {
    let mirror = Arc::new(MemoryMirror::default());
    let mut parent = None;
    for commit in ["c1", "c2", "c3", "c4"] {
        mirror.commit(commit, parent, repo(commit));
        parent = Some(commit);
    }
    mirror
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_runs_one_run_and_keeps_one_pending_the_newest() {
    let daemon = Daemon::start(linear_history(), tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("c1 running", |runs| runs == [pair("c1", "running")])
        .await;
    daemon.push("c2").await;
    daemon
        .eventually("c2 waiting", |runs| runs.len() == 2)
        .await;
    daemon.push("c3").await;
    daemon
        .eventually("c3 waiting", |runs| runs.len() == 3)
        .await;
    daemon.push("c4").await;
    daemon
        .eventually("c4 waiting", |runs| runs.len() == 4)
        .await;
    assert_eq!(
        daemon.runs()[1..3],
        [
            (
                "c2".to_owned(),
                "skipped".to_owned(),
                "superseded by run 3, on a newer commit".to_owned()
            ),
            (
                "c3".to_owned(),
                "skipped".to_owned(),
                "superseded by run 4, on a newer commit".to_owned()
            ),
        ]
    );
    assert_eq!(daemon.statuses()[3], pair("c4", "queued"));
    daemon.executor.release("c1");
    daemon
        .eventually("c4 running after c1", |runs| {
            runs[0] == pair("c1", "success") && runs[3] == pair("c4", "running")
        })
        .await;
    daemon.executor.release("c4");
    daemon
        .eventually("c4 applied", |runs| runs[3] == pair("c4", "success"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_interrupts_the_running_run_keeps_the_queued_one_and_a_restart_resumes_it() {
    let daemon = Daemon::start(linear_history(), tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("c1 running", |runs| runs == [pair("c1", "running")])
        .await;
    daemon.push("c2").await;
    daemon
        .eventually("c2 queued", |runs| {
            runs.get(1) == Some(&pair("c2", "queued"))
        })
        .await;
    let folder = daemon.stop().await;
    let store = Store::open_reader(folder.path()).expect("reader");
    let runs = store.runs(10).expect("runs");
    assert_eq!(
        (runs[1].status, runs[1].summary.as_str()),
        (
            RunStatus::Interrupted,
            "the runner stopped during this run, at a safe point: local: cancelled"
        )
    );
    assert_eq!(runs[0].status, RunStatus::Queued, "queued runs stay queued");

    let daemon = Daemon::start(linear_history(), folder);
    daemon.mirror.set_head("main", "c2");
    daemon
        .eventually("c2 resumed", |runs| {
            runs == [pair("c1", "interrupted"), pair("c2", "running")]
        })
        .await;
    daemon.executor.release("c2");
    daemon
        .eventually("c2 applied", |runs| runs[1] == pair("c2", "success"))
        .await;
    // The processed head was recorded: polling again starts nothing.
    daemon.send(DaemonEvent::Poll).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(daemon.runs().len(), 2, "{:?}", daemon.runs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_a_pending_run_at_once_and_a_running_one_at_its_safe_point() {
    let daemon = Daemon::start(linear_history(), tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("c1 running", |runs| runs == [pair("c1", "running")])
        .await;
    daemon.push("c2").await;
    daemon.eventually("c2 queued", |runs| runs.len() == 2).await;
    assert_eq!(
        daemon.cancel(2).await,
        Ok("cancelled before it started".to_owned())
    );
    assert_eq!(
        daemon.cancel(1).await,
        Ok("cancelling: the run stops at its next safe point".to_owned())
    );
    daemon
        .eventually("both cancelled", |runs| {
            runs == [pair("c1", "cancelled"), pair("c2", "cancelled")]
        })
        .await;
    assert_eq!(
        daemon.cancel(1).await,
        Err("run 1 is cancelled, not running".to_owned())
    );
    assert_eq!(daemon.cancel(9).await, Err("no run 9".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_force_pushed_back_to_an_older_commit_applies_it() {
    let daemon = Daemon::start(linear_history(), tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("c1 running", |runs| runs.len() == 1)
        .await;
    daemon.executor.release("c1");
    daemon.push("c3").await;
    daemon
        .eventually("c3 running", |runs| {
            runs == [pair("c1", "success"), pair("c3", "running")]
        })
        .await;
    daemon.executor.release("c3");
    daemon
        .eventually("c3 applied", |runs| runs[1] == pair("c3", "success"))
        .await;
    // Force-pushed back to c1: applied again, though older than c3.
    daemon.push("c1").await;
    daemon
        .eventually("c1 applied again", |runs| {
            runs.len() == 3 && runs[2] == pair("c1", "success")
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticks_on_an_unchanged_head_do_not_load_the_repo_again() {
    let mirror = Arc::new(MemoryMirror::default());
    mirror.commit("s1", None, scheduled_repo());
    mirror.set_head("main", "s1");
    let daemon = Daemon::start(mirror.clone(), tempfile::tempdir().expect("temp"));
    let opened = || mirror.loads.load(Ordering::SeqCst);
    for _ in 0..3 {
        daemon.send(DaemonEvent::Tick).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while opened() == 0 {
            assert!(Instant::now() < deadline, "the first tick never loaded");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A tick runs at a time; let this one end.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(opened(), 1, "three ticks on one head load it once");
    mirror.commit("s2", Some("s1"), scheduled_repo());
    mirror.set_head("main", "s2");
    daemon.send(DaemonEvent::Tick).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while opened() < 2 {
        assert!(Instant::now() < deadline, "a new head is loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_loads_past_the_deadline_fails_its_run_and_holds_up_no_push() {
    let mirror = linear_history();
    mirror.commit("slow", Some("c1"), repo("slow"));
    mirror.slow("slow", Duration::from_secs(3));
    let daemon = Daemon::start_with(
        mirror,
        tempfile::tempdir().expect("temp"),
        Duration::from_secs(1),
    );
    let pull_request = ForgeEvent::PullRequest {
        number: 7,
        base_branch: "main".to_owned(),
        head_commit: "slow".to_owned(),
        actor: "mallory".to_owned(),
    };
    daemon
        .send(DaemonEvent::Forge {
            delivery: "d-7".to_owned(),
            event: pull_request,
        })
        .await;
    daemon.push("c1").await;
    daemon
        .eventually("the push running", |runs| {
            runs.iter().any(|run| *run == pair("c1", "running"))
        })
        .await;
    daemon
        .eventually("the pull request failed", |runs| {
            runs.iter().any(|run| *run == pair("slow", "failure"))
        })
        .await;
    let failed = daemon
        .runs()
        .into_iter()
        .find(|(commit, _, _)| commit == "slow")
        .expect("recorded");
    assert_eq!(
        failed.2,
        "loading the config repo at this commit took longer than 1 s (shoal serve --load-timeout): nothing runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_queued_in_the_order_of_their_pushes_however_long_each_commit_loads() {
    let mirror = linear_history();
    mirror.slow("c1", Duration::from_millis(1500));
    let daemon = Daemon::start(mirror.clone(), tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while mirror.files_opened.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "c1 never loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // c2 loads at once, while c1 is still loading: its run waits for c1's.
    daemon.push("c2").await;
    daemon
        .eventually("both recorded", |runs| runs.len() == 2)
        .await;
    assert_eq!(
        daemon.statuses(),
        [pair("c1", "running"), pair("c2", "queued")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_falls_due_by_the_dispatchers_clock_and_its_run_is_stamped_with_it() {
    let mirror = Arc::new(MemoryMirror::default());
    // Its drift workflow runs at midnight on the first of January.
    mirror.commit("s1", None, scheduled_repo());
    mirror.set_head("main", "s1");
    let clock = Arc::new(FakeClock::at("2026-12-31T23:59:00Z"));
    let daemon = Daemon::start_clocked(
        mirror.clone(),
        tempfile::tempdir().expect("temp"),
        LOAD_TIMEOUT,
        clock.clone(),
    );
    daemon.send(DaemonEvent::Tick).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while mirror.loads.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the tick never loaded the head");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A tick runs at a time; let this one end. Before midnight, nothing is due.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(daemon.runs(), []);

    clock.set("2027-01-01T00:00:30Z");
    daemon.send(DaemonEvent::Tick).await;
    daemon
        .eventually("the schedule's run", |runs| runs.len() == 1)
        .await;
    let store = Store::open_reader(daemon.folder.path()).expect("reader");
    let run = store.runs(1).expect("runs").remove(0);
    assert_eq!(
        (
            run.workflow.as_str(),
            run.event.as_str(),
            run.commit.as_str()
        ),
        ("drift", "schedule", "s1")
    );
    assert_eq!(run.created_at, "2027-01-01T00:00:30+00:00");
}

impl Daemon {
    async fn rollback(&self, environment: &str, to: Option<&str>) -> Result<Vec<i64>, Vec<String>> {
        let (reply, answer) = oneshot::channel();
        self.send(DaemonEvent::Rollback {
            workflow: "deploy".to_owned(),
            environment: environment.to_owned(),
            to: to.map(str::to_owned),
            inputs: serde_json::Map::new(),
            actor: "ada".to_owned(),
            reply,
        })
        .await;
        answer.await.expect("answered")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_applies_the_last_commit_that_succeeded_before_the_current_one() {
    let mirror = linear_history();
    // A commit where the workflow is gone.
    mirror.commit(
        "c9",
        Some("c4"),
        MemoryFiles::new()
            .with("shoal.yml", "environments: { local: {} }\n")
            .with(
                "workflows/other.yml",
                "on: { workflow_dispatch: {} }\nsteps:\n  - network: { name: other }\n",
            ),
    );
    let daemon = Daemon::start(mirror, tempfile::tempdir().expect("temp"));
    assert_eq!(
        daemon.rollback("local", None).await,
        Err(vec![
            "workflow `deploy` has not run on environment `local`: there is nothing to roll back"
                .to_owned()
        ])
    );
    for commit in ["c1", "c2", "c3"] {
        daemon.push(commit).await;
        daemon.executor.release(commit);
        daemon
            .eventually("applied", |runs| {
                runs.last() == Some(&pair(commit, "success"))
            })
            .await;
    }
    // c3 is applied, the newest in its group; the rollback to c2 is not skipped as older.
    let ids = daemon.rollback("local", None).await.expect("queued");
    assert_eq!(ids.len(), 1);
    daemon
        .eventually("rolled back", |runs| {
            runs.len() == 4 && runs[3] == pair("c2", "success")
        })
        .await;
    let store = Store::open_reader(daemon.folder.path()).expect("reader");
    let run = store.run(ids[0]).expect("read").expect("recorded");
    assert_eq!(
        (run.event.as_str(), run.mode.as_str(), run.actor.as_str()),
        ("rollback", "apply", "ada")
    );
    assert_eq!(run.rollback_from.as_deref(), Some("c3"));
    // The current run is now the rollback, on c2: the next one goes back to c1.
    let ids = daemon.rollback("local", None).await.expect("queued");
    let run = store.run(ids[0]).expect("read").expect("recorded");
    assert_eq!(
        (run.commit.as_str(), run.rollback_from.as_deref()),
        ("c1", Some("c2"))
    );

    assert_eq!(
        daemon.rollback("local", Some("nope")).await,
        Err(vec![
            "unknown commit `nope`: commit `nope` not found in the mirror of memory".to_owned()
        ])
    );
    assert_eq!(
        daemon.rollback("local", Some("c9")).await,
        Err(vec![
            "workflow `deploy` does not exist at commit c9: nothing to roll back to".to_owned()
        ])
    );
    assert_eq!(
        daemon.rollback("prod", Some("c2")).await,
        Err(vec![
            "workflow `deploy` does not target environment `prod` at commit c2; it targets local"
                .to_owned()
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_sent_while_the_first_fetch_runs_waits_for_it() {
    let mirror = Arc::new(MemoryMirror::default());
    mirror.commit("c1", None, repo("c1"));
    mirror.push_to_remote("main", "c1", Duration::from_millis(800));
    let daemon = Daemon::start(mirror, tempfile::tempdir().expect("temp"));
    // The first poll fetches for 0.8 s; the dispatch comes meanwhile, before the mirror
    // has the branch.
    daemon.send(DaemonEvent::Poll).await;
    let ids = daemon.dispatch("ada").await;
    assert_eq!(ids.len(), 1);
    let store = Store::open_reader(daemon.folder.path()).expect("reader");
    let run = store.run(ids[0]).expect("read").expect("recorded");
    assert_eq!(
        (run.commit.as_str(), run.event.as_str()),
        ("c1", "workflow_dispatch")
    );
}

/// One push starts three workflows for environment `local`, one concurrency group: each
/// waits for the one before and all three run, in the order they came. The second
/// used to be dropped as "superseded" by the third.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workflow_one_push_starts_for_an_environment_runs_in_turn() {
    let mirror = Arc::new(MemoryMirror::default());
    let mut files = MemoryFiles::new().with("shoal.yml", "environments: { local: {} }\n");
    for workflow in ["a-ports", "b-swarm", "c-workloads"] {
        files = files.with(
            &format!("workflows/{workflow}.yml"),
            &format!(
                "on:\n  push: {{ branches: [main] }}\nsteps:\n  - network: {{ name: {workflow} }}\n"
            ),
        );
    }
    mirror.commit("c1", None, files);
    let daemon = Daemon::start(mirror, tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("one running, two waiting", |runs| {
            runs == [
                pair("c1", "running"),
                pair("c1", "queued"),
                pair("c1", "queued"),
            ]
        })
        .await;
    daemon.executor.release("c1");
    daemon
        .eventually("all three applied", |runs| {
            runs.iter().all(|(_, status)| status == "success") && runs.len() == 3
        })
        .await;
    let store = Store::open_reader(daemon.folder.path()).expect("reader");
    let mut started: Vec<(String, String)> = store
        .runs(100)
        .expect("runs")
        .into_iter()
        .map(|run| (run.workflow, run.started_at.unwrap_or_default()))
        .collect();
    started.sort_by(|a, b| a.1.cmp(&b.1));
    let order: Vec<&str> = started
        .iter()
        .map(|(workflow, _)| workflow.as_str())
        .collect();
    assert_eq!(order, ["a-ports", "b-swarm", "c-workloads"]);
    daemon.stop().await;
}

/// While a push's run holds the group, two dispatches of the same workflow on the same
/// commit: the second takes the first's place, which says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_run_replaced_on_the_same_commit_says_so() {
    let mirror = Arc::new(MemoryMirror::default());
    mirror.commit("c1", None, repo("c1"));
    let daemon = Daemon::start(mirror, tempfile::tempdir().expect("temp"));
    daemon.push("c1").await;
    daemon
        .eventually("the push's run running", |runs| {
            runs == [pair("c1", "running")]
        })
        .await;
    assert_eq!(daemon.dispatch("ada").await, [2]);
    assert_eq!(daemon.dispatch("bob").await, [3]);
    assert_eq!(
        daemon.runs()[1..],
        [
            (
                "c1".to_owned(),
                "skipped".to_owned(),
                "superseded by run 3, on the same commit".to_owned()
            ),
            ("c1".to_owned(), "queued".to_owned(), String::new()),
        ]
    );
    daemon.executor.release("c1");
    daemon
        .eventually("both applied", |runs| {
            runs[0] == pair("c1", "success") && runs[2] == pair("c1", "success")
        })
        .await;
}
