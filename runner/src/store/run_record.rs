//! What the store keeps of a run and its steps.

use serde::{Deserialize, Serialize};

/// Where a run is in its life. `Interrupted`: it was queued or running when the daemon
/// stopped without finishing it (a crash, a SIGKILL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Success,
    Failure,
    Cancelled,
    Skipped,
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failure => "failure",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Skipped => "skipped",
            RunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Success,
            RunStatus::Failure,
            RunStatus::Cancelled,
            RunStatus::Skipped,
            RunStatus::Interrupted,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    pub id: i64,
    pub workflow: String,
    pub environments: Vec<String>,
    pub mode: String,
    pub event: String,
    pub commit: String,
    pub actor: String,
    pub status: RunStatus,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// A one-line result, such as the plan summary or the error.
    pub summary: String,
    /// For a `rollback` run: the commit it rolled back from (`commit` is the earlier one
    /// it applied).
    pub rollback_from: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub environment: String,
    pub name: String,
    pub status: RunStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub changes: i64,
    pub error: Option<String>,
}

/// A report to GitHub that still failed after its retries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportFailureRecord {
    /// The check's name, `shoal/<workflow>/<environment>`.
    pub check: String,
    pub error: String,
    pub at: String,
}
