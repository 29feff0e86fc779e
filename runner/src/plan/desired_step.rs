//! What one step of a workflow wants on the swarm, once its files are rendered and its
//! compose files converted: the planner's input.

use crate::swarm::{NetworkSpec, ObjectSpec, StackSpec};

#[derive(Debug, Clone)]
pub struct DesiredStep {
    pub name: String,
    pub kind: &'static str,
    /// The step's `if` is false for this environment.
    pub skipped: bool,
    pub desired: Desired,
}

#[derive(Debug, Clone)]
pub enum Desired {
    /// `wait` steps and skipped steps change nothing.
    Nothing,
    Network(NetworkSpec),
    /// A `config` or `secret` step.
    Object(ObjectSpec),
    Stack(DesiredStack),
    /// A `remove` step: everything labelled with this stack namespace.
    Remove { stack: String },
}

#[derive(Debug, Clone)]
pub struct DesiredStack {
    pub spec: StackSpec,
    pub prune: bool,
    /// Allow a compose file without services to prune every service of the stack.
    pub allow_empty: bool,
    /// Older content versions of configs and secrets kept for rollback.
    pub keep_versions: usize,
}
