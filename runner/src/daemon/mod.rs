//! The runner daemon: the dispatcher loop that owns the state, the execution of runs on
//! the files of their exact commit, the HTTP API, and the notices reporters subscribe to.

mod clock;
mod dispatcher;
mod environment_executor;
mod http_api;
mod loaded_commit;
mod run_executor;
mod run_metrics;
mod run_notice;
mod run_progress;
mod sandboxed_plan;

#[cfg(test)]
pub use clock::FakeClock;
pub use clock::{Clock, SystemClock};
pub use dispatcher::{DaemonEvent, Dispatcher, INVALID_REPO_WORKFLOW, LOAD_TIMEOUT};
pub use environment_executor::{EnvironmentExecutor, ExecutionFuture, SwarmExecutor};
pub(crate) use http_api::body as read_body;
pub use http_api::{ApiSettings, serve_http};
pub use loaded_commit::LoadedCommit;
pub use run_executor::{EnvironmentOutcome, PLAN_STEP, RunSettings, execute_environment};
pub use run_metrics::RunMetrics;
pub use run_notice::RunNotice;
pub use run_progress::{Progress, ProgressReport, ProgressSink, RunUpdate};
pub use sandboxed_plan::{
    SandboxSettings, UNTRUSTED_MEMORY, memory_text, parse_memory, run_sandboxed_plan,
};
