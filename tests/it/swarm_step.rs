//! The `swarm` and `node` steps on lab nodes, each with a dockerd of its own reached at
//! its own socket (`docker.node_host`): a swarm made from bare engines in one apply,
//! kept without a write, a node of another swarm refused with both IDs, a node joined
//! later, and a node that left the groups drained, made to leave and removed; and the
//! nodes' engines over `ssh://`. The docker CLI on node 1 is the oracle; the join tokens
//! it shows never appear in shoal's output.

use crate::support::lab::Lab;
use crate::test_repo::{Run, TestRepo};

/// The config repo: managers nodes 1 and 2, workers the nodes of `workers`.
fn repo(lab: &Lab, workers: &[usize], remove_missing: bool) -> TestRepo {
    let host = |node: usize| format!("{{ address: {}, name: node{node} }}", lab.nodes[node - 1]);
    let workers: Vec<String> = workers.iter().map(|&node| host(node)).collect();
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  lab:\n    docker:\n      host: {}\n      node_host: \"unix://{}/{{{{ host.name }}}}/docker.sock\"\n    hosts:\n      managers: [{}, {}]\n      workers: [{}]\n",
                lab.docker_socket(1),
                lab.folder().display(),
                host(1),
                host(2),
                workers.join(", ")
            ),
        )
        .file(
            "workflows/cluster.yml",
            &format!(
                "steps:\n  - swarm: {{ managers: [managers], workers: [workers], task_history_limit: 3, remove_missing: {remove_missing} }}\n  - node: {{ hosts: [workers], labels: {{ zone: a }} }}\n"
            ),
        )
}

fn nodes(lab: &Lab) -> String {
    lab.swarm_nodes().join("\n")
}

