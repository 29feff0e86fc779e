//! Delivering reports to GitHub without ever holding up a run. The caller's `report` (and
//! `comment`) is a non-blocking send to a background task, which keeps one queue per
//! check: reports of a check are delivered in order, one request at a time, retried with
//! backoff; a newer state that arrives meanwhile replaces the one waiting, so the final
//! state always wins. A report that still fails after its retries is logged and handed to
//! the failure sink. A pull request's plan comment is found again by its marker and edited.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hyper::Method;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::app_auth::AppAuthError;
use super::authorization::Authorization;
use super::check_report::{check_run_create_body, check_run_requests, run_url, status_body};
use super::check_state::CheckState;
use super::client::{ClientError, GitHubClient};
use super::plan_comment::{PlanComment, comment_marker};
use super::retry_policy::Verdict;
use super::settings::GitHubSettings;

/// A report GitHub did not take, after every retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFailure {
    pub run_id: i64,
    /// The check's name, `shoal/<workflow>/<environment>`.
    pub check: String,
    pub error: String,
}

/// Where failed reports go (the store, for `shoal runs show`).
pub type FailureSink = Arc<dyn Fn(ReportFailure) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    #[error(transparent)]
    App(#[from] AppAuthError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// The handle runs report through. Dropping every handle lets the background task finish
/// what it has and stop.
#[derive(Clone)]
pub struct Reporter {
    sender: mpsc::UnboundedSender<Report>,
}

/// What the background task delivers.
#[derive(Debug, Clone)]
enum Report {
    Check(CheckState),
    Comment(PlanComment),
}

impl Report {
    /// The queue it goes to: one per check, one per plan comment of a run.
    fn key(&self) -> (i64, String) {
        match self {
            Report::Check(state) => (state.run_id, state.name()),
            Report::Comment(comment) => (comment.run_id, format!("comment {}", comment.workflow)),
        }
    }

    fn run_id(&self) -> i64 {
        self.key().0
    }

    /// A check's completed state, or a comment (written once per run).
    fn is_final(&self) -> bool {
        match self {
            Report::Check(state) => state.is_final(),
            Report::Comment(_) => true,
        }
    }

    /// What `shoal runs show` names it by.
    fn name(&self) -> String {
        match self {
            Report::Check(state) => state.name(),
            Report::Comment(comment) => format!("pull request comment of {}", comment.workflow),
        }
    }
}

impl Reporter {
    /// Starts the background task on the current tokio runtime; returns the handle and the
    /// task, which ends once every handle is dropped and every report is delivered or
    /// given up.
    pub fn start(
        settings: GitHubSettings,
        failures: FailureSink,
    ) -> Result<(Reporter, tokio::task::JoinHandle<()>), ReporterError> {
        let shared = Arc::new(Shared {
            authorization: Authorization::new(&settings.credentials)?,
            client: GitHubClient::new(&settings.api_url, settings.request_timeout)?,
            settings,
            failures,
            comment_ids: std::sync::Mutex::new(HashMap::new()),
        });
        let (sender, receiver) = mpsc::unbounded_channel();
        let task = tokio::spawn(route(receiver, shared));
        Ok((Reporter { sender }, task))
    }

    /// Queues `state` for delivery; never waits.
    pub fn report(&self, state: CheckState) {
        self.send(Report::Check(state));
    }

    /// Queues a plan comment for the pull requests of its commit; never waits.
    pub fn comment(&self, comment: PlanComment) {
        self.send(Report::Comment(comment));
    }

    fn send(&self, report: Report) {
        if self.sender.send(report).is_err() {
            tracing::warn!("the GitHub reporter has stopped; a report is dropped");
        }
    }
}

struct Shared {
    settings: GitHubSettings,
    authorization: Authorization,
    client: GitHubClient,
    failures: FailureSink,
    /// The plan comment of each (pull request, workflow), once found or written.
    comment_ids: std::sync::Mutex<HashMap<(u64, String), u64>>,
}

/// Hands each report to its check's worker, starting one when the check has none.
async fn route(mut receiver: mpsc::UnboundedReceiver<Report>, shared: Arc<Shared>) {
    let mut workers: HashMap<(i64, String), watch::Sender<Report>> = HashMap::new();
    let mut tasks = JoinSet::new();
    while let Some(state) = receiver.recv().await {
        while tasks.try_join_next().is_some() {}
        workers.retain(|_, worker| !worker.is_closed());
        let key = state.key();
        let state = match workers.get(&key) {
            Some(worker) => match worker.send(state) {
                Ok(()) => continue,
                Err(watch::error::SendError(state)) => state,
            },
            None => state,
        };
        let (worker, latest) = watch::channel(state);
        tasks.spawn(ReportWorker::new(shared.clone(), latest).run());
        workers.insert(key, worker);
    }
    drop(workers);
    while tasks.join_next().await.is_some() {}
}

/// Delivers the states of one check (or a run's plan comment), in order, the newest
/// replacing any still waiting.
struct ReportWorker {
    shared: Arc<Shared>,
    latest: watch::Receiver<Report>,
    /// The check run GitHub created, once it has.
    check_run_id: Option<u64>,
}

/// How delivering one state ended.
enum Delivery {
    Done,
    /// A newer state arrived while waiting to retry.
    Superseded,
    Failed(String),
}

impl ReportWorker {
    fn new(shared: Arc<Shared>, latest: watch::Receiver<Report>) -> ReportWorker {
        ReportWorker {
            shared,
            latest,
            check_run_id: None,
        }
    }

    async fn run(mut self) {
        loop {
            let state = self.latest.borrow_and_update().clone();
            let delivery = match &state {
                Report::Check(check) => self.deliver(check).await,
                Report::Comment(comment) => self.deliver_comment(comment).await,
            };
            match delivery {
                Delivery::Superseded => continue,
                Delivery::Done => {}
                Delivery::Failed(error) => {
                    tracing::warn!(run = state.run_id(), check = %state.name(), %error, "report to GitHub failed");
                    (self.shared.failures)(ReportFailure {
                        run_id: state.run_id(),
                        check: state.name(),
                        error,
                    });
                }
            }
            if state.is_final() || self.latest.changed().await.is_err() {
                return;
            }
        }
    }

    async fn deliver(&mut self, state: &CheckState) -> Delivery {
        let settings = &self.shared.settings;
        let url = run_url(settings.public_url.as_deref(), state.run_id);
        let repository = settings.repository.api_path();
        if !self.shared.authorization.writes_check_runs() {
            let path = format!("{repository}/statuses/{}", state.head_sha);
            let body = status_body(state, url.as_deref());
            return match self.send(Method::POST, &path, Some(&body)).await {
                Ok(_) => Delivery::Done,
                Err(delivery) => delivery,
            };
        }
        let requests = check_run_requests(state, url.as_deref());
        match self.check_run_id {
            Some(id) => {
                let path = format!("{repository}/check-runs/{id}");
                if let Err(delivery) = self.send(Method::PATCH, &path, Some(&requests.first)).await
                {
                    return delivery;
                }
            }
            None => {
                let path = format!("{repository}/check-runs");
                let body = check_run_create_body(&requests.first, &state.head_sha);
                let created = match self.send(Method::POST, &path, Some(&body)).await {
                    Ok(created) => created,
                    Err(delivery) => return delivery,
                };
                match created["id"].as_u64() {
                    Some(id) => self.check_run_id = Some(id),
                    None => {
                        return Delivery::Failed(
                            "GitHub created the check run without answering its id".into(),
                        );
                    }
                }
            }
        }
        let Some(id) = self.check_run_id else {
            return Delivery::Done;
        };
        // Annotations past the first 50 go in further updates, which GitHub appends.
        let path = format!("{repository}/check-runs/{id}");
        for body in &requests.more_annotations {
            if let Err(delivery) = self.send(Method::PATCH, &path, Some(body)).await {
                return delivery;
            }
        }
        Delivery::Done
    }

    /// Writes `comment` on every open pull request whose head is its commit: edits the
    /// comment that carries its marker, or writes one.
    async fn deliver_comment(&mut self, comment: &PlanComment) -> Delivery {
        let repository = self.shared.settings.repository.api_path();
        let path = format!("{repository}/commits/{}/pulls", comment.head_sha);
        let pulls = match self.send(Method::GET, &path, None).await {
            Ok(pulls) => pulls,
            Err(delivery) => return delivery,
        };
        let numbers: Vec<u64> = pulls
            .as_array()
            .into_iter()
            .flatten()
            .filter(|pull| {
                pull["state"] == "open" && pull["head"]["sha"] == comment.head_sha.as_str()
            })
            .filter_map(|pull| pull["number"].as_u64())
            .collect();
        if numbers.is_empty() {
            return Delivery::Failed(format!(
                "no open pull request has {} as its head",
                comment.head_sha
            ));
        }
        let body = serde_json::json!({ "body": comment.body });
        for number in numbers {
            let key = (number, comment.workflow.clone());
            let known = self.comment_id(&key);
            let existing = match known {
                Some(id) => Some(id),
                None => match self.find_comment(number, &comment.workflow).await {
                    Ok(found) => found,
                    Err(delivery) => return delivery,
                },
            };
            let written = match existing {
                Some(id) => {
                    let path = format!("{repository}/issues/comments/{id}");
                    self.send(Method::PATCH, &path, Some(&body)).await
                }
                None => {
                    let path = format!("{repository}/issues/{number}/comments");
                    self.send(Method::POST, &path, Some(&body)).await
                }
            };
            match written {
                Ok(answer) => {
                    if let Some(id) = answer["id"].as_u64() {
                        self.remember_comment(key, id);
                    }
                }
                Err(delivery) => return delivery,
            }
        }
        Delivery::Done
    }

    /// The comment of `workflow` on pull request `number`, read page by page.
    async fn find_comment(&mut self, number: u64, workflow: &str) -> Result<Option<u64>, Delivery> {
        let repository = self.shared.settings.repository.api_path();
        let marker = comment_marker(workflow);
        // GitHub gives at most 100 a page; a pull request with more than 3,000 comments
        // gets a new one.
        for page in 1..=30 {
            let path = format!("{repository}/issues/{number}/comments?per_page=100&page={page}");
            let comments = self.send(Method::GET, &path, None).await?;
            let comments = comments.as_array().cloned().unwrap_or_default();
            let found = comments.iter().find(|c| {
                c["body"]
                    .as_str()
                    .is_some_and(|body| body.starts_with(&marker))
            });
            if let Some(id) = found.and_then(|c| c["id"].as_u64()) {
                return Ok(Some(id));
            }
            if comments.len() < 100 {
                break;
            }
        }
        Ok(None)
    }

    fn comment_id(&self, key: &(u64, String)) -> Option<u64> {
        let ids = self
            .shared
            .comment_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.get(key).copied()
    }

    fn remember_comment(&self, key: (u64, String), id: u64) {
        let mut ids = self
            .shared
            .comment_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.insert(key, id);
    }

    /// Sends one request until GitHub takes it, retrying as the policy says; the answer's
    /// JSON body.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Delivery> {
        let shared = self.shared.clone();
        let policy = shared.settings.retry;
        let mut last_error = String::new();
        for retry in 0..policy.attempts.max(1) {
            let wait = match shared.authorization.bearer(&shared.client).await {
                Err(error) => {
                    last_error = error.to_string();
                    policy.backoff(retry + 1)
                }
                Ok(bearer) => {
                    match shared
                        .client
                        .send(method.clone(), path, &bearer, body)
                        .await
                    {
                        Err(error) => {
                            last_error = error.to_string();
                            policy.backoff(retry + 1)
                        }
                        Ok(answer) => match policy.judge(&answer, retry, Utc::now().timestamp()) {
                            Verdict::Delivered => {
                                return Ok(
                                    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
                                );
                            }
                            Verdict::GiveUp(error) => {
                                return Err(Delivery::Failed(format!("{method} {path}: {error}")));
                            }
                            Verdict::RenewTokenAndRetry
                                if shared.authorization.writes_check_runs() =>
                            {
                                shared.authorization.forget_installation_token().await;
                                last_error = format!("GitHub answered 401: {}", answer.message());
                                Duration::ZERO
                            }
                            Verdict::RenewTokenAndRetry => {
                                return Err(Delivery::Failed(format!(
                                    "{method} {path}: GitHub answered 401: {} (check the token)",
                                    answer.message()
                                )));
                            }
                            Verdict::RetryIn(wait) => {
                                last_error = format!(
                                    "GitHub answered {}: {}",
                                    answer.status,
                                    answer.message()
                                );
                                wait
                            }
                        },
                    }
                }
            };
            if retry + 1 == policy.attempts {
                break;
            }
            tracing::info!(%path, error = %last_error, ?wait, "GitHub did not take a report; trying again");
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                // Only a state not yet sent supersedes: the rest of a final state's
                // requests are not dropped for nothing.
                Ok(()) = self.latest.changed() => return Err(Delivery::Superseded),
            }
        }
        Err(Delivery::Failed(format!(
            "{method} {path}: {last_error} (after {} attempts)",
            policy.attempts.max(1)
        )))
    }
}
