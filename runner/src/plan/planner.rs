//! The planner: compares each step's desired state with the live swarm and says what
//! applying would change. Pure: it takes the live state as a value and calls nothing.
//! Each kind plans its steps (`steps/<kind>/plan.rs`) through the [`Planner`], which keeps
//! what earlier steps create and plans the objects kinds share: networks, configs and
//! secrets and their old versions.

use std::collections::{BTreeMap, BTreeSet};

use super::{Action, Change, DesiredStep, FieldDiff, ObjectType, Plan, RemoveReason, StepPlan};
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

/// The planner's state while it goes through the steps: the live state and what earlier
/// steps will create. Step kinds plan their steps through it.
pub struct Planner<'a> {
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
            notes: Vec::new(),
        };
        if step.skipped {
            return plan;
        }
        step.desired.plan(self, &mut plan);
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

    /// Whether network `name` exists, or an earlier step creates it.
    pub fn network_exists(&self, name: &str) -> bool {
        self.live.network(name).is_some() || self.created_networks.contains(name)
    }

    /// Whether config or secret `name` exists, or an earlier step creates it.
    pub fn object_exists(&self, kind: ObjectKind, name: &str) -> bool {
        self.live.object(kind, name).is_some()
            || self.created_objects.contains(&(kind, name.to_owned()))
    }

    /// Network names by ID (`LiveState::network_names`), read once for the whole plan.
    pub fn network_names(&self) -> &BTreeMap<String, String> {
        &self.network_names
    }

    /// The live state the plan is made from.
    pub fn live(&self) -> &'a LiveState {
        self.live
    }

    /// Notes when the live state lacks the services of stack `namespace`, which the step
    /// being planned needs. `None` asks for services outside any stack, which only a
    /// reading of every service holds.
    pub fn needs_services_of(&mut self, namespace: Option<&str>) {
        if !self.live.scope.holds(namespace) {
            self.needs_every_service = true;
        }
    }

    /// A network of a step: created, unchanged, or recreated when its options differ
    /// (with the services that use it, which forbid that).
    pub fn network(
        &mut self,
        desired: &NetworkSpec,
        removed_services: &BTreeSet<String>,
    ) -> Change {
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

    /// A config or secret of a step: created unless it exists.
    pub fn object(&mut self, object: &ObjectSpec) -> Change {
        let object_type = ObjectType::of(object.kind);
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

    /// Older content versions of `object` beyond the newest `keep`, which stay for
    /// rollback: the same logical name, another hash. They go once nothing uses them.
    pub fn old_versions(
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
}

/// Removing an old version of a config or secret.
pub fn old_version_removal(live: &LiveObject) -> Change {
    Change {
        object: ObjectType::of(live.kind),
        name: live.name.clone(),
        action: Action::Remove {
            reason: RemoveReason::OldVersion,
        },
    }
}

/// The stack namespace label of a service spec.
pub fn namespace_of(spec: &serde_json::Value) -> Option<&str> {
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
