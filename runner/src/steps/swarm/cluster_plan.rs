//! What a `swarm` step would do, from what its hosts' engines said (pure): make the swarm
//! or join the hosts missing from it, set roles and spec settings, and, with
//! `remove_missing`, remove the nodes no group names; or why it must not.

use std::collections::BTreeSet;

use serde_json::Value;

use super::cluster_reading::ClusterReading;
use super::{DesiredSwarm, NodeRole};
use crate::plan::{Action, Change, FieldDiff, ObjectType, RemoveReason};
use crate::swarm::LiveNode;

#[derive(Debug, Clone, PartialEq)]
pub enum ClusterAction {
    /// Make a new swarm on this host (an index of `DesiredSwarm::hosts`).
    Init {
        host: usize,
    },
    Join {
        host: usize,
        role: NodeRole,
    },
    /// Promote or demote the node of this host.
    SetRole {
        host: usize,
        node_id: String,
        role: NodeRole,
    },
    UpdateSpec {
        diffs: Vec<FieldDiff>,
    },
    /// Demote (a manager), drain, make leave and remove a node no group names.
    Remove {
        node: LiveNode,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterPlan {
    /// The swarm's ID, when there is one already.
    pub swarm_id: Option<String>,
    pub actions: Vec<ClusterAction>,
    /// Hosts already in the swarm in their role.
    pub unchanged: Vec<usize>,
    pub problems: Vec<String>,
    pub notes: Vec<String>,
}

pub fn plan_cluster(desired: &DesiredSwarm, reading: &ClusterReading) -> ClusterPlan {
    let mut plan = ClusterPlan::default();
    if let Some(problem) = &reading.manager_problem {
        plan.problems.push(problem.clone());
    }
    let swarm = reading.manager.as_ref();
    plan.swarm_id = swarm.map(|view| view.cluster.id.clone());
    let in_swarm: BTreeSet<&str> = swarm
        .map(|view| view.nodes.iter().map(|node| node.id.as_str()).collect())
        .unwrap_or_default();
    let mut ours: BTreeSet<String> = BTreeSet::new();
    let mut joins = Vec::new();
    for (index, host) in desired.hosts.iter().enumerate() {
        let member = match &reading.members[index] {
            Ok(member) => member,
            Err(problem) => {
                plan.problems.push(format!(
                    "cannot read the engine of {} at {}: {problem}",
                    host.label(),
                    host.endpoint
                ));
                continue;
            }
        };
        match member.local_state.as_str() {
            "inactive" => {
                joins.push(index);
                continue;
            }
            "active" => {}
            state => {
                plan.problems.push(format!(
                    "{} is `{state}` in its swarm: {}",
                    host.label(),
                    match state {
                        "locked" => "unlock it with `docker swarm unlock` there",
                        "pending" => "it is joining a swarm; apply again once it has",
                        _ => "see `docker info` there",
                    }
                ));
                continue;
            }
        }
        let node_id = member.node_id.clone().unwrap_or_default();
        let same_swarm = match (&member.cluster_id, swarm) {
            (Some(id), Some(view)) => *id == view.cluster.id,
            (None, Some(_)) => in_swarm.contains(node_id.as_str()),
            (_, None) => false,
        };
        if !same_swarm {
            plan.problems.push(other_swarm(
                host.label(),
                member,
                swarm.map(|v| v.cluster.id.as_str()),
            ));
            continue;
        }
        ours.insert(node_id.clone());
        let is_manager = swarm
            .and_then(|view| view.nodes.iter().find(|node| node.id == node_id))
            .map_or(member.is_manager, |node| node.role() == "manager");
        let role_now = if is_manager {
            NodeRole::Manager
        } else {
            NodeRole::Worker
        };
        if role_now == host.role {
            plan.unchanged.push(index);
        } else {
            plan.actions.push(ClusterAction::SetRole {
                host: index,
                node_id,
                role: host.role,
            });
        }
    }
    match swarm {
        None if reading.manager_problem.is_none() => {
            let first_manager = joins
                .iter()
                .position(|&index| desired.hosts[index].role == NodeRole::Manager);
            match first_manager {
                Some(position) => {
                    let host = joins.remove(position);
                    plan.actions.insert(0, ClusterAction::Init { host });
                }
                // A manager that cannot be read is a problem already.
                None if reading.members.iter().any(Result::is_err) => {}
                None => plan.problems.push(
                    "no manager can make the swarm: every manager is already in a swarm that \
                     cannot be read"
                        .to_owned(),
                ),
            }
        }
        None => {}
        Some(view) => {
            plan.problems
                .extend(desired.settings.fixed_problems(&view.cluster));
            let diffs = desired.settings.diffs(&view.cluster.spec);
            if !diffs.is_empty() {
                plan.actions.push(ClusterAction::UpdateSpec { diffs });
            }
            let managers = view
                .nodes
                .iter()
                .filter(|node| node.role() == "manager")
                .count();
            plan.notes.push(format!(
                "= swarm {}: {managers} managers, {} workers",
                view.cluster.id,
                view.nodes.len() - managers
            ));
        }
    }
    // Managers join one by one before the workers, in the order written.
    for index in joins {
        plan.actions.push(ClusterAction::Join {
            host: index,
            role: desired.hosts[index].role,
        });
    }
    if let Some(view) = swarm {
        let missing: Vec<&LiveNode> = view
            .nodes
            .iter()
            .filter(|node| {
                !ours.contains(&node.id)
                    && !desired
                        .hosts
                        .iter()
                        .any(|host| node.is_host(&host.address, host.hostname()))
            })
            .collect();
        if desired.remove_missing {
            for node in missing {
                plan.actions
                    .push(ClusterAction::Remove { node: node.clone() });
            }
        } else if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(|node| node_label(node)).collect();
            plan.notes.push(format!(
                "= not in the groups, left alone (`remove_missing: false`): {}",
                names.join(", ")
            ));
        }
        quorum_problems(view, &plan.actions, &mut plan.problems);
    }
    plan
}

/// A node of the swarm as the plan names it.
pub fn node_label(node: &LiveNode) -> String {
    if node.hostname.is_empty() || node.hostname == node.address {
        node.address.clone()
    } else {
        format!("{} ({})", node.hostname, node.address)
    }
}

fn other_swarm(host: String, member: &crate::swarm::NodeMembership, ours: Option<&str>) -> String {
    let theirs = match (&member.cluster_id, member.remote_managers.is_empty()) {
        (Some(id), _) => format!("swarm {id}"),
        (None, false) => format!(
            "a swarm its engine does not name (its managers: {})",
            member.remote_managers.join(", ")
        ),
        (None, true) => "a swarm its engine does not name".to_owned(),
    };
    let ours = match ours {
        Some(id) => format!("not of swarm {id}"),
        None => "while no host of the managers' groups is in a swarm".to_owned(),
    };
    format!(
        "{host} is a {} of {theirs}, {ours}; shoal never makes a node leave a swarm: run \
         `docker swarm leave` there if it should join this one",
        if member.is_manager { "manager" } else { "node" }
    )
}

/// Demoting or removing managers must leave at least one, and a majority of the managers
/// that remain reachable.
fn quorum_problems(
    view: &super::cluster_reading::ManagerView,
    actions: &[ClusterAction],
    problems: &mut Vec<String>,
) {
    let leaving: BTreeSet<&str> = actions
        .iter()
        .filter_map(|action| match action {
            ClusterAction::SetRole {
                node_id,
                role: NodeRole::Worker,
                ..
            } => Some(node_id.as_str()),
            ClusterAction::Remove { node } if node.role() == "manager" => Some(node.id.as_str()),
            _ => None,
        })
        .collect();
    if leaving.is_empty() {
        return;
    }
    if let Err(why) = crate::swarm::managers_stay_in_quorum(&view.nodes, &leaving) {
        problems.push(format!("this {why}"));
    }
}

impl ClusterPlan {
    /// The plan's changes, as plan text shows them.
    pub fn changes(&self, desired: &DesiredSwarm) -> Vec<Change> {
        let mut changes = Vec::new();
        for action in &self.actions {
            changes.push(match action {
                ClusterAction::Init { host } => Change {
                    object: ObjectType::Swarm,
                    name: format!("on {}", desired.hosts[*host].label()),
                    action: Action::Create,
                },
                ClusterAction::Join { host, role } => Change {
                    object: ObjectType::Node,
                    name: format!("{} as {}", desired.hosts[*host].label(), role.name()),
                    action: Action::Create,
                },
                ClusterAction::SetRole { host, role, .. } => Change {
                    object: ObjectType::Node,
                    name: desired.hosts[*host].label(),
                    action: Action::Update {
                        diffs: vec![FieldDiff {
                            path: "Role".to_owned(),
                            before: Some(Value::from(match role {
                                NodeRole::Manager => "worker",
                                NodeRole::Worker => "manager",
                            })),
                            after: Some(Value::from(role.name())),
                            concealed: None,
                        }],
                    },
                },
                ClusterAction::UpdateSpec { diffs } => Change {
                    object: ObjectType::Swarm,
                    name: self.swarm_id.clone().unwrap_or_default(),
                    action: Action::Update {
                        diffs: diffs.clone(),
                    },
                },
                ClusterAction::Remove { node } => Change {
                    object: ObjectType::Node,
                    name: node_label(node),
                    action: Action::Remove {
                        reason: RemoveReason::NotInHostGroups,
                    },
                },
            });
        }
        for &host in &self.unchanged {
            changes.push(Change {
                object: ObjectType::Node,
                name: desired.hosts[host].label(),
                action: Action::Unchanged,
            });
        }
        changes
    }
}
