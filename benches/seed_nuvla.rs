//! Benchmark, side by side with the seed's own manual procedure: seed 001 (the shipped
//! config repo: firewall and NFS server on the hosts, the swarm, the NFS server's label,
//! traefik-public, Traefik with its certificate, Prometheus and Grafana, MinIO) from five
//! bare lab nodes to converged stacks. shoal: one `shoal apply --env staging`. By hand:
//! `benches/seed_nuvla_manual.sh`, the guide's steps in the same order with the docker CLI,
//! `ssh`, `scp` and `openssl`, every stack waited for until its services run all their
//! tasks (polled every half second, as shoal waits), its files prepared before the clock
//! starts. Goal: shoal at least 3 times
//! faster. Then a no-change `shoal apply` of the whole seed on the converged lab: goal
//! under 2 seconds.
//!
//! Every timed run starts on a new lab (`tests/lab/lab`, as `tests/it/seed_nuvla.rs`
//! uses: stand-in images, stand-ins for `exportfs` and `systemctl`), and the order of the
//! tools alternates from round to round. Run with `cargo build --release && cargo bench
//! --bench seed_nuvla` (as root, after `scripts/install-test-deps`). It reports figures;
//! it asserts nothing about time.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;
#[path = "swarm_bench.rs"]
#[expect(
    dead_code,
    reason = "the benchmark uses part of what the swarm benchmarks share"
)]
mod swarm_bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::lab::Lab;
use support::nuvla_lab::{STAND_IN_PROGRAMS, STAND_INS, write_config_repo};
use support::run;
use swarm_bench::{Samples, Summary, Tool, order};

/// What the test support expects of the test crate: where the project is.
mod test_repo {
    pub fn project_root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root")
            .to_path_buf()
    }
}

/// Timed installations of each tool, each on new lab nodes.
const ROUNDS: usize = 3;
/// Timed no-change runs of shoal on a converged lab.
const NO_CHANGE_RUNS: usize = 5;
/// How long one installation may take before the benchmark gives up.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

/// A new lab, ready for either tool: stand-ins in place, the config repo written.
struct Bench {
    lab: Lab,
    folder: tempfile::TempDir,
}

impl Bench {
    fn start() -> Bench {
        let lab = Lab::start_with_docker(5);
        lab.import_stand_in_images(STAND_INS);
        lab.install_stand_in_programs(STAND_IN_PROGRAMS);
        let folder = tempfile::tempdir().expect("a temporary folder");
        let bench = Bench { lab, folder };
        write_config_repo(&bench.lab, &bench.share(), &bench.repo());
        bench
    }

    fn repo(&self) -> PathBuf {
        self.folder.path().join("repo")
    }

    fn share(&self) -> PathBuf {
        self.folder.path().join("nfs-root")
    }

    fn files(&self) -> PathBuf {
        self.folder.path().join("manual")
    }

    /// `shoal apply --env staging` of the whole repo, in milliseconds.
    fn shoal_apply(&self, shoal: &Path) -> f64 {
        let mut command = Command::new(shoal);
        command
            .args(["apply", "--env", "staging", "--repo"])
            .arg(self.repo());
        let started = Instant::now();
        let output = run(&mut command, RUN_TIMEOUT);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        assert!(
            output.status.success(),
            "shoal apply failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed
    }

    /// The files the manual procedure starts from, written before its clock starts: the
    /// hosts' files and the stacks' as shoal renders them (`shoal render --out`).
    fn prepare_manual(&self, shoal: &Path) {
        let output = run(
            Command::new(shoal)
                .args(["render", "--env", "staging", "--repo"])
                .arg(self.repo())
                .arg("--out")
                .arg(self.files().join("rendered")),
            RUN_TIMEOUT,
        );
        assert!(
            output.status.success(),
            "shoal render failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `benches/seed_nuvla_manual.sh`, in milliseconds.
    fn manual(&self) -> f64 {
        let repo = self.repo();
        let mut command = Command::new("bash");
        command
            .arg(test_repo::project_root().join("benches/seed_nuvla_manual.sh"))
            .env("LAB", self.lab.folder())
            .env("NODES", self.lab.nodes.join(" "))
            .env("KEY", &self.lab.key)
            .env("KNOWN_HOSTS", &self.lab.known_hosts)
            .env("FILES", self.files())
            .env("SHARE", self.share())
            .env("CA_CERT", repo.join("pki/local/ca.pem"))
            .env("CA_KEY", repo.join("stacks/local-secrets/ca-key.pem"))
            .env("DOMAIN", "staging.example.org")
            .env("DOCKER_CONFIG", self.lab.folder().join("docker-cli"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT");
        let started = Instant::now();
        let output = run(&mut command, RUN_TIMEOUT);
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        assert!(
            output.status.success(),
            "the manual procedure failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed
    }

    /// Checks that the tool left what seed 001 asks for: five nodes, every service's
    /// tasks running.
    fn assert_converged(&self) {
        let nodes = self
            .lab
            .run_docker(1, &["node", "ls", "--format", "{{.Hostname}}"]);
        assert_eq!(nodes.lines().count(), 5, "{nodes}");
        let services = self
            .lab
            .run_docker(1, &["service", "ls", "--format", "{{.Name}} {{.Replicas}}"]);
        assert_eq!(services.lines().count(), 6, "{services}");
        for line in services.lines() {
            let replicas = line.split(' ').nth(1).unwrap_or_default();
            let (running, desired) = replicas.split_once('/').unwrap_or_default();
            assert!(
                running == desired && running != "0",
                "not converged: {services}"
            );
        }
    }
}

fn main() {
    let shoal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/shoal");
    assert!(
        shoal.exists(),
        "build shoal first: cargo build --release ({} missing)",
        shoal.display()
    );
    let mut samples = Samples::default();
    let mut unchanged = Vec::new();
    for round in 0..ROUNDS {
        for tool in order(round) {
            let bench = Bench::start();
            let milliseconds = match tool {
                Tool::Shoal => bench.shoal_apply(&shoal),
                Tool::Docker => {
                    bench.prepare_manual(&shoal);
                    bench.manual()
                }
            };
            bench.assert_converged();
            samples.push(tool, milliseconds);
            if matches!(tool, Tool::Shoal) && round == 0 {
                for _ in 0..NO_CHANGE_RUNS {
                    unchanged.push(bench.shoal_apply(&shoal));
                }
            }
        }
    }
    let manual = Summary::of(samples.docker);
    let shoal_run = Summary::of(samples.shoal);
    println!(
        "seed 001 from five bare lab nodes to converged stacks, {ROUNDS} runs of each, each on \
         new nodes; median (min to max):"
    );
    println!(
        "manual procedure (docker CLI, ssh) {manual}   shoal apply {shoal_run}   shoal is \
         {:.1}x faster",
        manual.median / shoal_run.median
    );
    println!(
        "no-change shoal apply of the whole seed, {NO_CHANGE_RUNS} runs: {}",
        Summary::of(unchanged)
    );
}
