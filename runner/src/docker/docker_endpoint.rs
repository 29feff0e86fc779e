//! Where a Docker daemon is and how to reach it: its host URL and, for `tcp://` hosts that
//! speak TLS, the certificates to present and trust.

use super::TlsMaterial;

#[derive(Debug, Clone)]
pub struct DockerEndpoint {
    /// Like `DOCKER_HOST`: `unix:///var/run/docker.sock`, `tcp://HOST:PORT`.
    pub host: String,
    /// Mutual TLS, for a `tcp://` host; `None` speaks plain HTTP.
    pub tls: Option<TlsMaterial>,
}

impl DockerEndpoint {
    /// An endpoint reached without TLS.
    pub fn plain(host: &str) -> DockerEndpoint {
        DockerEndpoint {
            host: host.to_owned(),
            tls: None,
        }
    }
}
