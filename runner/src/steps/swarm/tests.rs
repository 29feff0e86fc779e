//! The `swarm` step's plan, from what the engines said (pure).

use serde_json::json;

use super::cluster_reading::{ClusterReading, ManagerView};
use super::*;
use crate::plan::{Action, ObjectType, RemoveReason};
use crate::swarm::{LiveNode, NodeMembership, SwarmCluster};

fn host(name: &str, address: &str, role: NodeRole) -> SwarmHost {
    SwarmHost {
        name: name.to_owned(),
        address: address.to_owned(),
        role,
        advertise_addr: address.to_owned(),
        endpoint: format!("unix:///lab/{name}/docker.sock"),
    }
}

fn desired(settings: SwarmSettings, remove_missing: bool) -> DesiredSwarm {
    DesiredSwarm {
        hosts: vec![
            host("m1", "10.0.0.1", NodeRole::Manager),
            host("m2", "10.0.0.2", NodeRole::Manager),
            host("w1", "10.0.0.3", NodeRole::Worker),
        ],
        listen_addr: DEFAULT_LISTEN_ADDR.to_owned(),
        settings,
        remove_missing,
        leaving_endpoint: None,
    }
}

fn inactive() -> Result<NodeMembership, String> {
    Ok(NodeMembership {
        local_state: "inactive".to_owned(),
        node_id: None,
        cluster_id: None,
        is_manager: false,
        remote_managers: Vec::new(),
    })
}

fn member(node: &str, swarm: Option<&str>) -> Result<NodeMembership, String> {
    Ok(NodeMembership {
        local_state: "active".to_owned(),
        node_id: Some(node.to_owned()),
        cluster_id: swarm.map(str::to_owned),
        is_manager: swarm.is_some(),
        remote_managers: if swarm.is_some() {
            Vec::new()
        } else {
            vec!["10.9.9.9:2377".to_owned()]
        },
    })
}

fn node(id: &str, hostname: &str, address: &str, role: &str) -> LiveNode {
    LiveNode {
        id: id.to_owned(),
        version: 7,
        hostname: hostname.to_owned(),
        address: address.to_owned(),
        state: "ready".to_owned(),
        reachability: (role == "manager").then(|| "reachable".to_owned()),
        leader: id == "n1",
        manager_addr: (role == "manager").then(|| format!("{address}:2377")),
        spec: json!({ "Role": role, "Availability": "active" }),
    }
}

fn cluster(nodes: Vec<LiveNode>) -> Option<ManagerView> {
    Some(ManagerView {
        host: 0,
        cluster: SwarmCluster {
            id: "swarm-a".to_owned(),
            version: 10,
            spec: json!({ "Orchestration": { "TaskHistoryRetentionLimit": 5 } }),
            default_addr_pool: vec!["10.0.0.0/8".to_owned()],
            subnet_size: Some(24),
            data_path_port: Some(4789),
        },
        nodes,
    })
}

fn reading(
    members: Vec<Result<NodeMembership, String>>,
    manager: Option<ManagerView>,
) -> ClusterReading {
    ClusterReading {
        members,
        manager,
        manager_problem: None,
    }
}

#[test]
fn bare_hosts_make_a_swarm_on_the_first_manager_and_join_the_others() {
    let desired = desired(SwarmSettings::default(), false);
    let planned = plan_cluster(
        &desired,
        &reading(vec![inactive(), inactive(), inactive()], None),
    );
    assert_eq!(
        planned.actions,
        vec![
            ClusterAction::Init { host: 0 },
            ClusterAction::Join {
                host: 1,
                role: NodeRole::Manager
            },
            ClusterAction::Join {
                host: 2,
                role: NodeRole::Worker
            },
        ]
    );
    assert!(planned.problems.is_empty());
    let changes = planned.changes(&desired);
    let names: Vec<(ObjectType, &str)> = changes
        .iter()
        .map(|c| (c.object, c.name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            (ObjectType::Swarm, "on m1 (10.0.0.1)"),
            (ObjectType::Node, "m2 (10.0.0.2) as manager"),
            (ObjectType::Node, "w1 (10.0.0.3) as worker"),
        ]
    );
}

