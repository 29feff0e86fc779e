//! What a `wait` step renders: its service names and URL, which may hold templates.

use super::WaitStep;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;

pub fn render(
    wait: &WaitStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    rendered.services = wait
        .services
        .iter()
        .filter_map(|service| renderer.inline(service, "services", diagnostics))
        .collect();
    rendered.url = wait
        .url
        .as_ref()
        .and_then(|url| renderer.inline(url, "url", diagnostics));
}
