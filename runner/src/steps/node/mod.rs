//! The `node` step: labels, availability and role of the swarm nodes of some hosts,
//! planned against the nodes a manager lists (`LiveState::nodes`, read for runs with
//! `node` steps) and written at each node's version through the [`crate::docker::DockerEngine`]
//! port.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

#[cfg(test)]
mod tests;

pub use apply::apply;
pub use check::check;
pub use desired::{DesiredNodes, NodeHost, desired};
pub use input::NodeInput;
pub use plan::plan;
pub use render::render;

/// A checked `node` step.
#[derive(Debug, Clone)]
pub struct NodeStep {
    pub hosts: Vec<String>,
    /// Label values, maybe templates.
    pub labels: Vec<(String, String)>,
    pub availability: Option<String>,
    pub role: Option<super::swarm::NodeRole>,
    pub exclusive: bool,
}
