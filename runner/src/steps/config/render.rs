//! What a `config` or `secret` step renders: its file (a template rendered, a `file`
//! read as it is) and the object's name.

use super::{ConfigSource, ConfigStep};
use crate::render::{FileRole, RenderedFile, RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::swarm::ObjectKind;

pub fn render(
    config: &ConfigStep,
    kind: ObjectKind,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    let role = match kind {
        ObjectKind::Config => FileRole::Config,
        ObjectKind::Secret => FileRole::Secret,
    };
    let file = match &config.source {
        ConfigSource::Template(path) => renderer
            .template(path, diagnostics)
            .map(|content| (content, true)),
        ConfigSource::File(path) => renderer
            .verbatim(path, diagnostics)
            .map(|content| (content, false)),
    };
    if let Some((content, was_rendered)) = file {
        rendered.files.push(RenderedFile {
            path: config.source.path().to_owned(),
            role,
            rendered: was_rendered,
            content,
            tree: None,
        });
    }
    rendered.object = renderer.inline(&config.name, "name", diagnostics);
}
