//! What a `service` step renders: the service's name (the step's object) and its image,
//! either of which may be a template (`{{ trigger.image.reference }}`).

use super::ServiceStep;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;

/// The key of the rendered image in [`RenderedStep::values`].
pub const IMAGE: &str = "image";

pub fn render(
    service: &ServiceStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    rendered.object = renderer.inline(&service.name, "name", diagnostics);
    if let Some(image) = &service.image
        && let Some(image) = renderer.inline(image, "image", diagnostics)
    {
        rendered.values.insert(IMAGE.to_owned(), image);
    }
}
