//! Planning a `node` step against the nodes a manager listed: each host's node updated
//! field by field, or unchanged; a demotion that would leave no manager, or lose quorum,
//! is a problem.

use super::DesiredNodes;
use crate::plan::{Action, Change, ObjectType, Planner, StepPlan};
use crate::steps::swarm::NodeRole;
use crate::swarm::LiveNode;

pub fn plan(planner: &mut Planner<'_>, desired: &DesiredNodes, plan: &mut StepPlan) {
    let live = planner.live();
    let nodes: &[LiveNode] = live.nodes.as_deref().unwrap_or_default();
    let mut demoted = std::collections::BTreeSet::new();
    for host in &desired.hosts {
        let Some(node) = host.find(nodes) else {
            // The swarm is made, or the host joined, by an earlier `swarm` step.
            plan.notes.push(format!(
                "= node {} is not in the swarm yet: an earlier `swarm` step must join it",
                host.label()
            ));
            plan.changes.push(Change {
                object: ObjectType::Node,
                name: host.label(),
                action: Action::Update {
                    diffs: desired.diffs(&serde_json::json!({})),
                },
            });
            continue;
        };
        let diffs = desired.diffs(&node.spec);
        if desired.role == Some(NodeRole::Worker) && node.role() == "manager" {
            demoted.insert(node.id.as_str());
        }
        plan.changes.push(Change {
            object: ObjectType::Node,
            name: host.label(),
            action: if diffs.is_empty() {
                Action::Unchanged
            } else {
                Action::Update { diffs }
            },
        });
    }
    if !demoted.is_empty()
        && let Err(why) = crate::swarm::managers_stay_in_quorum(nodes, &demoted)
    {
        plan.problems.push(format!("demoting these nodes {why}"));
    }
}
