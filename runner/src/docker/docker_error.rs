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
    #[error(
        "the Docker daemon at {host} is not a swarm manager (run `docker swarm init` there, or point the environment at a manager)"
    )]
    NotAManager { host: String },
}

impl DockerError {
    /// True when the daemon refused an update because the service changed since it was read.
    pub fn is_out_of_sequence(&self) -> bool {
        matches!(self, DockerError::Api { message, .. } if message.contains("out of sequence"))
    }
}
