//! Render: every file a workflow's steps use, rendered for one environment with minijinja.
//! Pure apart from reading the repo's files through [`crate::load::RepoFiles`].

mod filters;
mod render_context;
mod rendered_workflow;
mod secret_values;
mod template_engine;
mod template_error;

pub use render_context::{CommitInfo, RenderContext, TriggerInfo};
pub use rendered_workflow::{
    FileRole, RenderedFile, RenderedStep, RenderedWorkflow, StepRenderer, render_workflow,
};
pub use secret_values::{REDACTED, SecretValues, mask, other_mask};
pub use template_engine::TemplateEngine;
pub use template_error::template_diagnostic;

/// An `if` may be written bare (`environment.name == "prod"`) or wrapped in `{{ }}`.
pub fn condition_expression(text: &str) -> &str {
    let trimmed = text.trim();
    trimmed
        .strip_prefix("{{")
        .and_then(|rest| rest.strip_suffix("}}"))
        .map_or(trimmed, str::trim)
}
