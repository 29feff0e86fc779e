//! The load-time checks of a `config` or `secret` step: a name, and exactly one of
//! `template` and `file`, naming a file of the repo.

use super::{ConfigInput, ConfigSource, ConfigStep};
use crate::load::{WorkflowChecker, normalize};
use crate::plan::ObjectType;
use crate::source::Diagnostics;
use crate::swarm::ObjectKind;
use crate::yaml::Node;

/// Checks the step written at `node`, whose kind makes a `kind` object; `None` when it
/// names no file, or two.
pub fn check(
    input: ConfigInput,
    kind: ObjectKind,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<ConfigStep> {
    let key = ObjectType::of(kind).name();
    checker.object_name(&input.name, diagnostics);
    let source = match (input.template, input.file) {
        (Some(template), None) => {
            checker.referenced_file(&template, diagnostics);
            ConfigSource::Template(normalize(&template.value).unwrap_or(template.value))
        }
        (None, Some(file)) => {
            checker.referenced_file(&file, diagnostics);
            ConfigSource::File(normalize(&file.value).unwrap_or(file.value))
        }
        (Some(_), Some(file)) => {
            diagnostics.push(
                checker
                    .error(
                        file.span,
                        format!("a {key} takes `template` or `file`, not both"),
                    )
                    .with_help(
                        "`template` is rendered for each environment, `file` is taken as it is",
                    ),
            );
            return None;
        }
        (None, None) => {
            let span = node.entry(key).map_or(node.span, |(key, _)| key.span);
            diagnostics.push(checker.error(span, format!("a {key} needs `template` or `file`")));
            return None;
        }
    };
    Some(ConfigStep {
        name: input.name.value,
        source,
        labels: input.labels,
    })
}
