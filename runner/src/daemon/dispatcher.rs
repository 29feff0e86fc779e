//! The daemon's one loop: it owns the state (the run queue, the runs admitted, the
//! schedules) and reacts to closed sets of events by message passing: what the edges
//! send ([`DaemonEvent`]), what runs report ([`RunUpdate`]) and what work done off the
//! loop found (`WorkDone`). It never blocks: the store is awaited through its async port,
//! and whatever reads git or loads a commit (libgit2, YAML, templates: the files of a pull
//! request may be hostile) runs on a blocking thread with a deadline and comes back as a
//! `WorkDone`. A commit whose loading fails or runs past the deadline gets a failed run
//! that says so; nothing else waits for it.
//!
//! Stopping (`Shutdown`, on SIGTERM or SIGINT) drains: no new run starts, running runs
//! stop at their next safe point (before a step, or while waiting; never in the middle of
//! a write) and are recorded as interrupted, queued runs stay queued for the next start,
//! and the loop ends once nothing runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tracing::Instrument as _;

use super::EnvironmentOutcome;
use super::clock::{Clock, SystemClock};
use super::environment_executor::EnvironmentExecutor;
pub use super::loaded_commit::LOAD_TIMEOUT;
use super::loaded_commit::{
    Late, LoadFailure, LoadedCommit, PreparedRun, ResumedRun, blocking, load_commit, place_runs,
    prepare_runs,
};
use super::run_notice::{NOTICE_BACKLOG, RunNotice};
use super::run_progress::{Progress, ProgressReport, ProgressSink, RunUpdate};
use crate::apply::{CancelHandle, cancel_pair};
use crate::git::RepoMirror;
use crate::store::{RunRecord, RunStatus, RunStore, StepRecord};
use crate::trigger::{
    Admission, QueuedRun, RunMode, RunQueue, RunRequest, TriggerEvent, next_due, rollback_target,
};
use crate::webhook::{ForgeEvent, RegistryEvent};

