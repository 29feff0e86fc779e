//! What one step of a workflow wants on the swarm, once its files are rendered and its
//! compose files converted: the planner's input.

use std::time::Duration;

use crate::steps::Desired;

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
