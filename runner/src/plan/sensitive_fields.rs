//! Which fields of the desired state depend on a secret's value, whatever the templates
//! did with it (a filter, a slice, a condition): found by comparing the desired steps of
//! renders that differ only in the values given to `secrets`. A plan shows such a field as
//! `(sensitive)`, never its value, old or new (Terraform's "(sensitive value)").

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::{Action, DesiredStep, ObjectType, Plan, normalize_service};
use crate::steps::Desired;
use crate::swarm::{LiveState, OBJECT_NAME, ObjectSpec, ServiceSpec};

/// On a service shoal applied: the paths of its fields that depended on a secret (a JSON
/// list), so that a later plan hides their old values too, even when the new ones no
/// longer depend on a secret.
pub const SENSITIVE_FIELDS_LABEL: &str = "dev.shoal.sensitive-fields";

/// Why a field's values are not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Concealment {
    /// It depends on a secret (now, or when it was last applied).
    Sensitive,
    /// It depends on a secret that was not read (a pull request's plan): the desired
    /// value is not known, and it is compared when applied.
    ComparedWhenApplied,
}

impl Concealment {
    /// What a plan shows instead of the values.
    pub fn text(self) -> &'static str {
        match self {
            Concealment::Sensitive => "(sensitive)",
            Concealment::ComparedWhenApplied => "(sensitive, compared when applied)",
        }
    }
}

/// The fields of each service and the networks whose desired values depend on a secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SensitiveFields {
    /// Service name → dotted field paths, as in [`super::FieldDiff::path`]; the empty path
    /// stands for the whole service.
    services: BTreeMap<String, BTreeSet<String>>,
    /// Networks any of whose options depends on a secret.
    networks: BTreeSet<String>,
    /// Files and commands of `ssh` steps whose content depends on a secret, by
    /// `steps::ssh::file_key` and `command_key`.
    host_values: BTreeSet<String>,
    /// Fields of `node` steps (`Labels.KEY`) whose value depends on a secret.
    node_fields: BTreeSet<String>,
}

impl SensitiveFields {
    /// The fields where `planned` (the steps that are planned, whose names the plan uses)
    /// differs from any of `others`: the same workflow rendered with other values for the
    /// secrets (placeholders of another length and other characters, or the real values).
    pub fn between(planned: &[DesiredStep], others: &[&[DesiredStep]]) -> SensitiveFields {
        let mut fields = SensitiveFields::default();
        for other in others {
            for (step, other_step) in planned.iter().zip(other.iter()) {
                fields.compare_step(&step.desired, &other_step.desired);
            }
        }
        fields
    }

    /// Adds the fields of `other` (another workflow of the same run).
    pub fn extend(&mut self, other: SensitiveFields) {
        for (service, paths) in other.services {
            self.services.entry(service).or_default().extend(paths);
        }
        self.networks.extend(other.networks);
        self.host_values.extend(other.host_values);
    }

    /// The files and commands of `ssh` steps that depend on a secret.
    pub fn host_values(&self) -> &BTreeSet<String> {
        &self.host_values
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.networks.is_empty() && self.host_values.is_empty()
    }

    /// Records on each service of `steps` which of its fields are sensitive
    /// ([`SENSITIVE_FIELDS_LABEL`]), for the plans made after it is applied.
    pub fn label_services(&self, steps: &mut [DesiredStep]) {
        for step in steps {
            let Desired::Stack(stack) = &mut step.desired else {
                continue;
            };
            for service in &mut stack.spec.services {
                let Some(paths) = self.services.get(&service.name) else {
                    continue;
                };
                let list = Value::from(paths.iter().cloned().collect::<Vec<_>>()).to_string();
                if let Some(object) = service.spec.as_object_mut() {
                    let labels = object
                        .entry("Labels")
                        .or_insert_with(|| Value::Object(serde_json::Map::new()));
                    if let Some(labels) = labels.as_object_mut() {
                        labels.insert(SENSITIVE_FIELDS_LABEL.to_owned(), Value::from(list));
                    }
                }
            }
        }
    }

    fn compare_step(&mut self, planned: &Desired, other: &Desired) {
        match planned {
            Desired::Stack(planned) => {
                let Desired::Stack(other) = other else {
                    return;
                };
                let planned_names = logical_names(&planned.spec.objects);
                let other_names = logical_names(&other.spec.objects);
                let same_services = planned.spec.services.len() == other.spec.services.len()
                    && planned
                        .spec
                        .services
                        .iter()
                        .zip(&other.spec.services)
                        .all(|(a, b)| a.name == b.name);
                for (index, service) in planned.spec.services.iter().enumerate() {
                    let paths = self.services.entry(service.name.clone()).or_default();
                    match other.spec.services.get(index).filter(|_| same_services) {
                        Some(other) => differing_paths(
                            "",
                            Some(&comparable(service, &planned_names)),
                            Some(&comparable(other, &other_names)),
                            paths,
                        ),
                        // Which services there are depends on a secret.
                        None => {
                            paths.insert(String::new());
                        }
                    }
                    if paths.is_empty() {
                        self.services.remove(&service.name);
                    }
                }
                for network in &planned.spec.networks {
                    let same = other
                        .spec
                        .networks
                        .iter()
                        .any(|candidate| candidate == network);
                    if !same {
                        self.networks.insert(network.name.clone());
                    }
                }
            }
            Desired::Network(planned) => {
                if let Desired::Network(other) = other
                    && planned != other
                {
                    self.networks.insert(planned.name.clone());
                }
            }
            // A config's or secret's content is in its name (a hash), so renders that
            // differ make another object, never a field shown; a `wait` or `remove` step
            // writes nothing to compare.
            Desired::Object(_) | Desired::Wait(_) | Desired::Remove { .. } | Desired::Nothing => {}
            // Its image may come from a secret (a registry's host, say): then the
            // image's diff is concealed.
            Desired::Service(planned) => {
                if let Desired::Service(other) = other
                    && planned.image != other.image
                {
                    self.services
                        .entry(planned.name.clone())
                        .or_default()
                        .insert("TaskTemplate.ContainerSpec.Image".to_owned());
                }
            }
            // A `swarm` step renders addresses and endpoints, never shown as values.
            Desired::Swarm(_) => {}
            Desired::Nodes(planned) => {
                if let Desired::Nodes(other) = other {
                    for (key, value) in &planned.labels {
                        if other.labels.get(key) != Some(value) {
                            self.node_fields.insert(format!("Labels.{key}"));
                        }
                    }
                }
            }
            Desired::Hosts(planned) => {
                if let Desired::Hosts(other) = other {
                    planned.sensitive_between(other, &mut self.host_values);
                }
            }
            // A `certs` step's secrets and files are issued after these renders are
            // compared and never shown but by name; only the `on_change` commands of its
            // certificates that go to hosts are.
            Desired::Certs(planned) => {
                if let Desired::Certs(other) = other {
                    planned.sensitive_between(other, &mut self.host_values);
                }
            }
        }
    }
}

