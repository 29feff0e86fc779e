//! How a `config` or `secret` step is planned: the object created unless it exists (its
//! name holds its content's hash), and its versions older than the newest three removed.

use std::collections::BTreeSet;

use crate::plan::{Planner, StepPlan, old_version_removal};
use crate::swarm::ObjectSpec;

/// Older versions kept for rollback.
const KEEP_VERSIONS: usize = 3;

pub fn plan(planner: &mut Planner<'_>, object: &ObjectSpec, plan: &mut StepPlan) {
    plan.changes.push(planner.object(object));
    let keep = BTreeSet::from([object.name.clone()]);
    plan.changes.extend(
        planner
            .old_versions(object, None, &keep, KEEP_VERSIONS)
            .into_iter()
            .map(old_version_removal),
    );
}
