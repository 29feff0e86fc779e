//! Reporting runs to GitHub: a check run per workflow and environment (with a GitHub App)
//! or a commit status (with a token), on the run's commit. An edge: the bodies are made by
//! pure functions (`check_report`) from the project's own `CheckState`; `client` is the one
//! HTTP path; `delivery` queues, retries and orders reports in the background.

mod app_auth;
mod authorization;
mod check_report;
mod check_state;
mod check_tracker;
mod client;
mod delivery;
mod plan_comment;
mod retry_policy;
mod settings;

pub use app_auth::{AppAuthError, AppKey, InstallationToken};
pub use check_report::{
    ANNOTATIONS_PER_REQUEST, CheckRunRequests, DESCRIPTION_LIMIT, SUMMARY_LIMIT,
    check_run_create_body, check_run_requests, run_url, status_body, summary,
};
pub use check_state::{Annotation, AnnotationLevel, CheckPhase, CheckState, Conclusion, StepRow};
pub use check_tracker::CheckTracker;
pub use client::{API_VERSION, ApiAnswer, ClientError, GitHubClient};
pub use delivery::{FailureSink, ReportFailure, Reporter, ReporterError};
pub use plan_comment::{
    COMMENT_LIMIT, EnvironmentPlan, PlanComment, comment_marker, plan_comment_body,
};
pub use retry_policy::{RetryPolicy, Verdict};
pub use settings::{Credentials, DEFAULT_API_URL, GitHubSettings, Repository};
