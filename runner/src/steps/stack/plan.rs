//! How a `stack` step is planned: its external networks, configs and secrets must exist
//! (or be created by an earlier step); its networks, configs and services are created,
//! updated or recreated; with `prune`, services no longer in the compose files go (never
//! all of them unless `allow_empty`); and versions of its configs and secrets older than
//! `keep_versions` go once no service uses them.

use std::collections::BTreeSet;

use super::DesiredStack;
use crate::plan::{
    Action, Change, ObjectType, Planner, RemoveReason, StepPlan, diff_service_specs, namespace_of,
    old_version_removal,
};
use crate::swarm::{LiveObject, LiveState, ObjectKind};

pub fn plan(planner: &mut Planner<'_>, stack: &DesiredStack, plan: &mut StepPlan) {
    let spec = &stack.spec;
    planner.needs_services_of(Some(&spec.name));
    for external in &spec.external.networks {
        if !planner.network_exists(external) {
            plan.problems.push(format!("external network `{external}` does not exist; create it first, e.g. with a `network` step before this one"));
        }
    }
    for (kind, names) in [
        (ObjectKind::Config, &spec.external.configs),
        (ObjectKind::Secret, &spec.external.secrets),
    ] {
        for external in names {
            if !planner.object_exists(kind, external) {
                let what = ObjectType::of(kind).name();
                plan.problems.push(format!(
                    "external {what} `{external}` does not exist; create it first"
                ));
            }
        }
    }
    let removed: BTreeSet<String> = if stack.prune {
        pruned_services(planner.live(), stack).into_iter().collect()
    } else {
        BTreeSet::new()
    };
    for network in &spec.networks {
        plan.changes.push(planner.network(network, &removed));
    }
    for object in &spec.objects {
        plan.changes.push(planner.object(object));
    }
    for service in &spec.services {
        let change = match planner.live().service(&service.name) {
            None => Change {
                object: ObjectType::Service,
                name: service.name.clone(),
                action: Action::Create,
            },
            Some(live) => {
                let diffs = diff_service_specs(&service.spec, &live.spec, planner.network_names());
                let action = if diffs.is_empty() {
                    Action::Unchanged
                } else {
                    Action::Update { diffs }
                };
                Change {
                    object: ObjectType::Service,
                    name: service.name.clone(),
                    action,
                }
            }
        };
        plan.changes.push(change);
    }
    if stack.prune {
        if spec.services.is_empty() && !removed.is_empty() && !stack.allow_empty {
            plan.problems.push(format!(
                "the compose files have no services, so `prune` would remove all {} services of stack `{}`; set `allow_empty: true` if that is what you want",
                removed.len(),
                spec.name
            ));
        }
        for name in &removed {
            plan.changes.push(Change {
                object: ObjectType::Service,
                name: name.clone(),
                action: Action::Remove {
                    reason: RemoveReason::Pruned,
                },
            });
        }
    }
    // Older versions of the stack's configs and secrets, once no service uses them.
    let keep: BTreeSet<String> = spec.objects.iter().map(|o| o.name.clone()).collect();
    let old: Vec<&LiveObject> = spec
        .objects
        .iter()
        .flat_map(|object| {
            planner.old_versions(object, Some(&spec.name), &keep, stack.keep_versions)
        })
        .collect();
    if !old.is_empty() {
        // Any service, of any stack, may use one.
        planner.needs_services_of(None);
        let used_after = references_after(planner.live(), stack, &removed);
        plan.changes.extend(
            old.into_iter()
                .filter(|live| !used_after.contains(&live.name))
                .map(old_version_removal),
        );
    }
}

/// Services of the stack that are live but no longer desired.
fn pruned_services(live: &LiveState, stack: &DesiredStack) -> Vec<String> {
    let desired: BTreeSet<&str> = stack
        .spec
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    live.services
        .iter()
        .filter(|service| namespace_of(&service.spec) == Some(stack.spec.name.as_str()))
        .filter(|service| !desired.contains(service.name.as_str()))
        .map(|service| service.name.clone())
        .collect()
}

/// Config and secret names services will reference once the stack is applied.
fn references_after(
    live: &LiveState,
    stack: &DesiredStack,
    removed: &BTreeSet<String>,
) -> BTreeSet<String> {
    let desired: BTreeSet<&str> = stack
        .spec
        .services
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let mut names = BTreeSet::new();
    for service in &stack.spec.services {
        names.extend(object_references(&service.spec));
    }
    for service in &live.services {
        if !desired.contains(service.name.as_str()) && !removed.contains(&service.name) {
            names.extend(object_references(&service.spec));
        }
    }
    names
}

fn object_references(spec: &serde_json::Value) -> Vec<String> {
    let mut names = Vec::new();
    for (list, field) in [("Configs", "ConfigName"), ("Secrets", "SecretName")] {
        if let Some(references) = spec
            .pointer(&format!("/TaskTemplate/ContainerSpec/{list}"))
            .and_then(|v| v.as_array())
        {
            names.extend(
                references
                    .iter()
                    .filter_map(|r| r.get(field)?.as_str().map(str::to_owned)),
            );
        }
    }
    names
}
