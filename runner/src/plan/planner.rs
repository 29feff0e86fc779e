//! The planner: compares each step's desired state with the live swarm and says what
//! applying would change. Pure: it takes the live state as a value and calls nothing.

use std::collections::{BTreeMap, BTreeSet};

use super::spec_diff::diff_service_specs;
use super::{
    Action, Change, Desired, DesiredStack, DesiredStep, FieldDiff, ObjectType, Plan, RemoveReason,
    StepPlan,
};
use crate::swarm::{
    LiveObject, LiveState, NetworkSpec, OBJECT_NAME, ObjectKind, ObjectSpec, STACK_NAMESPACE,
};

/// Plans every step in order. Later steps see what earlier steps will create, so that a
/// `network` step makes an external network of a later stack available.
///
/// `live` may hold only some stacks' services (see [`crate::swarm::ServiceScope`]); when a
/// step needs to know about others (whether a network to recreate or an old config
/// version is in use), the plan says so in [`Plan::needs_every_service`], and the caller
/// reads every service and plans again.
pub fn plan(steps: &[DesiredStep], live: &LiveState) -> Plan {
    let mut planner = Planner {
        live,
        network_names: live.network_names(),
        created_networks: BTreeSet::new(),
        created_objects: BTreeSet::new(),
        needs_every_service: false,
    };
    let steps = steps.iter().map(|step| planner.step(step)).collect();
    Plan {
        steps,
        needs_every_service: planner.needs_every_service,
    }
}

struct Planner<'a> {
    live: &'a LiveState,
    network_names: BTreeMap<String, String>,
    created_networks: BTreeSet<String>,
    created_objects: BTreeSet<(ObjectKind, String)>,
    needs_every_service: bool,
}

impl<'a> Planner<'a> {
    fn step(&mut self, step: &DesiredStep) -> StepPlan {
        let mut plan = StepPlan {
            step: step.name.clone(),
            kind: step.kind,
            skipped: step.skipped,
            changes: Vec::new(),
            hosts: Vec::new(),
            problems: Vec::new(),
        };
        if step.skipped {
            return plan;
        }
        match &step.desired {
            // Planned against the hosts themselves (`steps::ssh::plan_hosts`).
            Desired::Nothing | Desired::Hosts(_) => {}
            Desired::Wait(wait) => {
                // Refused before anything is applied, not when the step is reached.
                if let Some(url) = wait.url.as_ref().filter(|url| url.starts_with("https://")) {
                    plan.problems.push(format!(
                        "waiting for `{url}` is not implemented yet: only http:// URLs are \
                         waited for"
                    ));
                }
            }
            Desired::Network(network) => plan.changes.push(self.network(network, &BTreeSet::new())),
            Desired::Object(object) => {
                plan.changes.push(self.object(object));
                let keep = BTreeSet::from([object.name.clone()]);
                plan.changes.extend(
                    self.old_versions(object, None, &keep, 3)
                        .into_iter()
                        .map(old_version_removal),
                );
            }
            Desired::Stack(stack) => self.stack(stack, &mut plan),
            Desired::Remove { stack } => self.remove(stack, &mut plan),
        }
        for change in &plan.changes {
            if let Action::Recreate { used_by, .. } = &change.action
                && !used_by.is_empty()
            {
                plan.problems.push(format!(
                    "network `{}` must be recreated to change its options, but it is in use by {}; remove those services first or keep the network's options",
                    change.name,
                    used_by.join(", ")
                ));
            }
        }
        plan
    }

