//! Where a run's progress goes: the terminal for the CLI, the run's log and steps for
//! the daemon.

use super::PlannedWorkflow;
use crate::apply::ApplyObserver;

pub trait RunProgress: ApplyObserver {
    /// A later workflow of the run, planned again against what the earlier ones left,
    /// just before it is applied.
    fn replanned(&mut self, workflow: &PlannedWorkflow);
}
