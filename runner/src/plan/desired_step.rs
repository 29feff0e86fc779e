//! What one step of a workflow wants on the swarm, once its files are rendered and its
//! compose files converted: the planner's input.

use std::time::Duration;

use crate::swarm::{NetworkSpec, ObjectSpec, StackSpec};

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
pub enum Desired {
    /// Skipped steps change nothing.
    Nothing,
    /// A `wait` step changes nothing either, but holds the run until its target is ready.
    Wait(WaitTarget),
    Network(NetworkSpec),
    /// A `config` or `secret` step.
    Object(ObjectSpec),
    Stack(DesiredStack),
    /// A `remove` step: everything labelled with this stack namespace.
    Remove {
        stack: String,
    },
    /// An `ssh` step: files and commands on hosts, planned by `steps::ssh`.
    Hosts(crate::steps::ssh::DesiredHosts),
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTarget {
    /// Full service names that must have converged.
    pub services: Vec<String>,
    /// An http:// URL that must answer with `status`.
    pub url: Option<String>,
    pub status: u16,
    pub timeout: Duration,
}
