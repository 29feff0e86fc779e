//! A private Docker engine in swarm mode, shared by all the tests of one test process.
//!
//! It is started on first use by `scripts/private-dockerd supervise` in a fresh folder
//! under /tmp, and never touches the machine's own engine. It lives as long as the test
//! process: the supervisor script waits on a pipe from this process, which the kernel
//! closes when the process exits, however it exits, and then stops the engine, unmounts
//! what it mounted and deletes the folder (within seconds, after the test run returns).
//! An engine whose supervisor was itself killed is cleaned up at the next start.
//!
//! The engine runs in a network namespace of its own, linked to the host's by a veth
//! pair: its host-mode published ports answer at [`PrivateSwarm::address`], not on the
//! host's loopback, and it reaches services that tests run on the host (a registry) at
//! [`PrivateSwarm::host_address`]. Nothing it does touches another engine's ports or
//! devices, so test processes on one machine run side by side.
//!
//! [`PrivateSwarm::with_tls`] starts an engine of its own that also listens with mutual
//! TLS (`dockerd --tlsverify`) at [`PrivateSwarm::tls_host`], for the CA a test made.

use std::collections::HashSet;
use std::fs;
use std::net::Ipv4Addr;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::{read_in_background, run, run_successfully};

/// How long dockerd, `swarm init` and the script around them may take together.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long one `docker` command may take.
const DOCKER_TIMEOUT: Duration = Duration::from_secs(60);
/// The name of every engine's folder in /tmp starts with this, so stale ones can be found.
const FOLDER_PREFIX: &str = "shoal-swarm-";
/// Debian's busybox-static: a static binary, so an image needs nothing else.
const BUSYBOX: &str = "/bin/busybox";
/// The busybox applets linked into test images, so services can name them directly.
const APPLETS: &[&str] = &[
    "sh", "cat", "cp", "date", "echo", "env", "false", "grep", "head", "hostname", "httpd", "id",
    "kill", "ls", "mkdir", "mv", "nc", "nslookup", "printf", "ps", "rm", "sed", "sleep", "tail",
    "tee", "test", "touch", "true", "wc", "wget",
];
/// Test images idle until stopped, and stop at once: a shell that traps SIGTERM, where a
/// bare `sleep` as PID 1 ignores it and makes every stop wait out the grace period (10 s).
const IDLE_COMMAND: &str = r#"CMD ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while true; do sleep 3600 & wait; done"]"#;
const INSTALL_HINT: &str = "Tests that use Docker need dockerd (Debian's docker.io), the \
    docker CLI and busybox-static, and run as root: install them with \
    `scripts/install-test-deps`. These tests never skip.";

/// A running private engine in swarm mode; see the module documentation.
pub struct PrivateSwarm {
    folder: PathBuf,
    docker_host: String,
    address: Ipv4Addr,
    host_address: Ipv4Addr,
    /// `tcp://ADDRESS:2376`, when the engine listens with mutual TLS.
    tls_host: Option<String>,
    built_images: Mutex<HashSet<String>>,
    names_given: AtomicUsize,
    /// Holds the write end of the supervisor's standard input open for as long as this
    /// process lives: statics are never dropped, so only the process's exit closes it.
    _supervisor: Child,
}

