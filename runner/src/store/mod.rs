//! Store: the runner's durable history (runs, steps, logs, failed GitHub reports), the
//! last processed commit of each branch and the webhook deliveries seen, in SQLite. An
//! edge.

mod log_follower;
mod run_record;
#[expect(
    clippy::module_inception,
    reason = "the module is named after its main type, Store"
)]
mod store;

pub use log_follower::follow_log;
pub use run_record::{ReportFailureRecord, RunRecord, RunStatus, StepRecord};
pub use store::{Store, StoreError};
