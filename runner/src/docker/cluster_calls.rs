//! The swarm itself through one engine: its membership (`GET /info`), making or joining a
//! swarm, the swarm's spec and join tokens, and its nodes. Specs travel as raw Engine API
//! JSON (see [`super::raw_json`]), so that an update sends back every key it read.

use serde::Deserialize;
use serde_json::Value;

use super::{DockerClient, DockerError, raw_json};
use crate::secret_text::SecretText;
use crate::swarm::{LiveNode, LiveTask, NodeMembership, SwarmCluster};

/// A swarm's join tokens: never logged, never shown.
#[derive(Debug, Clone)]
pub struct JoinTokens {
    pub manager: SecretText,
    pub worker: SecretText,
}

/// What `POST /swarm/join` needs, the token apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    pub listen_addr: String,
    pub advertise_addr: String,
    /// `ADDRESS:2377` of managers of the swarm.
    pub remote_addrs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Info {
    #[serde(default)]
    swarm: Option<InfoSwarm>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InfoSwarm {
    #[serde(default, rename = "NodeID")]
    node_id: String,
    #[serde(default)]
    local_node_state: String,
    #[serde(default)]
    control_available: bool,
    #[serde(default)]
    cluster: Option<InfoCluster>,
    #[serde(default)]
    remote_managers: Option<Vec<RemoteManager>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InfoCluster {
    #[serde(default, rename = "ID")]
    id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RemoteManager {
    #[serde(default)]
    addr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SwarmAnswer {
    #[serde(rename = "ID")]
    id: String,
    version: ObjectVersion,
    spec: Value,
    #[serde(default)]
    default_addr_pool: Option<Vec<String>>,
    #[serde(default)]
    subnet_size: Option<u64>,
    #[serde(default)]
    data_path_port: Option<u64>,
    #[serde(default)]
    join_tokens: Option<TokensAnswer>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokensAnswer {
    worker: String,
    manager: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ObjectVersion {
    #[serde(default)]
    index: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeAnswer {
    #[serde(rename = "ID")]
    id: String,
    version: ObjectVersion,
    #[serde(default)]
    spec: Value,
    #[serde(default)]
    description: Option<NodeDescription>,
    #[serde(default)]
    status: Option<NodeStatus>,
    #[serde(default)]
    manager_status: Option<ManagerStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeDescription {
    #[serde(default)]
    hostname: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeStatus {
    #[serde(default)]
    state: String,
    #[serde(default)]
    addr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManagerStatus {
    #[serde(default)]
    leader: bool,
    #[serde(default)]
    reachability: String,
    #[serde(default)]
    addr: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskAnswer {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default, rename = "ServiceID")]
    service_id: String,
    #[serde(default, rename = "NodeID")]
    node_id: Option<String>,
    #[serde(default)]
    desired_state: String,
    #[serde(default)]
    status: Option<TaskStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskStatus {
    #[serde(default)]
    state: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    timestamp: String,
}

impl DockerClient {
    /// What this engine says of its own place in a swarm.
    pub async fn membership(&self) -> Result<NodeMembership, DockerError> {
        let operation = "reading the engine's swarm membership";
        let info: Info =
            raw_json::get_json(&self.connections, &self.api_path("/info"), self.timeout)
                .await
                .map_err(|error| self.raw_error(operation, error))?;
        let swarm = info.swarm.unwrap_or(InfoSwarm {
            node_id: String::new(),
            local_node_state: "inactive".to_owned(),
            control_available: false,
            cluster: None,
            remote_managers: None,
        });
        let present = |text: String| (!text.is_empty()).then_some(text);
        Ok(NodeMembership {
            local_state: if swarm.local_node_state.is_empty() {
                "inactive".to_owned()
            } else {
                swarm.local_node_state
            },
            node_id: present(swarm.node_id),
            cluster_id: swarm.cluster.and_then(|cluster| present(cluster.id)),
            is_manager: swarm.control_available,
            remote_managers: swarm
                .remote_managers
                .unwrap_or_default()
                .into_iter()
                .map(|manager| manager.addr)
                .collect(),
        })
    }

    /// The swarm this engine manages, without its join tokens.
    pub async fn cluster(&self) -> Result<SwarmCluster, DockerError> {
        let answer = self.swarm_answer().await?;
        Ok(SwarmCluster {
            id: answer.id,
            version: answer.version.index,
            spec: answer.spec,
            default_addr_pool: answer.default_addr_pool.unwrap_or_default(),
            subnet_size: answer.subnet_size,
            data_path_port: answer.data_path_port,
        })
    }

    /// The swarm's join tokens, read now (a token rotated since is not the one used).
    pub async fn join_tokens(&self) -> Result<JoinTokens, DockerError> {
        let tokens = self
            .swarm_answer()
            .await?
            .join_tokens
            .ok_or_else(|| DockerError::Api {
                operation: "reading the join tokens".to_owned(),
                message: "the manager did not send them".to_owned(),
            })?;
        Ok(JoinTokens {
            manager: SecretText::new(tokens.manager),
            worker: SecretText::new(tokens.worker),
        })
    }

    async fn swarm_answer(&self) -> Result<SwarmAnswer, DockerError> {
        raw_json::get_json(&self.connections, &self.api_path("/swarm"), self.timeout)
            .await
            .map_err(|error| self.raw_error("reading the swarm", error))
            .map_err(|error| self.explain_not_a_manager(error))
    }

    /// Makes a new swarm of this engine (`POST /swarm/init` with `request`); its ID.
    pub async fn init_swarm(&self, request: &Value) -> Result<String, DockerError> {
        let answer = raw_json::post_json(
            &self.connections,
            &self.api_path("/swarm/init"),
            request,
            self.timeout,
        )
        .await
        .map_err(|error| self.raw_error("making the swarm", error))?;
        Ok(answer.as_str().unwrap_or_default().to_owned())
    }

    /// Joins this engine to a swarm with `token`; the daemon answers once it has joined.
    pub async fn join_swarm(
        &self,
        request: &JoinRequest,
        token: &SecretText,
    ) -> Result<(), DockerError> {
        let body = serde_json::json!({
            "ListenAddr": request.listen_addr,
            "AdvertiseAddr": request.advertise_addr,
            "RemoteAddrs": request.remote_addrs,
            "JoinToken": token.expose(),
        });
        raw_json::post_json(
            &self.connections,
            &self.api_path("/swarm/join"),
            &body,
            self.timeout,
        )
        .await
        .map(|_| ())
        .map_err(|error| self.raw_error("joining the swarm", error))
    }

    /// Leaves the swarm (`POST /swarm/leave`, not forced: a manager must be demoted
    /// first).
    pub async fn leave_swarm(&self) -> Result<(), DockerError> {
        raw_json::post_json(
            &self.connections,
            &self.api_path("/swarm/leave"),
            &Value::Null,
            self.timeout,
        )
        .await
        .map(|_| ())
        .map_err(|error| self.raw_error("leaving the swarm", error))
    }

    /// Updates the swarm's spec at `version` (as last read), its tokens kept.
    pub async fn update_cluster(&self, version: u64, spec: &Value) -> Result<(), DockerError> {
        raw_json::post_json(
            &self.connections,
            &self.api_path(&format!("/swarm/update?version={version}")),
            spec,
            self.timeout,
        )
        .await
        .map(|_| ())
        .map_err(|error| self.raw_error("updating the swarm", error))
    }

    /// Every node of the swarm.
    pub async fn nodes(&self) -> Result<Vec<LiveNode>, DockerError> {
        let nodes: Vec<NodeAnswer> =
            raw_json::get_json(&self.connections, &self.api_path("/nodes"), self.timeout)
                .await
                .map_err(|error| self.raw_error("listing nodes", error))
                .map_err(|error| self.explain_not_a_manager(error))?;
        Ok(nodes
            .into_iter()
            .map(|node| {
                let status = node.status;
                LiveNode {
                    id: node.id,
                    version: node.version.index,
                    hostname: node.description.map(|d| d.hostname).unwrap_or_default(),
                    address: status.as_ref().map(|s| s.addr.clone()).unwrap_or_default(),
                    state: status.map(|s| s.state).unwrap_or_default(),
                    reachability: node.manager_status.as_ref().map(|m| m.reachability.clone()),
                    manager_addr: node.manager_status.as_ref().map(|m| m.addr.clone()),
                    leader: node.manager_status.is_some_and(|m| m.leader),
                    spec: node.spec,
                }
            })
            .collect())
    }

    /// Updates node `id` at `version` (as last read) to `spec`.
    pub async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &Value,
    ) -> Result<(), DockerError> {
        raw_json::post_json(
            &self.connections,
            &self.api_path(&format!("/nodes/{id}/update?version={version}")),
            spec,
            self.timeout,
        )
        .await
        .map(|_| ())
        .map_err(|error| self.raw_error(&format!("updating node {id}"), error))
    }

    /// Removes node `id` from the swarm (a node that is down, or that left).
    pub async fn remove_node(&self, id: &str) -> Result<(), DockerError> {
        let options = bollard::query_parameters::DeleteNodeOptions { force: false };
        self.call(
            &format!("removing node {id}"),
            self.docker.delete_node(id, Some(options)),
        )
        .await
    }

    /// The tasks the swarm has placed on node `id`.
    pub async fn node_tasks(&self, id: &str) -> Result<Vec<LiveTask>, DockerError> {
        let filters = serde_json::json!({ "node": { id: true } }).to_string();
        let query: String = form_urlencoded::byte_serialize(filters.as_bytes()).collect();
        let tasks: Vec<TaskAnswer> = raw_json::get_json(
            &self.connections,
            &self.api_path(&format!("/tasks?filters={query}")),
            self.timeout,
        )
        .await
        .map_err(|error| self.raw_error(&format!("listing the tasks of node {id}"), error))?;
        Ok(tasks
            .into_iter()
            .map(|task| {
                let status = task.status;
                LiveTask {
                    id: task.id,
                    service_id: task.service_id,
                    slot: None,
                    node_id: task.node_id,
                    desired_state: task.desired_state,
                    state: status.as_ref().map(|s| s.state.clone()).unwrap_or_default(),
                    message: status
                        .as_ref()
                        .map(|s| s.message.clone())
                        .unwrap_or_default(),
                    error: None,
                    spec_image: None,
                    timestamp: status.map(|s| s.timestamp).unwrap_or_default(),
                }
            })
            .collect())
    }
}