impl Plan {
    /// The plan as it may be shown: every field diff whose path is sensitive, by the
    /// desired state (`fields`) or by what the live service recorded when it was applied,
    /// has its values replaced by a [`Concealment`]. Fields sensitive by the desired state
    /// are concealed as `desired`; by the live state alone, as
    /// [`Concealment::Sensitive`].
    pub fn concealed(
        &self,
        fields: &SensitiveFields,
        live: &LiveState,
        desired: Concealment,
    ) -> Plan {
        let mut shown = self.clone();
        let no_paths = BTreeSet::new();
        for change in shown.steps.iter_mut().flat_map(|step| &mut step.changes) {
            let diffs = match &mut change.action {
                Action::Update { diffs } | Action::Recreate { diffs, .. } => diffs,
                _ => continue,
            };
            let (by_desired, by_live) = match change.object {
                ObjectType::Service => (
                    fields.services.get(&change.name).unwrap_or(&no_paths),
                    live_sensitive_paths(live, &change.name),
                ),
                ObjectType::Network if fields.networks.contains(&change.name) => {
                    (&BTreeSet::from([String::new()]), BTreeSet::new())
                }
                ObjectType::Node => (&fields.node_fields, BTreeSet::new()),
                _ => continue,
            };
            for diff in diffs {
                let concealment = if is_sensitive(&diff.path, by_desired) {
                    desired
                } else if is_sensitive(&diff.path, &by_live) {
                    Concealment::Sensitive
                } else {
                    continue;
                };
                diff.before = None;
                diff.after = None;
                diff.concealed = Some(concealment);
            }
        }
        shown
    }
}

/// Whether a diff at `path` shows a sensitive field, or a part of one, or a whole that
/// holds one.
fn is_sensitive(path: &str, sensitive: &BTreeSet<String>) -> bool {
    sensitive.iter().any(|field| {
        field.is_empty()
            || field == path
            || field
                .strip_prefix(path)
                .is_some_and(|rest| rest.starts_with('.'))
            || path
                .strip_prefix(field.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The paths a live service's [`SENSITIVE_FIELDS_LABEL`] lists.
fn live_sensitive_paths(live: &LiveState, service: &str) -> BTreeSet<String> {
    live.service(service)
        .and_then(|service| {
            service
                .spec
                .pointer("/Labels")?
                .get(SENSITIVE_FIELDS_LABEL)?
                .as_str()
                .map(str::to_owned)
        })
        .and_then(|list| serde_json::from_str::<Vec<String>>(&list).ok())
        .map(|paths| paths.into_iter().collect())
        .unwrap_or_default()
}

/// Content-hashed object names → the names in the compose file: a config whose content
/// depends on a secret gets another name in each render, but a service that uses it does
/// not depend on the secret by that alone (the config's content is never shown).
fn logical_names(objects: &[ObjectSpec]) -> BTreeMap<&str, &str> {
    objects
        .iter()
        .filter_map(|object| {
            Some((
                object.name.as_str(),
                object.labels.get(OBJECT_NAME)?.as_str(),
            ))
        })
        .collect()
}

/// A service spec as the planner compares it, with object names made logical.
fn comparable(service: &ServiceSpec, names: &BTreeMap<&str, &str>) -> Value {
    let mut spec = normalize_service(&service.spec, &BTreeMap::new());
    rename_strings(&mut spec, names);
    spec
}

fn rename_strings(value: &mut Value, names: &BTreeMap<&str, &str>) {
    match value {
        Value::String(text) => {
            if let Some(logical) = names.get(text.as_str()) {
                *text = (*logical).to_owned();
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rename_strings(item, names)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|item| rename_strings(item, names)),
        _ => {}
    }
}

/// The paths where `a` and `b` differ, walking objects field by field (and taking lists
/// whole), as the spec diff does.
fn differing_paths(path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for key in a.keys().chain(b.keys()) {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if !out.contains(&child) {
                    differing_paths(&child, a.get(key), b.get(key), out);
                }
            }
        }
        (a, b) if a == b => {}
        _ => {
            out.insert(path.to_owned());
        }
    }
}