/// What the edges (HTTP, timers, signals) ask of the dispatcher.
pub enum DaemonEvent {
    /// Fetch the branch and start what its new commits trigger.
    Poll,
    /// A verified webhook delivery.
    Forge { delivery: String, event: ForgeEvent },
    /// A tagged image push from a registry notification, verified.
    RegistryPush(RegistryEvent),
    /// A clock tick: start the schedules that fell due.
    Tick,
    /// `shoal dispatch` or `POST /api/v1/dispatch`.
    Dispatch {
        workflow: String,
        environments: Vec<String>,
        inputs: serde_json::Map<String, serde_json::Value>,
        actor: String,
        reply: oneshot::Sender<Result<Vec<i64>, Vec<String>>>,
    },
    /// `shoal rollback` or `POST /api/v1/rollback`: apply `workflow` on `environment` as
    /// it was at `to`, or at the last commit where its run succeeded before its current
    /// one; answers the run's ID (or the problems).
    Rollback {
        workflow: String,
        environment: String,
        to: Option<String>,
        inputs: serde_json::Map<String, serde_json::Value>,
        actor: String,
        reply: oneshot::Sender<Result<Vec<i64>, Vec<String>>>,
    },
    /// `POST /api/v1/runs/{id}/cancel` or the console's cancel button: answers what became
    /// of the run; who asked (`actor`) is written in its log.
    Cancel {
        run: i64,
        actor: String,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// Drain and stop (SIGTERM, SIGINT): the loop ends once no run is running.
    Shutdown,
}

/// How long one fetch may take; libgit2's own fetches never time out.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// What to do once a fetch has ended.
#[derive(Debug)]
enum AfterFetch {
    /// Start what the branch's new head triggers.
    Branch { actor: String, reason: String },
    /// Plan the pull request whose head this is.
    PullRequest(TriggerEvent),
}

/// The branch's head after a fetch, when it is not the last one processed.
struct BranchHead {
    commit: String,
    changed_paths: Vec<String>,
    /// The last head processed is not an ancestor of this one: the branch was force-pushed
    /// (back to an older commit, or to another history).
    rewritten: bool,
}

/// What the runs being prepared are for.
enum Purpose {
    /// Runs an event triggered; `processed`: the commit is the branch's new head, marked
    /// processed once its runs are recorded.
    Trigger { processed: bool },
    /// Runs `shoal dispatch` or a rollback asked for: their IDs (or the problems) are the
    /// answer.
    Dispatch {
        reply: oneshot::Sender<Result<Vec<i64>, Vec<String>>>,
    },
}

/// Which commit a piece of work loads.
enum Target {
    BranchHead,
    Commit(String),
    /// A commit as a person named it (a SHA or a prefix of one): resolved in the mirror,
    /// or refused as unknown.
    Named(String),
}

/// The runs of one event at one commit, prepared off the loop.
struct PreparedCommit {
    commit: String,
    event: TriggerEvent,
    runs: Result<(Arc<LoadedCommit>, Vec<PreparedRun>), LoadFailure>,
}

/// Work done off the loop, reported back to it.
enum WorkDone {
    Fetched {
        after: AfterFetch,
        result: Result<Option<BranchHead>, String>,
    },
    Prepared {
        purpose: Purpose,
        prepared: Result<PreparedCommit, String>,
    },
    /// A tick read the branch head (`None`: it could not) and loaded it (`None`: it could
    /// not, or it was known not to load).
    HeadLoaded {
        head: Option<String>,
        loaded: Option<Arc<LoadedCommit>>,
    },
    Resumed(Vec<ResumedRun>),
}

/// Work that admits runs carries a ticket, taken when it started: results are handled in
/// ticket order, so runs are queued in the order their events came, however long each
/// commit took to load. A pull request's plan has a group of its own and takes no ticket:
/// a slow pull request never holds up a push.
struct Ticketed {
    ticket: Option<u64>,
    done: WorkDone,
}

/// The steps of a run, as they are recorded: positions in the order steps started.
#[derive(Default)]
struct RunSteps {
    next_position: i64,
    open: HashMap<(String, String), (i64, StepRecord)>,
    outcomes: Vec<EnvironmentOutcome>,
}

pub struct Dispatcher {
    store: Arc<dyn RunStore>,
    mirror: Arc<dyn RepoMirror>,
    executor: Arc<dyn EnvironmentExecutor>,
    branch: String,
    load_timeout: Duration,
    /// What time it is: records are stamped with it and schedules fall due by it.
    clock: Arc<dyn Clock>,
    queue: RunQueue,
    /// Runs admitted but not finished: their request and concurrency group.
    admitted: HashMap<i64, (RunRequest, String)>,
    /// When each (workflow, cron) is next due.
    schedules: HashMap<(String, String), DateTime<Utc>>,
    /// How to stop each running run at its next safe point.
    cancels: HashMap<i64, CancelHandle>,
    steps: HashMap<i64, RunSteps>,
    updates: mpsc::UnboundedSender<RunUpdate>,
    update_receiver: Option<mpsc::UnboundedReceiver<RunUpdate>>,
    work: mpsc::UnboundedSender<Ticketed>,
    work_receiver: Option<mpsc::UnboundedReceiver<Ticketed>>,
    notices: broadcast::Sender<RunNotice>,
    /// A fetch is under way; polls meanwhile are folded into one more afterwards.
    fetching: bool,
    /// A branch fetch has ended since the start: until then the mirror may not hold the
    /// branch at all.
    fetched_once: bool,
    /// Events that read the branch (dispatches, rollbacks, registry pushes) that came
    /// while the first fetch was under way: handled once it ends, so that a dispatch
    /// sent just after the daemon started is not refused for a branch not fetched yet.
    deferred: Vec<DaemonEvent>,
    poll_again: Option<(String, String)>,
    /// The branch head whose push was last taken up (recorded in the store once its runs
    /// are).
    processed: Option<String>,
    /// How many times the branch was seen rewritten. Commit orders are counted from the
    /// root, so after a force push back the new head counts less than what was applied;
    /// each rewrite starts a new era whose orders are above every earlier one.
    rewrites: u64,
    /// The branch head's loaded repo.
    head: Option<Arc<LoadedCommit>>,
    /// The same, for the console: which workflows and environments the head declares.
    published_head: watch::Sender<Option<Arc<LoadedCommit>>>,
    /// A tick's load is under way.
    ticking: bool,
    /// A branch head that does not load: ticks leave it alone until the head moves.
    unloadable_head: Option<String>,
    next_ticket: u64,
    /// The next ticket to handle; results of later ones wait in `ready`.
    next_handled_ticket: u64,
    ready: BTreeMap<u64, WorkDone>,
    /// Stopping: no new run starts.
    draining: bool,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn RunStore>,
        mirror: Arc<dyn RepoMirror>,
        executor: Arc<dyn EnvironmentExecutor>,
        branch: String,
    ) -> Dispatcher {
        let (updates, update_receiver) = mpsc::unbounded_channel();
        let (work, work_receiver) = mpsc::unbounded_channel();
        Dispatcher {
            store,
            mirror,
            executor,
            branch,
            load_timeout: LOAD_TIMEOUT,
            clock: Arc::new(SystemClock),
            queue: RunQueue::default(),
            admitted: HashMap::new(),
            schedules: HashMap::new(),
            cancels: HashMap::new(),
            steps: HashMap::new(),
            updates,
            update_receiver: Some(update_receiver),
            work,
            work_receiver: Some(work_receiver),
            notices: broadcast::channel(NOTICE_BACKLOG).0,
            fetching: false,
            fetched_once: false,
            deferred: Vec::new(),
            poll_again: None,
            processed: None,
            rewrites: 0,
            head: None,
            published_head: watch::channel(None).0,
            ticking: false,
            unloadable_head: None,
            next_ticket: 0,
            next_handled_ticket: 0,
            ready: BTreeMap::new(),
            draining: false,
        }
    }

    /// How long loading one commit may take (default [`LOAD_TIMEOUT`]).
    pub fn with_load_timeout(self, load_timeout: Duration) -> Dispatcher {
        Dispatcher {
            load_timeout,
            ..self
        }
    }

