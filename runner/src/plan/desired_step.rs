//! What one step of a workflow wants on the swarm, once its files are rendered and its
//! compose files converted: the planner's input.

use std::time::Duration;

use crate::steps::Desired;
use crate::swarm::StackSpec;

#[derive(Debug, Clone)]
pub struct DesiredStep {
    pub name: String,
    pub kind: &'static str,
    /// The step's `if` is false for this environment.
    pub skipped: bool,
    /// The step's `timeout`, if any.
    pub timeout: Option<Duration>,
    /// A failure of this step does not stop the run.
    pub continue_on_error: bool,
    pub desired: Desired,
}

#[derive(Debug, Clone)]
pub struct DesiredStack {
    pub spec: StackSpec,
    pub prune: bool,
    /// Allow a compose file without services to prune every service of the stack.
    pub allow_empty: bool,
    /// Older content versions of configs and secrets kept for rollback.
    pub keep_versions: usize,
    /// Wait until the changed services converged.
    pub wait: bool,
    /// Restore the services this step changed when one fails to converge.
    pub rollback_on_failure: bool,
}
