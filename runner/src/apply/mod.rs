//! Apply: carry out a plan on a swarm through the Docker adapter, reporting progress.

mod applier;
mod apply_error;
mod apply_event;
mod cancel_signal;
mod change_count;
mod convergence;
mod live_plan;
mod references;

pub use applier::{Applier, ApplyReport, StepOutcome};
pub use apply_error::ApplyError;
pub use apply_event::{ApplyEvent, ApplyObserver, CollectedEvents};
pub use cancel_signal::{CancelHandle, CancelSignal, cancel_pair};
pub use change_count::ChangeCount;
pub use convergence::{Convergence, OldTasks, convergence, progress_text};
pub use live_plan::plan_workflows;
pub use references::resolve_object_ids;
