//! Store: the runner's durable history (runs, steps, logs, failed GitHub reports), the
//! last processed commit of each branch and the webhook deliveries seen, in SQLite, with
//! numbered migrations. The dispatcher reaches it through the async [`RunStore`] port. An
//! edge.

mod log_follower;
mod migrations;
mod run_filter;
mod run_record;
mod run_store;
mod sqlite_run_store;
#[expect(
    clippy::module_inception,
    reason = "the module is named after its main type, Store"
)]
mod store;

pub use log_follower::follow_log;
pub use migrations::SCHEMA_VERSION;
pub use run_filter::RunFilter;
pub use run_record::{ReportFailureRecord, RunRecord, RunStatus, StepRecord};
pub use run_store::{RunStore, StoreFuture};
pub use sqlite_run_store::SqliteRunStore;
pub use store::{Store, StoreError};
