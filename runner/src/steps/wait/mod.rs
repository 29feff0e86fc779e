//! The `wait` step kind: hold the run until services have converged or a URL answers.
//! It changes nothing on the swarm.

mod apply;
mod check;
mod desired;
mod http_probe;
mod input;
mod plan;
mod render;

use std::time::Duration;

pub use apply::apply;
pub use check::check;
pub use desired::{WaitTarget, desired};
pub use input::WaitInput;
pub use plan::plan;
pub use render::render;

/// A checked `wait` step.
#[derive(Debug, Clone)]
pub struct WaitStep {
    pub services: Vec<String>,
    pub url: Option<String>,
    pub status: u16,
    pub timeout: Duration,
}
