//! The `secret` step kind: a `config` step (`steps/config`) whose object is a Swarm
//! secret. It takes the same input, checks and renders the same way, and is planned and
//! applied as the same `Desired::Object`; only the kind of object and the role of its
//! file differ.

use super::config::{self, ConfigInput, ConfigStep};
use crate::load::WorkflowChecker;
use crate::plan::DesiredContext;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::swarm::{ObjectKind, ObjectSpec};
use crate::yaml::Node;

pub fn check(
    input: ConfigInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<ConfigStep> {
    config::check(input, ObjectKind::Secret, node, checker, diagnostics)
}

pub fn render(
    secret: &ConfigStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    config::render(secret, ObjectKind::Secret, renderer, rendered, diagnostics);
}

pub fn desired(
    secret: &ConfigStep,
    rendered: &RenderedStep,
    context: &DesiredContext<'_>,
) -> ObjectSpec {
    config::desired(secret, ObjectKind::Secret, rendered, context)
}
