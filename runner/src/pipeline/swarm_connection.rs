//! Connecting to an environment's swarm, started as soon as shoal.yml says where it is:
//! the connection (a TLS handshake, an SSH login) is made while the workflows load and
//! render, and [`SwarmReading`](super::SwarmReading) reads through it once they are known.

use std::time::Duration;

use tokio_util::task::AbortOnDropHandle;

use super::PipelineError;
use crate::docker::{ClientOpener, DockerEndpoint, KnownSwarms, SwarmManagers};

/// A connection nobody reads through any more (the repo had errors, or the run reads
/// another swarm) stops connecting: dropping it, or the reading that took its task, aborts
/// the task.
pub struct SwarmConnection {
    /// What it connects to, to tell whether it is still the connection wanted.
    endpoints: Vec<DockerEndpoint>,
    task: ConnectTask,
}

pub(super) type ConnectTask = AbortOnDropHandle<Result<SwarmManagers, PipelineError>>;

impl SwarmConnection {
    /// Starts connecting to the first of `endpoints` that answers (see [`SwarmManagers`];
    /// with `known`, its swarm must be the one remembered there) for `environment`. A
    /// failure is reported by the reading that awaits it, or never when it is dropped.
    pub fn start(
        endpoints: Vec<DockerEndpoint>,
        known: Option<KnownSwarms>,
        timeout: Duration,
        environment: &str,
    ) -> SwarmConnection {
        let environment = environment.to_owned();
        let task = tokio::spawn({
            let endpoints = endpoints.clone();
            async move {
                SwarmManagers::connect(ClientOpener { timeout }, endpoints, known)
                    .await
                    .map_err(|error| PipelineError::Connect { environment, error })
            }
        });
        SwarmConnection {
            endpoints,
            task: AbortOnDropHandle::new(task),
        }
    }

    /// Whether it connects to exactly `endpoints` (the same hosts, certificates and login).
    pub fn reaches(&self, endpoints: &[DockerEndpoint]) -> bool {
        self.endpoints == endpoints
    }

    /// The task that connects, for the reading to await.
    pub(super) fn into_task(self) -> ConnectTask {
        self.task
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt as _;

    use super::SwarmConnection;
    use crate::docker::DockerEndpoint;

    /// A daemon that takes the connection and never answers: the connection waits on its
    /// `/_ping` until it is dropped, which closes the socket at once.
    async fn dropping_it_closes_its_socket(drop_what: impl FnOnce(SwarmConnection)) {
        let folder = tempfile::tempdir().expect("a folder");
        let socket = folder.path().join("docker.sock");
        let listener = tokio::net::UnixListener::bind(&socket).expect("binds the socket");
        let endpoint = DockerEndpoint::plain(&format!("unix://{}", socket.display()));
        let connection = SwarmConnection::start(
            vec![endpoint.clone()],
            None,
            Duration::from_secs(60),
            "staging",
        );
        assert!(connection.reaches(std::slice::from_ref(&endpoint)));
        assert!(!connection.reaches(&[DockerEndpoint::plain("unix:///elsewhere.sock")]));
        let (mut stream, _) = listener.accept().await.expect("the connection comes");
        let mut ping = [0u8; 64];
        let read = stream.read(&mut ping).await.expect("reads the ping");
        assert!(ping[..read].starts_with(b"GET /_ping"));
        drop_what(connection);
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .expect("the socket is closed within 5 s, not after the 60 s timeout");
        assert_eq!(closed.expect("reads to the end"), 0);
    }

    #[tokio::test]
    async fn a_connection_dropped_stops_connecting() {
        dropping_it_closes_its_socket(drop).await;
    }

    #[tokio::test]
    async fn a_connection_whose_task_was_taken_stops_when_the_task_is_dropped() {
        dropping_it_closes_its_socket(|connection| drop(connection.into_task())).await;
    }
}
