//! The `stack` step kind: deploy compose files, merged in order, as a Swarm stack, as
//! `docker stack deploy` would; prune what left the files, keep older config versions
//! for rollback, wait for the services and roll back on request.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

pub use apply::{PARALLELISM, apply};
pub use check::check;
pub use desired::{DesiredStack, desired};
pub use input::{OnFailure, OneOrMany, StackInput};
pub use plan::plan;
pub use render::render;

/// A checked `stack` step.
#[derive(Debug, Clone)]
pub struct StackStep {
    /// The stack's name, as written (it may be a template).
    pub name: String,
    /// Compose files relative to the repo root, merged in order.
    pub compose: Vec<String>,
    pub prune: bool,
    pub wait: bool,
    pub allow_empty: bool,
    pub on_failure: OnFailure,
    pub keep_versions: usize,
    /// Globs of referenced files that are not rendered.
    pub verbatim: Vec<String>,
}
