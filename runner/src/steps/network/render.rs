//! What a `network` step renders: the network's name.

use super::NetworkStep;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;

pub fn render(
    network: &NetworkStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    rendered.object = renderer.inline(&network.name, "name", diagnostics);
}
