//! What a `remove` step wants: the stack of that name gone.

use crate::render::RenderedStep;

/// The stack's name, rendered.
pub fn desired(rendered: &RenderedStep) -> String {
    rendered.stack.clone().unwrap_or_default()
}
