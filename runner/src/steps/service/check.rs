//! The load-time checks of a `service` step: a name that is one, something to change,
//! and `rollback` alone.

use super::{ServiceInput, ServiceStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;
use crate::yaml::Node;

/// Checks the `service` of the step written at `node`.
pub fn check(
    service: ServiceInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> ServiceStep {
    let kind_span = node.entry("service").map_or(node.span, |(key, _)| key.span);
    checker.object_name(&service.name, diagnostics);
    let changes_spec = service.scale.is_some() || service.image.is_some() || service.force_update;
    if service.rollback && changes_spec {
        diagnostics.push(checker.error(
            kind_span,
            "`rollback` puts back the service's previous spec: it cannot be combined with \
             `scale`, `image` or `force_update`",
        ));
    }
    if !service.rollback && !changes_spec {
        diagnostics.push(checker.error(
            kind_span,
            "`service` needs `scale`, `image`, `force_update` or `rollback`",
        ));
    }
    if let Some(image) = &service.image {
        if image.value.trim().is_empty() {
            diagnostics.push(checker.error(image.span, "`image` is empty"));
        } else {
            checker.template_syntax(image, "image", diagnostics);
        }
    }
    ServiceStep {
        name: service.name.value,
        scale: service.scale.map(|scale| scale.value),
        image: service.image.map(|image| image.value),
        force_update: service.force_update,
        rollback: service.rollback,
        wait: service.wait,
    }
}
