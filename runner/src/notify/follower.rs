//! The edge between the dispatcher and notifications: follows the run notices, collects
//! how each environment of a run ended, and once the run has finished reads what was
//! remembered of its workflow from the store, decides ([`announce_run`]), remembers the
//! new conditions, reads the targets' secrets of the environment, and hands the messages
//! to the [`Notifier`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::broadcast;

use super::condition::{Condition, Outcome};
use super::delivery::{Delivery, Notifier, Request};
use super::event_body::{EVENT_HEADER, SIGNATURE_HEADER, signature};
use super::network_transport::NetworkTransport;
use super::run_announcement::{EnvironmentResult, Message, announce_run};
use crate::daemon::{EnvironmentOutcome, RunNotice};
use crate::github::{RetryPolicy, run_url};
use crate::model::{ConfigRepo, NotifyChannel};
use crate::secret_source::read_secret;
use crate::secret_text::SecretText;
use crate::store::{RunRecord, RunStatus, Store};

/// What the follower needs besides the notices.
pub struct NotifySettings {
    /// The daemon's state folder, whose store remembers conditions and failed deliveries.
    pub state: PathBuf,
    /// Where relative secret files are read from.
    pub secrets_folder: PathBuf,
    /// The daemon's public URL, for links to runs.
    pub public_url: Option<String>,
    pub retry: RetryPolicy,
}

/// Starts following `notices`; `config_at` reads the config repo at a run's commit.
/// Returns the task that ends once the notices end and the last messages are sent.
pub fn start_notifying(
    settings: NotifySettings,
    config_at: impl Fn(&RunRecord) -> Option<ConfigRepo> + Send + Sync + 'static,
    mut notices: broadcast::Receiver<RunNotice>,
) -> Result<tokio::task::JoinHandle<()>, crate::store::StoreError> {
    let store = Arc::new(Mutex::new(Store::open_reader(&settings.state)?));
    let settings = Arc::new(settings);
    let config_at = Arc::new(config_at);
    let failures = store.clone();
    let (notifier, delivery) = Notifier::start(
        Arc::new(NetworkTransport::default()),
        settings.retry,
        Arc::new(move |failure| {
            let store = failures.lock().unwrap_or_else(PoisonError::into_inner);
            let now = chrono::Utc::now().to_rfc3339();
            if let Err(error) =
                store.record_report_failure(failure.run_id, &failure.check, &failure.error, &now)
            {
                tracing::warn!(%error, "cannot record a failed notification");
            }
        }),
    );
    let following = tokio::spawn(async move {
        let mut results: HashMap<i64, Vec<EnvironmentResult>> = HashMap::new();
        loop {
            match notices.recv().await {
                Ok(RunNotice::EnvironmentFinished { run, outcome, .. }) => {
                    results
                        .entry(run.id)
                        .or_default()
                        .push(environment_result(&run, &outcome));
                }
                Ok(RunNotice::Finished { run }) => {
                    let ran = results.remove(&run.id).unwrap_or_default();
                    if ran.is_empty() {
                        continue;
                    }
                    // SQLite, libgit2 and loading the config block: not on the runtime's
                    // threads. Runs are finished one at a time, in order.
                    let (settings, store, config_at, notifier) = (
                        settings.clone(),
                        store.clone(),
                        config_at.clone(),
                        notifier.clone(),
                    );
                    let finished = tokio::task::spawn_blocking(move || {
                        let store = store.lock().unwrap_or_else(PoisonError::into_inner);
                        finish(&settings, &store, config_at.as_ref(), &notifier, &run, &ran);
                    });
                    if let Err(error) = finished.await {
                        tracing::warn!(%error, "notifications of a run failed");
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "notifications fell behind the run notices");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    Ok(tokio::spawn(async move {
        let _ = following.await;
        let _ = delivery.await;
    }))
}

/// How an environment ended, for notifications: a plan only says nothing of it.
fn environment_result(run: &RunRecord, outcome: &EnvironmentOutcome) -> EnvironmentResult {
    let result = if run.mode == "plan" {
        Outcome::Inconclusive
    } else if outcome.drift {
        Outcome::DriftFound
    } else {
        match outcome.status {
            RunStatus::Success => Outcome::Succeeded,
            RunStatus::Failure => Outcome::Failed,
            _ => Outcome::Inconclusive,
        }
    };
    EnvironmentResult {
        environment: outcome.environment.clone(),
        outcome: result,
        summary: outcome.summary.clone(),
    }
}

fn finish(
    settings: &NotifySettings,
    store: &Store,
    config_at: &dyn Fn(&RunRecord) -> Option<ConfigRepo>,
    notifier: &Notifier,
    run: &RunRecord,
    ran: &[EnvironmentResult],
) {
    let remembered: HashMap<String, Condition> = match store.notify_conditions(&run.workflow) {
        Ok(rows) => rows
            .into_iter()
            .filter_map(|(environment, text)| Some((environment, Condition::parse(&text)?)))
            .collect(),
        Err(error) => {
            // Without what was announced, announcing could repeat itself: say nothing.
            tracing::warn!(%error, "cannot read what notifications announced");
            return;
        }
    };
    let repo = config_at(run);
    let url = run_url(settings.public_url.as_deref(), run.id);
    let announcement = announce_run(run, ran, &remembered, repo.as_ref(), url);
    let now = chrono::Utc::now().to_rfc3339();
    for (environment, condition) in &announcement.remember {
        if let Err(error) =
            store.set_notify_condition(&run.workflow, environment, condition.as_str(), run.id, &now)
        {
            tracing::warn!(%error, "cannot remember what notifications announced");
        }
    }
    let Some(repo) = repo else {
        return;
    };
    for message in announcement.messages {
        let target = message.target.channel.name();
        match request(&settings.secrets_folder, &repo, &message) {
            Ok(request) => notifier.send(Delivery {
                run_id: run.id,
                target,
                request,
                timeout: message.target.timeout,
            }),
            Err(error) => {
                tracing::warn!(run = run.id, %target, %error, "notification not sent");
                if let Err(error) = store.record_report_failure(run.id, &target, &error, &now) {
                    tracing::warn!(%error, "cannot record a failed notification");
                }
            }
        }
    }
}

/// What to send for `message`, its secrets read from its environment.
fn request(base: &Path, repo: &ConfigRepo, message: &Message) -> Result<Request, String> {
    let environment = repo.environment(&message.secrets_of).ok_or_else(|| {
        format!(
            "environment `{}` is no longer in shoal.yml",
            message.secrets_of
        )
    })?;
    let secret = |name: &str| match read_secret(base, environment, name) {
        Some(value) => value,
        None => Err(format!(
            "secret `{name}` of environment `{}` is not declared",
            environment.name
        )),
    };
    let body = message.body.to_json();
    Ok(match &message.target.channel {
        NotifyChannel::Webhook {
            url_secret,
            key_secret,
        } => {
            let mut headers = vec![(EVENT_HEADER, message.body.event.to_owned())];
            if let Some(key) = key_secret {
                headers.push((SIGNATURE_HEADER, signature(secret(key)?.as_bytes(), &body)));
            }
            Request::Post {
                url: SecretText::new(secret(url_secret)?),
                body,
                headers,
            }
        }
        NotifyChannel::Slack { url_secret } => Request::Post {
            url: SecretText::new(secret(url_secret)?),
            body: message.body.slack_body(),
            headers: Vec::new(),
        },
        NotifyChannel::Command { argv } => Request::Command {
            argv: argv.clone(),
            stdin: body,
            variables: message.body.variables(),
        },
    })
}