    /// Reads the time from `clock` instead of the system's (tests set the time).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Dispatcher {
        Dispatcher { clock, ..self }
    }

    /// The branch head's loaded repo, each time it changes (the console reads it).
    pub fn heads(&self) -> watch::Receiver<Option<Arc<LoadedCommit>>> {
        self.published_head.subscribe()
    }

    fn set_head(&mut self, loaded: Arc<LoadedCommit>) {
        self.published_head.send_replace(Some(loaded.clone()));
        self.head = Some(loaded);
    }

    /// Where run notices are published: subscribe before `run`.
    pub fn notices(&self) -> broadcast::Sender<RunNotice> {
        self.notices.clone()
    }

    /// Handles events until a `Shutdown` has drained the running runs (or every sender
    /// is gone).
    pub async fn run(mut self, mut events: mpsc::Receiver<DaemonEvent>) {
        let (Some(mut updates), Some(mut work)) =
            (self.update_receiver.take(), self.work_receiver.take())
        else {
            return;
        };
        self.processed = self
            .store
            .processed_commit(&self.branch)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the last processed commit");
                None
            });
        self.resume().await;
        loop {
            tokio::select! {
                // Progress first: a run's records are written before what follows it.
                biased;
                Some(update) = updates.recv() => self.update(update).await,
                Some(done) = work.recv() => self.work_done(done).await,
                event = events.recv() => match event {
                    Some(event) => self.event(event).await,
                    None => break,
                },
            }
            if self.draining && self.cancels.is_empty() {
                tracing::info!("no run is running: stopped");
                break;
            }
        }
    }

    async fn event(&mut self, event: DaemonEvent) {
        if self.fetching
            && !self.fetched_once
            && matches!(
                event,
                DaemonEvent::Dispatch { .. }
                    | DaemonEvent::Rollback { .. }
                    | DaemonEvent::RegistryPush(_)
            )
        {
            self.deferred.push(event);
            return;
        }
        match event {
            DaemonEvent::Shutdown => self.drain(),
            DaemonEvent::Cancel { run, actor, reply } => {
                let _ = reply.send(self.cancel(run, &actor).await);
            }
            DaemonEvent::Dispatch { reply, .. } | DaemonEvent::Rollback { reply, .. }
                if self.draining =>
            {
                let _ = reply.send(Err(vec![
                    "the runner is stopping: no new run starts".to_owned(),
                ]));
            }
            _ if self.draining => tracing::debug!("stopping: event ignored"),
            DaemonEvent::Poll => self.poll("", "poll"),
            DaemonEvent::Forge { delivery, event } => self.forge(&delivery, event).await,
            DaemonEvent::RegistryPush(event) => self.registry_push(event).await,
            DaemonEvent::Tick => self.tick(),
            DaemonEvent::Dispatch {
                workflow,
                environments,
                inputs,
                actor,
                reply,
            } => self.prepare(
                Target::BranchHead,
                move |head| TriggerEvent::Dispatch {
                    workflow,
                    commit: head.to_owned(),
                    environments,
                    inputs,
                    actor,
                },
                Purpose::Dispatch { reply },
                true,
            ),
            DaemonEvent::Rollback {
                workflow,
                environment,
                to,
                inputs,
                actor,
                reply,
            } => {
                self.rollback(workflow, environment, to, inputs, actor, reply)
                    .await;
            }
        }
    }

    /// Prepares the run of a rollback: at `to` when given, else at the last commit where
    /// the workflow's run on the environment succeeded before its current one (from the
    /// store); loaded off the loop like any commit.
    async fn rollback(
        &mut self,
        workflow: String,
        environment: String,
        to: Option<String>,
        inputs: serde_json::Map<String, serde_json::Value>,
        actor: String,
        reply: oneshot::Sender<Result<Vec<i64>, Vec<String>>>,
    ) {
        let runs = match self.store.apply_runs(&workflow).await {
            Ok(runs) => runs,
            Err(error) => {
                let _ = reply.send(Err(vec![format!("cannot read the runs: {error}")]));
                return;
            }
        };
        let target = match rollback_target(&runs, &workflow, &environment, to.as_deref()) {
            Ok(target) => target,
            Err(problem) => {
                let _ = reply.send(Err(vec![problem]));
                return;
            }
        };
        tracing::info!(workflow, environment, to = target.to, from = ?target.from, "rollback");
        let at = if to.is_some() {
            Target::Named(target.to)
        } else {
            Target::Commit(target.to)
        };
        let from = target.from;
        self.prepare(
            at,
            move |commit| TriggerEvent::Rollback {
                workflow,
                commit: commit.to_owned(),
                from,
                environment,
                inputs,
                actor,
            },
            Purpose::Dispatch { reply },
            true,
        );
    }

    fn now(&self) -> String {
        self.clock.now().to_rfc3339()
    }

    /// Stops starting runs, and asks the running ones to stop at their next safe point.
    fn drain(&mut self) {
        if self.draining {
            return;
        }
        self.draining = true;
        tracing::info!(
            running = self.cancels.len(),
            "stopping: no new run starts, running runs stop at their next safe point, queued runs stay queued"
        );
        for handle in self.cancels.values() {
            handle.cancel();
        }
    }

    async fn forge(&mut self, delivery: &str, event: ForgeEvent) {
        match self.store.first_delivery(delivery, &self.now()).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(delivery, "delivery seen before: ignored");
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot record a delivery"),
        }
        match event {
            ForgeEvent::Push { branch, actor, .. } if branch == self.branch => {
                self.poll(&actor, "push")
            }
            ForgeEvent::PullRequest {
                base_branch,
                head_commit,
                actor,
                ..
            } => {
                let event = TriggerEvent::PullRequest {
                    base_branch,
                    head_commit,
                    changed_paths: Vec::new(),
                    actor,
                };
                self.fetch(AfterFetch::PullRequest(event));
            }
            other => tracing::info!(?other, "webhook ignored"),
        }
    }

    /// Starts the runs a pushed image triggers, on the branch head, once per event ID: a
    /// registry retries deliveries it thinks failed.
    async fn registry_push(&mut self, event: RegistryEvent) {
        match self
            .store
            .first_registry_event(&event.id, &self.now())
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return tracing::info!(event = %event.id, "registry event seen before: ignored");
            }
            Err(error) => tracing::warn!(%error, "cannot record a registry event"),
        }
        tracing::info!(image = %event.image.reference, tag = %event.image.tag, "image pushed");
        let RegistryEvent { image, actor, .. } = event;
        self.prepare(
            Target::BranchHead,
            move |head| TriggerEvent::RegistryPush {
                image,
                commit: head.to_owned(),
                actor,
            },
            Purpose::Trigger { processed: false },
            true,
        );
    }

    /// Fetches, in the background; then, when the branch has a new head, starts the runs
    /// its changes trigger. A poll during a fetch makes one more fetch after it.
    fn poll(&mut self, actor: &str, reason: &str) {
        if self.fetching {
            self.poll_again = Some((actor.to_owned(), reason.to_owned()));
            return;
        }
        self.fetch(AfterFetch::Branch {
            actor: actor.to_owned(),
            reason: reason.to_owned(),
        });
    }

    /// Fetches on a blocking thread, with a deadline, and reports back with `Fetched`:
    /// the loop keeps answering while a remote is slow. A branch fetch also reads the new
    /// head and what changed since the last one processed.
    fn fetch(&mut self, after: AfterFetch) {
        let branch_fetch = matches!(after, AfterFetch::Branch { .. });
        if branch_fetch {
            self.fetching = true;
        }
        let mirror = self.mirror.clone();
        let (branch, last, work) = (
            self.branch.clone(),
            self.processed.clone(),
            self.work.clone(),
        );
        tokio::spawn(async move {
            let fetched = blocking(FETCH_TIMEOUT, move || {
                if branch_fetch {
                    fetch_branch(mirror.as_ref(), &branch, last.as_deref())
                } else {
                    mirror
                        .fetch_pull_requests()
                        .map(|()| None)
                        .map_err(|error| error.to_string())
                }
            })
            .await;
            let result = fetched.unwrap_or_else(|late| {
                Err(match late {
                    Late::TimedOut => format!(
                        "the remote did not answer within {} s",
                        FETCH_TIMEOUT.as_secs()
                    ),
                    Late::Failed(error) => error,
                })
            });
            let done = WorkDone::Fetched { after, result };
            let _ = work.send(Ticketed { ticket: None, done });
        });
    }

    async fn fetched(&mut self, after: AfterFetch, result: Result<Option<BranchHead>, String>) {
        match after {
            AfterFetch::PullRequest(event) => {
                if let Err(error) = result {
                    return tracing::warn!(%error, "cannot fetch the pull request's head");
                }
                let TriggerEvent::PullRequest { head_commit, .. } = &event else {
                    return;
                };
                if self.draining {
                    return;
                }
                let commit = head_commit.clone();
                self.prepare(
                    Target::Commit(commit),
                    move |_| event,
                    Purpose::Trigger { processed: false },
                    false,
                );
            }
            AfterFetch::Branch { actor, reason } => {
                self.fetching = false;
                self.fetched_once = true;
                match result {
                    Ok(Some(head)) if !self.draining => self.new_head(head, &actor).await,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, reason, "fetch failed"),
                }
                for event in std::mem::take(&mut self.deferred) {
                    Box::pin(self.event(event)).await;
                }
                if let Some((actor, reason)) = self.poll_again.take()
                    && !self.draining
                {
                    self.poll(&actor, &reason);
                }
            }
        }
    }

    /// The branch has a new head: starts the runs its changes trigger. A head that is not
    /// a descendant of the last one (a force push, maybe back to an older commit) is
    /// applied like any new head.
    async fn new_head(&mut self, head: BranchHead, actor: &str) {
        let BranchHead {
            commit,
            changed_paths,
            rewritten,
        } = head;
        if self.processed.as_deref() == Some(commit.as_str()) {
            return;
        }
        self.processed = Some(commit.clone());
        if rewritten {
            self.rewrites += 1;
            tracing::info!(
                commit,
                "the branch was force-pushed: its new head is applied, even if it is older than what was"
            );
        }
        // A daemon stopped between recording this push's runs and marking the commit
        // processed must not run the push twice.
        let recorded = self.store.latest_run_commit("push").await.ok().flatten();
        if recorded.as_deref() == Some(commit.as_str()) {
            self.mark_processed(&commit).await;
            return;
        }
        let event = TriggerEvent::Push {
            branch: self.branch.clone(),
            commit: commit.clone(),
            changed_paths,
            actor: actor.to_owned(),
        };
        self.prepare(
            Target::Commit(commit),
            move |_| event,
            Purpose::Trigger { processed: true },
            true,
        );
    }

    async fn mark_processed(&mut self, commit: &str) {
        if let Err(error) = self.store.set_processed_commit(&self.branch, commit).await {
            tracing::warn!(%error, "cannot record the processed commit");
        }
    }

    /// Reads the branch head and its schedules off the loop; the repo is loaded again
    /// only when the head moved.
    fn tick(&mut self) {
        if self.ticking {
            return;
        }
        self.ticking = true;
        let (mirror, branch, work) = (self.mirror.clone(), self.branch.clone(), self.work.clone());
        let (cached, unloadable, deadline) = (
            self.head.clone(),
            self.unloadable_head.clone(),
            self.load_timeout,
        );
        tokio::spawn(async move {
            let reader = mirror.clone();
            let head = blocking(deadline, move || reader.head(&branch).ok())
                .await
                .ok()
                .flatten();
            let loaded = match &head {
                Some(head) if unloadable.as_deref() != Some(head.as_str()) => {
                    let commit = head.clone();
                    blocking(deadline, move || {
                        load_commit(mirror.as_ref(), &commit, cached).ok()
                    })
                    .await
                    .ok()
                    .flatten()
                }
                _ => None,
            };
            let done = WorkDone::HeadLoaded { head, loaded };
            let _ = work.send(Ticketed { ticket: None, done });
        });
    }

    /// Starts the schedules of the branch head that fell due.
    fn head_loaded(&mut self, head: Option<String>, loaded: Option<Arc<LoadedCommit>>) {
        self.ticking = false;
        let Some(loaded) = loaded else {
            self.unloadable_head = head;
            return;
        };
        self.set_head(loaded.clone());
        if self.draining {
            return;
        }
        let now = self.clock.now();
        let mut due = Vec::new();
        for workflow in &loaded.repo.workflows {
            for schedule in &workflow.triggers.schedules {
                let key = (workflow.name.clone(), schedule.cron.clone());
                let next = *self
                    .schedules
                    .entry(key.clone())
                    .or_insert_with(|| next_due(&schedule.cron, now).unwrap_or(now));
                if next <= now {
                    due.push(TriggerEvent::Schedule {
                        workflow: workflow.name.clone(),
                        commit: loaded.commit.clone(),
                        heal: schedule.heal,
                    });
                    if let Some(after) = next_due(&schedule.cron, now) {
                        self.schedules.insert(key, after);
                    }
                }
            }
        }
        for event in due {
            self.prepare(
                Target::Commit(loaded.commit.clone()),
                move |_| event,
                Purpose::Trigger { processed: false },
                true,
            );
        }
    }

    /// Loads the commit `target` names and prepares the runs `event` triggers there, on
    /// blocking threads with the load deadline; reports back with `Prepared`. `ordered`:
    /// its runs are queued after those of the work started before it.
    fn prepare(
        &mut self,
        target: Target,
        event: impl FnOnce(&str) -> TriggerEvent + Send + 'static,
        purpose: Purpose,
        ordered: bool,
    ) {
        let ticket = ordered.then(|| {
            self.next_ticket += 1;
            self.next_ticket - 1
        });
        let (mirror, branch, work) = (self.mirror.clone(), self.branch.clone(), self.work.clone());
        let (cached, deadline) = (self.head.clone(), self.load_timeout);
        tokio::spawn(async move {
            let commit = match target {
                Target::Commit(commit) => Ok(commit),
                Target::Named(named) => {
                    let (reader, branch) = (mirror.clone(), branch.clone());
                    let asked = named.clone();
                    match blocking(deadline, move || reader.commit_info(&asked, &branch)).await {
                        Ok(Ok(info)) => Ok(info.sha),
                        Ok(Err(error)) => Err(format!("unknown commit `{named}`: {error}")),
                        Err(_) => Err(format!("commit `{named}` could not be read")),
                    }
                }
                Target::BranchHead => {
                    let reader = mirror.clone();
                    match blocking(deadline, move || reader.head(&branch)).await {
                        Ok(Ok(head)) => Ok(head),
                        Ok(Err(error)) => Err(error.to_string()),
                        Err(_) => Err("the branch head could not be read".to_owned()),
                    }
                }
            };
            let prepared = match commit {
                Ok(commit) => {
                    let event = event(&commit);
                    let (at, triggered) = (commit.clone(), event.clone());
                    let runs = blocking(deadline, move || {
                        prepare_runs(mirror.as_ref(), &at, cached, &triggered)
                    })
                    .await
                    .unwrap_or_else(|late| Err(LoadFailure::from_late(late, deadline)));
                    Ok(PreparedCommit {
                        commit,
                        event,
                        runs,
                    })
                }
                Err(error) => Err(error),
            };
            let done = WorkDone::Prepared { purpose, prepared };
            let _ = work.send(Ticketed { ticket, done });
        });
    }

    /// Records and queues the prepared runs; a commit that did not load gets a failed
    /// run that says why.
    async fn prepared(&mut self, purpose: Purpose, prepared: Result<PreparedCommit, String>) {
        let PreparedCommit {
            commit,
            event,
            runs,
        } = match prepared {
            Ok(prepared) => prepared,
            Err(error) => {
                if let Purpose::Dispatch { reply } = purpose {
                    let _ = reply.send(Err(vec![error]));
                } else {
                    tracing::warn!(%error, "no commit to run on");
                }
                return;
            }
        };
        let processed = matches!(purpose, Purpose::Trigger { processed: true });
        match (purpose, runs) {
            (Purpose::Dispatch { reply }, Ok((loaded, runs))) => {
                // A rollback loads an earlier commit, not the head.
                if !matches!(event, TriggerEvent::Rollback { .. }) {
                    self.set_head(loaded);
                }
                let ids = self.admit(runs).await;
                let _ = reply.send(Ok(ids));
            }
            (Purpose::Dispatch { reply }, Err(failure)) => {
                let _ = reply.send(Err(failure.problems()));
            }
            (Purpose::Trigger { .. }, Ok((loaded, runs))) => {
                if !matches!(event, TriggerEvent::PullRequest { .. }) {
                    self.set_head(loaded);
                }
                self.admit(runs).await;
            }
            (Purpose::Trigger { .. }, Err(LoadFailure::Refused(problems))) => {
                tracing::warn!(?problems, "event refused");
            }
            (Purpose::Trigger { .. }, Err(failure)) => {
                tracing::warn!(
                    commit,
                    problem = failure.summary(),
                    "the config repo cannot be loaded at this commit; nothing runs"
                );
                self.record_failed_commit(&commit, &event, &failure).await;
            }
        }
        if processed {
            self.mark_processed(&commit).await;
        }
    }

    /// Records a failed run for a commit whose config repo did not load, with the errors
    /// and their positions, so that they are seen (in `shoal runs`, on the commit's
    /// check).
    async fn record_failed_commit(
        &mut self,
        commit: &str,
        event: &TriggerEvent,
        failure: &LoadFailure,
    ) {
        let request = RunRequest {
            workflow: INVALID_REPO_WORKFLOW.to_owned(),
            environments: Vec::new(),
            mode: event.mode(),
            commit: commit.to_owned(),
            event: event.name(),
            actor: event.actor().to_owned(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        };
        let Ok(id) = self.store.create_run(&request, &self.now()).await else {
            return;
        };
        self.publish(|run| RunNotice::Queued { run }, id).await;
        let _ = self.store.start_run(id, &self.now()).await;
        let diagnostics: Vec<_> = match failure {
            LoadFailure::Invalid(diagnostics) => {
                diagnostics.sorted().into_iter().cloned().collect()
            }
            _ => Vec::new(),
        };
        let lines: Vec<String> = if diagnostics.is_empty() {
            vec![failure.summary()]
        } else {
            diagnostics
                .iter()
                .take(200)
                .map(ToString::to_string)
                .collect()
        };
        for line in lines {
            let _ = self.store.append_log(id, &line, &self.now()).await;
        }
        let outcome = EnvironmentOutcome {
            environment: String::new(),
            status: RunStatus::Failure,
            summary: failure.summary(),
            changes: 0,
            plan: String::new(),
            diagnostics,
            drift: false,
            timed_out: matches!(failure, LoadFailure::TimedOut(_)),
            certificates: Vec::new(),
        };
        self.steps.entry(id).or_default();
        self.environment_done(id, outcome).await;
        self.run_done(id).await;
    }

    /// Records runs and queues them in their concurrency groups; starts those whose
    /// group is free. While stopping, they are only recorded: queued, for the next start.
    async fn admit(&mut self, runs: Vec<PreparedRun>) -> Vec<i64> {
        let mut ids = Vec::new();
        for PreparedRun {
            request,
            group,
            commit_order,
        } in runs
        {
            let Ok(id) = self.store.create_run(&request, &self.now()).await else {
                continue;
            };
            ids.push(id);
            self.publish(|run| RunNotice::Queued { run }, id).await;
            if !self.draining {
                let mut order = (self.rewrites << 32) + commit_order;
                // A rollback applies an earlier commit on purpose: it is queued as new as
                // what its group applied last, not skipped as older.
                if request.rollback_from.is_some() || request.event == "rollback" {
                    order = order.max(self.queue.last_applied(&group).unwrap_or(0));
                }
                self.enqueue(id, request, group, order).await;
            }
        }
        ids
    }

    /// Queues again, off the loop, the runs that were waiting when the daemon last
    /// stopped. They take the first ticket: nothing is queued before them.
    async fn resume(&mut self) {
        let queued = match self.store.queued_runs().await {
            Ok(queued) => queued,
            Err(error) => return tracing::warn!(%error, "cannot read the queued runs"),
        };
        if queued.is_empty() {
            return;
        }
        self.next_ticket += 1;
        let ticket = self.next_ticket - 1;
        let (mirror, work, deadline) = (self.mirror.clone(), self.work.clone(), self.load_timeout);
        tokio::spawn(async move {
            let mut by_commit: BTreeMap<String, Vec<(i64, RunRequest)>> = BTreeMap::new();
            for (id, request) in queued {
                by_commit
                    .entry(request.commit.clone())
                    .or_default()
                    .push((id, request));
            }
            // One load per commit, each with its deadline: one bad commit fails only its
            // own runs.
            let loads = by_commit.into_iter().map(|(commit, runs)| {
                let mirror = mirror.clone();
                async move {
                    let waiting = runs.clone();
                    match blocking(deadline, move || place_runs(mirror.as_ref(), &commit, runs))
                        .await
                    {
                        Ok(placed) => placed,
                        Err(late) => {
                            let failure = LoadFailure::from_late(late, deadline).summary();
                            waiting
                                .into_iter()
                                .map(|(id, request)| ResumedRun {
                                    id,
                                    request,
                                    placed: Err((RunStatus::Failure, failure.clone())),
                                })
                                .collect()
                        }
                    }
                }
            });
            let mut resumed: Vec<ResumedRun> = futures_util::future::join_all(loads)
                .await
                .into_iter()
                .flatten()
                .collect();
            resumed.sort_by_key(|run| run.id);
            let done = WorkDone::Resumed(resumed);
            let _ = work.send(Ticketed {
                ticket: Some(ticket),
                done,
            });
        });
    }

    async fn resumed(&mut self, runs: Vec<ResumedRun>) {
        for ResumedRun {
            id,
            request,
            placed,
        } in runs
        {
            match placed {
                Ok(_) if self.draining => {}
                Ok((group, commit_order)) => {
                    tracing::info!(run = id, workflow = %request.workflow, "queued again after a restart");
                    self.enqueue(id, request, group, commit_order).await;
                }
                Err((status, summary)) => self.end_unstarted(id, status, &summary).await,
            }
        }
    }

    /// Handles work done off the loop, in ticket order for work that has a ticket.
    async fn work_done(&mut self, done: Ticketed) {
        let Some(ticket) = done.ticket else {
            return self.handle_work(done.done).await;
        };
        self.ready.insert(ticket, done.done);
        while let Some(done) = self.ready.remove(&self.next_handled_ticket) {
            self.next_handled_ticket += 1;
            self.handle_work(done).await;
        }
    }

    async fn handle_work(&mut self, done: WorkDone) {
        match done {
            WorkDone::Fetched { after, result } => self.fetched(after, result).await,
            WorkDone::Prepared { purpose, prepared } => self.prepared(purpose, prepared).await,
            WorkDone::HeadLoaded { head, loaded } => self.head_loaded(head, loaded),
            WorkDone::Resumed(runs) => self.resumed(runs).await,
        }
    }

    /// Puts a recorded run in its concurrency group's queue; starts it when the group is
    /// free.
    async fn enqueue(&mut self, id: i64, request: RunRequest, group: String, commit_order: u64) {
        let admission = self.queue.submit(QueuedRun {
            id: u64::try_from(id).unwrap_or(0),
            group: group.clone(),
            workflow: request.workflow.clone(),
            mode: request.mode,
            commit: request.commit.clone(),
            commit_order,
        });
        match admission {
            Admission::Start => {
                self.admitted.insert(id, (request, group));
                self.start(id).await;
            }
            Admission::Pending => {
                self.admitted.insert(id, (request, group));
            }
            Admission::ReplacedPending { replaced } => {
                let replaced = i64::try_from(replaced).unwrap_or(0);
                let same_commit = self
                    .admitted
                    .remove(&replaced)
                    .is_some_and(|(old, _)| old.commit == request.commit);
                let summary = if same_commit {
                    format!("superseded by run {id}, on the same commit")
                } else {
                    format!("superseded by run {id}, on a newer commit")
                };
                self.end_unstarted(replaced, RunStatus::Skipped, &summary)
                    .await;
                self.admitted.insert(id, (request, group));
            }
            Admission::Skipped { reason } => {
                self.end_unstarted(id, RunStatus::Skipped, &reason).await;
            }
        }
    }

    /// Ends a run that never started.
    async fn end_unstarted(&mut self, id: i64, status: RunStatus, summary: &str) {
        let _ = self
            .store
            .finish_run(id, status, summary, &self.now())
            .await;
        self.publish(|run| RunNotice::Finished { run }, id).await;
    }

    /// Starts an admitted run in a task of its own, which reads its commit from the
    /// mirror on a blocking thread.
    async fn start(&mut self, id: i64) {
        let Some((request, _)) = self.admitted.get(&id).cloned() else {
            return;
        };
        tracing::info!(run = id, workflow = %request.workflow, commit = %request.commit, event = request.event, "run started");
        let _ = self.store.start_run(id, &self.now()).await;
        self.steps.insert(id, RunSteps::default());
        let (cancel, signal) = cancel_pair();
        self.cancels.insert(id, cancel);
        let (updates, mirror, executor) = (
            self.updates.clone(),
            self.mirror.clone(),
            self.executor.clone(),
        );
        let (branch, deadline) = (self.branch.clone(), self.load_timeout);
        // Every log line of the run, from any layer, carries its ID (and, within an
        // environment, the environment's name).
        let span = tracing::info_span!("run", run = id, workflow = %request.workflow);
        let run = async move {
            let commit = request.commit.clone();
            let opened = blocking(deadline, move || {
                let files = mirror.files_at(&commit)?;
                let info = mirror.commit_info(&commit, &branch).unwrap_or_default();
                Ok::<_, crate::git::GitError>((files, info))
            })
            .await;
            let failure = match opened {
                Ok(Ok((files, commit))) => {
                    // Environments in order, stopping at the first that does not succeed.
                    for environment in &request.environments {
                        let mut sink = ProgressSink::new(id, environment, updates.clone());
                        let outcome = executor
                            .execute(
                                files.clone(),
                                &request,
                                environment,
                                &commit,
                                &mut sink,
                                signal.clone(),
                            )
                            .instrument(
                                tracing::info_span!("environment", environment = %environment),
                            )
                            .await;
                        let succeeded = outcome.status == RunStatus::Success;
                        let _ = updates.send(RunUpdate::EnvironmentDone {
                            run: id,
                            outcome: Box::new(outcome),
                        });
                        if !succeeded {
                            break;
                        }
                    }
                    None
                }
                Ok(Err(error)) => Some(error.to_string()),
                Err(late) => Some(LoadFailure::from_late(late, deadline).summary()),
            };
            if let Some(summary) = failure {
                let outcome = EnvironmentOutcome {
                    environment: request.environments.first().cloned().unwrap_or_default(),
                    status: RunStatus::Failure,
                    summary,
                    changes: 0,
                    plan: String::new(),
                    diagnostics: Vec::new(),
                    drift: false,
                    timed_out: false,
                    certificates: Vec::new(),
                };
                let _ = updates.send(RunUpdate::EnvironmentDone {
                    run: id,
                    outcome: Box::new(outcome),
                });
            }
            let _ = updates.send(RunUpdate::Done { run: id });
        };
        tokio::spawn(run.instrument(span));
    }

    /// Cancels a run: a pending one at once, a running one at its next safe point.
    async fn cancel(&mut self, id: i64, actor: &str) -> Result<String, String> {
        if self.cancels.contains_key(&id) || self.admitted.contains_key(&id) {
            let line = format!("cancel requested by {actor}");
            if let Err(error) = self.store.append_log(id, &line, &self.now()).await {
                tracing::warn!(run = id, %error, "cannot record who cancelled");
            }
        }
        if let Some(handle) = self.cancels.get(&id) {
            handle.cancel();
            tracing::info!(run = id, actor, "cancel requested");
            return Ok("cancelling: the run stops at its next safe point".to_owned());
        }
        if self.queue.withdraw(u64::try_from(id).unwrap_or(0)) {
            self.admitted.remove(&id);
            self.end_unstarted(id, RunStatus::Cancelled, "cancelled before it started")
                .await;
            return Ok("cancelled before it started".to_owned());
        }
        match self.store.run(id).await {
            Ok(Some(run)) => Err(format!("run {id} is {}, not running", run.status.as_str())),
            _ => Err(format!("no run {id}")),
        }
    }

    async fn update(&mut self, update: RunUpdate) {
        match update {
            RunUpdate::Progress(report) => self.progress(report).await,
            RunUpdate::EnvironmentDone { run, outcome } => {
                self.environment_done(run, *outcome).await;
            }
            RunUpdate::Done { run } => self.run_done(run).await,
        }
    }

    async fn progress(&mut self, report: ProgressReport) {
        let ProgressReport {
            run,
            environment,
            at,
            progress,
        } = report;
        match progress {
            Progress::EnvironmentStarted => {
                self.publish(
                    |run| RunNotice::EnvironmentStarted {
                        run,
                        environment: environment.clone(),
                    },
                    run,
                )
                .await;
            }
            Progress::Log { line } => {
                let _ = self.store.append_log(run, &line, &at).await;
            }
            Progress::StepStarted { step } => {
                let steps = self.steps.entry(run).or_default();
                let position = steps.next_position;
                steps.next_position += 1;
                let record = StepRecord {
                    environment: environment.clone(),
                    name: step.clone(),
                    status: RunStatus::Running,
                    started_at: at,
                    finished_at: None,
                    changes: 0,
                    error: None,
                };
                let _ = self.store.record_step(run, position, &record).await;
                self.steps
                    .entry(run)
                    .or_default()
                    .open
                    .insert((environment, step), (position, record));
            }
            Progress::StepFinished {
                step,
                status,
                changes,
                error,
            } => {
                let steps = self.steps.entry(run).or_default();
                let Some((position, mut record)) = steps.open.remove(&(environment, step)) else {
                    return;
                };
                record.status = status;
                record.finished_at = Some(at);
                record.changes = i64::try_from(changes).unwrap_or(i64::MAX);
                record.error = error;
                let _ = self.store.record_step(run, position, &record).await;
            }
        }
    }

    async fn environment_done(&mut self, id: i64, outcome: EnvironmentOutcome) {
        tracing::info!(run = id, environment = %outcome.environment, status = outcome.status.as_str(), summary = %outcome.summary, "environment finished");
        let steps: Vec<StepRecord> = self
            .store
            .steps(id)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|step| step.environment == outcome.environment)
            .collect();
        self.publish(
            |run| RunNotice::EnvironmentFinished {
                run,
                outcome: outcome.clone(),
                steps: steps.clone(),
            },
            id,
        )
        .await;
        self.steps.entry(id).or_default().outcomes.push(outcome);
    }

    async fn run_done(&mut self, id: i64) {
        self.cancels.remove(&id);
        let outcomes = self
            .steps
            .remove(&id)
            .map(|s| s.outcomes)
            .unwrap_or_default();
        let status = if outcomes.iter().any(|o| o.status == RunStatus::Cancelled) {
            RunStatus::Cancelled
        } else if outcomes.iter().all(|o| o.status == RunStatus::Success) {
            RunStatus::Success
        } else {
            RunStatus::Failure
        };
        let mut summary = outcomes
            .iter()
            .map(|o| match o.environment.as_str() {
                "" => o.summary.clone(),
                environment => format!("{environment}: {}", o.summary),
            })
            .collect::<Vec<_>>()
            .join("; ");
        // Stopped by a drain, not by a person: interrupted, as a crash would leave it.
        let status = if self.draining && status == RunStatus::Cancelled {
            summary = format!("the runner stopped during this run, at a safe point: {summary}");
            RunStatus::Interrupted
        } else {
            status
        };
        tracing::info!(run = id, status = status.as_str(), "run finished");
        let _ = self
            .store
            .finish_run(id, status, &summary, &self.now())
            .await;
        self.publish(|run| RunNotice::Finished { run }, id).await;
        let Some((request, group)) = self.admitted.remove(&id) else {
            return;
        };
        let applied = status == RunStatus::Success && request.mode == RunMode::Apply;
        // While stopping, the next run of the group stays queued, for the next start.
        if let Some(next) = self.queue.finish(&group, applied)
            && !self.draining
        {
            self.start(i64::try_from(next.id).unwrap_or(0)).await;
        }
    }

    /// Publishes a notice carrying run `id` as the store has it now.
    async fn publish(&self, notice: impl FnOnce(RunRecord) -> RunNotice, id: i64) {
        if self.notices.receiver_count() == 0 {
            return;
        }
        if let Ok(Some(run)) = self.store.run(id).await {
            let _ = self.notices.send(notice(run));
        }
    }
}

/// The workflow name of the run that records a commit whose config repo has errors.
pub const INVALID_REPO_WORKFLOW: &str = "config";

/// Fetches the branches, then reads the branch's head and what changed since `last`.
/// Blocks.
fn fetch_branch(
    mirror: &dyn RepoMirror,
    branch: &str,
    last: Option<&str>,
) -> Result<Option<BranchHead>, String> {
    mirror.fetch_branches().map_err(|error| error.to_string())?;
    let Ok(commit) = mirror.head(branch) else {
        return Ok(None);
    };
    if last == Some(commit.as_str()) {
        return Ok(None);
    }
    // The last head may be gone after a force push and a prune: then every file changed.
    let changed_paths = mirror
        .changed_paths(last, &commit)
        .or_else(|_| mirror.changed_paths(None, &commit))
        .unwrap_or_default();
    let rewritten = last.is_some_and(|last| !mirror.is_ancestor(last, &commit).unwrap_or(false));
    Ok(Some(BranchHead {
        commit,
        changed_paths,
        rewritten,
    }))
}

#[cfg(test)]
#[path = "dispatcher_tests.rs"]
mod tests;
