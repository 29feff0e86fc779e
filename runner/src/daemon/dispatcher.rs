//! The daemon's one loop: it owns the state (the store, the git mirror, the run queue)
//! and reacts to a closed set of events, by message passing. Runs execute in tasks of
//! their own and report their progress back as `RunUpdate`s, which the loop records and
//! publishes as `RunNotice`s.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot};
use tracing::Instrument as _;

use super::run_notice::{NOTICE_BACKLOG, RunNotice};
use super::run_progress::{Progress, ProgressReport, ProgressSink, RunUpdate};
use super::{EnvironmentOutcome, RunSettings, execute_environment};
use crate::apply::{CancelHandle, cancel_pair};
use crate::git::Mirror;
use crate::load::{RepoFiles, load_repo};
use crate::model::ConfigRepo;
use crate::store::{RunStatus, StepRecord, Store};
use crate::trigger::{
    Admission, QueuedRun, RunMode, RunQueue, RunRequest, TriggerEvent, concurrency_group, next_due,
    run_requests,
};
use crate::webhook::{ForgeEvent, RegistryEvent};

pub enum DaemonEvent {
    /// Fetch the branch and start what its new commits trigger.
    Poll,
    /// A verified webhook delivery.
    Forge {
        delivery: String,
        event: ForgeEvent,
    },
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
    /// A fetch started by a poll or a webhook has ended.
    Fetched {
        after: AfterFetch,
        result: Result<(), String>,
    },
    /// `POST /api/v1/runs/{id}/cancel`: answers what became of the run.
    Cancel {
        run: i64,
        reply: oneshot::Sender<Result<String, String>>,
    },
    Shutdown,
}

/// What to do once a fetch has ended.
#[derive(Debug)]
pub enum AfterFetch {
    /// Start what the branch's new head triggers.
    Branch { actor: String, reason: String },
    /// Plan the pull request whose head this is.
    PullRequest(TriggerEvent),
}

/// How long one fetch may take; libgit2's own fetches never time out.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// The steps of a run, as they are recorded: positions in the order steps started.
#[derive(Default)]
struct RunSteps {
    next_position: i64,
    open: HashMap<(String, String), (i64, StepRecord)>,
    outcomes: Vec<EnvironmentOutcome>,
}

