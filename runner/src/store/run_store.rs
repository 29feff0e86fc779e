//! The run store as the dispatcher sees it: an async port, so that no database call ever
//! runs on the dispatcher's loop. [`super::SqliteRunStore`] implements it on SQLite (a
//! thread of its own owns the connection); a PostgreSQL store would implement the same
//! trait with an async client and the same numbered migrations.

use std::future::Future;
use std::pin::Pin;

use super::{RunRecord, RunStatus, StepRecord, StoreError};
use crate::trigger::RunRequest;

/// What a store call returns: a future the dispatcher awaits without blocking its thread.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// The dispatcher's durable state. Timestamps are RFC 3339 texts the caller gives.
pub trait RunStore: Send + Sync {
    /// Records a new run as queued; returns its ID.
    fn create_run<'a>(&'a self, request: &'a RunRequest, now: &'a str) -> StoreFuture<'a, i64>;
    fn start_run<'a>(&'a self, id: i64, now: &'a str) -> StoreFuture<'a, ()>;
    fn finish_run<'a>(
        &'a self,
        id: i64,
        status: RunStatus,
        summary: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, ()>;
    fn record_step<'a>(
        &'a self,
        run: i64,
        position: i64,
        step: &'a StepRecord,
    ) -> StoreFuture<'a, ()>;
    /// Appends a log line; lines must already be redacted.
    fn append_log<'a>(&'a self, run: i64, line: &'a str, now: &'a str) -> StoreFuture<'a, ()>;
    fn run(&self, id: i64) -> StoreFuture<'_, Option<RunRecord>>;
    fn steps(&self, run: i64) -> StoreFuture<'_, Vec<StepRecord>>;
    /// The runs left queued, oldest first, as the requests that made them.
    fn queued_runs(&self) -> StoreFuture<'_, Vec<(i64, RunRequest)>>;
    /// The runs of `workflow` that applied (or tried to), newest first.
    fn apply_runs<'a>(&'a self, workflow: &'a str) -> StoreFuture<'a, Vec<RunRecord>>;
    /// The commit of the newest run `event` recorded.
    fn latest_run_commit<'a>(&'a self, event: &'a str) -> StoreFuture<'a, Option<String>>;
    /// The last commit of `branch` whose push was processed.
    fn processed_commit<'a>(&'a self, branch: &'a str) -> StoreFuture<'a, Option<String>>;
    fn set_processed_commit<'a>(&'a self, branch: &'a str, commit: &'a str) -> StoreFuture<'a, ()>;
    /// Records a webhook delivery ID; false when it was seen before.
    fn first_delivery<'a>(&'a self, id: &'a str, now: &'a str) -> StoreFuture<'a, bool>;
    /// Records a registry notification's event ID; false when it was seen before.
    fn first_registry_event<'a>(&'a self, id: &'a str, now: &'a str) -> StoreFuture<'a, bool>;
}
