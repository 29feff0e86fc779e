//! The `node` step planned and applied against the in-memory swarm ([`FakeEngine`]):
//! labels merged (or made exactly so with `exclusive`), written once at the node's
//! version, and nothing written when the node already has them.

use std::collections::BTreeMap;

use serde_json::json;

use super::{DesiredNodes, NodeHost};
use crate::apply::{Applier, CollectedEvents};
use crate::docker::DockerEngine as _;
use crate::docker::fake_engine::FakeEngine;
use crate::plan::{DesiredStep, plan, plan_text};
use crate::steps::Desired;
use crate::steps::swarm::NodeRole;
use crate::swarm::LiveNode;

fn desired(labels: &[(&str, &str)], exclusive: bool, role: Option<NodeRole>) -> DesiredNodes {
    DesiredNodes {
        hosts: vec![NodeHost {
            name: "node2".to_owned(),
            address: "10.0.0.2".to_owned(),
        }],
        labels: labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        availability: None,
        role,
        exclusive,
    }
}

fn step(nodes: DesiredNodes) -> DesiredStep {
    DesiredStep {
        name: "label".to_owned(),
        kind: "node",
        skipped: false,
        timeout: None,
        continue_on_error: false,
        desired: Desired::Nodes(nodes),
    }
}

fn swarm() -> FakeEngine {
    let engine = FakeEngine::new();
    let node =
        |id: &str, hostname: &str, address: &str, role: &str, labels: serde_json::Value| LiveNode {
            id: id.to_owned(),
            version: 3,
            hostname: hostname.to_owned(),
            address: address.to_owned(),
            state: "ready".to_owned(),
            reachability: (role == "manager").then(|| "reachable".to_owned()),
            leader: id == "n1",
            manager_addr: None,
            spec: json!({ "Role": role, "Availability": "active", "Labels": labels }),
        };
    engine.swarm().nodes = vec![
        node("n1", "node1", "10.0.0.1", "manager", json!({})),
        node(
            "n2",
            "node2",
            "10.0.0.2",
            "manager",
            json!({ "owner": "ops" }),
        ),
    ];
    engine
}

async fn plan_and_apply(engine: &FakeEngine, nodes: DesiredNodes) -> (String, Result<(), String>) {
    let mut live = engine.live_state().await.expect("the fake reads");
    live.nodes = Some(engine.nodes().await.expect("the fake lists nodes"));
    let steps = [step(nodes)];
    let planned = plan(&steps, &live);
    let text = plan_text(&planned, "nodes", "lab");
    let mut events = CollectedEvents::default();
    let result = Applier::new(engine, &mut events, &live)
        .apply(&steps, &planned)
        .await
        .map(|_| ())
        .map_err(|(_, error)| error.to_string());
    (text, result)
}

#[tokio::test]
async fn labels_are_added_beside_others_then_nothing_is_written_again() {
    let engine = swarm();
    let (text, result) = plan_and_apply(&engine, desired(&[("zone", "a")], false, None)).await;
    result.expect("applied");
    assert_eq!(
        text,
        "workflow nodes, environment lab:\n  step 1 node label\n    ~ update node node2 (10.0.0.2)\n        Labels.zone: (none) -> \"a\"\nPlan: 1 to update.\n"
    );
    assert_eq!(
        engine.swarm().nodes[1].spec["Labels"],
        json!({ "owner": "ops", "zone": "a" })
    );
    let (text, result) = plan_and_apply(&engine, desired(&[("zone", "a")], false, None)).await;
    result.expect("applied");
    assert!(text.contains("= 1 unchanged"), "{text}");
    assert_eq!(engine.swarm().writes, vec!["update node n2 at version 3"]);
}

#[tokio::test]
async fn exclusive_labels_remove_the_others() {
    let engine = swarm();
    let (text, result) = plan_and_apply(&engine, desired(&[("zone", "a")], true, None)).await;
    result.expect("applied");
    assert!(
        text.contains("        Labels.owner: \"ops\" -> (none)\n"),
        "{text}"
    );
    assert_eq!(
        engine.swarm().nodes[1].spec["Labels"],
        json!({ "zone": "a" })
    );
}

#[tokio::test]
async fn demoting_keeps_a_manager_and_the_quorum() {
    let engine = swarm();
    engine.swarm().nodes[0].reachability = Some("unreachable".to_owned());
    let (text, result) = plan_and_apply(&engine, desired(&[], false, Some(NodeRole::Worker))).await;
    assert!(
        text.contains("error: demoting these nodes would lose the managers' quorum: 0 of the 1 managers that stay are reachable"),
        "{text}"
    );
    assert!(result.is_err());
    assert!(engine.swarm().writes.is_empty());
}
