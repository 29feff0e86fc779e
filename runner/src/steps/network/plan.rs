//! How a `network` step is planned: created, unchanged or recreated, as the networks of
//! a stack are (`Planner::network`).

use std::collections::BTreeSet;

use crate::plan::{Planner, StepPlan};
use crate::swarm::NetworkSpec;

pub fn plan(planner: &mut Planner<'_>, network: &NetworkSpec, plan: &mut StepPlan) {
    plan.changes
        .push(planner.network(network, &BTreeSet::new()));
}
