//! How a `remove` step is planned: every service, network, config and secret of the
//! stack's namespace, services first.

use crate::plan::{Action, Change, ObjectType, Planner, RemoveReason, StepPlan, namespace_of};
use crate::swarm::STACK_NAMESPACE;

pub fn plan(planner: &mut Planner<'_>, stack: &str, plan: &mut StepPlan) {
    planner.needs_services_of(Some(stack));
    let live = planner.live();
    let teardown = Action::Remove {
        reason: RemoveReason::Teardown,
    };
    for service in &live.services {
        if namespace_of(&service.spec) == Some(stack) {
            plan.changes.push(Change {
                object: ObjectType::Service,
                name: service.name.clone(),
                action: teardown.clone(),
            });
        }
    }
    for network in &live.networks {
        if network.spec.labels.get(STACK_NAMESPACE).map(String::as_str) == Some(stack) {
            plan.changes.push(Change {
                object: ObjectType::Network,
                name: network.spec.name.clone(),
                action: teardown.clone(),
            });
        }
    }
    for object in &live.objects {
        if object.labels.get(STACK_NAMESPACE).map(String::as_str) == Some(stack) {
            plan.changes.push(Change {
                object: ObjectType::of(object.kind),
                name: object.name.clone(),
                action: teardown.clone(),
            });
        }
    }
}
