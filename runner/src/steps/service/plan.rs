//! How a `service` step is planned: the live service against the spec the step would
//! give it, field by field; unchanged when they are the same. A service that does not
//! exist is a problem: the step changes a service, a `stack` step creates one.

use super::DesiredService;
use crate::plan::{
    Action, Change, ObjectType, Planner, StepPlan, diff_service_specs, normalize_service,
};

pub fn plan(planner: &mut Planner<'_>, service: &DesiredService, plan: &mut StepPlan) {
    let Some(live) = planner.live().service(&service.name) else {
        // The reading may hold only some stacks' services; this one may be elsewhere.
        planner.needs_services_of(None);
        plan.problems.push(format!(
            "service `{}` does not exist: a `service` step changes an existing service; \
             create it with a `stack` step first",
            service.name
        ));
        return;
    };
    let spec = match service.spec_from(live) {
        Ok(spec) => spec,
        Err(problem) => {
            plan.problems.push(problem);
            return;
        }
    };
    // Made from a live spec, it names networks by ID as the live one does.
    let spec = normalize_service(&spec, planner.network_names());
    let diffs = diff_service_specs(&spec, &live.spec, planner.network_names());
    let action = if diffs.is_empty() {
        Action::Unchanged
    } else {
        Action::Update { diffs }
    };
    plan.changes.push(Change {
        object: ObjectType::Service,
        name: service.name.clone(),
        action,
    });
}
