//! What a `remove` step renders: the name of its stack. Its desired state is that name:
//! everything labelled with the stack's namespace goes.

use super::RemoveStep;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;

pub fn render(
    remove: &RemoveStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    rendered.object = renderer.inline(&remove.stack, "stack", diagnostics);
}
