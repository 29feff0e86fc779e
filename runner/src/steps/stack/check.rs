//! The load-time checks of a `stack` step: its compose files exist, its `verbatim` globs
//! parse, its name is a name.

use super::{StackInput, StackStep};
use crate::load::{WorkflowChecker, normalize};
use crate::source::Diagnostics;

pub fn check(
    stack: StackInput,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> StackStep {
    for compose in stack.compose.to_vec() {
        checker.referenced_file(&compose, diagnostics);
    }
    let verbatim: Vec<String> = stack.verbatim.iter().map(|g| g.value.clone()).collect();
    for glob in &stack.verbatim {
        checker.glob(glob, diagnostics);
    }
    checker.object_name(&stack.name, diagnostics);
    StackStep {
        name: stack.name.value,
        compose: stack
            .compose
            .to_vec()
            .into_iter()
            .map(|c| normalize(&c.value).unwrap_or(c.value))
            .collect(),
        prune: stack.prune,
        wait: stack.wait,
        allow_empty: stack.allow_empty,
        on_failure: stack.on_failure,
        keep_versions: stack.keep_versions,
        verbatim,
    }
}
