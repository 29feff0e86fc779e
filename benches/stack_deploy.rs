//! Benchmark, side by side with `docker stack deploy` on the same private swarm: deploying
//! a 50-service stack (a) the first time, (b) again with no change, (c) with one service
//! changed. Goals: (b) at least 10 times faster than docker, (a) at least 2 times.
//! Run with `cargo bench --bench stack_deploy` (as root, after `scripts/install-test-deps`).
//! Neither tool waits for tasks to start here (`docker stack deploy` does not by default,
//! and the shoal step says `wait: false`): both measure planning and API calls.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use support::PrivateSwarm;

/// What the test support expects of the test crate: where the project is.
mod test_repo {
    pub fn project_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }
}

const SERVICES: usize = 50;
const ROUNDS: usize = 5;
const SETTLE: Duration = Duration::from_secs(3);

fn main() {
    let swarm = PrivateSwarm::shared();
    let image = swarm.image("shoal-bench/busybox:1");
    let shoal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/shoal");
    assert!(
        shoal.exists(),
        "build shoal first: cargo build --release ({} missing)",
        shoal.display()
    );
    let folder = tempfile::tempdir().expect("temporary folder");
    let repo = folder.path().join("repo");
    std::fs::create_dir_all(repo.join("workflows")).expect("folders");
    std::fs::write(
        repo.join("shoal.yml"),
        format!(
            "environments:\n  bench:\n    docker: {{ host: \"{}\" }}\n",
            swarm.docker_host()
        ),
    )
    .expect("shoal.yml");
    std::fs::write(
        repo.join("workflows/deploy.yml"),
        "steps:\n  - stack: { name: benchs, compose: stack.yml, wait: false, prune: true }\n",
    )
    .expect("workflow");
    let docker_file = folder.path().join("docker-stack.yml");

    let docker_deploy = || {
        timed(
            swarm
                .docker()
                .args(["stack", "deploy", "--resolve-image", "never", "-c"])
                .arg(&docker_file)
                .arg("benchd"),
        )
    };
    let shoal_deploy = || {
        timed(
            Command::new(&shoal)
                .args(["apply", "--env", "bench", "--repo"])
                .arg(&repo),
        )
    };
    let write_stacks = |version: usize| {
        let compose = compose(&image, version);
        std::fs::write(&docker_file, &compose).expect("docker compose file");
        std::fs::write(repo.join("stack.yml"), &compose).expect("shoal compose file");
    };

    // Each round alternates which tool goes first, so that neither always meets a daemon
    // still busy with the other's work.
    let mut first = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        write_stacks(0);
        if round % 2 == 0 {
            first.0.push(docker_deploy());
            first.1.push(shoal_deploy());
        } else {
            first.1.push(shoal_deploy());
            first.0.push(docker_deploy());
        }
        remove_stacks(swarm);
    }
    write_stacks(0);
    docker_deploy();
    shoal_deploy();
    let mut unchanged = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        if round % 2 == 0 {
            unchanged.0.push(docker_deploy());
            unchanged.1.push(shoal_deploy());
        } else {
            unchanged.1.push(shoal_deploy());
            unchanged.0.push(docker_deploy());
        }
    }
    let mut one_changed = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        write_stacks(round);
        if round % 2 == 0 {
            one_changed.0.push(docker_deploy());
            one_changed.1.push(shoal_deploy());
        } else {
            one_changed.1.push(shoal_deploy());
            one_changed.0.push(docker_deploy());
        }
    }
    remove_stacks(swarm);

    println!("{SERVICES}-service stack, median of runs, same private swarm:");
    for (name, (docker, shoal)) in [
        ("(a) first deploy", first),
        ("(b) redeploy, no change", unchanged),
        ("(c) one service changed", one_changed),
    ] {
        let docker = median(docker);
        let shoal = median(shoal);
        println!(
            "{name:<26} docker stack deploy {:>7.1} ms   shoal apply {:>7.1} ms   shoal is {:.1}x faster",
            docker.as_secs_f64() * 1000.0,
            shoal.as_secs_f64() * 1000.0,
            docker.as_secs_f64() / shoal.as_secs_f64()
        );
    }
}

/// A stack of [`SERVICES`] services; `version` changes the environment of service 0 only.
fn compose(image: &str, version: usize) -> String {
    let mut text = String::from("version: \"3.8\"\nservices:\n");
    for index in 0..SERVICES {
        let revision = if index == 0 { version } else { 0 };
        text.push_str(&format!(
            "  svc{index:02}:\n    image: {image}\n    environment:\n      INDEX: \"{index}\"\n      REVISION: \"{revision}\"\n    labels:\n      bench.service: svc{index:02}\n    deploy:\n      replicas: 1\n      labels:\n        bench.tier: t{}\n      restart_policy: {{ condition: any, delay: 5s }}\n      resources:\n        limits: {{ memory: 32M }}\n",
            index % 5
        ));
    }
    text
}

/// Runs `command` once the daemon has had time to finish the background work of the run
/// before (docker's updates of unchanged services keep it busy for a while), so that each
/// tool meets a quiet daemon.
fn timed(command: &mut Command) -> Duration {
    std::thread::sleep(SETTLE);
    let started = Instant::now();
    let output = command.output().expect("runs");
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "{:?} failed:\n{}{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

fn remove_stacks(swarm: &PrivateSwarm) {
    for stack in ["benchd", "benchs"] {
        let _ = swarm.docker().args(["stack", "rm", stack]).output();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let services = swarm.run_docker(&["service", "ls", "-q"]);
        let networks = swarm.run_docker(&[
            "network",
            "ls",
            "-q",
            "--filter",
            "label=com.docker.stack.namespace",
        ]);
        if services.trim().is_empty() && networks.trim().is_empty() {
            // Containers go on stopping in the background for a few seconds more.
            std::thread::sleep(Duration::from_secs(5));
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("stacks were not removed within 2 minutes");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
