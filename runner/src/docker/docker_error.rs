//! What can go wrong talking to a Docker daemon.

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "unsupported Docker host `{host}`: use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST"
    )]
    UnsupportedHost { host: String },
    /// A host shoal accepts in shoal.yml but cannot reach yet; refused before connecting.
    #[error(
        "{what}: shoal refuses to connect to `{host}`; use unix:///path/to/docker.sock or tcp://HOST:PORT"
    )]
    NotImplemented { host: String, what: &'static str },
    /// The TLS material cannot be used (a PEM that holds no certificate or key).
    #[error("cannot connect to the Docker daemon at {host} over TLS: {reason}")]
    Tls { host: String, reason: String },
    #[error("cannot connect to the Docker daemon at {host}")]
    Connect {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("cannot connect to the Docker daemon at {host}: {reason}")]
    Unreachable { host: String, reason: String },
    #[error("Docker daemon at {host} did not answer {operation} within {seconds} s")]
    Timeout {
        host: String,
        operation: String,
        seconds: u64,
    },
    #[error("{operation} failed: {message}")]
    Api { operation: String, message: String },
    /// The connection failed in the middle of a call: another manager may answer it.
    #[error("{operation} failed: the Docker daemon at {host} is unreachable: {reason}")]
    Lost {
        host: String,
        operation: String,
        reason: String,
    },
    /// The file of known swarms cannot be read or written, or contradicts itself.
    #[error("{0}")]
    KnownSwarms(String),
    /// None of an environment's managers answered as a manager of its swarm.
    #[error("no manager of the swarm answered: {tried}")]
    NoManager { tried: String },
    /// The daemon at `host` is a manager of another swarm than the one shoal knows there.
    #[error(
        "the Docker daemon at {host} is a manager of swarm {found}, not of swarm {expected}, which {known_swarms} records for this environment's hosts; if the swarm was rebuilt on purpose, remove its hosts' lines from {known_swarms}"
    )]
    OtherSwarm {
        host: String,
        found: String,
        expected: String,
        known_swarms: String,
    },
    #[error(
        "the Docker daemon at {host} is not a swarm manager (run `docker swarm init` there, or point the environment at a manager)"
    )]
    NotAManager { host: String },
}

impl DockerError {
    /// True when a manager answers that its swarm has no leader: the managers that are
    /// left elect one within seconds of losing theirs.
    pub fn is_leaderless(&self) -> bool {
        matches!(self, DockerError::Api { message, .. } if message.contains("does not have a leader"))
    }
    /// True when the daemon was not reached, did not answer in time, or is no manager:
    /// another manager of the swarm may answer the same call.
    pub fn is_lost_manager(&self) -> bool {
        matches!(
            self,
            DockerError::Connect { .. }
                | DockerError::Unreachable { .. }
                | DockerError::Timeout { .. }
                | DockerError::Lost { .. }
                | DockerError::NotAManager { .. }
        )
    }

    /// True when the daemon refused an update because the service changed since it was read.
    pub fn is_out_of_sequence(&self) -> bool {
        matches!(self, DockerError::Api { message, .. } if message.contains("out of sequence"))
    }
}