#[test]
fn nodes_already_in_this_swarm_are_unchanged_and_a_missing_one_joins() {
    let desired = desired(SwarmSettings::default(), false);
    let nodes = vec![
        node("n1", "m1", "10.0.0.1", "manager"),
        node("n3", "w1", "10.0.0.3", "worker"),
    ];
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![
                member("n1", Some("swarm-a")),
                inactive(),
                member("n3", None),
            ],
            cluster(nodes),
        ),
    );
    assert_eq!(
        planned.actions,
        vec![ClusterAction::Join {
            host: 1,
            role: NodeRole::Manager
        }]
    );
    assert_eq!(planned.unchanged, vec![0, 2]);
    assert_eq!(
        planned.notes,
        vec!["= swarm swarm-a: 1 managers, 1 workers".to_owned()]
    );
}

#[test]
fn a_node_of_another_swarm_is_an_error_naming_both_and_never_a_leave() {
    let desired = desired(SwarmSettings::default(), false);
    let nodes = vec![node("n1", "m1", "10.0.0.1", "manager")];
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![
                member("n1", Some("swarm-a")),
                member("x2", Some("swarm-b")),
                member("x3", None),
            ],
            cluster(nodes),
        ),
    );
    assert_eq!(
        planned.problems,
        vec![
            "m2 (10.0.0.2) is a manager of swarm swarm-b, not of swarm swarm-a; shoal never makes a node leave a swarm: run `docker swarm leave` there if it should join this one".to_owned(),
            "w1 (10.0.0.3) is a node of a swarm its engine does not name (its managers: 10.9.9.9:2377), not of swarm swarm-a; shoal never makes a node leave a swarm: run `docker swarm leave` there if it should join this one".to_owned(),
        ]
    );
}

#[test]
fn roles_follow_the_groups_and_a_demotion_keeps_quorum() {
    // w1 is a manager today: it is demoted; m2 a worker: promoted.
    let desired = desired(SwarmSettings::default(), false);
    let nodes = vec![
        node("n1", "m1", "10.0.0.1", "manager"),
        node("n2", "m2", "10.0.0.2", "worker"),
        node("n3", "w1", "10.0.0.3", "manager"),
    ];
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![
                member("n1", Some("swarm-a")),
                member("n2", None),
                member("n3", Some("swarm-a")),
            ],
            cluster(nodes.clone()),
        ),
    );
    assert_eq!(
        planned.actions,
        vec![
            ClusterAction::SetRole {
                host: 1,
                node_id: "n2".to_owned(),
                role: NodeRole::Manager
            },
            ClusterAction::SetRole {
                host: 2,
                node_id: "n3".to_owned(),
                role: NodeRole::Worker
            },
        ]
    );
    assert!(planned.problems.is_empty());

    // With the only other manager unreachable, demoting one of two loses quorum.
    let mut unreachable = nodes;
    unreachable[0].reachability = Some("unreachable".to_owned());
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![
                member("n1", Some("swarm-a")),
                member("n2", None),
                member("n3", Some("swarm-a")),
            ],
            cluster(unreachable),
        ),
    );
    assert_eq!(
        planned.problems,
        vec![
            "this would lose the managers' quorum: 0 of the 1 managers that stay are reachable"
                .to_owned()
        ]
    );
}

