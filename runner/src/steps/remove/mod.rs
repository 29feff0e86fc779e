//! The `remove` step kind: tear a stack down, its services first, then its networks,
//! configs and secrets.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

pub use apply::apply;
pub use check::check;
pub use desired::desired;
pub use input::RemoveInput;
pub use plan::plan;
pub use render::render;

/// A checked `remove` step.
#[derive(Debug, Clone)]
pub struct RemoveStep {
    /// The stack's name, as written (it may be a template).
    pub stack: String,
}
