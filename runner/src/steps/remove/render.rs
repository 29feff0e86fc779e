//! What a `remove` step renders: the name of its stack (the step's object and stack).

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
    rendered.stack.clone_from(&rendered.object);
}
