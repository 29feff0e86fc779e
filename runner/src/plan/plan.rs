//! A plan: what applying the desired state would change, step by step. A value that can be
//! printed, posted on a pull request and compared in tests, and that never holds a
//! secret's value (only names, which carry a hash of the content).

use std::collections::BTreeMap;

use serde::Serialize;

use super::FieldDiff;
use crate::swarm::ObjectKind;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub steps: Vec<StepPlan>,
    /// True when the live state it was made from held only some stacks' services and a
    /// step needed others: read every service and plan again before trusting it.
    #[serde(skip)]
    pub needs_every_service: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepPlan {
    /// The step's display name.
    pub step: String,
    pub kind: &'static str,
    /// True when the step's `if` is false for this environment: it changes nothing.
    pub skipped: bool,
    pub changes: Vec<Change>,
    /// For an `ssh` step: the plan of each host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<crate::steps::ssh::HostPlan>,
    /// What stops this step from being applied, e.g. a missing external network. Apply
    /// refuses to start when any step of the plan has one.
    pub problems: Vec<String>,
    /// Lines about what a step keeps that is not a Swarm object, e.g. a certificate's
    /// state (`= certificate scaler valid until 2027-11-30`), shown as they are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub object: ObjectType,
    pub name: String,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Network,
    Config,
    Secret,
    Service,
    /// The swarm itself (`swarm` steps).
    Swarm,
    /// A node of the swarm (`swarm` and `node` steps).
    Node,
}

impl ObjectType {
    /// The type of a config or secret.
    pub fn of(kind: ObjectKind) -> ObjectType {
        match kind {
            ObjectKind::Config => ObjectType::Config,
            ObjectKind::Secret => ObjectType::Secret,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ObjectType::Network => "network",
            ObjectType::Config => "config",
            ObjectType::Secret => "secret",
            ObjectType::Service => "service",
            ObjectType::Swarm => "swarm",
            ObjectType::Node => "node",
        }
    }

    /// The verb of creating one, for plans: a node is not created but joined.
    pub fn create_verb(self) -> &'static str {
        match self {
            ObjectType::Node => "join",
            _ => "create",
        }
    }

    /// The verb of having created one, for logs.
    pub fn created_verb(self) -> &'static str {
        match self {
            ObjectType::Node => "joined",
            _ => "created",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    Create,
    Update {
        diffs: Vec<FieldDiff>,
    },
    /// A network whose options differ: it can only be removed and created again.
    Recreate {
        diffs: Vec<FieldDiff>,
        used_by: Vec<String>,
    },
    Remove {
        reason: RemoveReason,
    },
    Unchanged,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RemoveReason {
    /// `prune: true` and no longer in the compose files.
    Pruned,
    /// An older content version of a config or secret that no service uses any more.
    OldVersion,
    /// A `remove` step.
    Teardown,
    /// A node of the swarm that no host group of a `swarm` step with `remove_missing`
    /// names any more.
    NotInHostGroups,
}

/// Counts of a plan's changes, for one-line summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    pub create: usize,
    pub update: usize,
    pub recreate: usize,
    pub remove: usize,
    pub unchanged: usize,
    /// Hosts of `ssh` steps with files to write or commands to run.
    pub hosts: usize,
}

impl Plan {
    pub fn summary(&self) -> PlanSummary {
        let mut summary = PlanSummary::default();
        for change in self.steps.iter().flat_map(|step| &step.changes) {
            match change.action {
                Action::Create => summary.create += 1,
                Action::Update { .. } => summary.update += 1,
                Action::Recreate { .. } => summary.recreate += 1,
                Action::Remove { .. } => summary.remove += 1,
                Action::Unchanged => summary.unchanged += 1,
            }
        }
        summary.hosts = self
            .steps
            .iter()
            .flat_map(|step| &step.hosts)
            .filter(|host| host.has_changes())
            .count();
        summary
    }

    pub fn has_changes(&self) -> bool {
        let summary = self.summary();
        summary.create + summary.update + summary.recreate + summary.remove + summary.hosts > 0
    }

    /// The plan with objects shown under other names: each change of an object named as a
    /// key of `names`, and each value of a field diff equal to one, gets its value. For
    /// names no other run would create, such as the secrets of a certificate issued by
    /// this plan (`steps::certs::issued_names`).
    pub fn with_names_shown(mut self, names: &BTreeMap<String, String>) -> Plan {
        if names.is_empty() {
            return self;
        }
        for change in self.steps.iter_mut().flat_map(|step| &mut step.changes) {
            if let Some(shown) = names.get(&change.name) {
                change.name = shown.clone();
            }
            if let Action::Update { diffs } | Action::Recreate { diffs, .. } = &mut change.action {
                for diff in diffs {
                    for value in [&mut diff.before, &mut diff.after].into_iter().flatten() {
                        rename_strings(value, names);
                    }
                }
            }
        }
        self
    }

    pub fn problems(&self) -> Vec<String> {
        self.steps
            .iter()
            .flat_map(|step| {
                step.problems
                    .iter()
                    .map(move |problem| format!("step `{}`: {problem}", step.step))
            })
            .collect()
    }
}

/// Replaces every string of `value` that is a key of `names`.
fn rename_strings(value: &mut serde_json::Value, names: &BTreeMap<String, String>) {
    match value {
        serde_json::Value::String(text) => {
            if let Some(shown) = names.get(text.as_str()) {
                *text = shown.clone();
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                rename_strings(item, names);
            }
        }
        serde_json::Value::Object(fields) => {
            for field in fields.values_mut() {
                rename_strings(field, names);
            }
        }
        _ => {}
    }
}

impl PlanSummary {
    /// "1 to create, 2 to update, 1 to remove" or "no changes".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.create, "to create"),
            (self.update, "to update"),
            (self.recreate, "to recreate"),
            (self.remove, "to remove"),
            (
                self.hosts,
                if self.hosts == 1 {
                    "host to change"
                } else {
                    "hosts to change"
                },
            ),
        ]
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
        if parts.is_empty() {
            "no changes".to_owned()
        } else {
            parts.join(", ")
        }
    }
}
