//! What a running environment reports while it runs: steps starting and finishing, log
//! lines. The executor sends it; the dispatcher records it in the store and publishes it
//! to reporters. Every line is redacted before it leaves the executor.

use chrono::Utc;
use tokio::sync::mpsc;

use super::EnvironmentOutcome;
use crate::render::SecretValues;
use crate::store::RunStatus;

/// What a run's task tells the dispatcher.
#[derive(Debug, Clone)]
pub enum RunUpdate {
    Progress(ProgressReport),
    EnvironmentDone {
        run: i64,
        outcome: Box<EnvironmentOutcome>,
    },
    /// Every environment it ran is done.
    Done {
        run: i64,
    },
}

/// Serialized as JSON lines by the sandboxed planner ([`super::sandboxed_plan`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Progress {
    EnvironmentStarted,
    StepStarted {
        step: String,
    },
    StepFinished {
        step: String,
        status: RunStatus,
        changes: usize,
        error: Option<String>,
    },
    Log {
        line: String,
    },
}

/// One report, stamped with its run, environment and time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressReport {
    pub run: i64,
    pub environment: String,
    pub at: String,
    pub progress: Progress,
}

/// The executor's end of the progress channel, for one environment of one run.
pub struct ProgressSink {
    run: i64,
    environment: String,
    sender: mpsc::UnboundedSender<RunUpdate>,
    secrets: SecretValues,
}

impl ProgressSink {
    pub fn new(
        run: i64,
        environment: &str,
        sender: mpsc::UnboundedSender<RunUpdate>,
    ) -> ProgressSink {
        ProgressSink {
            run,
            environment: environment.to_owned(),
            sender,
            secrets: SecretValues::default(),
        }
    }

    /// The environment this sink reports for.
    pub fn environment(&self) -> &str {
        &self.environment
    }

    /// From now on, these values are redacted from every line and error.
    pub fn redact(&mut self, secrets: &SecretValues) {
        self.secrets = secrets.clone();
    }

    pub fn redacted(&self, text: &str) -> String {
        self.secrets.redact(text)
    }

    pub fn send(&self, progress: Progress) {
        let progress = match progress {
            Progress::Log { line } => Progress::Log {
                line: self.redacted(&line),
            },
            Progress::StepFinished {
                step,
                status,
                changes,
                error,
            } => Progress::StepFinished {
                step,
                status,
                changes,
                error: error.map(|error| self.redacted(&error)),
            },
            other => other,
        };
        match &progress {
            Progress::StepStarted { step } => tracing::info!(step, "step started"),
            Progress::StepFinished {
                step,
                status,
                changes,
                error,
            } => tracing::info!(
                step,
                status = status.as_str(),
                changes,
                error,
                "step finished"
            ),
            Progress::Log { line } => tracing::debug!(line),
            Progress::EnvironmentStarted => tracing::info!("environment started"),
        }
        // The dispatcher outlives every run; if it is gone, the daemon is stopping.
        let _ = self.sender.send(RunUpdate::Progress(ProgressReport {
            run: self.run,
            environment: self.environment.clone(),
            at: Utc::now().to_rfc3339(),
            progress,
        }));
    }

    pub fn log(&self, line: impl Into<String>) {
        self.send(Progress::Log { line: line.into() });
    }
}
