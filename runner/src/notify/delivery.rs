//! Sending notifications without ever holding up a run, as GitHub reports are sent: the
//! follower's `send` is a non-blocking hand-off to a background task, which tries each
//! message until it is taken, waiting longer between tries as [`RetryPolicy`] says, every
//! try within the target's timeout. A message that still fails is logged (by its target's
//! name, never its URL) and handed to the failure sink. The sending itself is a
//! [`Transport`], so the retrying is tested without a network.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::github::{FailureSink, ReportFailure, RetryPolicy};
use crate::secret_text::SecretText;

/// One message to one target.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub run_id: i64,
    /// The target's name, for logs and `shoal runs show`: never its URL.
    pub target: String,
    pub request: Request,
    /// How long one try may take.
    pub timeout: Duration,
}

/// What a try sends.
#[derive(Debug, Clone)]
pub enum Request {
    /// A POST of a JSON body.
    Post {
        url: SecretText,
        body: Vec<u8>,
        headers: Vec<(&'static str, String)>,
    },
    /// A program run with `stdin` on its standard input and `variables` in its
    /// environment.
    Command {
        argv: Vec<String>,
        stdin: Vec<u8>,
        variables: Vec<(String, String)>,
    },
}

/// Why a try failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TryError {
    /// Another try may succeed (a timeout, a refused connection, a 5xx, a 429).
    Retry(String),
    /// Trying again will not change it (a 4xx).
    GiveUp(String),
}

pub type TryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), TryError>> + Send + 'a>>;

/// Sends a request once, within `timeout`.
pub trait Transport: Send + Sync + 'static {
    fn try_once<'a>(&'a self, request: &'a Request, timeout: Duration) -> TryFuture<'a>;
}

/// The handle the follower sends through. Dropping every handle lets the background task
/// finish what it has and stop.
#[derive(Clone)]
pub struct Notifier {
    sender: mpsc::UnboundedSender<Delivery>,
}

impl Notifier {
    /// Starts the background task on the current tokio runtime; returns the handle and the
    /// task, which ends once every handle is dropped and every message is sent or given
    /// up.
    pub fn start(
        transport: Arc<dyn Transport>,
        policy: RetryPolicy,
        failures: FailureSink,
    ) -> (Notifier, tokio::task::JoinHandle<()>) {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Delivery>();
        let task = tokio::spawn(async move {
            let mut sending = JoinSet::new();
            while let Some(delivery) = receiver.recv().await {
                while sending.try_join_next().is_some() {}
                sending.spawn(deliver(
                    transport.clone(),
                    policy,
                    failures.clone(),
                    delivery,
                ));
            }
            while sending.join_next().await.is_some() {}
        });
        (Notifier { sender }, task)
    }

    /// Queues `delivery`; never waits.
    pub fn send(&self, delivery: Delivery) {
        if self.sender.send(delivery).is_err() {
            tracing::warn!("the notifier has stopped; a notification is dropped");
        }
    }
}

/// Tries `delivery` until it is taken or the policy gives up.
async fn deliver(
    transport: Arc<dyn Transport>,
    policy: RetryPolicy,
    failures: FailureSink,
    delivery: Delivery,
) {
    let attempts = policy.attempts.max(1);
    let mut last_error = String::new();
    for attempt in 1..=attempts {
        let tried = tokio::time::timeout(
            delivery.timeout,
            transport.try_once(&delivery.request, delivery.timeout),
        )
        .await
        .unwrap_or_else(|_| {
            Err(TryError::Retry(format!(
                "no answer within {}",
                humantime::format_duration(delivery.timeout)
            )))
        });
        match tried {
            Ok(()) => {
                tracing::info!(run = delivery.run_id, target = %delivery.target, attempt, "notification sent");
                return;
            }
            Err(TryError::GiveUp(error)) => {
                last_error = error;
                break;
            }
            Err(TryError::Retry(error)) => {
                tracing::info!(run = delivery.run_id, target = %delivery.target, attempt, %error, "notification not taken; trying again");
                last_error = error;
                if attempt < attempts {
                    tokio::time::sleep(policy.backoff(attempt)).await;
                }
            }
        }
    }
    tracing::warn!(run = delivery.run_id, target = %delivery.target, error = %last_error, "notification failed");
    failures(ReportFailure {
        run_id: delivery.run_id,
        check: delivery.target,
        error: last_error,
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Answers each try with the next of `answers`, and records when each try came.
    struct ScriptedTransport {
        answers: Mutex<Vec<Result<(), TryError>>>,
        tries: Mutex<Vec<tokio::time::Instant>>,
    }

    impl Transport for ScriptedTransport {
        fn try_once<'a>(&'a self, _: &'a Request, _: Duration) -> TryFuture<'a> {
            Box::pin(async move {
                self.tries
                    .lock()
                    .expect("tries")
                    .push(tokio::time::Instant::now());
                let next = {
                    let mut answers = self.answers.lock().expect("answers");
                    (!answers.is_empty()).then(|| answers.remove(0))
                };
                match next {
                    Some(answer) => answer,
                    // Hangs: the try's timeout ends it.
                    None => std::future::pending().await,
                }
            })
        }
    }

    const POLICY: RetryPolicy = RetryPolicy {
        attempts: 4,
        first_delay: Duration::from_secs(2),
        max_delay: Duration::from_secs(60),
    };

    /// Sends one message through a transport answering `answers`; the gaps between tries
    /// in seconds, and the failures recorded.
    async fn send(answers: Vec<Result<(), TryError>>) -> (Vec<u64>, Vec<ReportFailure>) {
        let transport = Arc::new(ScriptedTransport {
            answers: Mutex::new(answers),
            tries: Mutex::new(Vec::new()),
        });
        let failures = Arc::new(Mutex::new(Vec::new()));
        let sink = failures.clone();
        let (notifier, task) = Notifier::start(
            transport.clone(),
            POLICY,
            Arc::new(move |failure| sink.lock().expect("failures").push(failure)),
        );
        notifier.send(Delivery {
            run_id: 3,
            target: "notify webhook (HOOK)".into(),
            request: Request::Post {
                url: SecretText::new("https://hooks.example.org/T0KEN"),
                body: b"{}".to_vec(),
                headers: Vec::new(),
            },
            timeout: Duration::from_secs(5),
        });
        drop(notifier);
        task.await.expect("the notifier ends");
        let tries = transport.tries.lock().expect("tries").clone();
        let gaps = tries
            .windows(2)
            .map(|pair| (pair[1] - pair[0]).as_secs())
            .collect();
        let failures = failures.lock().expect("failures").clone();
        (gaps, failures)
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_that_fails_first_is_tried_again_with_backoff() {
        let (gaps, failures) = send(vec![
            Err(TryError::Retry("answered 502".into())),
            Err(TryError::Retry("connection refused".into())),
            Ok(()),
        ])
        .await;
        assert_eq!(gaps, [2, 4]);
        assert!(failures.is_empty(), "{failures:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_final_answer_is_not_retried_and_is_recorded_by_the_targets_name() {
        let (gaps, failures) = send(vec![Err(TryError::GiveUp("answered 404".into()))]).await;
        assert!(gaps.is_empty());
        assert_eq!(
            failures,
            [ReportFailure {
                run_id: 3,
                check: "notify webhook (HOOK)".into(),
                error: "answered 404".into()
            }]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_that_never_answers_is_timed_out_and_given_up() {
        let (gaps, failures) = send(Vec::new()).await;
        // Each try waits its 5 s timeout, then the backoff: 2, 4, 8.
        assert_eq!(gaps, [7, 9, 13]);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].error, "no answer within 5s");
    }
}
