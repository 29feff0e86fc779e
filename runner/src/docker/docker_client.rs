//! A connection to one Docker daemon, with a timeout on every call.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::time::Duration;

use base64::Engine as _;
use bollard::Docker;
use bollard::models::{Config, ConfigSpec, Network, NetworkCreateRequest, Secret, SecretSpec};
use bollard::query_parameters::ListTasksOptions;

use super::{
    DockerEndpoint, DockerEngine, DockerError, EngineConnections, EngineConnector, raw_json,
};
use crate::swarm::{
    IpamConfig, LiveNetwork, LiveObject, LiveService, LiveState, LiveTask, NetworkSpec, ObjectKind,
    ObjectSpec, STACK_NAMESPACE, ServiceScope,
};

/// How long one API call may take before shoal gives up on it, unless told otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct DockerClient {
    pub(super) docker: Docker,
    pub(super) connections: EngineConnections,
    /// Where the networks, configs and secrets are listed while the services are listed
    /// on `connections` (see [`DockerClient::live_state_of`]).
    objects_connections: EngineConnections,
    pub(super) host: String,
    pub(super) timeout: Duration,
}

impl DockerClient {
    /// Connects to `endpoint` (`unix://…`, `tcp://…` with or without TLS, or `ssh://…`, see
    /// [`EngineConnector`]) and agrees on an API version. Every call made through the
    /// client, this first one included, gives up after `timeout`.
    pub async fn connect(
        endpoint: &DockerEndpoint,
        timeout: Duration,
    ) -> Result<DockerClient, DockerError> {
        let host = endpoint.host.as_str();
        if let Some(what) = not_implemented(host) {
            return Err(DockerError::NotImplemented {
                host: host.to_owned(),
                what,
            });
        }
        let connections = EngineConnections::new(EngineConnector::for_endpoint(endpoint)?);
        let operation = "the version handshake";
        let daemon_version =
            raw_json::api_version(&connections, timeout)
                .await
                .map_err(|reason| {
                    if reason.starts_with("no answer within") {
                        DockerError::Timeout {
                            host: host.to_owned(),
                            operation: operation.to_owned(),
                            seconds: timeout.as_secs(),
                        }
                    } else {
                        DockerError::Unreachable {
                            host: host.to_owned(),
                            reason,
                        }
                    }
                })?;
        let version = agreed_version(&daemon_version);
        let seconds = timeout.as_secs().max(1);
        // bollard's requests travel over the same pool of connections too, so that a new
        // transport is a new connector and nothing else.
        let transport = connections.clone();
        let prefix = format!("/v{}.{}", version.major_version, version.minor_version);
        let docker = Docker::connect_with_custom_transport(
            move |request: bollard::BollardRequest| {
                let connections = transport.clone();
                let request = at_version(request, &prefix);
                async move {
                    connections.send(request?).await.map_err(|reason| {
                        bollard::errors::Error::IOError {
                            err: std::io::Error::other(reason),
                        }
                    })
                }
            },
            Some("http://docker"),
            seconds,
            &version,
        )
        .map_err(|source| DockerError::Connect {
            host: host.to_owned(),
            source,
        })?;
        Ok(DockerClient {
            docker,
            objects_connections: connections.beside(),
            connections,
            host: host.to_owned(),
            timeout,
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// The services of `scope`, their specs as the daemon writes them (see [`raw_json`]).
    /// The daemon lists the services of one stack by their namespace label: label filters
    /// all have to match, so a scope of several stacks takes one request for each.
    async fn raw_services(&self, scope: &ServiceScope) -> Result<Vec<ListedService>, DockerError> {
        let paths = match scope {
            ServiceScope::Every => vec![self.api_path("/services")],
            ServiceScope::Stacks(stacks) => stacks
                .iter()
                .map(|stack| {
                    let filters = serde_json::json!({ "label": { format!("{STACK_NAMESPACE}={stack}"): true } });
                    let query: String =
                        form_urlencoded::byte_serialize(filters.to_string().as_bytes()).collect();
                    self.api_path(&format!("/services?filters={query}"))
                })
                .collect(),
        };
        let lists = futures_util::future::try_join_all(paths.iter().map(|path| async move {
            raw_json::get_json::<Vec<ListedService>>(&self.connections, path, self.timeout)
                .await
                .map_err(|message| self.raw_error("listing services", message))
        }))
        .await?;
        Ok(lists.into_iter().flatten().collect())
    }

    /// `path` under the agreed API version, for a raw call.
    pub(super) fn api_path(&self, path: &str) -> String {
        format!("/v{}{path}", self.docker.client_version())
    }

    /// A raw call's failure, as the same error a bollard call would give.
    pub(super) fn raw_error(&self, operation: &str, error: raw_json::RawError) -> DockerError {
        match error {
            raw_json::RawError::Transport(reason) if reason.starts_with("no answer within") => {
                DockerError::Timeout {
                    host: self.host.clone(),
                    operation: operation.to_owned(),
                    seconds: self.timeout.as_secs(),
                }
            }
            raw_json::RawError::Transport(reason) => DockerError::Lost {
                host: self.host.clone(),
                operation: operation.to_owned(),
                reason,
            },
            raw_json::RawError::Answer(message) => DockerError::Api {
                operation: operation.to_owned(),
                message,
            },
        }
    }

    /// A worker node or a daemon outside a swarm answers swarm calls with an error that
    /// says so; say what to do about it.
    pub(super) fn explain_not_a_manager(&self, error: DockerError) -> DockerError {
        match &error {
            DockerError::Api { message, .. }
                if message.contains("not a swarm manager") || message.contains("swarm mode") =>
            {
                DockerError::NotAManager {
                    host: self.host.clone(),
                }
            }
            _ => error,
        }
    }

    /// Runs one API call with the timeout, mapping bollard's errors to ours.
    pub(super) async fn call<T>(
        &self,
        operation: &str,
        future: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, DockerError> {
        match tokio::time::timeout(self.timeout, future).await {
            Err(_) => Err(DockerError::Timeout {
                host: self.host.clone(),
                operation: operation.to_owned(),
                seconds: self.timeout.as_secs(),
            }),
            Ok(Err(error)) => Err(api_error(
                &self.host,
                operation,
                self.timeout.as_secs(),
                error,
            )),
            Ok(Ok(value)) => Ok(value),
        }
    }

    /// Every service, network, config and secret of the swarm.
    pub async fn live_state(&self) -> Result<LiveState, DockerError> {
        self.live_state_of(ServiceScope::Every).await
    }

    /// Every network, config and secret of the swarm, and the services of `scope`.
    pub async fn live_state_of(&self, scope: ServiceScope) -> Result<LiveState, DockerError> {
        // The services, which the daemon takes longest to list (4.7 ms of its CPU for 50
        // services, against 0.7 to 1.5 ms for each other list), on the connection already
        // open, beside the networks, configs and secrets one after the other on a second
        // one: the daemon answers both on its two cores. Both share nothing, so neither
        // waits for the other's connection to come back, which once made a run open a
        // third connection in a full handshake. Without services to list, one connection.
        let listing_services = !matches!(&scope, ServiceScope::Stacks(stacks) if stacks.is_empty());
        let connections = if listing_services {
            &self.objects_connections
        } else {
            &self.connections
        };
        let (services, objects) =
            tokio::try_join!(self.raw_services(&scope), self.objects(connections))
                .map_err(|error| self.explain_not_a_manager(error))?;
        self.with_listed_services(objects, scope, services).await
    }

    /// `objects` (a state read with no services) with the services of `scope` added.
    pub async fn with_services_of(
        &self,
        objects: LiveState,
        scope: ServiceScope,
    ) -> Result<LiveState, DockerError> {
        let services = self
            .raw_services(&scope)
            .await
            .map_err(|error| self.explain_not_a_manager(error))?;
        self.with_listed_services(objects, scope, services).await
    }

    /// The swarm's networks, configs and secrets, listed one after the other through
    /// `connections` (one connection); no service.
    async fn objects(&self, connections: &EngineConnections) -> Result<LiveState, DockerError> {
        let networks: Vec<Network> =
            raw_json::get_json(connections, &self.api_path("/networks"), self.timeout)
                .await
                .map_err(|error| self.raw_error("listing networks", error))?;
        let configs: Vec<Config> =
            raw_json::get_json(connections, &self.api_path("/configs"), self.timeout)
                .await
                .map_err(|error| self.raw_error("listing configs", error))?;
        let secrets: Vec<Secret> =
            raw_json::get_json(connections, &self.api_path("/secrets"), self.timeout)
                .await
                .map_err(|error| self.raw_error("listing secrets", error))?;
        let mut state = LiveState {
            scope: ServiceScope::Stacks(std::collections::BTreeSet::new()),
            ..LiveState::default()
        };
        for network in networks {
            let ipam = network.ipam.map(|ipam| IpamConfig {
                driver: ipam.driver.unwrap_or_default(),
                config: ipam
                    .config
                    .unwrap_or_default()
                    .into_iter()
                    .map(|config| {
                        config
                            .subnet
                            .map(|subnet| BTreeMap::from([("Subnet".to_owned(), subnet)]))
                            .unwrap_or_default()
                    })
                    .collect(),
            });
            state.networks.push(LiveNetwork {
                id: network.id.unwrap_or_default(),
                scope: network.scope.unwrap_or_default(),
                spec: NetworkSpec {
                    name: network.name.unwrap_or_default(),
                    driver: network.driver.unwrap_or_default(),
                    attachable: network.attachable.unwrap_or_default(),
                    internal: network.internal.unwrap_or_default(),
                    labels: sorted(network.labels),
                    options: sorted(network.options),
                    ipam,
                },
            });
        }
        for config in configs {
            let spec = config.spec.unwrap_or_default();
            state.objects.push(LiveObject {
                kind: ObjectKind::Config,
                id: config.id.unwrap_or_default(),
                name: spec.name.unwrap_or_default(),
                labels: sorted(spec.labels),
                created_at: config.created_at.map(|t| t.to_string()).unwrap_or_default(),
            });
        }
        for secret in secrets {
            let spec = secret.spec.unwrap_or_default();
            state.objects.push(LiveObject {
                kind: ObjectKind::Secret,
                id: secret.id.unwrap_or_default(),
                name: spec.name.unwrap_or_default(),
                labels: sorted(spec.labels),
                created_at: secret.created_at.map(|t| t.to_string()).unwrap_or_default(),
            });
        }
        state.networks.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        state
            .objects
            .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
        Ok(state)
    }

    /// `objects` with `services` (the services of `scope`) added, and the network IDs they
    /// name that the network list does not show.
    async fn with_listed_services(
        &self,
        objects: LiveState,
        scope: ServiceScope,
        services: Vec<ListedService>,
    ) -> Result<LiveState, DockerError> {
        let mut state = LiveState {
            scope,
            services: services.into_iter().map(ListedService::into_live).collect(),
            ..objects
        };
        self.resolve_network_aliases(&mut state).await?;
        state.services.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(state)
    }

    /// Services may refer to networks by IDs the network list does not show (the swarm's
    /// ID of `host`): ask for those one by one, so that specs can be read by name.
    async fn resolve_network_aliases(&self, state: &mut LiveState) -> Result<(), DockerError> {
        let known = state.network_names();
        let mut unknown: Vec<String> = state
            .services
            .iter()
            .flat_map(|service| {
                ["/TaskTemplate/Networks", "/Networks"]
                    .iter()
                    .filter_map(|pointer| service.spec.pointer(pointer)?.as_array())
                    .flatten()
                    .filter_map(|attachment| attachment.get("Target")?.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .filter(|target| !known.contains_key(target))
            .collect();
        unknown.sort();
        unknown.dedup();
        for id in unknown {
            let inspected = self
                .call(
                    &format!("inspecting network {id}"),
                    self.docker.inspect_network(
                        &id,
                        None::<bollard::query_parameters::InspectNetworkOptions>,
                    ),
                )
                .await;
            if let Ok(network) = inspected
                && let Some(name) = network.name
            {
                state.network_aliases.insert(id, name);
            }
        }
        Ok(())
    }

    /// The services of these names that exist, in one request: the daemon's `name` filter
    /// takes several names (any may match) and matches their prefixes, so the answer is
    /// narrowed to the exact names here.
    pub async fn services(&self, names: &[String]) -> Result<Vec<LiveService>, DockerError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .map(|name| (name.clone(), serde_json::Value::Bool(true)))
            .collect();
        let filters = serde_json::json!({ "name": wanted });
        let query: String =
            form_urlencoded::byte_serialize(filters.to_string().as_bytes()).collect();
        let path = self.api_path(&format!("/services?filters={query}"));
        let listed =
            raw_json::get_json::<Vec<ListedService>>(&self.connections, &path, self.timeout)
                .await
                .map_err(|message| self.raw_error("listing services", message))?;
        Ok(listed
            .into_iter()
            .map(ListedService::into_live)
            .filter(|service| names.contains(&service.name))
            .collect())
    }

    /// The tasks of these services (by ID), in one request.
    pub async fn tasks(&self, service_ids: &[String]) -> Result<Vec<LiveTask>, DockerError> {
        if service_ids.is_empty() {
            return Ok(Vec::new());
        }
        let filters = HashMap::from([("service".to_owned(), service_ids.to_vec())]);
        let options = ListTasksOptions {
            filters: Some(filters),
        };
        let tasks = self
            .call("listing tasks", self.docker.list_tasks(Some(options)))
            .await?;
        Ok(tasks
            .into_iter()
            .map(|task| {
                let status = task.status.unwrap_or_default();
                LiveTask {
                    id: task.id.unwrap_or_default(),
                    service_id: task.service_id.unwrap_or_default(),
                    slot: task.slot.and_then(|slot| u64::try_from(slot).ok()),
                    node_id: task.node_id,
                    desired_state: task
                        .desired_state
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                    message: status.message.unwrap_or_default(),
                    error: status.err,
                    spec_image: task
                        .spec
                        .and_then(|spec| spec.container_spec)
                        .and_then(|c| c.image),
                    timestamp: status.timestamp.map(|t| t.to_string()).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Creates a service from an Engine API `ServiceSpec` JSON, sent as it is (see
    /// [`raw_json`]); returns its ID.
    pub async fn create_service(&self, spec: &serde_json::Value) -> Result<String, DockerError> {
        let operation = format!("creating service {}", spec_name(spec));
        let answer = raw_json::post_json(
            &self.connections,
            &self.api_path("/services/create"),
            spec,
            self.timeout,
        )
        .await
        .map_err(|message| self.raw_error(&operation, message))?;
        Ok(answer
            .get("ID")
            .and_then(|id| id.as_str())
            .unwrap_or_default()
            .to_owned())
    }

    /// Updates a service at `version` (as last read) to `spec`, sent as it is.
    pub async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        let operation = format!("updating service {}", spec_name(spec));
        // No X-Registry-Auth header: the daemon takes the credentials the service already
        // has, as bollard and `docker stack deploy` ask it to.
        let path = self.api_path(&format!(
            "/services/{id}/update?version={version}&registryAuthFrom=spec"
        ));
        raw_json::post_json(&self.connections, &path, spec, self.timeout)
            .await
            .map_err(|message| self.raw_error(&operation, message))?;
        Ok(())
    }

    pub async fn remove_service(&self, name: &str) -> Result<(), DockerError> {
        self.call(
            &format!("removing service {name}"),
            self.docker.delete_service(name),
        )
        .await
    }

    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        let operation = format!("creating network {}", spec.name);
        let request: NetworkCreateRequest = serde_json::to_value(spec)
            .and_then(serde_json::from_value)
            .map_err(|error| DockerError::Api {
                operation: operation.clone(),
                message: error.to_string(),
            })?;
        let response = self
            .call(&operation, self.docker.create_network(request))
            .await?;
        Ok(response.id)
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        self.call(
            &format!("removing network {name}"),
            self.docker.remove_network(name),
        )
        .await
    }

    /// Creates a config or secret; returns its ID.
    pub async fn create_object(&self, object: &ObjectSpec) -> Result<String, DockerError> {
        let data = base64::engine::general_purpose::STANDARD.encode(&object.data);
        let labels: HashMap<String, String> = object.labels.clone().into_iter().collect();
        let response = match object.kind {
            ObjectKind::Config => {
                let spec = ConfigSpec {
                    name: Some(object.name.clone()),
                    labels: Some(labels),
                    data: Some(data),
                    templating: None,
                };
                self.call(
                    &format!("creating config {}", object.name),
                    self.docker.create_config(spec),
                )
                .await?
            }
            ObjectKind::Secret => {
                let spec = SecretSpec {
                    name: Some(object.name.clone()),
                    labels: Some(labels),
                    data: Some(data),
                    driver: None,
                    templating: None,
                };
                self.call(
                    &format!("creating secret {}", object.name),
                    self.docker.create_secret(spec),
                )
                .await?
            }
        };
        Ok(response.id)
    }

    pub async fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> Result<(), DockerError> {
        match kind {
            ObjectKind::Config => {
                self.call(
                    &format!("removing config {name}"),
                    self.docker.delete_config(id),
                )
                .await
            }
            ObjectKind::Secret => {
                self.call(
                    &format!("removing secret {name}"),
                    self.docker.delete_secret(id),
                )
                .await
            }
        }
    }
}

impl DockerEngine for DockerClient {
    fn host(&self) -> &str {
        DockerClient::host(self)
    }

    async fn swarm_id(&self) -> Result<String, DockerError> {
        let swarm = self
            .call("reading the swarm", self.docker.inspect_swarm())
            .await
            .map_err(|error| self.explain_not_a_manager(error))?;
        swarm.id.ok_or_else(|| DockerError::NotAManager {
            host: self.host.clone(),
        })
    }

    async fn live_state_of(&self, scope: ServiceScope) -> Result<LiveState, DockerError> {
        DockerClient::live_state_of(self, scope).await
    }

    async fn with_services_of(
        &self,
        objects: LiveState,
        scope: ServiceScope,
    ) -> Result<LiveState, DockerError> {
        DockerClient::with_services_of(self, objects, scope).await
    }

    async fn services(&self, names: &[String]) -> Result<Vec<LiveService>, DockerError> {
        DockerClient::services(self, names).await
    }

    async fn tasks(&self, service_ids: &[String]) -> Result<Vec<LiveTask>, DockerError> {
        DockerClient::tasks(self, service_ids).await
    }

    async fn nodes(&self) -> Result<Vec<crate::swarm::LiveNode>, DockerError> {
        DockerClient::nodes(self).await
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        DockerClient::update_node(self, id, version, spec).await
    }

    async fn node_tasks(&self, id: &str) -> Result<Vec<LiveTask>, DockerError> {
        DockerClient::node_tasks(self, id).await
    }

    async fn create_service(&self, spec: &serde_json::Value) -> Result<String, DockerError> {
        DockerClient::create_service(self, spec).await
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        DockerClient::update_service(self, id, version, spec).await
    }

    async fn remove_service(&self, name: &str) -> Result<(), DockerError> {
        DockerClient::remove_service(self, name).await
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        DockerClient::create_network(self, spec).await
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        DockerClient::remove_network(self, name).await
    }

    async fn create_object(&self, object: &ObjectSpec) -> Result<String, DockerError> {
        DockerClient::create_object(self, object).await
    }

    async fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> Result<(), DockerError> {
        DockerClient::remove_object(self, kind, id, name).await
    }
}

/// A service as the daemon lists it, with what shoal reads of it. Its other keys (its
/// endpoint, its timestamps) are skipped as they are read, never built into JSON values.
/// Its previous spec is kept: a `service` step's `rollback` plans and writes it.
#[derive(serde::Deserialize)]
struct ListedService {
    #[serde(rename = "ID", default)]
    id: String,
    #[serde(rename = "Version", default)]
    version: ListedVersion,
    /// Raw, to keep every key the daemon stores.
    #[serde(rename = "Spec", default)]
    spec: serde_json::Value,
    #[serde(rename = "PreviousSpec", default)]
    previous_spec: Option<serde_json::Value>,
    #[serde(rename = "UpdateStatus", default)]
    update_status: Option<ListedUpdateStatus>,
}

impl ListedService {
    fn into_live(self) -> LiveService {
        let (update_state, update_message) = self
            .update_status
            .map(|status| (status.state, status.message))
            .unwrap_or_default();
        LiveService {
            id: self.id,
            name: self
                .spec
                .get("Name")
                .and_then(|name| name.as_str())
                .unwrap_or_default()
                .to_owned(),
            version: self.version.index,
            spec: self.spec,
            previous_spec: self.previous_spec,
            update_state,
            update_message,
        }
    }
}

#[derive(Default, serde::Deserialize)]
struct ListedVersion {
    #[serde(rename = "Index", default)]
    index: u64,
}

#[derive(serde::Deserialize)]
struct ListedUpdateStatus {
    #[serde(rename = "State", default)]
    state: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

fn spec_name(spec: &serde_json::Value) -> &str {
    spec.get("Name").and_then(|n| n.as_str()).unwrap_or("?")
}

/// The request at the agreed API version: bollard makes its paths without one (it joins
/// them to its base URL, losing the version), which a daemon answers at its own newest.
fn at_version(
    request: bollard::BollardRequest,
    prefix: &str,
) -> Result<bollard::BollardRequest, bollard::errors::Error> {
    let (mut parts, body) = request.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", hyper::http::uri::PathAndQuery::as_str);
    if !path.starts_with("/v1.") {
        parts.uri =
            format!("{prefix}{path}")
                .parse()
                .map_err(
                    |error: hyper::http::uri::InvalidUri| bollard::errors::Error::IOError {
                        err: std::io::Error::other(error.to_string()),
                    },
                )?;
    }
    Ok(hyper::Request::from_parts(parts, body))
}

/// The lower of the daemon's API version and the newest bollard speaks.
fn agreed_version(daemon: &str) -> bollard::ClientVersion {
    let newest = bollard::API_DEFAULT_VERSION;
    let parsed = daemon.split_once('.').and_then(|(major, minor)| {
        Some(bollard::ClientVersion {
            major_version: major.parse().ok()?,
            minor_version: minor.parse().ok()?,
        })
    });
    match parsed {
        Some(version)
            if (version.major_version, version.minor_version)
                < (newest.major_version, newest.minor_version) =>
        {
            version
        }
        _ => bollard::ClientVersion {
            major_version: newest.major_version,
            minor_version: newest.minor_version,
        },
    }
}

fn sorted(map: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    map.unwrap_or_default().into_iter().collect()
}

/// The daemon's own message, without bollard's wrapping.
fn api_error(
    host: &str,
    operation: &str,
    seconds: u64,
    error: bollard::errors::Error,
) -> DockerError {
    match error {
        bollard::errors::Error::DockerResponseServerError { message, .. } => DockerError::Api {
            operation: operation.to_owned(),
            message,
        },
        // bollard's own per-request timeout, the same limit as ours.
        bollard::errors::Error::RequestTimeoutError => DockerError::Timeout {
            host: host.to_owned(),
            operation: operation.to_owned(),
            seconds,
        },
        bollard::errors::Error::HyperResponseError { .. }
        | bollard::errors::Error::IOError { .. } => DockerError::Lost {
            host: host.to_owned(),
            operation: operation.to_owned(),
            reason: error.to_string(),
        },
        other => DockerError::Api {
            operation: operation.to_owned(),
            message: other.to_string(),
        },
    }
}

/// Why shoal cannot reach `host` yet, for the kinds of hosts shoal.yml accepts but no
/// connector handles.
fn not_implemented(host: &str) -> Option<&'static str> {
    if host.starts_with("npipe://") {
        Some("npipe:// Docker hosts (Windows named pipes) are not implemented")
    } else {
        None
    }
}
