//! What a `stack` step wants: its compose files converted into a stack spec, as `docker
//! stack deploy` would, and how to apply it.

use std::collections::BTreeMap;

use super::{OnFailure, StackStep};
use crate::convert::{ComposeSource, ConvertOptions, convert_stack};
use crate::plan::DesiredContext;
use crate::render::{FileRole, RenderedStep};
use crate::source::Diagnostics;
use crate::swarm::StackSpec;

#[derive(Debug, Clone)]
pub struct DesiredStack {
    pub spec: StackSpec,
    pub prune: bool,
    /// Allow a compose file without services to prune every service of the stack.
    pub allow_empty: bool,
    /// Older content versions of configs and secrets kept for rollback.
    pub keep_versions: usize,
    /// Wait until the changed services converged.
    pub wait: bool,
    /// Restore the services this step changed when one fails to converge.
    pub rollback_on_failure: bool,
}

/// The stack's compose files, converted into the specs of its services, networks,
/// configs and secrets; with conversion's warnings.
pub fn desired(
    stack: &StackStep,
    rendered: &RenderedStep,
    context: &DesiredContext<'_>,
) -> Result<(DesiredStack, Diagnostics), Diagnostics> {
    let object = rendered.object.clone().unwrap_or_default();
    let files = context.files;
    let sources: Vec<ComposeSource<'_>> = rendered
        .files
        .iter()
        .filter(|file| file.role == FileRole::Compose)
        .map(|file| ComposeSource {
            path: &file.path,
            text: &file.content,
            tree: file.tree.as_deref(),
        })
        .collect();
    let rendered_files: BTreeMap<&str, &str> = rendered
        .files
        .iter()
        .filter(|file| file.role != FileRole::Compose)
        .map(|file| (file.path.as_str(), file.content.as_str()))
        .collect();
    let read = |path: &str| -> Option<Vec<u8>> {
        rendered_files
            .get(path)
            .map(|content| content.as_bytes().to_vec())
            .or_else(|| files.read(path).ok().map(|text| text.as_bytes().to_vec()))
    };
    let converted = convert_stack(
        &sources,
        &ConvertOptions {
            stack: &object,
            variables: context.variables,
            files: &read,
            extra_labels: context.labels,
        },
    )?;
    Ok((
        DesiredStack {
            spec: converted.stack,
            prune: stack.prune,
            allow_empty: stack.allow_empty,
            keep_versions: stack.keep_versions,
            wait: stack.wait,
            rollback_on_failure: stack.on_failure == OnFailure::Rollback,
        },
        converted.warnings,
    ))
}
