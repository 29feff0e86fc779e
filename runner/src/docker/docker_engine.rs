//! The port to a Docker Engine in swarm mode: what the applier and `plan_workflows` ask of
//! a swarm, in `swarm` types. [`super::DockerClient`] is the real one; tests use an
//! in-memory swarm (`fake_engine`). Nothing outside `docker/` sees bollard.

use std::future::Future;

use super::DockerError;
use crate::swarm::{
    LiveNode, LiveService, LiveState, LiveTask, NetworkSpec, ObjectKind, ObjectSpec, ServiceScope,
};

/// Every method's future is `Send`: the daemon applies in spawned tasks.
pub trait DockerEngine: Sync {
    /// The daemon's address, for messages.
    fn host(&self) -> &str;

    /// The ID of the swarm the daemon is a manager of ([`DockerError::NotAManager`] from a
    /// worker or a daemon outside a swarm).
    fn swarm_id(&self) -> impl Future<Output = Result<String, DockerError>> + Send;

    /// Every network, config and secret of the swarm, and the services of `scope`.
    fn live_state_of(
        &self,
        scope: ServiceScope,
    ) -> impl Future<Output = Result<LiveState, DockerError>> + Send;

    /// `objects` (read by `live_state_of` with a scope of no stack) with the services of
    /// `scope` added: a reading that lists the networks, configs and secrets before it
    /// knows which stacks it plans, then their services. An engine that cannot list the
    /// halves apart reads the whole state again.
    fn with_services_of(
        &self,
        objects: LiveState,
        scope: ServiceScope,
    ) -> impl Future<Output = Result<LiveState, DockerError>> + Send {
        let _ = objects;
        self.live_state_of(scope)
    }

    /// Every service, network, config and secret of the swarm.
    fn live_state(&self) -> impl Future<Output = Result<LiveState, DockerError>> + Send {
        self.live_state_of(ServiceScope::Every)
    }

    /// The services of these names that exist, in one request however many they are.
    fn services(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<LiveService>, DockerError>> + Send;

    /// The tasks of these services (by ID), in one request; none when `service_ids` is
    /// empty.
    fn tasks(
        &self,
        service_ids: &[String],
    ) -> impl Future<Output = Result<Vec<LiveTask>, DockerError>> + Send;

    /// Creates a service from an Engine API `ServiceSpec` JSON; returns its ID.
    fn create_service(
        &self,
        spec: &serde_json::Value,
    ) -> impl Future<Output = Result<String, DockerError>> + Send;

    /// Updates a service at `version` (as last read) to `spec`. A daemon whose service
    /// changed since answers "update out of sequence" ([`DockerError::is_out_of_sequence`]).
    fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> impl Future<Output = Result<(), DockerError>> + Send;

    fn remove_service(&self, name: &str) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// Creates a network; returns its ID.
    fn create_network(
        &self,
        spec: &NetworkSpec,
    ) -> impl Future<Output = Result<String, DockerError>> + Send;

    fn remove_network(&self, name: &str) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// Creates a config or secret; returns its ID.
    fn create_object(
        &self,
        object: &ObjectSpec,
    ) -> impl Future<Output = Result<String, DockerError>> + Send;

    fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// Every node of the swarm.
    fn nodes(&self) -> impl Future<Output = Result<Vec<LiveNode>, DockerError>> + Send;

    /// Updates node `id` at `version` (as last read) to `spec` (a `NodeSpec` JSON); "out
    /// of sequence" when it changed since.
    fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> impl Future<Output = Result<(), DockerError>> + Send;

    /// The tasks the swarm has placed on node `id`.
    fn node_tasks(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<LiveTask>, DockerError>> + Send;
}
