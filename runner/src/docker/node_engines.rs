//! The port to each node's own Docker engine, for the `swarm` step: the engine tells its
//! own membership, makes a swarm or joins one; a manager's engine also tells the swarm's
//! spec, tokens and nodes, and changes them. Reached at the endpoint `docker.node_host`
//! renders for the node. [`ClientNodeEngines`] opens [`DockerClient`]s, one per endpoint,
//! kept for the run.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::{
    DockerClient, DockerEndpoint, DockerError, JoinRequest, JoinTokens, SshLogin, TlsMaterial,
};
use crate::secret_text::SecretText;
use crate::swarm::{LiveNode, LiveTask, NodeMembership, SwarmCluster};

pub type EngineFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DockerError>> + Send + 'a>>;

/// One node's engine.
pub trait NodeEngine: Send + Sync {
    /// The endpoint, for messages.
    fn host(&self) -> &str;
    fn membership(&self) -> EngineFuture<'_, NodeMembership>;
    /// Makes a new swarm of this engine (`POST /swarm/init`); its ID.
    fn init_swarm<'a>(&'a self, request: &'a Value) -> EngineFuture<'a, String>;
    fn join_swarm<'a>(
        &'a self,
        request: &'a JoinRequest,
        token: &'a SecretText,
    ) -> EngineFuture<'a, ()>;
    /// Leaves the swarm this engine is in (a worker, or a manager already demoted).
    fn leave_swarm(&self) -> EngineFuture<'_, ()>;
    // A manager's calls.
    fn cluster(&self) -> EngineFuture<'_, SwarmCluster>;
    fn join_tokens(&self) -> EngineFuture<'_, JoinTokens>;
    fn update_cluster<'a>(&'a self, version: u64, spec: &'a Value) -> EngineFuture<'a, ()>;
    fn nodes(&self) -> EngineFuture<'_, Vec<LiveNode>>;
    fn update_node<'a>(
        &'a self,
        id: &'a str,
        version: u64,
        spec: &'a Value,
    ) -> EngineFuture<'a, ()>;
    fn remove_node<'a>(&'a self, id: &'a str) -> EngineFuture<'a, ()>;
    fn node_tasks<'a>(&'a self, id: &'a str) -> EngineFuture<'a, Vec<LiveTask>>;
}

/// Opens the engine at an endpoint (a rendered `docker.node_host`).
pub trait NodeEngines: Send + Sync {
    fn open<'a>(&'a self, endpoint: &'a str) -> EngineFuture<'a, Arc<dyn NodeEngine>>;
}

impl NodeEngine for DockerClient {
    fn host(&self) -> &str {
        DockerClient::host(self)
    }

    fn membership(&self) -> EngineFuture<'_, NodeMembership> {
        Box::pin(DockerClient::membership(self))
    }

    fn init_swarm<'a>(&'a self, request: &'a Value) -> EngineFuture<'a, String> {
        Box::pin(DockerClient::init_swarm(self, request))
    }

    fn join_swarm<'a>(
        &'a self,
        request: &'a JoinRequest,
        token: &'a SecretText,
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerClient::join_swarm(self, request, token))
    }

    fn leave_swarm(&self) -> EngineFuture<'_, ()> {
        Box::pin(DockerClient::leave_swarm(self))
    }

    fn cluster(&self) -> EngineFuture<'_, SwarmCluster> {
        Box::pin(DockerClient::cluster(self))
    }

    fn join_tokens(&self) -> EngineFuture<'_, JoinTokens> {
        Box::pin(DockerClient::join_tokens(self))
    }

    fn update_cluster<'a>(&'a self, version: u64, spec: &'a Value) -> EngineFuture<'a, ()> {
        Box::pin(DockerClient::update_cluster(self, version, spec))
    }

    fn nodes(&self) -> EngineFuture<'_, Vec<LiveNode>> {
        Box::pin(DockerClient::nodes(self))
    }

    fn update_node<'a>(
        &'a self,
        id: &'a str,
        version: u64,
        spec: &'a Value,
    ) -> EngineFuture<'a, ()> {
        Box::pin(DockerClient::update_node(self, id, version, spec))
    }

    fn remove_node<'a>(&'a self, id: &'a str) -> EngineFuture<'a, ()> {
        Box::pin(DockerClient::remove_node(self, id))
    }

    fn node_tasks<'a>(&'a self, id: &'a str) -> EngineFuture<'a, Vec<LiveTask>> {
        Box::pin(DockerClient::node_tasks(self, id))
    }
}

/// Opens [`DockerClient`]s with the environment's TLS material (for `tcp://` endpoints)
/// and SSH login (for `ssh://` ones), each call with `timeout`; one client per endpoint.
pub struct ClientNodeEngines {
    timeout: Duration,
    tls: Option<TlsMaterial>,
    ssh: Option<SshLogin>,
    open: tokio::sync::Mutex<HashMap<String, Arc<DockerClient>>>,
}

impl ClientNodeEngines {
    pub fn new(timeout: Duration, tls: Option<TlsMaterial>, ssh: Option<SshLogin>) -> Self {
        ClientNodeEngines {
            timeout,
            tls,
            ssh,
            open: tokio::sync::Mutex::new(HashMap::new()),
        }
    }
}

impl NodeEngines for ClientNodeEngines {
    fn open<'a>(&'a self, endpoint: &'a str) -> EngineFuture<'a, Arc<dyn NodeEngine>> {
        Box::pin(async move {
            if let Some(client) = self.open.lock().await.get(endpoint) {
                return Ok(client.clone() as Arc<dyn NodeEngine>);
            }
            let target = DockerEndpoint {
                host: endpoint.to_owned(),
                tls: self.tls.clone().filter(|_| endpoint.starts_with("tcp://")),
                ssh: self.ssh.clone(),
            };
            let client = Arc::new(DockerClient::connect(&target, self.timeout).await?);
            self.open
                .lock()
                .await
                .insert(endpoint.to_owned(), client.clone());
            Ok(client as Arc<dyn NodeEngine>)
        })
    }
}
