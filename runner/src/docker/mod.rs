//! The edge to the Docker Engine API: through bollard, and raw JSON for service specs,
//! which bollard's model does not carry whole, both over the connection an
//! [`EngineConnector`] opens for the endpoint's transport (unix socket, TCP, mutual TLS,
//! SSH)
//! and [`EngineConnections`] keeps alive. Everything that leaves this module
//! is a [`crate::swarm`] type: bollard's models stay here. The applier sees the
//! [`DockerEngine`] port only.

mod cluster_calls;
mod docker_client;
mod docker_endpoint;
mod docker_engine;
mod docker_error;
mod engine_connections;
mod engine_connector;
#[cfg(test)]
pub mod fake_engine;
mod known_swarms;
mod node_engines;
mod raw_json;
mod ssh_connector;
mod swarm_managers;
mod tcp_connector;
mod tls_connector;
mod tls_material;
mod unix_connector;

pub use cluster_calls::{JoinRequest, JoinTokens};
pub use docker_client::{DEFAULT_CALL_TIMEOUT, DockerClient};
pub use docker_endpoint::{DockerEndpoint, SshLogin};
pub use docker_engine::DockerEngine;
pub use docker_error::DockerError;
pub use engine_connections::EngineConnections;
pub use engine_connector::EngineConnector;
pub use known_swarms::KnownSwarms;
pub use node_engines::{ClientNodeEngines, EngineFuture, NodeEngine, NodeEngines};
pub use ssh_connector::{DEFAULT_REMOTE_SOCKET, SshDockerHost};
pub use swarm_managers::{ClientOpener, EngineOpener, ManagerMove, SwarmManagers};
pub use tls_material::{PemText, TlsMaterial};
