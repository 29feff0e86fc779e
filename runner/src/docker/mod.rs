//! The edge to the Docker Engine API: through bollard, and raw JSON for service specs,
//! which bollard's model does not carry whole. Everything that leaves this module is a
//! [`crate::swarm`] type: bollard's models stay here.

mod docker_client;
mod docker_error;
mod raw_json;

pub use docker_client::{DEFAULT_CALL_TIMEOUT, DockerClient};
pub use docker_error::DockerError;