pub struct Dispatcher {
    pub store: Store,
    pub mirror: Mirror,
    pub branch: String,
    pub settings: RunSettings,
    pub sender: mpsc::Sender<DaemonEvent>,
    queue: RunQueue,
    /// Runs admitted but not finished: their request, group and commit order.
    admitted: HashMap<i64, (RunRequest, String)>,
    /// When each (workflow, cron) is next due.
    schedules: HashMap<(String, String), DateTime<Utc>>,
    /// How to stop each running run at its next safe point.
    cancels: HashMap<i64, CancelHandle>,
    steps: HashMap<i64, RunSteps>,
    updates: mpsc::UnboundedSender<RunUpdate>,
    update_receiver: Option<mpsc::UnboundedReceiver<RunUpdate>>,
    notices: broadcast::Sender<RunNotice>,
    /// A fetch is under way; polls meanwhile are folded into one more afterwards.
    fetching: bool,
    poll_again: Option<(String, String)>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        mirror: Mirror,
        branch: String,
        settings: RunSettings,
        sender: mpsc::Sender<DaemonEvent>,
    ) -> Dispatcher {
        let (updates, update_receiver) = mpsc::unbounded_channel();
        Dispatcher {
            store,
            mirror,
            branch,
            settings,
            sender,
            queue: RunQueue::default(),
            admitted: HashMap::new(),
            schedules: HashMap::new(),
            cancels: HashMap::new(),
            steps: HashMap::new(),
            updates,
            update_receiver: Some(update_receiver),
            notices: broadcast::channel(NOTICE_BACKLOG).0,
            fetching: false,
            poll_again: None,
        }
    }

    /// Where run notices are published: subscribe before `run`.
    pub fn notices(&self) -> broadcast::Sender<RunNotice> {
        self.notices.clone()
    }

    /// Handles events until `Shutdown`.
    pub async fn run(mut self, mut events: mpsc::Receiver<DaemonEvent>) {
        let Some(mut updates) = self.update_receiver.take() else {
            return;
        };
        self.resume();
        loop {
            let event = tokio::select! {
                // Progress first: a run's records are written before what follows it.
                biased;
                Some(update) = updates.recv() => {
                    self.update(update);
                    continue;
                }
                event = events.recv() => event,
            };
            let Some(event) = event else {
                break;
            };
            match event {
                DaemonEvent::Shutdown => break,
                DaemonEvent::Poll => self.poll("", "poll"),
                DaemonEvent::Forge { delivery, event } => self.forge(&delivery, event),
                DaemonEvent::RegistryPush(event) => self.registry_push(event),
                DaemonEvent::Tick => self.tick(),
                DaemonEvent::Dispatch {
                    workflow,
                    environments,
                    inputs,
                    actor,
                    reply,
                } => {
                    let _ = reply.send(self.dispatch(workflow, environments, inputs, actor));
                }
                DaemonEvent::Fetched { after, result } => self.fetched(after, result),
                DaemonEvent::Cancel { run, reply } => {
                    let _ = reply.send(self.cancel(run));
                }
            }
        }
    }

    fn now() -> String {
        Utc::now().to_rfc3339()
    }

    fn forge(&mut self, delivery: &str, event: ForgeEvent) {
        match self.store.first_delivery(delivery, &Self::now()) {
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
    fn registry_push(&mut self, event: RegistryEvent) {
        match self.store.first_registry_event(&event.id, &Self::now()) {
            Ok(true) => {}
            Ok(false) => {
                return tracing::info!(event = %event.id, "registry event seen before: ignored");
            }
            Err(error) => tracing::warn!(%error, "cannot record a registry event"),
        }
        let head = match self.mirror.head(&self.branch) {
            Ok(head) => head,
            Err(error) => return tracing::warn!(%error, "no branch head to run on"),
        };
        tracing::info!(image = %event.image.reference, tag = %event.image.tag, "image pushed");
        let trigger = TriggerEvent::RegistryPush {
            image: event.image,
            commit: head.clone(),
            actor: event.actor,
        };
        self.trigger(&head, &trigger);
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
    /// the loop keeps answering while a remote is slow.
    fn fetch(&mut self, after: AfterFetch) {
        let fetcher = self.mirror.fetcher();
        let pull_requests = matches!(after, AfterFetch::PullRequest(_));
        if !pull_requests {
            self.fetching = true;
        }
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let fetch = tokio::task::spawn_blocking(move || {
                if pull_requests {
                    fetcher.fetch_pull_requests()
                } else {
                    fetcher.fetch()
                }
            });
            let result = match tokio::time::timeout(FETCH_TIMEOUT, fetch).await {
                Ok(Ok(fetched)) => fetched.map_err(|error| error.to_string()),
                Ok(Err(panicked)) => Err(panicked.to_string()),
                Err(_) => Err(format!(
                    "the remote did not answer within {} s",
                    FETCH_TIMEOUT.as_secs()
                )),
            };
            let _ = sender.send(DaemonEvent::Fetched { after, result }).await;
        });
    }

    fn fetched(&mut self, after: AfterFetch, result: Result<(), String>) {
        match after {
            AfterFetch::PullRequest(event) => {
                if let Err(error) = result {
                    return tracing::warn!(%error, "cannot fetch the pull request's head");
                }
                let TriggerEvent::PullRequest { head_commit, .. } = &event else {
                    return;
                };
                let head = head_commit.clone();
                self.trigger(&head, &event);
            }
            AfterFetch::Branch { actor, reason } => {
                self.fetching = false;
                match result {
                    Ok(()) => self.start_new_head(&actor),
                    Err(error) => tracing::warn!(%error, reason, "fetch failed"),
                }
                if let Some((actor, reason)) = self.poll_again.take() {
                    self.poll(&actor, &reason);
                }
            }
        }
    }

    /// When the branch has a new head, starts the runs its changes trigger.
    fn start_new_head(&mut self, actor: &str) {
        let Ok(head) = self.mirror.head(&self.branch) else {
            return;
        };
        let last = self.store.processed_commit(&self.branch).ok().flatten();
        if last.as_deref() == Some(head.as_str()) {
            return;
        }
        let changed_paths = self
            .mirror
            .changed_paths(last.as_deref(), &head)
            .unwrap_or_default();
        let event = TriggerEvent::Push {
            branch: self.branch.clone(),
            commit: head.clone(),
            changed_paths,
            actor: actor.to_owned(),
        };
        // A daemon stopped between recording this push's runs and marking the commit
        // processed must not run the push twice.
        let recorded = self.store.has_runs(&head, "push").unwrap_or(false);
        if !recorded {
            self.trigger(&head, &event);
        }
        if let Err(error) = self.store.set_processed_commit(&self.branch, &head) {
            tracing::warn!(%error, "cannot record the processed commit");
        }
    }

    fn tick(&mut self) {
        let Ok(head) = self.mirror.head(&self.branch) else {
            return;
        };
        let Ok(files) = self.mirror.files_at(&head) else {
            return;
        };
        let (Some(repo), _) = load_repo(files.as_ref()) else {
            return;
        };
        let now = Utc::now();
        let mut due = Vec::new();
        for workflow in &repo.workflows {
            for schedule in &workflow.triggers.schedules {
                let key = (workflow.name.clone(), schedule.cron.clone());
                let next = *self
                    .schedules
                    .entry(key.clone())
                    .or_insert_with(|| next_due(&schedule.cron, now).unwrap_or(now));
                if next <= now {
                    due.push(TriggerEvent::Schedule {
                        workflow: workflow.name.clone(),
                        commit: head.clone(),
                        heal: schedule.heal,
                    });
                    if let Some(after) = next_due(&schedule.cron, now) {
                        self.schedules.insert(key, after);
                    }
                }
            }
        }
        for event in due {
            self.trigger(&head, &event);
        }
    }

    fn dispatch(
        &mut self,
        workflow: String,
        environments: Vec<String>,
        inputs: serde_json::Map<String, serde_json::Value>,
        actor: String,
    ) -> Result<Vec<i64>, Vec<String>> {
        let head = self
            .mirror
            .head(&self.branch)
            .map_err(|error| vec![error.to_string()])?;
        let files = self
            .mirror
            .files_at(&head)
            .map_err(|error| vec![error.to_string()])?;
        let (repo, diagnostics) = load_repo(files.as_ref());
        let repo = repo.ok_or_else(|| {
            diagnostics
                .sorted()
                .iter()
                .map(|d| format!("{}: {}", d.location(), d.message))
                .collect::<Vec<_>>()
        })?;
        let event = TriggerEvent::Dispatch {
            workflow,
            commit: head.clone(),
            environments,
            inputs,
            actor,
        };
        let requests = run_requests(&repo, &event)?;
        Ok(requests
            .into_iter()
            .filter_map(|request| self.admit(files.clone(), &repo, request, &head))
            .collect())
    }

    /// Starts the runs `event` triggers on `commit`. When the config repo has errors at
    /// that commit, nothing can run: a failed run records the errors, with their
    /// positions, so that they are seen (in `shoal runs`, on the commit's check).
    fn trigger(&mut self, commit: &str, event: &TriggerEvent) {
        let files = match self.mirror.files_at(commit) {
            Ok(files) => files,
            Err(error) => return tracing::warn!(%error, "cannot read the commit"),
        };
        let (repo, diagnostics) = load_repo(files.as_ref());
        let Some(repo) = repo else {
            tracing::warn!(
                commit,
                errors = diagnostics.error_count(),
                "the config repo has errors at this commit; nothing runs"
            );
            return self.record_invalid_commit(commit, event, &diagnostics);
        };
        match run_requests(&repo, event) {
            Ok(requests) => {
                for request in requests {
                    self.admit(files.clone(), &repo, request, commit);
                }
            }
            Err(problems) => tracing::warn!(?problems, "event refused"),
        }
    }

    fn record_invalid_commit(
        &mut self,
        commit: &str,
        event: &TriggerEvent,
        diagnostics: &crate::source::Diagnostics,
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
        };
        let Ok(id) = self.store.create_run(&request, &Self::now()) else {
            return;
        };
        self.publish_queued(id);
        let _ = self.store.start_run(id, &Self::now());
        let sorted = diagnostics.sorted();
        for diagnostic in sorted.iter().take(200) {
            let _ = self
                .store
                .append_log(id, &diagnostic.to_string(), &Self::now());
        }
        let outcome = EnvironmentOutcome {
            environment: String::new(),
            status: RunStatus::Failure,
            summary: format!(
                "the config repo has {} errors: {}",
                diagnostics.error_count(),
                sorted
                    .first()
                    .map(|d| format!("{}: {}", d.location(), d.message))
                    .unwrap_or_default()
            ),
            changes: 0,
            plan: String::new(),
            diagnostics: sorted.into_iter().cloned().collect(),
            drift: false,
            timed_out: false,
        };
        self.steps.entry(id).or_default();
        self.environment_done(id, outcome);
        self.run_done(id);
    }

    /// Records a run and queues it in its concurrency group; starts it when its group is
    /// free.
    fn admit(
        &mut self,
        files: Arc<dyn RepoFiles>,
        repo: &ConfigRepo,
        request: RunRequest,
        commit: &str,
    ) -> Option<i64> {
        let id = self.store.create_run(&request, &Self::now()).ok()?;
        self.publish_queued(id);
        let group = concurrency_group(files, repo, &request);
        self.enqueue(id, request, group, commit);
        Some(id)
    }

    /// Queues again the runs that were waiting when the daemon last stopped.
    fn resume(&mut self) {
        let queued = match self.store.queued_runs() {
            Ok(queued) => queued,
            Err(error) => return tracing::warn!(%error, "cannot read the queued runs"),
        };
        for (id, request) in queued {
            let commit = request.commit.clone();
            let group = match self.mirror.files_at(&commit) {
                Ok(files) => match load_repo(files.as_ref()) {
                    (Some(repo), _) => concurrency_group(files, &repo, &request),
                    (None, _) => request.environments.join(","),
                },
                Err(error) => {
                    self.end_unstarted(id, RunStatus::Interrupted, &error.to_string());
                    continue;
                }
            };
            tracing::info!(run = id, workflow = %request.workflow, "queued again after a restart");
            self.enqueue(id, request, group, &commit);
        }
    }

    /// Puts a recorded run in its concurrency group's queue; starts it when the group is
    /// free.
    fn enqueue(&mut self, id: i64, request: RunRequest, group: String, commit: &str) {
        let commit_order = self.mirror.commit_order(commit).unwrap_or(0);
        let admission = self.queue.submit(QueuedRun {
            id: u64::try_from(id).unwrap_or(0),
            group: group.clone(),
            commit: commit.to_owned(),
            commit_order,
        });
        match admission {
            Admission::Start => {
                self.admitted.insert(id, (request, group));
                self.start(id);
            }
            Admission::Pending => {
                self.admitted.insert(id, (request, group));
            }
            Admission::ReplacedPending { replaced } => {
                let replaced = i64::try_from(replaced).unwrap_or(0);
                self.admitted.remove(&replaced);
                self.end_unstarted(
                    replaced,
                    RunStatus::Skipped,
                    &format!("superseded by run {id}, on a newer commit"),
                );
                self.admitted.insert(id, (request, group));
            }
            Admission::Skipped { reason } => self.end_unstarted(id, RunStatus::Skipped, &reason),
        }
    }

    /// Ends a run that never started.
    fn end_unstarted(&mut self, id: i64, status: RunStatus, summary: &str) {
        let _ = self.store.finish_run(id, status, summary, &Self::now());
        self.publish(|run| RunNotice::Finished { run }, id);
    }

    fn start(&mut self, id: i64) {
        let Some((request, _)) = self.admitted.get(&id).cloned() else {
            return;
        };
        tracing::info!(run = id, workflow = %request.workflow, commit = %request.commit, event = request.event, "run started");
        let _ = self.store.start_run(id, &Self::now());
        self.steps.insert(id, RunSteps::default());
        let updates = self.updates.clone();
        let files = match self.mirror.files_at(&request.commit) {
            Ok(files) => files,
            Err(error) => {
                let outcome = EnvironmentOutcome {
                    environment: request.environments.first().cloned().unwrap_or_default(),
                    status: RunStatus::Failure,
                    summary: error.to_string(),
                    changes: 0,
                    plan: String::new(),
                    diagnostics: Vec::new(),
                    drift: false,
                    timed_out: false,
                };
                let _ = updates.send(RunUpdate::EnvironmentDone {
                    run: id,
                    outcome: Box::new(outcome),
                });
                let _ = updates.send(RunUpdate::Done { run: id });
                return;
            }
        };
        let commit = self
            .mirror
            .commit_info(&request.commit, &self.branch)
            .unwrap_or_default();
        let settings = self.settings.clone();
        let (cancel, signal) = cancel_pair();
        self.cancels.insert(id, cancel);
        // Every log line of the run, from any layer, carries its ID (and, within an
        // environment, the environment's name).
        let span = tracing::info_span!("run", run = id, workflow = %request.workflow);
        let run = async move {
            let files: Arc<dyn RepoFiles> = files;
            // Environments in order, stopping at the first that does not succeed.
            for environment in &request.environments {
                let mut sink = ProgressSink::new(id, environment, updates.clone());
                let outcome = execute_environment(
                    files.clone(),
                    &request,
                    environment,
                    &commit,
                    &settings,
                    &mut sink,
                    signal.clone(),
                )
                .instrument(tracing::info_span!("environment", environment = %environment))
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
            let _ = updates.send(RunUpdate::Done { run: id });
        };
        tokio::spawn(run.instrument(span));
    }

    /// Cancels a run: a pending one at once, a running one at its next safe point.
    fn cancel(&mut self, id: i64) -> Result<String, String> {
        if let Some(handle) = self.cancels.get(&id) {
            handle.cancel();
            tracing::info!(run = id, "cancel requested");
            return Ok("cancelling: the run stops at its next safe point".to_owned());
        }
        if self.queue.withdraw(u64::try_from(id).unwrap_or(0)) {
            self.admitted.remove(&id);
            self.end_unstarted(id, RunStatus::Cancelled, "cancelled before it started");
            return Ok("cancelled before it started".to_owned());
        }
        match self.store.run(id) {
            Ok(Some(run)) => Err(format!("run {id} is {}, not running", run.status.as_str())),
            _ => Err(format!("no run {id}")),
        }
    }

    fn update(&mut self, update: RunUpdate) {
        match update {
            RunUpdate::Progress(report) => self.progress(report),
            RunUpdate::EnvironmentDone { run, outcome } => self.environment_done(run, *outcome),
            RunUpdate::Done { run } => self.run_done(run),
        }
    }

    fn progress(&mut self, report: ProgressReport) {
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
                );
            }
            Progress::Log { line } => {
                let _ = self.store.append_log(run, &line, &at);
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
                let _ = self.store.record_step(run, position, &record);
                steps.open.insert((environment, step), (position, record));
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
                let _ = self.store.record_step(run, position, &record);
            }
        }
    }

    fn environment_done(&mut self, id: i64, outcome: EnvironmentOutcome) {
        tracing::info!(run = id, environment = %outcome.environment, status = outcome.status.as_str(), summary = %outcome.summary, "environment finished");
        let steps: Vec<StepRecord> = self
            .store
            .steps(id)
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
        );
        self.steps.entry(id).or_default().outcomes.push(outcome);
    }

    fn run_done(&mut self, id: i64) {
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
        let summary = outcomes
            .iter()
            .map(|o| match o.environment.as_str() {
                "" => o.summary.clone(),
                environment => format!("{environment}: {}", o.summary),
            })
            .collect::<Vec<_>>()
            .join("; ");
        tracing::info!(run = id, status = status.as_str(), "run finished");
        let _ = self.store.finish_run(id, status, &summary, &Self::now());
        self.publish(|run| RunNotice::Finished { run }, id);
        let Some((request, group)) = self.admitted.remove(&id) else {
            return;
        };
        let applied = status == RunStatus::Success && request.mode == RunMode::Apply;
        if let Some(next) = self.queue.finish(&group, applied) {
            self.start(i64::try_from(next.id).unwrap_or(0));
        }
    }

    fn publish_queued(&self, id: i64) {
        self.publish(|run| RunNotice::Queued { run }, id);
    }

    /// Publishes a notice carrying run `id` as the store has it now.
    fn publish(&self, notice: impl FnOnce(crate::store::RunRecord) -> RunNotice, id: i64) {
        if self.notices.receiver_count() == 0 {
            return;
        }
        if let Ok(Some(run)) = self.store.run(id) {
            let _ = self.notices.send(notice(run));
        }
    }
}

/// The workflow name of the run that records a commit whose config repo has errors.
pub const INVALID_REPO_WORKFLOW: &str = "config";
