//! The daemon's one loop: it owns the state (the store, the git mirror, the run queue)
//! and reacts to a closed set of events, by message passing. Runs execute in tasks of
//! their own and report back with `RunFinished`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use super::{EnvironmentOutcome, RunSettings, execute_environment};
use crate::git::Mirror;
use crate::load::load_repo;
use crate::store::{RunStatus, StepRecord, Store};
use crate::trigger::{
    Admission, QueuedRun, RunQueue, RunRequest, TriggerEvent, next_due, run_requests,
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
    RunFinished {
        run: i64,
        outcomes: Vec<EnvironmentOutcome>,
    },
    Shutdown,
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
}

impl Dispatcher {
    pub fn new(
        store: Store,
        mirror: Mirror,
        branch: String,
        settings: RunSettings,
        sender: mpsc::Sender<DaemonEvent>,
    ) -> Dispatcher {
        Dispatcher {
            store,
            mirror,
            branch,
            settings,
            sender,
            queue: RunQueue::default(),
            admitted: HashMap::new(),
            schedules: HashMap::new(),
        }
    }

    /// Handles events until `Shutdown`.
    pub async fn run(mut self, mut events: mpsc::Receiver<DaemonEvent>) {
        while let Some(event) = events.recv().await {
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
                DaemonEvent::RunFinished { run, outcomes } => self.finished(run, &outcomes),
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
                if let Err(error) = self.mirror.fetch_commit(&head_commit) {
                    tracing::warn!(%error, "cannot fetch the pull request's head");
                    return;
                }
                let event = TriggerEvent::PullRequest {
                    base_branch,
                    head_commit: head_commit.clone(),
                    changed_paths: Vec::new(),
                    actor,
                };
                self.trigger(&head_commit, &event);
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

    /// Fetches; when the branch has a new head, starts the runs its changes trigger.
    fn poll(&mut self, actor: &str, reason: &str) {
        if let Err(error) = self.mirror.fetch() {
            tracing::warn!(%error, reason, "fetch failed");
            return;
        }
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
        self.trigger(&head, &event);
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
            .filter_map(|request| self.admit(request, &head))
            .collect())
    }

    /// Starts the runs `event` triggers on `commit`.
    fn trigger(&mut self, commit: &str, event: &TriggerEvent) {
        let files = match self.mirror.files_at(commit) {
            Ok(files) => files,
            Err(error) => return tracing::warn!(%error, "cannot read the commit"),
        };
        let (repo, diagnostics) = load_repo(files.as_ref());
        let Some(repo) = repo else {
            return tracing::warn!(
                commit,
                errors = diagnostics.error_count(),
                "the config repo has errors at this commit; nothing runs"
            );
        };
        match run_requests(&repo, event) {
            Ok(requests) => {
                for request in requests {
                    self.admit(request, commit);
                }
            }
            Err(problems) => tracing::warn!(?problems, "event refused"),
        }
    }

    /// Records a run and queues it in its concurrency group (the environments it runs
    /// against); starts it when its group is free.
    fn admit(&mut self, request: RunRequest, commit: &str) -> Option<i64> {
        let id = self.store.create_run(&request, &Self::now()).ok()?;
        let group = format!("{}:{}", request.workflow, request.environments.join(","));
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
                let _ = self.store.finish_run(
                    replaced,
                    RunStatus::Skipped,
                    &format!("superseded by run {id}, on a newer commit"),
                    &Self::now(),
                );
                self.admitted.insert(id, (request, group));
            }
            Admission::Skipped { reason } => {
                let _ = self
                    .store
                    .finish_run(id, RunStatus::Skipped, &reason, &Self::now());
            }
        }
        Some(id)
    }

    fn start(&mut self, id: i64) {
        let Some((request, _)) = self.admitted.get(&id).cloned() else {
            return;
        };
        tracing::info!(run = id, workflow = %request.workflow, commit = %request.commit, event = request.event, "run started");
        let _ = self.store.start_run(id, &Self::now());
        let files = match self.mirror.files_at(&request.commit) {
            Ok(files) => files,
            Err(error) => {
                let outcome = EnvironmentOutcome {
                    environment: String::new(),
                    status: RunStatus::Failure,
                    summary: error.to_string(),
                    changes: 0,
                    log: Vec::new(),
                };
                let _ = self.sender.try_send(DaemonEvent::RunFinished {
                    run: id,
                    outcomes: vec![outcome],
                });
                return;
            }
        };
        let commit = self
            .mirror
            .commit_info(&request.commit, &self.branch)
            .unwrap_or_default();
        let settings = self.settings.clone();
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let files: Arc<dyn crate::load::RepoFiles> = files;
            let mut outcomes = Vec::new();
            // Environments in order, stopping at the first failure.
            for environment in &request.environments {
                let outcome =
                    execute_environment(files.clone(), &request, environment, &commit, &settings)
                        .await;
                let failed = outcome.status != RunStatus::Success;
                outcomes.push(outcome);
                if failed {
                    break;
                }
            }
            let _ = sender
                .send(DaemonEvent::RunFinished { run: id, outcomes })
                .await;
        });
    }

    fn finished(&mut self, id: i64, outcomes: &[EnvironmentOutcome]) {
        for outcome in outcomes {
            tracing::info!(run = id, environment = %outcome.environment, status = outcome.status.as_str(), summary = %outcome.summary, "run finished");
        }
        let now = Self::now();
        for (position, outcome) in outcomes.iter().enumerate() {
            let step = StepRecord {
                environment: outcome.environment.clone(),
                name: format!("environment {}", outcome.environment),
                status: outcome.status,
                started_at: now.clone(),
                finished_at: Some(now.clone()),
                changes: i64::try_from(outcome.changes).unwrap_or(0),
                error: (outcome.status != RunStatus::Success).then(|| outcome.summary.clone()),
            };
            let _ = self
                .store
                .record_step(id, i64::try_from(position).unwrap_or(0), &step);
            for text in &outcome.log {
                let _ = self.store.append_log(id, text, &now);
            }
        }
        let status = if outcomes.iter().all(|o| o.status == RunStatus::Success) {
            RunStatus::Success
        } else {
            RunStatus::Failure
        };
        let summary = outcomes
            .iter()
            .map(|o| format!("{}: {}", o.environment, o.summary))
            .collect::<Vec<_>>()
            .join("; ");
        let _ = self.store.finish_run(id, status, &summary, &now);
        let Some((request, group)) = self.admitted.remove(&id) else {
            return;
        };
        let applied =
            status == RunStatus::Success && request.mode == crate::trigger::RunMode::Apply;
        if let Some(next) = self.queue.finish(&group, applied) {
            self.start(i64::try_from(next.id).unwrap_or(0));
        }
    }
}