#[test]
fn spec_settings_are_updated_and_fixed_ones_cannot_change() {
    let settings = SwarmSettings {
        task_history_limit: Some(2),
        default_addr_pool: Some(vec!["10.20.0.0/16".to_owned()]),
        ..SwarmSettings::default()
    };
    let desired = desired(settings, false);
    let nodes = vec![
        node("n1", "m1", "10.0.0.1", "manager"),
        node("n2", "m2", "10.0.0.2", "manager"),
        node("n3", "w1", "10.0.0.3", "worker"),
    ];
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![
                member("n1", Some("swarm-a")),
                member("n2", Some("swarm-a")),
                member("n3", None),
            ],
            cluster(nodes),
        ),
    );
    assert_eq!(
        planned.problems,
        vec!["`default_addr_pool` is [10.20.0.0/16], the swarm's is [10.0.0.0/8]: it is set when a swarm is made and cannot change after".to_owned()]
    );
    let ClusterAction::UpdateSpec { diffs } = &planned.actions[0] else {
        panic!("a spec update: {:?}", planned.actions);
    };
    assert_eq!(diffs[0].path, "Orchestration.TaskHistoryRetentionLimit");
    assert_eq!(diffs[0].before, Some(json!(5)));
    assert_eq!(diffs[0].after, Some(json!(2)));
}

#[test]
fn nodes_outside_the_groups_are_removed_only_with_remove_missing() {
    let nodes = vec![
        node("n1", "m1", "10.0.0.1", "manager"),
        node("n2", "m2", "10.0.0.2", "manager"),
        node("n3", "w1", "10.0.0.3", "worker"),
        node("n4", "old", "10.0.0.4", "worker"),
    ];
    let members = || {
        vec![
            member("n1", Some("swarm-a")),
            member("n2", Some("swarm-a")),
            member("n3", None),
        ]
    };
    let kept = plan_cluster(
        &desired(SwarmSettings::default(), false),
        &reading(members(), cluster(nodes.clone())),
    );
    assert!(kept.actions.is_empty());
    assert_eq!(
        kept.notes[1],
        "= not in the groups, left alone (`remove_missing: false`): old (10.0.0.4)"
    );
    let desired = desired(SwarmSettings::default(), true);
    let removed = plan_cluster(&desired, &reading(members(), cluster(nodes.clone())));
    assert_eq!(
        removed.actions,
        vec![ClusterAction::Remove {
            node: nodes[3].clone()
        }]
    );
    let change = &removed.changes(&desired)[0];
    assert_eq!(change.name, "old (10.0.0.4)");
    assert_eq!(
        change.action,
        Action::Remove {
            reason: RemoveReason::NotInHostGroups
        }
    );
}

#[test]
fn an_engine_that_does_not_answer_is_a_problem_naming_its_endpoint() {
    let desired = desired(SwarmSettings::default(), false);
    let planned = plan_cluster(
        &desired,
        &reading(
            vec![inactive(), Err("connection refused".to_owned()), inactive()],
            None,
        ),
    );
    assert_eq!(
        planned.problems,
        vec!["cannot read the engine of m2 (10.0.0.2) at unix:///lab/m2/docker.sock: connection refused".to_owned()]
    );
}

#[test]
fn settings_go_into_a_new_swarm_and_onto_a_live_spec() {
    let settings = SwarmSettings {
        default_addr_pool: Some(vec!["10.20.0.0/16".to_owned()]),
        subnet_size: Some(26),
        data_path_port: Some(7789),
        task_history_limit: Some(3),
        dispatcher_heartbeat: Some(std::time::Duration::from_secs(5)),
        cert_expiry: None,
        autolock: Some(true),
    };
    assert_eq!(
        settings.init_request("0.0.0.0:2377", "10.0.0.1"),
        json!({
            "ListenAddr": "0.0.0.0:2377",
            "AdvertiseAddr": "10.0.0.1",
            "DefaultAddrPool": ["10.20.0.0/16"],
            "SubnetSize": 26,
            "DataPathPort": 7789,
            "Spec": {
                "Orchestration": { "TaskHistoryRetentionLimit": 3 },
                "Dispatcher": { "HeartbeatPeriod": 5_000_000_000u64 },
                "EncryptionConfig": { "AutoLockManagers": true },
            },
        })
    );
    let live = json!({ "Name": "default", "Orchestration": { "TaskHistoryRetentionLimit": 5 }, "Raft": { "SnapshotInterval": 10000 } });
    let updated = settings.applied_to(&live);
    assert_eq!(updated["Raft"], live["Raft"]);
    assert_eq!(
        updated["Orchestration"]["TaskHistoryRetentionLimit"],
        json!(3)
    );
}