fn assert_ok(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_swarm_is_made_from_bare_engines_kept_grown_and_shrunk() {
    let lab = Lab::start_with_docker(4);
    let (n1, n2, n3) = (&lab.nodes[0], &lab.nodes[1], &lab.nodes[2]);

    // On bare engines the plan says what it would make, and makes nothing.
    let three = repo(&lab, &[3], false);
    let plan = three.run(&["plan", "--env", "lab"]);
    assert_ok(&plan, 2);
    assert_eq!(
        plan.stdout,
        format!(
            "workflow cluster, environment lab:\n  step 1 swarm swarm managers, workers\n    + create swarm on node1 ({n1})\n    + join node node2 ({n2}) as manager\n    + join node node3 ({n3}) as worker\n  step 2 node node workers\n    = node node3 ({n3}) is not in the swarm yet: an earlier `swarm` step must join it\n    ~ update node node3 ({n3})\n        Labels.zone: (none) -> \"a\"\nPlan: 3 to create, 1 to update.\n"
        )
    );
    assert_eq!(
        lab.run_docker(1, &["info", "--format", "{{.Swarm.LocalNodeState}}"]),
        "inactive"
    );

    // One apply makes the swarm, joins the others and labels the worker.
    let apply = three.run(&["apply", "--env", "lab"]);
    assert_ok(&apply, 0);
    assert!(
        apply.stdout.contains(&format!(
            "==> swarm managers, workers\n    created swarm on node1 ({n1})\n    joined node node2 ({n2}) as manager\n    joined node node3 ({n3}) as worker\n==> node workers\n    updated node node3 ({n3})\n"
        )),
        "{}",
        apply.stdout
    );
    assert_eq!(
        nodes(&lab),
        "node1 Ready manager\nnode2 Ready manager\nnode3 Ready worker"
    );
    assert_eq!(lab.node_labels("node3"), r#"{"zone":"a"}"#);
    assert_eq!(
        lab.run_docker(
            1,
            &[
                "info",
                "--format",
                "{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}"
            ]
        ),
        "3"
    );
    for role in ["worker", "manager"] {
        let token = lab.run_docker(1, &["swarm", "join-token", "--quiet", role]);
        for output in [&plan.stdout, &plan.stderr, &apply.stdout, &apply.stderr] {
            assert!(!output.contains(&token), "the {role} token was shown");
        }
    }
    let swarm = lab.run_docker(1, &["info", "--format", "{{.Swarm.Cluster.ID}}"]);

    // Applied again: nothing to do.
    let again = three.run(&["plan", "--env", "lab"]);
    assert_ok(&again, 0);
    assert!(
        again.stdout.ends_with("Plan: no changes.\n"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains(&format!(
            "    = swarm {swarm}: 2 managers, 1 workers\n    = 3 unchanged\n"
        )),
        "{}",
        again.stdout
    );

    // Node 4 runs a swarm of its own: refused, naming both swarms, and left as it is.
    lab.run_docker(4, &["swarm", "init", "--advertise-addr", &lab.nodes[3]]);
    let other = lab.run_docker(4, &["info", "--format", "{{.Swarm.Cluster.ID}}"]);
    let four = repo(&lab, &[3, 4], false);
    let refused = four.run(&["apply", "--env", "lab"]);
    assert_ok(&refused, 1);
    assert!(
        refused.stdout.contains(&format!(
            "    error: node4 ({}) is a manager of swarm {other}, not of swarm {swarm}; shoal never makes a node leave a swarm: run `docker swarm leave` there if it should join this one\n",
            lab.nodes[3]
        )),
        "{}",
        refused.stdout
    );
    assert_eq!(
        lab.run_docker(4, &["info", "--format", "{{.Swarm.Cluster.ID}}"]),
        other
    );

    // Once it left its swarm, it joins this one.
    lab.run_docker(4, &["swarm", "leave", "--force"]);
    assert_ok(&four.run(&["apply", "--env", "lab"]), 0);
    assert_eq!(
        nodes(&lab),
        "node1 Ready manager\nnode2 Ready manager\nnode3 Ready worker\nnode4 Ready worker"
    );

    // Out of the groups with `remove_missing`: drained, made to leave, removed.
    let shrunk = repo(&lab, &[3], true);
    let plan = shrunk.run(&["plan", "--env", "lab"]);
    assert_ok(&plan, 2);
    assert!(
        plan.stdout.contains(&format!(
            "    - remove node node4 ({}) (no longer in the host groups)\n",
            lab.nodes[3]
        )),
        "{}",
        plan.stdout
    );
    let apply = shrunk.run(&["apply", "--env", "lab"]);
    assert_ok(&apply, 0);
    assert!(
        apply
            .stdout
            .contains(&format!("    removed node node4 ({})\n", lab.nodes[3])),
        "{}",
        apply.stdout
    );
    assert_eq!(
        nodes(&lab),
        "node1 Ready manager\nnode2 Ready manager\nnode3 Ready worker"
    );
    assert_eq!(
        lab.run_docker(4, &["info", "--format", "{{.Swarm.LocalNodeState}}"]),
        "inactive"
    );
}

/// Each node's engine over `ssh://`: `docker.node_host` a template naming the node's
/// address and its socket, logged in with the environment's `ssh` block (the lab's key
/// and known_hosts). The socket is a path on this machine's file system, which every
/// node's sshd sees.
#[test]
fn the_nodes_engines_are_reached_over_ssh() {
    let lab = Lab::start_with_docker(2);
    let folder = lab.folder().display().to_string();
    let repo = TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  lab:\n    docker:\n      host: {}\n      node_host: \"ssh://root@{{{{ host.address }}}}{folder}/{{{{ host.name }}}}/docker.sock\"\n    ssh:\n      identity: {}\n      known_hosts: {}\n    hosts:\n      managers: [{{ address: {}, name: node1 }}]\n      workers: [{{ address: {}, name: node2 }}]\n",
                lab.docker_socket(1),
                lab.key.display(),
                lab.known_hosts.display(),
                lab.nodes[0],
                lab.nodes[1],
            ),
        )
        .file(
            "workflows/cluster.yml",
            "steps:\n  - swarm: { managers: [managers], workers: [workers] }\n",
        );
    let apply = repo.run(&["apply", "--env", "lab"]);
    assert_ok(&apply, 0);
    assert!(
        apply.stdout.contains(&format!(
            "    created swarm on node1 ({})\n    joined node node2 ({}) as worker\n",
            lab.nodes[0], lab.nodes[1]
        )),
        "{}",
        apply.stdout
    );
    assert_eq!(nodes(&lab), "node1 Ready manager\nnode2 Ready worker");
    assert_ok(&repo.run(&["plan", "--env", "lab"]), 0);
}
