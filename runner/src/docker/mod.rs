//! The edge to the Docker Engine API: through bollard, and raw JSON for service specs,
//! which bollard's model does not carry whole, both over the connection an
//! [`EngineConnector`] opens for the endpoint's transport (unix socket, TCP, mutual TLS,
//! SSH)
//! and [`EngineConnections`] keeps alive. Everything that leaves this module
//! is a [`crate::swarm`] type: bollard's models stay here. The applier sees the
//! [`DockerEngine`] port only.

mod docker_client;
mod docker_endpoint;
mod docker_engine;
mod docker_error;
mod engine_connections;
mod engine_connector;
#[cfg(test)]
pub mod fake_engine;
mod raw_json;
mod ssh_connector;
mod tcp_connector;
mod tls_connector;
mod tls_material;
mod unix_connector;

pub use docker_client::{DEFAULT_CALL_TIMEOUT, DockerClient};
pub use docker_endpoint::{DockerEndpoint, SshLogin};
pub use docker_engine::DockerEngine;
pub use docker_error::DockerError;
pub use engine_connections::EngineConnections;
pub use engine_connector::EngineConnector;
pub use ssh_connector::{DEFAULT_REMOTE_SOCKET, SshDockerHost};
pub use tls_material::{PemText, TlsMaterial};
