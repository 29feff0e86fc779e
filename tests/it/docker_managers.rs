//! Several managers (`docker.hosts`) for real: three nodes of the lab, each with a
//! dockerd of its own, made one swarm whose managers are all three. An apply waits for a
//! service that takes a while to become healthy; the leader's dockerd is killed while it
//! waits, and the apply completes through another manager, its log saying where it
//! moved. The swarm's ID is remembered, and a swarm made again at a known address is
//! refused.

use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::lab::Lab;
use crate::test_repo::{TestRepo, shoal};

const IMAGE: &str = "shoal-test/busybox:managers";

/// A service that becomes healthy (and so running) only after a while, kept off node 1,
/// whose dockerd the test kills: what is shown is the move of the API calls, not the
/// rescheduling of tasks.
const SLOW_STACK: &str = "services:
  app:
    image: shoal-test/busybox:managers
    command: [sh, -c, 'sleep 12; touch /tmp/ready; exec sleep 86400']
    healthcheck:
      test: [CMD, test, -f, /tmp/ready]
      interval: 1s
      timeout: 1s
      retries: 60
    deploy:
      placement:
        constraints: [node.hostname != node1]
";

fn lab_repo(hosts: &[String], known_swarms: &std::path::Path) -> TestRepo {
    TestRepo::new()
        .file(
            "shoal.yml",
            &format!(
                "environments:\n  lab:\n    docker:\n      hosts: [{}]\n",
                hosts.join(", ")
            ),
        )
        .file("stacks/app.yml", SLOW_STACK)
        .file(
            "workflows/deploy.yml",
            "steps:\n  - stack: { name: slow, compose: stacks/app.yml }\n",
        )
        .env("SHOAL_KNOWN_SWARMS", &known_swarms.display().to_string())
}

#[test]
fn an_apply_completes_through_another_manager_when_the_leader_dies() {
    let lab = Lab::start_with_docker(3);
    lab.make_swarm_of_managers();
    lab.import_image(IMAGE);
    let swarm_id = lab.run_docker(1, &["info", "--format", "{{.Swarm.Cluster.ID}}"]);
    let hosts: Vec<String> = (1..=3).map(|node| lab.docker_tcp(node)).collect();
    let state = tempfile::tempdir().expect("temp");
    let known_swarms = state.path().join("known_swarms");
    let repo = lab_repo(&hosts, &known_swarms);

    // `plan` says which manager answered.
    let plan = repo.run(&["plan", "--env", "lab"]);
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert_eq!(
        plan.stderr,
        format!(
            "docker: {} answered, a manager of swarm {swarm_id}\n",
            hosts[0]
        )
    );

    // The apply waits for the service; node 1, the leader, dies meanwhile.
    let mut apply = shoal()
        .args(["apply", "--env", "lab", "--repo"])
        .arg(repo.path())
        .env("SHOAL_KNOWN_SWARMS", &known_swarms)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("shoal starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lab
        .run_docker(2, &["service", "ls", "--format", "{{.Name}}"])
        .lines()
        .any(|name| name == "slow_app")
    {
        assert!(Instant::now() < deadline, "the apply created no service");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        lab.run_docker(
            2,
            &[
                "node",
                "ls",
                "--filter",
                "role=manager",
                "--format",
                "{{.Hostname}} {{.ManagerStatus}}"
            ]
        )
        .lines()
        .find(|line| line.ends_with("Leader")),
        Some("node1 Leader"),
    );
    lab.kill_dockerd(1);
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = apply.try_wait().expect("waits") {
            break status;
        }
        assert!(Instant::now() < deadline, "the apply did not end");
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    apply
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut stdout)
        .expect("reads");
    apply
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("reads");
    assert!(status.success(), "{stdout}{stderr}");
    // To either manager left (node 2 first, node 3 when node 2 did not answer in time
    // during the election).
    let moved = |to: &String| format!("    moved from manager {} to {to}: ", hosts[0]);
    let moved_to = hosts[1..]
        .iter()
        .find(|to| stdout.lines().any(|line| line.starts_with(&moved(to))))
        .unwrap_or_else(|| panic!("no move from {}: {stdout}", hosts[0]))
        .clone();
    let moved_index = hosts
        .iter()
        .position(|host| *host == moved_to)
        .expect("listed");
    let moved_node = moved_index + 1;
    assert!(stdout.contains("    slow_app: converged"), "{stdout}");
    assert_eq!(
        lab.run_docker(
            moved_node,
            &[
                "service",
                "ls",
                "--filter",
                "name=slow_app",
                "--format",
                "{{.Replicas}}"
            ]
        ),
        "1/1"
    );
    assert_eq!(
        std::fs::read_to_string(&known_swarms).expect("written"),
        format!("{} {swarm_id}\n{moved_to} {swarm_id}\n", hosts[0])
    );

    // The manager it moved to leaves and makes a swarm of its own at the same address:
    // refused.
    lab.run_docker(moved_node, &["swarm", "leave", "--force"]);
    lab.run_docker(
        moved_node,
        &[
            "swarm",
            "init",
            "--advertise-addr",
            &lab.nodes[moved_index],
            "--listen-addr",
            &format!("{}:2377", lab.nodes[moved_index]),
        ],
    );
    let new_id = lab.run_docker(moved_node, &["info", "--format", "{{.Swarm.Cluster.ID}}"]);
    let refused =
        lab_repo(&hosts[moved_index..=moved_index], &known_swarms).run(&["plan", "--env", "lab"]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    let file = known_swarms.display();
    assert_eq!(
        refused.stderr,
        format!(
            "error: environment `lab`: the Docker daemon at {} is a manager of swarm {new_id}, \
             not of swarm {swarm_id}, which {file} records for this environment's hosts; if \
             the swarm was rebuilt on purpose, remove its hosts' lines from {file}\n",
            moved_to
        )
    );
}
