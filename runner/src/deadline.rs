//! A wall-clock bound on CPU work the async daemon must not wait on for ever (loading and
//! rendering one commit): the work runs on a blocking thread, and the caller gets an error
//! once the deadline passes.

use std::time::Duration;

/// Why work run with [`run_with_deadline`] gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeadlineError {
    #[error("{what} took longer than {}", humantime::format_duration(*.deadline))]
    Exceeded { what: String, deadline: Duration },
    #[error("{what} stopped unexpectedly: {reason}")]
    Failed { what: String, reason: String },
}

/// Runs `work` on tokio's blocking threads and returns its value, or
/// [`DeadlineError::Exceeded`] when it has not finished within `deadline`. `what` names
/// the work for the error: "loading and rendering commit 1a2b3c4" gives
/// "loading and rendering commit 1a2b3c4 took longer than 30s".
///
/// A thread cannot be stopped from outside: work that overruns goes on until it ends, and
/// only its value is dropped. Load and render end on their own within the limits of
/// [`crate::limits`] (fuel, sizes); the deadline is what keeps the caller (the dispatcher,
/// a run) from waiting on them.
pub async fn run_with_deadline<T, F>(
    what: impl Into<String>,
    deadline: Duration,
    work: F,
) -> Result<T, DeadlineError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(deadline, task).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(DeadlineError::Failed {
            what: what.into(),
            reason: if error.is_panic() {
                "it panicked".to_owned()
            } else {
                "the runtime is shutting down".to_owned()
            },
        }),
        Err(_) => Err(DeadlineError::Exceeded {
            what: what.into(),
            deadline,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_that_ends_in_time_gives_its_value() {
        let value = run_with_deadline("adding", Duration::from_secs(30), || 2 + 2).await;
        assert_eq!(value, Ok(4));
    }

    #[tokio::test]
    async fn work_that_overruns_gives_an_error_naming_it() {
        // The work waits until the test has seen the error, so it surely overruns.
        let (release, released) = std::sync::mpsc::channel::<()>();
        let result = run_with_deadline(
            "loading and rendering commit 1a2b3c4",
            Duration::from_millis(50),
            move || released.recv().is_ok(),
        )
        .await;
        assert_eq!(
            result.map_err(|error| error.to_string()),
            Err("loading and rendering commit 1a2b3c4 took longer than 50ms".to_owned())
        );
        let _ = release.send(());
    }

    #[tokio::test]
    async fn work_that_panics_gives_an_error() {
        let result: Result<(), _> = run_with_deadline(
            "loading and rendering commit 1a2b3c4",
            Duration::from_secs(30),
            || panic!("a bug"),
        )
        .await;
        assert_eq!(
            result.map_err(|error| error.to_string()),
            Err(
                "loading and rendering commit 1a2b3c4 stopped unexpectedly: it panicked".to_owned()
            )
        );
    }
}
