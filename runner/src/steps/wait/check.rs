//! The load-time checks of a `wait` step.

use std::time::Duration;

use super::{WaitInput, WaitStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;
use crate::yaml::Node;

const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(300);
/// The warning for a `wait` URL that is accepted but cannot be checked yet; the planner
/// refuses the step (`plan.rs`).
const HTTPS_WAIT_NOT_IMPLEMENTED: &str = "waiting for an https:// URL is not implemented yet: \
    `plan` and `apply` refuse this step; only http:// URLs are waited for";

/// Checks the `wait` of the step written at `node`.
pub fn check(
    wait: WaitInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> WaitStep {
    if wait.services.is_empty() && wait.url.is_none() {
        let span = node.entry("wait").map_or(node.span, |(key, _)| key.span);
        diagnostics.push(checker.error(span, "`wait` needs `services`, `url` or both"));
    }
    if let Some(url) = &wait.url
        && !url.value.contains("{{")
        && !(url.value.starts_with("http://") || url.value.starts_with("https://"))
    {
        diagnostics.push(checker.error(
            url.span,
            format!("invalid URL `{}`: expected http:// or https://", url.value),
        ));
    }
    if let Some(url) = &wait.url
        && url.value.starts_with("https://")
    {
        diagnostics.push(
            checker
                .error(url.span, HTTPS_WAIT_NOT_IMPLEMENTED)
                .into_warning(),
        );
    }
    let timeout = wait
        .timeout
        .as_ref()
        .and_then(|t| checker.duration(t, diagnostics));
    WaitStep {
        services: wait.services,
        url: wait.url.map(|u| u.value),
        status: wait.status,
        timeout: timeout.unwrap_or(DEFAULT_WAIT_TIMEOUT),
    }
}