    fn stack(&mut self, stack: &DesiredStack, plan: &mut StepPlan) {
        let spec = &stack.spec;
        self.needs_services_of(Some(&spec.name));
        for external in &spec.external.networks {
            if self.live.network(external).is_none() && !self.created_networks.contains(external) {
                plan.problems.push(format!("external network `{external}` does not exist; create it first, e.g. with a `network` step before this one"));
            }
        }
        for (kind, names) in [
            (ObjectKind::Config, &spec.external.configs),
            (ObjectKind::Secret, &spec.external.secrets),
        ] {
            for external in names {
                if self.live.object(kind, external).is_none()
                    && !self.created_objects.contains(&(kind, external.clone()))
                {
                    let what = object_type(kind).name();
                    plan.problems.push(format!(
                        "external {what} `{external}` does not exist; create it first"
                    ));
                }
            }
        }
        let removed: BTreeSet<String> = if stack.prune {
            self.pruned_services(stack).into_iter().collect()
        } else {
            BTreeSet::new()
        };
        for network in &spec.networks {
            plan.changes.push(self.network(network, &removed));
        }
        for object in &spec.objects {
            plan.changes.push(self.object(object));
        }
        for service in &spec.services {
            let change = match self.live.service(&service.name) {
                None => Change {
                    object: ObjectType::Service,
                    name: service.name.clone(),
                    action: Action::Create,
                },
                Some(live) => {
                    let diffs = diff_service_specs(&service.spec, &live.spec, &self.network_names);
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
                self.old_versions(object, Some(&spec.name), &keep, stack.keep_versions)
            })
            .collect();
        if !old.is_empty() {
            // Any service, of any stack, may use one.
            self.needs_services_of(None);
            let used_after = self.references_after(stack, &removed);
            plan.changes.extend(
                old.into_iter()
                    .filter(|live| !used_after.contains(&live.name))
                    .map(old_version_removal),
            );
        }
    }

    /// Notes when the live state lacks the services of stack `namespace`, which the step
    /// being planned needs. `None` asks for services outside any stack, which only a
    /// reading of every service holds.
    fn needs_services_of(&mut self, namespace: Option<&str>) {
        if !self.live.scope.holds(namespace) {
            self.needs_every_service = true;
        }
    }

    fn network(&mut self, desired: &NetworkSpec, removed_services: &BTreeSet<String>) -> Change {
        let name = desired.name.clone();
        let Some(live) = self.live.network(&name) else {
            self.created_networks.insert(name.clone());
            return Change {
                object: ObjectType::Network,
                name,
                action: Action::Create,
            };
        };
        let diffs = network_diffs(desired, &live.spec);
        if diffs.is_empty() {
            return Change {
                object: ObjectType::Network,
                name,
                action: Action::Unchanged,
            };
        }
        // Services of any stack may use it.
        self.needs_services_of(None);
        let used_by: Vec<String> = self
            .live
            .services
            .iter()
            .filter(|service| !removed_services.contains(&service.name))
            .filter(|service| {
                service_networks(&service.spec)
                    .iter()
                    .any(|target| *target == live.id || *target == name)
            })
            .map(|service| service.name.clone())
            .collect();
        Change {
            object: ObjectType::Network,
            name,
            action: Action::Recreate { diffs, used_by },
        }
    }

    fn object(&mut self, object: &ObjectSpec) -> Change {
        let object_type = object_type(object.kind);
        if self.live.object(object.kind, &object.name).is_some() {
            Change {
                object: object_type,
                name: object.name.clone(),
                action: Action::Unchanged,
            }
        } else {
            self.created_objects
                .insert((object.kind, object.name.clone()));
            Change {
                object: object_type,
                name: object.name.clone(),
                action: Action::Create,
            }
        }
    }

    /// Services of the stack that are live but no longer desired.
    fn pruned_services(&self, stack: &DesiredStack) -> Vec<String> {
        let desired: BTreeSet<&str> = stack
            .spec
            .services
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        self.live
            .services
            .iter()
            .filter(|service| namespace_of(&service.spec) == Some(stack.spec.name.as_str()))
            .filter(|service| !desired.contains(service.name.as_str()))
            .map(|service| service.name.clone())
            .collect()
    }

    /// Config and secret names services will reference once the stack is applied.
    fn references_after(
        &self,
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
        for service in &self.live.services {
            if !desired.contains(service.name.as_str()) && !removed.contains(&service.name) {
                names.extend(object_references(&service.spec));
            }
        }
        names
    }

    /// Older content versions of `object` beyond the newest `keep`, which stay for
    /// rollback: the same logical name, another hash. They go once nothing uses them.
    fn old_versions(
        &self,
        object: &ObjectSpec,
        stack: Option<&str>,
        current: &BTreeSet<String>,
        keep: usize,
    ) -> Vec<&'a LiveObject> {
        let Some(logical) = object.labels.get(OBJECT_NAME) else {
            return Vec::new();
        };
        let mut versions: Vec<_> = self
            .live
            .objects
            .iter()
            .filter(|live| live.kind == object.kind && !current.contains(&live.name))
            .filter(|live| live.labels.get(OBJECT_NAME) == Some(logical))
            .filter(|live| live.labels.get(STACK_NAMESPACE).map(String::as_str) == stack)
            .collect();
        versions.sort_by(|a, b| b.created_at.cmp(&a.created_at));
        versions.into_iter().skip(keep).collect()
    }

