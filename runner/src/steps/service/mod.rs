//! The `service` step kind: change one existing service without a compose file: its
//! replica count, its image (such as the digest a registry push reports in
//! `trigger.image`), a forced redeploy of its tasks, or a rollback to Swarm's previous
//! spec; then wait until it converged, as a stack does.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

pub use apply::apply;
pub use check::check;
pub use desired::{DesiredService, desired};
pub use input::ServiceInput;
pub use plan::plan;
pub use render::render;

#[cfg(test)]
mod tests;

/// A checked `service` step.
#[derive(Debug, Clone)]
pub struct ServiceStep {
    /// The service's full name, as written (it may be a template).
    pub name: String,
    /// The replica count of a replicated service.
    pub scale: Option<u64>,
    /// The image, as written (it may be a template such as
    /// `{{ trigger.image.reference }}`).
    pub image: Option<String>,
    /// Replace the service's tasks even when nothing else changes.
    pub force_update: bool,
    /// Put back the spec the service had before its last update.
    pub rollback: bool,
    /// Wait until the service converged.
    pub wait: bool,
}
