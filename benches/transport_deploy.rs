//! Benchmark, side by side with `docker stack deploy` through the same remote endpoint: an
//! unchanged redeploy of the 50-service stack of `stack_deploy` through mutual TLS
//! (`dockerd --tlsverify`) and through `ssh://` (a lab node's OpenSSH sshd in front of the
//! engine's socket). Goal: shoal at least 10 times faster through either transport. Then
//! the time of one API call through shoal's client (`GET /_ping`, after a warm-up) over
//! the unix socket, TLS and SSH: TLS should add at most 1 ms per call. `/_ping` costs the
//! daemon next to nothing (`/version` also collects the versions of its components, about
//! 6 ms here), so the time is the transport's.
//! Run with `cargo build --release && cargo bench --bench transport_deploy` (as root, after
//! `scripts/install-test-deps`). It reports figures; it asserts nothing about time.
//!
//! The docker CLI reaches `ssh://` hosts by starting OpenSSH's `ssh` (per connection) to run
//! `docker system dial-stdio` on the host; here `ssh` is a two-line wrapper that adds the
//! lab's key and known_hosts. shoal speaks SSH itself and forwards the socket over one
//! connection. As in `stack_deploy`, every timed run starts on a quiet swarm, and the order
//! of the tools alternates from round to round.

#[path = "../tests/it/support/mod.rs"]
#[expect(dead_code, reason = "the benchmark uses part of the test support")]
mod support;
#[path = "swarm_bench.rs"]
mod swarm_bench;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use shoal::docker::{
    DockerEndpoint, EngineConnections, EngineConnector, PemText, SshLogin, TlsMaterial,
};
use shoal::ssh::SshSettings;
use support::PrivateSwarm;
use support::lab::Lab;
use support::test_pki::TestCa;
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

/// Timed redeploys of each tool through each transport.
const ROUNDS: usize = 9;
/// Rounds of the per-call measure; each times [`CALLS`] calls on every transport.
const CALL_ROUNDS: usize = 5;
const CALLS: usize = 500;
/// Calls made before timing, so that connections are open and warm.
const WARM_UP_CALLS: usize = 20;
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Unix,
    Tls,
    Ssh,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Unix => "unix socket",
            Transport::Tls => "mutual TLS",
            Transport::Ssh => "ssh://",
        }
    }

    /// The environment of shoal's config repo that reaches the engine this way.
    fn environment(self) -> &'static str {
        match self {
            Transport::Unix => "unix",
            Transport::Tls => "tls",
            Transport::Ssh => "ssh",
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
    let ca = TestCa::new("shoal bench CA");
    let (client, client_key) = ca.client("bench");
    let swarm = PrivateSwarm::with_tls(ca.folder());
    let lab = Lab::start(1);
    let image = swarm.image("shoal-bench/busybox:1");
    let folder = tempfile::tempdir().expect("temporary folder");
    let bench = Bench {
        swarm: &swarm,
        lab: &lab,
        shoal,
        repo: folder.path().join("repo"),
        docker_file: folder.path().join("docker-stack.yml"),
        cert_path: folder.path().join("docker-certs"),
        ssh_wrapper: folder.path().join("bin"),
        ca: ca.certificate(),
        client,
        client_key,
    };
    bench.write_repo(&image);
    bench.write_docker_files();

    // Both stacks deployed through the socket and running; not timed.
    remove_stacks(&swarm);
    wait_until_quiet(&swarm, 0);
    bench.deploy(Tool::Docker, Transport::Unix);
    bench.deploy(Tool::Shoal, Transport::Unix);

    let mut redeploys = Vec::new();
    for transport in [Transport::Tls, Transport::Ssh] {
        let mut samples = Samples::default();
        for round in 0..ROUNDS {
            for tool in order(round) {
                wait_until_quiet(&swarm, 2 * SERVICES);
                samples.push(tool, bench.deploy(tool, transport));
            }
        }
        redeploys.push((transport, samples));
    }
    remove_stacks(&swarm);

    let per_call = bench.per_call_times();

    println!(
        "{SERVICES}-service stack redeployed unchanged through each transport, {ROUNDS} runs \
         of each tool, each on a quiet swarm; median (min to max):"
    );
    for (transport, samples) in redeploys {
        let docker = Summary::of(samples.docker);
        let shoal = Summary::of(samples.shoal);
        println!(
            "{:<12} docker stack deploy {docker}   shoal apply {shoal}   shoal is {:.1}x faster",
            transport.name(),
            docker.median / shoal.median
        );
    }
    println!(
        "One GET /_ping through shoal's client, {CALLS} sequential calls per round, \
         {CALL_ROUNDS} rounds; median of the rounds' means (min to max), in microseconds:"
    );
    let unix = Summary::of(per_call[0].1.clone());
    for (transport, times) in per_call {
        let summary = Summary::of(times);
        println!(
            "{:<12} {:>6.0} us ({:.0} to {:.0})   {:+.0} us against the unix socket",
            transport.name(),
            summary.median,
            summary.min,
            summary.max,
            summary.median - unix.median
        );
    }
}

