//! What a `wait` step waits for, rendered.

use std::time::Duration;

use super::WaitStep;
use crate::render::RenderedStep;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTarget {
    /// Full service names that must have converged.
    pub services: Vec<String>,
    /// An http:// URL that must answer with `status`.
    pub url: Option<String>,
    pub status: u16,
    pub timeout: Duration,
}

pub fn desired(wait: &WaitStep, rendered: &RenderedStep) -> WaitTarget {
    WaitTarget {
        services: rendered.services.clone(),
        url: rendered.url.clone(),
        status: wait.status,
        timeout: wait.timeout,
    }
}
