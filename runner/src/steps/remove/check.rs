//! The load-time checks of a `remove` step.

use super::{RemoveInput, RemoveStep};
use crate::load::WorkflowChecker;
use crate::source::Diagnostics;

pub fn check(
    remove: RemoveInput,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> RemoveStep {
    checker.object_name(&remove.stack, diagnostics);
    RemoveStep {
        stack: remove.stack.value,
    }
}