struct Bench<'a> {
    swarm: &'a PrivateSwarm,
    lab: &'a Lab,
    shoal: PathBuf,
    /// shoal's config repo, deploying stack `benchs` in each environment.
    repo: PathBuf,
    /// docker's compose file, deployed as stack `benchd`.
    docker_file: PathBuf,
    /// `DOCKER_CERT_PATH` of the docker CLI: `ca.pem`, `cert.pem`, `key.pem`.
    cert_path: PathBuf,
    /// A folder whose `ssh` logs in to the lab's node with its key and known_hosts.
    ssh_wrapper: PathBuf,
    ca: PathBuf,
    client: PathBuf,
    client_key: PathBuf,
}

impl Bench<'_> {
    fn tls_host(&self) -> &str {
        self.swarm.tls_host()
    }

    /// `ssh://root@NODE/…/docker.sock`: the engine's socket through node 1's sshd (a
    /// path-named Unix socket is the same file in every network namespace).
    fn ssh_host(&self) -> String {
        let socket = self
            .swarm
            .docker_host()
            .strip_prefix("unix://")
            .expect("the engine listens on a unix socket");
        format!("ssh://root@{}{socket}", self.lab.nodes[0])
    }

    /// The config repo, with one environment per transport, and the stack committed.
    fn write_repo(&self, image: &str) {
        let environments = format!(
            "environments:\n  unix:\n    docker: {{ host: \"{unix}\" }}\n  tls:\n    docker:\n      \
             host: \"{tls}\"\n      tls: {{ ca: \"{ca}\", cert: \"{cert}\", key: \"{key}\" }}\n  \
             ssh:\n    docker: {{ host: \"{ssh}\" }}\n    ssh: {{ user: root, identity: \
             \"{identity}\", known_hosts: \"{known_hosts}\" }}\n",
            unix = self.swarm.docker_host(),
            tls = self.tls_host(),
            ca = self.ca.display(),
            cert = self.client.display(),
            key = self.client_key.display(),
            ssh = self.ssh_host(),
            identity = self.lab.key.display(),
            known_hosts = self.lab.known_hosts.display(),
        );
        write(&self.repo.join("shoal.yml"), &environments);
        write(
            &self.repo.join("workflows/deploy.yml"),
            "steps:\n  - stack: { name: benchs, compose: stack.yml, wait: false, prune: true }\n",
        );
        let compose = compose(image, 0);
        write(&self.repo.join("stack.yml"), &compose);
        write(&self.docker_file, &compose);
        for args in [
            &["init", "--quiet", "--initial-branch=main"][..],
            &["add", "--all"],
            &["commit", "--quiet", "--message", "The stack"],
        ] {
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
    }

    /// The docker CLI's certificate folder, and the `ssh` it starts for `ssh://` hosts.
    fn write_docker_files(&self) {
        std::fs::create_dir_all(&self.cert_path).expect("a folder");
        for (from, to) in [
            (&self.ca, "ca.pem"),
            (&self.client, "cert.pem"),
            (&self.client_key, "key.pem"),
        ] {
            std::fs::copy(from, self.cert_path.join(to)).expect("copies a certificate");
        }
        let ssh = program_on_path("ssh").expect("OpenSSH's ssh (scripts/install-test-deps)");
        let wrapper = self.ssh_wrapper.join("ssh");
        write(
            &wrapper,
            &format!(
                "#!/bin/sh\nexec {} -i {} -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes \
                 -o BatchMode=yes \"$@\"\n",
                ssh.display(),
                self.lab.key.display(),
                self.lab.known_hosts.display()
            ),
        );
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .expect("the wrapper is executable");
    }

    /// Runs one deploy of `tool` through `transport`, which must succeed; how long it
    /// took, in milliseconds.
    fn deploy(&self, tool: Tool, transport: Transport) -> f64 {
        let mut command = match tool {
            Tool::Docker => {
                let mut command = self.swarm.docker();
                match transport {
                    Transport::Unix => {}
                    Transport::Tls => {
                        command
                            .env("DOCKER_HOST", self.tls_host())
                            .env("DOCKER_TLS_VERIFY", "1")
                            .env("DOCKER_CERT_PATH", &self.cert_path);
                    }
                    Transport::Ssh => {
                        let path = std::env::var_os("PATH").unwrap_or_default();
                        let mut paths = vec![self.ssh_wrapper.clone()];
                        paths.extend(std::env::split_paths(&path));
                        command
                            .env("DOCKER_HOST", self.ssh_host())
                            .env("PATH", std::env::join_paths(paths).expect("a PATH"));
                    }
                }
                command
                    .args(["stack", "deploy", "--resolve-image", "never", "-c"])
                    .arg(&self.docker_file)
                    .arg("benchd");
                command
            }
            Tool::Shoal => {
                let mut command = Command::new(&self.shoal);
                command
                    .args(["apply", "--env", transport.environment(), "--repo"])
                    .arg(&self.repo)
                    .env_remove("DOCKER_HOST");
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
        if matches!((tool, transport), (Tool::Shoal, Transport::Ssh)) {
            // The transport measured is socket forwarding, not the dial-stdio fallback.
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains("over SSH (direct-streamlocal)"),
                "shoal did not forward the socket: {stderr}"
            );
        }
        elapsed.as_secs_f64() * 1000.0
    }

    /// The mean time of one `GET /_ping` through shoal's client over each transport,
    /// in microseconds, per round; the unix socket first. The transports' order rotates
    /// from round to round.
    fn per_call_times(&self) -> Vec<(Transport, Vec<f64>)> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let transports = [Transport::Unix, Transport::Tls, Transport::Ssh];
        let mut times: Vec<(Transport, Vec<f64>)> = transports
            .iter()
            .map(|transport| (*transport, Vec::new()))
            .collect();
        runtime.block_on(async {
            let mut clients = Vec::new();
            for transport in transports {
                let connector = EngineConnector::for_endpoint(&self.endpoint(transport))
                    .unwrap_or_else(|error| panic!("{}: {error}", transport.name()));
                clients.push(EngineConnections::new(connector));
            }
            for round in 0..CALL_ROUNDS {
                for offset in 0..transports.len() {
                    let index = (round + offset) % transports.len();
                    let mean = mean_call_time(&clients[index], transports[index]).await;
                    times[index].1.push(mean);
                }
            }
        });
        times
    }

    /// How shoal's client reaches the engine through `transport`.
    fn endpoint(&self, transport: Transport) -> DockerEndpoint {
        match transport {
            Transport::Unix => DockerEndpoint::plain(self.swarm.docker_host()),
            Transport::Tls => {
                let pem = |path: &Path| PemText {
                    origin: path.display().to_string(),
                    pem: std::fs::read(path).expect("reads a certificate"),
                };
                DockerEndpoint {
                    host: self.tls_host().to_owned(),
                    tls: Some(TlsMaterial {
                        ca: pem(&self.ca),
                        cert: pem(&self.client),
                        key: pem(&self.client_key),
                    }),
                    ssh: None,
                }
            }
            Transport::Ssh => {
                let mut settings = SshSettings::new(self.lab.known_hosts.clone());
                settings.identity = Some(self.lab.key.clone());
                DockerEndpoint {
                    host: self.ssh_host(),
                    tls: None,
                    ssh: Some(SshLogin {
                        user: Some("root".to_owned()),
                        settings,
                    }),
                }
            }
        }
    }
}

