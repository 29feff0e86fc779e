//! A real registry for the registry push tests: Debian's `docker-registry`, its
//! notifications pointed at a `shoal serve` on loopback with a bearer token.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{free_tcp_port, http_get_at};

/// The bearer token the registry sends with its notifications (`shoal serve
/// --registry-token-file` holds it).
pub const TOKEN: &str = "registry-notification-token";
const REGISTRY_PROGRAM: &str = "/usr/bin/docker-registry";

/// A `docker-registry` process, killed when dropped, also when a test panics.
pub struct Registry {
    child: Child,
    /// Where it listens, `address:port`: the name of its repositories' images.
    pub host: String,
}

impl Registry {
    /// Starts a registry on `address`:FREEPORT that stores in `folder` and notifies
    /// 127.0.0.1:`notify_port`'s `/hooks/registry` with the bearer token, retrying every
    /// second.
    pub fn start(address: Ipv4Addr, folder: &Path, notify_port: u16) -> Registry {
        assert!(
            Path::new(REGISTRY_PROGRAM).exists(),
            "{REGISTRY_PROGRAM} is missing: install Debian's docker-registry with \
             scripts/install-test-deps. This test never skips."
        );
        let port = free_tcp_port();
        let config = folder.join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\n\
                 log: {{ level: info }}\n\
                 storage:\n  filesystem: {{ rootdirectory: {storage} }}\n\
                 http: {{ addr: \"{address}:{port}\" }}\n\
                 notifications:\n  endpoints:\n    - name: shoal\n      \
                 url: http://127.0.0.1:{notify_port}/hooks/registry\n      \
                 headers: {{ Authorization: [\"Bearer {TOKEN}\"] }}\n      \
                 timeout: 2s\n      threshold: 3\n      backoff: 1s\n",
                storage = folder.join("storage").display(),
            ),
        )
        .expect("the registry's config");
        let log = std::fs::File::create(folder.join("registry.log")).expect("a log file");
        let child = Command::new(REGISTRY_PROGRAM)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry {
            child,
            host: format!("{address}:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_get_at(address, port, "/v2/", Duration::from_secs(2))
            .map(|r| r.status)
            .ok()
            != Some(200)
        {
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on {address}:{port}:\n{}",
                std::fs::read_to_string(folder.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        registry
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
