//! Connecting to an environment's swarm, started as soon as shoal.yml says where it is:
//! the connection (a TLS handshake, an SSH login) is made while the workflows load and
//! render, and [`SwarmReading`](super::SwarmReading) reads through it once they are known.

use std::time::Duration;

use super::PipelineError;
use crate::docker::{ClientOpener, DockerEndpoint, KnownSwarms, SwarmManagers};

pub struct SwarmConnection {
    /// What it connects to, to tell whether it is still the connection wanted.
    endpoints: Vec<DockerEndpoint>,
    /// Taken by the reading; while here, dropping the connection stops it.
    task: Option<ConnectTask>,
}

pub(super) type ConnectTask = tokio::task::JoinHandle<Result<SwarmManagers, PipelineError>>;

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
            task: Some(task),
        }
    }

    /// Whether it connects to exactly `endpoints` (the same hosts, certificates and login).
    pub fn reaches(&self, endpoints: &[DockerEndpoint]) -> bool {
        self.endpoints == endpoints
    }

    /// The task that connects, for the reading to await.
    pub(super) fn into_task(mut self) -> Option<ConnectTask> {
        self.task.take()
    }
}

/// A connection nobody reads through any more (the repo had errors, or the run reads
/// another swarm) stops connecting.
impl Drop for SwarmConnection {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
