//! The `network` step kind: ensure an overlay network exists with the options written,
//! recreating it when they changed.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

use std::collections::BTreeMap;

pub use apply::apply;
pub use check::check;
pub use desired::desired;
pub use input::NetworkInput;
pub use plan::plan;
pub use render::render;

/// A checked `network` step.
#[derive(Debug, Clone)]
pub struct NetworkStep {
    /// The network's name, as written (it may be a template).
    pub name: String,
    pub driver: String,
    pub attachable: bool,
    pub internal: bool,
    pub encrypted: bool,
    pub subnet: Option<String>,
    pub labels: BTreeMap<String, String>,
}
