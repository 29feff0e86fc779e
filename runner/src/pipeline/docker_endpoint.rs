//! Which Docker daemon an environment is reached at.

use crate::model::Environment;

/// The daemon for `environment`: the caller's override (`--docker-host`, a test swarm),
/// else the environment's `docker.host`, else `DOCKER_HOST`, else the local socket. The
/// CLI and the daemon choose alike.
pub fn docker_host(override_host: Option<&str>, environment: &Environment) -> String {
    override_host
        .map(str::to_owned)
        .or_else(|| {
            environment
                .docker
                .as_ref()
                .map(|docker| docker.host.value.clone())
        })
        .or_else(|| {
            std::env::var("DOCKER_HOST")
                .ok()
                .filter(|host| !host.is_empty())
        })
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned())
}