impl PrivateSwarm {
    /// The engine of this test process, started by the first caller. Panics, in every test
    /// that asks, if it cannot start.
    pub fn shared() -> &'static PrivateSwarm {
        static SHARED: OnceLock<Result<PrivateSwarm, String>> = OnceLock::new();
        match SHARED.get_or_init(PrivateSwarm::start) {
            Ok(swarm) => swarm,
            Err(reason) => panic!("{reason}"),
        }
    }

    /// A new engine of its own, for a test whose churn of stacks should not meet other
    /// tests' on the shared one. It stops when the value is dropped. Panics if it cannot
    /// start.
    pub fn own() -> PrivateSwarm {
        PrivateSwarm::start().unwrap_or_else(|reason| panic!("{reason}"))
    }

    /// A new engine of its own that also listens with mutual TLS at
    /// [`PrivateSwarm::tls_host`]: its certificate is issued for its address by the CA in
    /// `ca_folder` (`ca.pem`, `ca-key.pem`), and it accepts the clients whose certificates
    /// that CA signed. It stops when the value is dropped. Panics if it cannot start.
    pub fn with_tls(ca_folder: &Path) -> PrivateSwarm {
        PrivateSwarm::start_with(Some(ca_folder)).unwrap_or_else(|reason| panic!("{reason}"))
    }

    /// `tcp://ADDRESS:2376` of an engine started [`PrivateSwarm::with_tls`].
    pub fn tls_host(&self) -> &str {
        self.tls_host
            .as_deref()
            .expect("an engine started with_tls")
    }

    /// Where the engine keeps everything: its sockets, data, logs and the CLI's config.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The engine's address, `unix://<folder>/docker.sock`, for `DOCKER_HOST`.
    pub fn docker_host(&self) -> &str {
        &self.docker_host
    }

    /// The engine's address in its network namespace, reachable from the host's: its
    /// swarm listens there, and host-mode published ports answer there.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The host's address as the engine sees it: a service a test runs on the host for
    /// the engine (a registry) listens there. The engine trusts it as an insecure
    /// registry, as it trusts 127.0.0.1.
    pub fn host_address(&self) -> Ipv4Addr {
        self.host_address
    }

    /// A `docker` CLI command that talks to this engine only, and reads a private config
    /// folder, never the user's.
    pub fn docker(&self) -> Command {
        let mut command = Command::new("docker");
        command
            .env("DOCKER_HOST", &self.docker_host)
            .env("DOCKER_CONFIG", self.folder.join("config"))
            // Each of these could point the CLI at another engine or pin an API version.
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .env_remove("DOCKER_CERT_PATH")
            .env_remove("DOCKER_API_VERSION")
            .stdin(Stdio::null());
        command
    }

    /// Runs `docker ARGS` against this engine, and returns its standard output; panics
    /// if it fails or takes more than a minute.
    pub fn run_docker(&self, args: &[&str]) -> String {
        run_successfully(self.docker().args(args), DOCKER_TIMEOUT)
    }

    /// Makes sure the engine has an image tagged `tag`, built from scratch with Debian's
    /// static busybox, its applets (`sh`, `sleep`, `httpd`, `wget`, …) linked in /bin, empty
    /// /tmp and /www folders, and a default command that idles until stopped. Built once
    /// per tag; returns the tag, to pass on to `docker service create`.
    pub fn image(&self, tag: &str) -> String {
        let mut built = self
            .built_images
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !built.contains(tag) {
            self.import_busybox_image(tag, built.len());
            built.insert(tag.to_owned());
        }
        tag.to_owned()
    }

    /// `prefix` followed by a number no other call in this process returned, so tests that
    /// share the engine do not collide on stack, service or network names.
    pub fn unique_name(&self, prefix: &str) -> String {
        let number = self.names_given.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{number}")
    }

    /// Waits until `service` has exactly `count` tasks that are running; panics with the
    /// service's tasks and their errors if that takes longer than `timeout`.
    pub fn wait_for_running_tasks(&self, service: &str, count: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let running = self.running_tasks(service);
            if running == count {
                return;
            }
            if Instant::now() > deadline {
                let tasks = run(
                    self.docker().args(["service", "ps", "--no-trunc", service]),
                    DOCKER_TIMEOUT,
                );
                panic!(
                    "service {service} has {running} running tasks, not {count}, after \
                     {timeout:?}; its tasks:\n{}{}",
                    String::from_utf8_lossy(&tasks.stdout),
                    String::from_utf8_lossy(&tasks.stderr),
                );
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    fn running_tasks(&self, service: &str) -> usize {
        let output = run(
            self.docker().args([
                "service",
                "ps",
                "--filter",
                "desired-state=running",
                "--format",
                "{{.CurrentState}}",
                service,
            ]),
            DOCKER_TIMEOUT,
        );
        // A service that is not there yet has no running task.
        if !output.status.success() {
            return 0;
        }
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|state| state.starts_with("Running"))
            .count()
    }

    fn start() -> Result<PrivateSwarm, String> {
        PrivateSwarm::start_with(None)
    }

    fn start_with(tls_ca: Option<&Path>) -> Result<PrivateSwarm, String> {
        remove_stale_engines();
        let folder = tempfile::Builder::new()
            .prefix(FOLDER_PREFIX)
            .tempdir_in("/tmp")
            .map_err(|error| format!("failed to make a folder in /tmp: {error}"))?
            .keep();
        let script = script();
        let mut supervisor = Command::new(&script);
        if let Some(ca) = tls_ca {
            supervisor.env("PRIVATE_DOCKERD_TLS_CA", ca);
        }
        let mut supervisor = supervisor
            .arg("supervise")
            .arg(&folder)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Out of the terminal's process group: a Ctrl-C ends the tests, and with them
            // the pipe, and the supervisor must live on to clean up.
            .process_group(0)
            .spawn()
            .map_err(|error| {
                format!(
                    "failed to run {}: {error}\n{INSTALL_HINT}",
                    script.display()
                )
            })?;

        // The supervisor closes its output once the engine is up, or exits if it fails.
        let stdout = read_in_background(supervisor.stdout.take());
        let stderr = read_in_background(supervisor.stderr.take());
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !(stdout.is_finished() && stderr.is_finished()) {
            if Instant::now() > deadline {
                // SIGTERM, so that the supervisor's trap stops what it started.
                let _ = run(
                    Command::new("kill").arg(supervisor.id().to_string()),
                    DOCKER_TIMEOUT,
                );
                return Err(format!(
                    "the private Docker engine in {} did not start within {STARTUP_TIMEOUT:?}\n\
                     {}",
                    folder.display(),
                    log_tail(&folder),
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
        let stdout = String::from_utf8_lossy(&stdout.join().expect("the reader does not panic"))
            .into_owned();
        let stderr = String::from_utf8_lossy(&stderr.join().expect("the reader does not panic"))
            .into_owned();

        let Some(docker_host) = stdout
            .lines()
            .find_map(|line| line.strip_prefix("export DOCKER_HOST="))
        else {
            // The script shows the end of dockerd's log itself when dockerd was the problem,
            // and keeps the folder for it; without a log, there is nothing worth keeping.
            let log = if stderr.contains("the end of its log") {
                String::new()
            } else {
                log_tail(&folder)
            };
            if !folder.join("dockerd.log").exists() {
                let _ = fs::remove_dir_all(&folder);
            }
            return Err(format!(
                "the private Docker engine did not start.\n{INSTALL_HINT}\n\n\
                 {} said:\n{stderr}{log}",
                script.display(),
            ));
        };
        let exported_address = |name: &str| {
            let prefix = format!("export {name}=");
            stdout
                .lines()
                .find_map(|line| line.strip_prefix(&prefix)?.parse().ok())
                .ok_or_else(|| format!("{} did not print {name}:\n{stdout}", script.display()))
        };
        let address = exported_address("PRIVATE_DOCKERD_ADDRESS")?;
        let host_address = exported_address("PRIVATE_DOCKERD_HOST_ADDRESS")?;
        let tls_host = stdout
            .lines()
            .find_map(|line| line.strip_prefix("export PRIVATE_DOCKERD_TLS_HOST="))
            .map(str::to_owned);
        if tls_ca.is_some() && tls_host.is_none() {
            return Err(format!(
                "{} did not print PRIVATE_DOCKERD_TLS_HOST:\n{stdout}",
                script.display()
            ));
        }
        // Warnings are worth seeing.
        if !stderr.trim().is_empty() {
            eprintln!("{}", stderr.trim_end());
        }
        Ok(PrivateSwarm {
            docker_host: docker_host.to_owned(),
            address,
            host_address,
            tls_host,
            folder,
            built_images: Mutex::new(HashSet::new()),
            names_given: AtomicUsize::new(0),
            _supervisor: supervisor,
        })
    }

    /// Imports a one-layer image, the same as a Dockerfile `FROM scratch` that copies in a
    /// root folder, but without a builder: the 28.x CLI wants buildx for `docker build`,
    /// and the legacy builder it falls back to is deprecated.
    fn import_busybox_image(&self, tag: &str, number: usize) {
        import_busybox_image(
            &mut self.docker(),
            &self.folder.join("images").join(number.to_string()),
            tag,
        );
    }
}

/// How a stand-in for a real program idles whatever arguments a service gives it: its
/// ENTRYPOINT (as scripts/quickstart's stand-ins), which a service's `command` does not
/// replace.
const STAND_IN_ENTRYPOINT: &str = r#"ENTRYPOINT ["/bin/busybox", "sh", "-c", "trap 'exit 0' TERM INT; while true; do sleep 3600 & wait; done", "stand-in"]"#;

/// Imports the busybox image (see [`PrivateSwarm::image`]) as `tag` through `docker` (a
/// docker command for some engine), building its tree in the new folder `root`.
pub fn import_busybox_image(docker: &mut Command, root: &Path, tag: &str) {
    import_busybox_tree(docker, root, tag, IDLE_COMMAND);
}

/// Imports a stand-in for a real program's image as `tag`: busybox idling by its
/// ENTRYPOINT, whatever command a service gives it (see [`import_busybox_image`]).
pub fn import_stand_in_image(docker: &mut Command, root: &Path, tag: &str) {
    import_busybox_tree(docker, root, tag, STAND_IN_ENTRYPOINT);
}

fn import_busybox_tree(docker: &mut Command, root: &Path, tag: &str, change: &str) {
    {
        assert!(
            Path::new(BUSYBOX).exists(),
            "{BUSYBOX} is missing, and test images are made of it.\n{INSTALL_HINT}"
        );
        for folder in ["bin", "tmp", "www"] {
            fs::create_dir_all(root.join(folder)).expect("the engine's folder is writable");
        }
        fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777))
            .expect("the image's /tmp is ours");
        fs::copy(BUSYBOX, root.join("bin/busybox")).expect("busybox can be copied");
        for applet in APPLETS {
            symlink("busybox", root.join("bin").join(applet)).expect("a fresh folder");
        }

        let mut tar = Command::new("tar")
            .args([
                "--create",
                "--numeric-owner",
                "--owner=0",
                "--group=0",
                "--directory",
            ])
            .arg(root)
            .arg(".")
            .stdout(Stdio::piped())
            .spawn()
            .expect("tar runs");
        let archive = tar.stdout.take().expect("tar's output is piped");
        run_successfully(
            docker
                .args(["import", "--change", change, "-", tag])
                .stdin(archive),
            DOCKER_TIMEOUT,
        );
        let status = tar.wait().expect("tar can be waited for");
        assert!(status.success(), "tar failed to archive {}", root.display());
    }
}

/// The script that starts, supervises and stops private engines.
fn script() -> PathBuf {
    crate::test_repo::project_root().join("scripts/private-dockerd")
}

/// Stops the engines of earlier test processes whose supervisor died without cleaning up
/// (killed with SIGKILL, or the machine restarted), and deletes their folders.
fn remove_stale_engines() {
    let Ok(entries) = fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let folder = entry.path();
        let is_engine_folder = entry
            .file_name()
            .to_str()
            .is_some_and(|name| name.starts_with(FOLDER_PREFIX));
        // A folder without a supervisor's pid may be one that another process is starting.
        let Ok(pid) = fs::read_to_string(folder.join("supervisor.pid")) else {
            continue;
        };
        if !is_engine_folder || supervisor_is_alive(pid.trim(), &folder) {
            continue;
        }
        if !folder.join(".private-dockerd").exists() {
            // Its supervisor failed before starting anything: there are only files.
            let _ = fs::remove_dir_all(&folder);
            continue;
        }
        let stop = run(
            Command::new(script()).arg("stop").arg(&folder),
            STARTUP_TIMEOUT,
        );
        if !stop.status.success() {
            eprintln!(
                "failed to clean up the stale private Docker engine in {}:\n{}",
                folder.display(),
                String::from_utf8_lossy(&stop.stderr),
            );
        }
    }
}

/// Whether `pid` is a `private-dockerd supervise` for `folder`, not just any process
/// that reuses the number.
fn supervisor_is_alive(pid: &str, folder: &Path) -> bool {
    let Ok(command_line) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let command_line = String::from_utf8_lossy(&command_line);
    command_line.contains("private-dockerd") && command_line.contains(&*folder.to_string_lossy())
}

/// The last lines of dockerd's log in `folder`, for a failure message; nothing if dockerd
/// never got to write one.
fn log_tail(folder: &Path) -> String {
    let log = folder.join("dockerd.log");
    let Ok(text) = fs::read_to_string(&log) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
    format!("\nthe end of {}:\n{tail}", log.display())
}
