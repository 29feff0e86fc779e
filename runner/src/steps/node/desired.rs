//! What a `node` step wants of each of its hosts' nodes, and the node spec that gives it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::NodeStep;
use super::render::LABEL;
use crate::plan::FieldDiff;
use crate::render::RenderedStep;
use crate::steps::swarm::{NodeRole, SwarmHost};
use crate::swarm::LiveNode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeHost {
    pub name: String,
    pub address: String,
}

impl NodeHost {
    pub fn label(&self) -> String {
        if self.name == self.address {
            self.address.clone()
        } else {
            format!("{} ({})", self.name, self.address)
        }
    }

    pub fn hostname(&self) -> &str {
        if self.name == self.address {
            ""
        } else {
            &self.name
        }
    }

    /// Its node among `nodes`.
    pub fn find<'a>(&self, nodes: &'a [LiveNode]) -> Option<&'a LiveNode> {
        nodes
            .iter()
            .find(|node| node.address == self.address)
            .or_else(|| {
                nodes
                    .iter()
                    .find(|node| node.is_host(&self.address, self.hostname()))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredNodes {
    pub hosts: Vec<NodeHost>,
    pub labels: BTreeMap<String, String>,
    pub availability: Option<String>,
    pub role: Option<NodeRole>,
    pub exclusive: bool,
}

pub fn desired(step: &NodeStep, rendered: &RenderedStep) -> DesiredNodes {
    DesiredNodes {
        hosts: rendered
            .nodes
            .iter()
            .map(|host: &SwarmHost| NodeHost {
                name: host.name.clone(),
                address: host.address.clone(),
            })
            .collect(),
        labels: rendered
            .values
            .iter()
            .filter_map(|(key, value)| Some((key.strip_prefix(LABEL)?.to_owned(), value.clone())))
            .collect(),
        availability: step.availability.clone(),
        role: step.role,
        exclusive: step.exclusive,
    }
}

impl DesiredNodes {
    /// `live` (a node's spec) with this step's labels, availability and role.
    pub fn spec_from(&self, live: &Value) -> Value {
        let mut spec = live.clone();
        if !spec.is_object() {
            spec = Value::Object(Map::new());
        }
        let object = spec.as_object_mut().expect("an object, made above");
        let mut labels: Map<String, Value> = if self.exclusive {
            Map::new()
        } else {
            object
                .get("Labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        for (key, value) in &self.labels {
            labels.insert(key.clone(), Value::from(value.as_str()));
        }
        object.insert("Labels".to_owned(), Value::Object(labels));
        if let Some(availability) = &self.availability {
            object.insert(
                "Availability".to_owned(),
                Value::from(availability.as_str()),
            );
        }
        if let Some(role) = self.role {
            object.insert("Role".to_owned(), Value::from(role.name()));
        }
        spec
    }

    /// What applying this to a node whose spec is `live` changes, field by field.
    pub fn diffs(&self, live: &Value) -> Vec<FieldDiff> {
        let wanted = self.spec_from(live);
        let mut diffs = Vec::new();
        let labels = |spec: &Value| -> BTreeMap<String, Value> {
            spec.get("Labels")
                .and_then(Value::as_object)
                .map(|labels| labels.clone().into_iter().collect())
                .unwrap_or_default()
        };
        let (before, after) = (labels(live), labels(&wanted));
        for key in before
            .keys()
            .chain(after.keys())
            .collect::<std::collections::BTreeSet<_>>()
        {
            if before.get(key) != after.get(key) {
                diffs.push(FieldDiff {
                    path: format!("Labels.{key}"),
                    before: before.get(key).cloned(),
                    after: after.get(key).cloned(),
                    concealed: None,
                });
            }
        }
        for (field, default) in [("Availability", "active"), ("Role", "worker")] {
            let now = live.get(field).cloned().unwrap_or(Value::from(default));
            let then = wanted.get(field).cloned().unwrap_or(Value::from(default));
            if now != then {
                diffs.push(FieldDiff {
                    path: field.to_owned(),
                    before: live.get(field).cloned(),
                    after: Some(then),
                    concealed: None,
                });
            }
        }
        diffs
    }
}