    /// A `remove` step: services first, then networks, configs and secrets of the stack.
    fn remove(&mut self, stack: &str, plan: &mut StepPlan) {
        self.needs_services_of(Some(stack));
        let teardown = Action::Remove {
            reason: RemoveReason::Teardown,
        };
        for service in &self.live.services {
            if namespace_of(&service.spec) == Some(stack) {
                plan.changes.push(Change {
                    object: ObjectType::Service,
                    name: service.name.clone(),
                    action: teardown.clone(),
                });
            }
        }
        for network in &self.live.networks {
            if network.spec.labels.get(STACK_NAMESPACE).map(String::as_str) == Some(stack) {
                plan.changes.push(Change {
                    object: ObjectType::Network,
                    name: network.spec.name.clone(),
                    action: teardown.clone(),
                });
            }
        }
        for object in &self.live.objects {
            if object.labels.get(STACK_NAMESPACE).map(String::as_str) == Some(stack) {
                plan.changes.push(Change {
                    object: object_type(object.kind),
                    name: object.name.clone(),
                    action: teardown.clone(),
                });
            }
        }
    }
}

/// Removing an old version of a config or secret.
fn old_version_removal(live: &LiveObject) -> Change {
    Change {
        object: object_type(live.kind),
        name: live.name.clone(),
        action: Action::Remove {
            reason: RemoveReason::OldVersion,
        },
    }
}

fn object_type(kind: ObjectKind) -> ObjectType {
    match kind {
        ObjectKind::Config => ObjectType::Config,
        ObjectKind::Secret => ObjectType::Secret,
    }
}

fn namespace_of(spec: &serde_json::Value) -> Option<&str> {
    spec.pointer("/Labels")?.get(STACK_NAMESPACE)?.as_str()
}

fn service_networks(spec: &serde_json::Value) -> Vec<&str> {
    ["/TaskTemplate/Networks", "/Networks"]
        .iter()
        .filter_map(|pointer| spec.pointer(pointer)?.as_array())
        .flatten()
        .filter_map(|attachment| attachment.get("Target")?.as_str())
        .collect()
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

/// Differences that need the network recreated. Labels are not compared (docker cannot
/// change them either, and a label is not worth disrupting services), nor options the
/// daemon adds by itself (such as an overlay's VXLAN id): only what the desired spec sets.
fn network_diffs(desired: &NetworkSpec, live: &NetworkSpec) -> Vec<FieldDiff> {
    let mut diffs = Vec::new();
    let mut compare = |path: &str, before: serde_json::Value, after: serde_json::Value| {
        if before != after {
            diffs.push(FieldDiff {
                path: path.to_owned(),
                before: Some(before),
                after: Some(after),
                concealed: None,
            });
        }
    };
    compare(
        "Driver",
        live.driver.clone().into(),
        desired.driver.clone().into(),
    );
    compare(
        "Attachable",
        live.attachable.into(),
        desired.attachable.into(),
    );
    compare("Internal", live.internal.into(), desired.internal.into());
    for (key, value) in &desired.options {
        let before = live
            .options
            .get(key)
            .cloned()
            .map_or(serde_json::Value::Null, Into::into);
        compare(&format!("Options.{key}"), before, value.clone().into());
    }
    let subnets = |spec: &NetworkSpec| -> Vec<String> {
        spec.ipam
            .iter()
            .flat_map(|ipam| &ipam.config)
            .filter_map(|config| config.get("Subnet").cloned())
            .collect()
    };
    let wanted = subnets(desired);
    if !wanted.is_empty() {
        compare("IPAM.Subnets", subnets(live).into(), wanted.into());
    }
    diffs
}

#[cfg(test)]
#[path = "planner_tests.rs"]
mod tests;
