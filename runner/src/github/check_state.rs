//! What a GitHub report is made from: the state of one workflow's run on one environment,
//! in the project's own terms. The daemon's run notices are turned into this; the request
//! bodies are made from it (`check_report`).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The state of one check: one workflow on one environment of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckState {
    /// The daemon's run, for `external_id` and the link to the run.
    pub run_id: i64,
    pub workflow: String,
    pub environment: String,
    /// The commit the run checked out, which the check is attached to.
    pub head_sha: String,
    pub phase: CheckPhase,
    /// One line: "Applied 3 changes to prod", "Plan: 1 to create, 2 to update", the error.
    pub title: String,
    pub steps: Vec<StepRow>,
    /// The plan as text, secrets masked; `None` when the run did not get as far as a plan.
    pub plan_text: Option<String>,
    /// Validation and template errors at their file and line.
    pub annotations: Vec<Annotation>,
}

impl CheckState {
    /// `shoal/<workflow>/<environment>`: the check run's name and the status's context.
    /// A run of no environment (a commit whose config repo has errors) is
    /// `shoal/<workflow>`.
    pub fn name(&self) -> String {
        match self.environment.as_str() {
            "" => format!("shoal/{}", self.workflow),
            environment => format!("shoal/{}/{environment}", self.workflow),
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self.phase, CheckPhase::Completed { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckPhase {
    Queued,
    InProgress {
        started_at: DateTime<Utc>,
    },
    Completed {
        /// `None` when the run never started (skipped, or cancelled while queued).
        started_at: Option<DateTime<Utc>>,
        completed_at: DateTime<Utc>,
        conclusion: Conclusion,
    },
}

/// The check run conclusions shoal uses (GitHub's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    Success,
    Failure,
    Neutral,
    Cancelled,
    TimedOut,
    Skipped,
}

impl Conclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Neutral => "neutral",
            Conclusion::Cancelled => "cancelled",
            Conclusion::TimedOut => "timed_out",
            Conclusion::Skipped => "skipped",
        }
    }
}

/// One line of the step table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub name: String,
    /// "success", "failure", "running", "skipped", …
    pub result: String,
    /// `None` while the step runs or when it never ran.
    pub duration: Option<Duration>,
}

/// An error or warning at a place in the config repo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// Relative to the repo root, with `/`.
    pub path: String,
    pub start_line: u32,
    pub end_line: u32,
    /// Only given when the annotation is on one line, as GitHub requires.
    pub start_column: Option<u32>,
    pub end_column: Option<u32>,
    pub level: AnnotationLevel,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnotationLevel {
    Notice,
    Warning,
    Failure,
}

impl AnnotationLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationLevel::Notice => "notice",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Failure => "failure",
        }
    }
}
