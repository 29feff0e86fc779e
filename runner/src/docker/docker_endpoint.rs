//! Where a Docker daemon is and how to reach it: its host URL and, for `tcp://` hosts that
//! speak TLS, the certificates to present and trust; for `ssh://` hosts, how to log in.

use super::TlsMaterial;
use crate::ssh::SshSettings;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerEndpoint {
    /// Like `DOCKER_HOST`: `unix:///var/run/docker.sock`, `tcp://HOST:PORT`.
    pub host: String,
    /// Mutual TLS, for a `tcp://` host; `None` speaks plain HTTP.
    pub tls: Option<TlsMaterial>,
    /// How to log in to an `ssh://` host: the environment's `ssh` block. `None`: the
    /// URL's user (else `USER`), the ssh-agent and `~/.ssh/known_hosts`.
    pub ssh: Option<SshLogin>,
}

/// The login for an `ssh://` Docker host, from the environment's `ssh` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshLogin {
    /// Used when the URL names no user.
    pub user: Option<String>,
    pub settings: SshSettings,
}

impl DockerEndpoint {
    /// An endpoint reached without TLS.
    pub fn plain(host: &str) -> DockerEndpoint {
        DockerEndpoint {
            host: host.to_owned(),
            tls: None,
            ssh: None,
        }
    }
}
