//! What a `stack` step renders: its compose files, and the files they name under their
//! top-level `configs:` and `secrets:` (rendered, or read as they are when a `verbatim`
//! glob matches), then the stack's name.

use std::sync::Arc;

use super::StackStep;
use crate::load::join_relative;
use crate::render::{FileRole, RenderedFile, RenderedStep, StepRenderer};
use crate::source::{Diagnostic, Diagnostics, SourceFile};
use crate::yaml::{self, Node};

pub fn render(
    stack: &StackStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    for compose in &stack.compose {
        let Some(content) = renderer.template(compose, diagnostics) else {
            continue;
        };
        let mut references = Vec::new();
        let tree = compose_references(
            renderer,
            compose,
            &content,
            &stack.verbatim,
            &mut references,
            diagnostics,
        );
        rendered.files.push(RenderedFile {
            path: compose.clone(),
            role: FileRole::Compose,
            rendered: true,
            content,
            tree,
        });
        rendered.files.append(&mut references);
    }
    rendered.object = renderer.inline(&stack.name, "name", diagnostics);
    rendered.stack.clone_from(&rendered.object);
}

/// Renders the files a compose file names under its top-level `configs:` and `secrets:`.
/// Gives the rendered compose file as parsed, when it parsed without a problem.
fn compose_references(
    renderer: &StepRenderer<'_>,
    compose_path: &str,
    content: &str,
    verbatim: &[String],
    out: &mut Vec<RenderedFile>,
    diagnostics: &mut Diagnostics,
) -> Option<Arc<Node>> {
    let rendered_file = SourceFile::new(compose_path, content);
    let parsed = yaml::parse_document(&rendered_file);
    let parsed_cleanly = parsed.problems.is_empty();
    for mut problem in parsed.problems {
        problem.message = format!("{} (in the file as rendered)", problem.message);
        diagnostics.push(problem);
    }
    if let Err(exceeded) = renderer.files().budget().spend_yaml_nodes(parsed.nodes) {
        diagnostics.push(Diagnostic::file_error(compose_path, exceeded.to_string()));
        return None;
    }
    let root = Arc::new(parsed.root?);
    let verbatim_globs = build_globs(verbatim);
    for (section, role) in [("configs", FileRole::Config), ("secrets", FileRole::Secret)] {
        let Some(entries) = root.get(section).and_then(Node::as_mapping) else {
            continue;
        };
        for (_, definition) in entries {
            let Some(file_node) = definition.get("file") else {
                continue;
            };
            let Some(relative) = file_node.as_scalar_text() else {
                continue;
            };
            let path = match join_relative(compose_path, relative) {
                Ok(path) => path,
                Err(error) => {
                    diagnostics.push(Diagnostic::error(
                        &rendered_file,
                        file_node.span,
                        format!("cannot use file `{relative}`: {error}"),
                    ));
                    continue;
                }
            };
            if !renderer.files().exists(&path) {
                diagnostics.push(
                    Diagnostic::error(&rendered_file, file_node.span, format!("file `{relative}` not found in the config repo"))
                        .with_help(format!("compose paths are relative to the compose file's folder: this one is `{path}`")),
                );
                continue;
            }
            let is_verbatim = verbatim_globs
                .as_ref()
                .is_some_and(|globs| globs.is_match(&path));
            let content = if is_verbatim {
                renderer.verbatim(&path, diagnostics)
            } else {
                renderer.template(&path, diagnostics)
            };
            if let Some(content) = content {
                out.push(RenderedFile {
                    path,
                    role,
                    rendered: !is_verbatim,
                    content,
                    tree: None,
                });
            }
        }
    }
    parsed_cleanly.then_some(root)
}

fn build_globs(patterns: &[String]) -> Option<globset::GlobSet> {
    if patterns.is_empty() {
        return None;
    }
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        if let Ok(glob) = globset::Glob::new(pattern) {
            builder.add(glob);
        }
    }
    builder.build().ok()
}
