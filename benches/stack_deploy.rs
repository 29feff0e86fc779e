//! Benchmark, side by side with `docker stack deploy` on the same private swarm: deploying
//! a 50-service stack (a) the first time, (b) again with no change, (c) with one service
//! changed. Goals: (b) at least 10 times faster than docker, (a) at least 2 times.
//! Run with `cargo build --release && cargo bench --bench stack_deploy` (as root, after
//! `scripts/install-test-deps`). It reports figures; it asserts nothing about time.
//!
//! Both tools deploy the identical compose file, each to a stack of its own. Neither waits
//! for tasks to start (`docker stack deploy` does not by default, and the shoal step says
//! `wait: false`), and docker does not ask a registry (`--resolve-image never`): both
//! measure planning and API calls. What the daemon does after a deploy returns (starting
//! or stopping 50 containers, for ten seconds or more on a small machine) is not either
//! tool's work, so every timed run starts on a quiet swarm (see `swarm_bench::wait_until_quiet`), and
//! the order of the tools alternates from round to round.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;

#[path = "swarm_bench.rs"]
mod swarm_bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use support::PrivateSwarm;
use swarm_bench::{
    SERVICES, Samples, Summary, Tool, compose, order, remove_stacks, wait_until_quiet,
};

/// What the test support expects of the test crate: where the project is.
mod test_repo {
    pub fn project_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }
}

/// Timed runs of each tool in each case.
const ROUNDS: usize = 9;

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
    let bench = Bench {
        swarm,
        shoal,
        repo: folder.path().join("repo"),
        docker_file: folder.path().join("docker-stack.yml"),
        image,
    };
    bench.write_repo();

    // (a) Each tool's first deploy meets a swarm without either stack.
    let mut first = Samples::default();
    bench.write_stacks(0);
    for round in 0..ROUNDS {
        for tool in order(round) {
            remove_stacks(swarm);
            wait_until_quiet(swarm, 0);
            first.push(tool, bench.deploy(tool));
        }
    }
    remove_stacks(swarm);
    wait_until_quiet(swarm, 0);

    // (b) Both stacks deployed and running; each tool deploys its own again, unchanged.
    bench.deploy(Tool::Docker);
    bench.deploy(Tool::Shoal);
    let mut unchanged = Samples::default();
    for round in 0..ROUNDS {
        for tool in order(round) {
            wait_until_quiet(swarm, 2 * SERVICES);
            unchanged.push(tool, bench.deploy(tool));
        }
    }

    // (c) One service's environment changes in each round.
    let mut one_changed = Samples::default();
    for round in 0..ROUNDS {
        bench.write_stacks(round + 1);
        for tool in order(round) {
            wait_until_quiet(swarm, 2 * SERVICES);
            one_changed.push(tool, bench.deploy(tool));
        }
    }
    remove_stacks(swarm);

    println!(
        "{SERVICES}-service stack, same private swarm, {ROUNDS} runs of each tool per case, \
         each on a quiet swarm; median (min to max):"
    );
    for (name, samples) in [
        ("(a) first deploy", first),
        ("(b) redeploy, no change", unchanged),
        ("(c) one service changed", one_changed),
    ] {
        let docker = Summary::of(samples.docker);
        let shoal = Summary::of(samples.shoal);
        println!(
            "{name:<24} docker stack deploy {docker}   shoal apply {shoal}   shoal is {:.1}x faster",
            docker.median / shoal.median
        );
    }
}

struct Bench<'a> {
    swarm: &'a PrivateSwarm,
    shoal: PathBuf,
    /// shoal's config repo, deploying stack `benchs`.
    repo: PathBuf,
    /// docker's compose file, deployed as stack `benchd`.
    docker_file: PathBuf,
    image: String,
}

impl Bench<'_> {
    fn write_repo(&self) {
        std::fs::create_dir_all(self.repo.join("workflows")).expect("folders");
        std::fs::write(
            self.repo.join("shoal.yml"),
            format!(
                "environments:\n  bench:\n    docker: {{ host: \"{}\" }}\n",
                self.swarm.docker_host()
            ),
        )
        .expect("shoal.yml");
        std::fs::write(
            self.repo.join("workflows/deploy.yml"),
            "steps:\n  - stack: { name: benchs, compose: stack.yml, wait: false, prune: true }\n",
        )
        .expect("workflow");
        self.git(&["init", "--quiet", "--initial-branch=main"]);
    }

    /// Gives both tools the same compose file, at `version`, committed in shoal's config
    /// repo: shoal runs in a git checkout, as its users do, and reads the commit there.
    fn write_stacks(&self, version: usize) {
        let compose = compose(&self.image, version);
        std::fs::write(&self.docker_file, &compose).expect("docker compose file");
        std::fs::write(self.repo.join("stack.yml"), &compose).expect("shoal compose file");
        self.git(&["add", "--all"]);
        self.git(&[
            "commit",
            "--quiet",
            "--message",
            &format!("Version {version}"),
        ]);
    }

    fn git(&self, args: &[&str]) {
        let status = Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .args([
                "-c",
                "user.name=bench",
                "-c",
                "user.email=bench@example.org",
            ])
            .args(args)
            .status()
            .expect("git runs (scripts/install-test-deps installs it)");
        assert!(status.success(), "git {args:?} failed");
    }

    /// Runs one deploy of `tool`, which must succeed; how long it took, in milliseconds.
    fn deploy(&self, tool: Tool) -> f64 {
        let mut command = match tool {
            Tool::Docker => {
                let mut command = self.swarm.docker();
                command
                    .args(["stack", "deploy", "--resolve-image", "never", "-c"])
                    .arg(&self.docker_file)
                    .arg("benchd");
                command
            }
            Tool::Shoal => {
                let mut command = Command::new(&self.shoal);
                command
                    .args(["apply", "--env", "bench", "--repo"])
                    .arg(&self.repo);
                command
            }
        };
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
        elapsed.as_secs_f64() * 1000.0
    }
}