/// The mean time of one of [`CALLS`] sequential `GET /_ping` calls through
/// `connections` (shoal's pool of connections to the engine, as its client uses it), in
/// microseconds, after [`WARM_UP_CALLS`] untimed ones. Each answer is read to its end.
async fn mean_call_time(connections: &EngineConnections, transport: Transport) -> f64 {
    use http_body_util::BodyExt as _;
    let call = || async {
        let request = hyper::Request::get("/_ping")
            .body(http_body_util::Empty::<hyper::body::Bytes>::new())
            .expect("a request");
        let answer = tokio::time::timeout(CALL_TIMEOUT, async {
            let response = connections.send(request).await?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|error| error.to_string())?
                .to_bytes();
            Ok::<_, String>((status, body))
        })
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {CALL_TIMEOUT:?}")));
        let (status, body) =
            answer.unwrap_or_else(|error| panic!("GET /_ping over {}: {error}", transport.name()));
        assert!(
            status.is_success() && body.as_ref() == b"OK",
            "GET /_ping over {}: {status}",
            transport.name()
        );
    };
    for _ in 0..WARM_UP_CALLS {
        call().await;
    }
    let started = Instant::now();
    for _ in 0..CALLS {
        call().await;
    }
    started.elapsed().as_secs_f64() * 1_000_000.0 / CALLS as f64
}

/// Where `program` is on `PATH`.
fn program_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|folder| folder.join(program))
        .find(|candidate| candidate.is_file())
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
    std::fs::write(path, text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
}
