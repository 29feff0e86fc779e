//! An in-memory swarm behind the [`DockerEngine`] port, for unit tests of the applier and
//! of planning against a swarm: services with versions, networks, configs, secrets, and
//! tasks that the swarm schedules as a test says. It answers as the daemon does where the
//! applier reads the answer (an update at an old version is "out of sequence", a network
//! with endpoints is "in use"), and records every write.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{DockerEngine, DockerError};
use crate::swarm::{
    LiveNetwork, LiveObject, LiveService, LiveState, LiveTask, NetworkSpec, ObjectKind, ObjectSpec,
    STACK_NAMESPACE, ServiceScope,
};

/// How the fake swarm schedules a service's tasks after it is created or updated.
#[derive(Debug, Clone, Default)]
pub enum Schedule {
    /// Every task runs.
    #[default]
    Runs,
    /// Every task stays pending with this error from the scheduler.
    Pending(String),
    /// Every task fails with this error (three of them, as restarts would).
    Fails(String),
}

/// What the fake swarm holds, and how it behaves; tests read and set it through
/// [`FakeEngine::swarm`].
#[derive(Debug, Default)]
pub struct FakeSwarm {
    pub services: Vec<LiveService>,
    pub networks: Vec<LiveNetwork>,
    pub objects: Vec<LiveObject>,
    pub tasks: Vec<LiveTask>,
    pub nodes: Vec<crate::swarm::LiveNode>,
    /// By service name; [`Schedule::Runs`] when not named.
    pub schedules: BTreeMap<String, Schedule>,
    /// By service name: how many more times another writer updates the service just
    /// before shoal's update lands, making it "out of sequence".
    pub concurrent_writes: BTreeMap<String, usize>,
    /// By network name: how many more removals fail because tasks still use it.
    pub busy_networks: BTreeMap<String, usize>,
    /// By service name: the daemon's answer to creating it, which fails.
    pub refused_creates: BTreeMap<String, String>,
    /// Every write call, in order: `update service web_app at version 1`.
    pub writes: Vec<String>,
    /// Every read, in order: `services web_app`, `tasks id-1`, `live state`.
    pub reads: Vec<String>,
    next_id: u64,
}

/// The in-memory swarm; see the module's documentation.
#[derive(Debug, Default)]
pub struct FakeEngine {
    swarm: Mutex<FakeSwarm>,
    writing: AtomicUsize,
    most_writing: AtomicUsize,
}

impl FakeEngine {
    pub fn new() -> FakeEngine {
        FakeEngine::default()
    }

    /// The swarm, to set up or inspect.
    pub fn swarm(&self) -> std::sync::MutexGuard<'_, FakeSwarm> {
        self.swarm.lock().expect("the fake swarm's lock")
    }

    /// The most service writes that were in flight at once.
    pub fn most_concurrent_writes(&self) -> usize {
        self.most_writing.load(Ordering::SeqCst)
    }

    /// A service write takes a while, as on a real manager, so that concurrent writes
    /// overlap and can be counted.
    async fn slow_write(&self) {
        let now = self.writing.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_writing.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(10)).await;
        self.writing.fetch_sub(1, Ordering::SeqCst);
    }
}

impl FakeSwarm {
    /// Adds a service as if an earlier apply had created it, its tasks running.
    pub fn add_service(&mut self, spec: serde_json::Value) -> String {
        let id = self.new_id("service");
        let name = spec_name(&spec).to_owned();
        self.services.push(LiveService {
            id: id.clone(),
            name: name.clone(),
            version: 1,
            spec,
            previous_spec: None,
            update_state: None,
            update_message: None,
        });
        self.schedule(&id, &name);
        id
    }

    pub fn add_network(&mut self, spec: NetworkSpec) -> String {
        let id = self.new_id("network");
        self.networks.push(LiveNetwork {
            id: id.clone(),
            scope: "swarm".to_owned(),
            spec,
        });
        id
    }

    pub fn service(&self, name: &str) -> Option<&LiveService> {
        self.services.iter().find(|service| service.name == name)
    }

    /// Another writer updates the service: its version moves on.
    pub fn bump_version(&mut self, name: &str) {
        if let Some(service) = self.services.iter_mut().find(|s| s.name == name) {
            service.version += 1;
        }
    }

    fn new_id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{what}-{}", self.next_id)
    }

    /// Shuts the service's tasks down and starts new ones as its schedule says.
    fn schedule(&mut self, service_id: &str, name: &str) {
        for task in self.tasks.iter_mut().filter(|t| t.service_id == service_id) {
            task.desired_state = "shutdown".to_owned();
            if task.state == "running" || task.state == "pending" {
                task.state = "shutdown".to_owned();
            }
        }
        let replicas = self
            .service(name)
            .and_then(|service| service.spec.pointer("/Mode/Replicated/Replicas"))
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(1);
        let schedule = self.schedules.get(name).cloned().unwrap_or_default();
        let (count, desired, state, error) = match schedule {
            Schedule::Runs => (replicas, "running", "running", None),
            Schedule::Pending(error) => (replicas, "running", "pending", Some(error)),
            Schedule::Fails(error) => (3, "shutdown", "failed", Some(error)),
        };
        for slot in 1..=count {
            let id = self.new_id("task");
            self.tasks.push(LiveTask {
                id: id.clone(),
                service_id: service_id.to_owned(),
                slot: Some(slot),
                node_id: Some("node-1".to_owned()),
                desired_state: desired.to_owned(),
                state: state.to_owned(),
                message: state.to_owned(),
                error: error.clone(),
                spec_image: None,
                timestamp: id,
            });
        }
    }
}

impl DockerEngine for FakeEngine {
    fn host(&self) -> &str {
        "fake://swarm"
    }

    async fn swarm_id(&self) -> Result<String, DockerError> {
        Ok("fake-swarm".to_owned())
    }

    async fn live_state_of(&self, scope: ServiceScope) -> Result<LiveState, DockerError> {
        let mut swarm = self.swarm();
        swarm.reads.push("live state".to_owned());
        let services = swarm
            .services
            .iter()
            .filter(|service| {
                let namespace = service
                    .spec
                    .pointer("/Labels")
                    .and_then(|labels| labels.get(STACK_NAMESPACE))
                    .and_then(serde_json::Value::as_str);
                scope.holds(namespace)
            })
            .cloned()
            .collect();
        Ok(LiveState {
            services,
            scope,
            networks: swarm.networks.clone(),
            objects: swarm.objects.clone(),
            network_aliases: BTreeMap::new(),
            nodes: None,
            swarm_pending: false,
        })
    }

    async fn services(&self, names: &[String]) -> Result<Vec<LiveService>, DockerError> {
        let mut swarm = self.swarm();
        swarm.reads.push(format!("services {}", names.join(" ")));
        Ok(swarm
            .services
            .iter()
            .filter(|service| names.contains(&service.name))
            .cloned()
            .collect())
    }

    async fn tasks(&self, service_ids: &[String]) -> Result<Vec<LiveTask>, DockerError> {
        let mut swarm = self.swarm();
        swarm.reads.push(format!("tasks {}", service_ids.join(" ")));
        Ok(swarm
            .tasks
            .iter()
            .filter(|task| service_ids.contains(&task.service_id))
            .cloned()
            .collect())
    }

    async fn nodes(&self) -> Result<Vec<crate::swarm::LiveNode>, DockerError> {
        let mut swarm = self.swarm();
        swarm.reads.push("nodes".to_owned());
        Ok(swarm.nodes.clone())
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        let mut swarm = self.swarm();
        swarm
            .writes
            .push(format!("update node {id} at version {version}"));
        let node = swarm
            .nodes
            .iter_mut()
            .find(|node| node.id == id)
            .ok_or_else(|| api(&format!("updating node {id}"), "node not found"))?;
        if node.version != version {
            return Err(api(
                &format!("updating node {id}"),
                "rpc error: code = Unknown desc = update out of sequence",
            ));
        }
        node.version += 1;
        node.spec = spec.clone();
        Ok(())
    }

    async fn node_tasks(&self, id: &str) -> Result<Vec<LiveTask>, DockerError> {
        let mut swarm = self.swarm();
        swarm.reads.push(format!("tasks of node {id}"));
        Ok(swarm
            .tasks
            .iter()
            .filter(|task| task.node_id.as_deref() == Some(id))
            .cloned()
            .collect())
    }

    async fn create_service(&self, spec: &serde_json::Value) -> Result<String, DockerError> {
        self.slow_write().await;
        let mut swarm = self.swarm();
        let name = spec_name(spec).to_owned();
        swarm.writes.push(format!("create service {name}"));
        if let Some(message) = swarm.refused_creates.get(&name) {
            return Err(api(&format!("creating service {name}"), message));
        }
        if swarm.service(&name).is_some() {
            return Err(api(
                &format!("creating service {name}"),
                "rpc error: code = AlreadyExists desc = name conflicts with an existing object",
            ));
        }
        Ok(swarm.add_service(spec.clone()))
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        self.slow_write().await;
        let mut swarm = self.swarm();
        let name = spec_name(spec).to_owned();
        swarm
            .writes
            .push(format!("update service {name} at version {version}"));
        let operation = format!("updating service {name}");
        if let Some(left) = swarm.concurrent_writes.get_mut(&name)
            && *left > 0
        {
            *left -= 1;
            swarm.bump_version(&name);
        }
        let Some(service) = swarm.services.iter_mut().find(|s| s.id == id) else {
            return Err(api(&operation, &format!("service {id} not found")));
        };
        if service.version != version {
            return Err(api(
                &operation,
                "rpc error: code = Unknown desc = update out of sequence",
            ));
        }
        service.version += 1;
        service.previous_spec = Some(std::mem::replace(&mut service.spec, spec.clone()));
        service.update_state = Some("completed".to_owned());
        swarm.schedule(id, &name);
        Ok(())
    }

    async fn remove_service(&self, name: &str) -> Result<(), DockerError> {
        let mut swarm = self.swarm();
        swarm.writes.push(format!("remove service {name}"));
        let Some(index) = swarm.services.iter().position(|s| s.name == name) else {
            return Err(api(
                &format!("removing service {name}"),
                &format!("service {name} not found"),
            ));
        };
        let removed = swarm.services.remove(index);
        swarm.tasks.retain(|task| task.service_id != removed.id);
        Ok(())
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        let mut swarm = self.swarm();
        swarm.writes.push(format!("create network {}", spec.name));
        Ok(swarm.add_network(spec.clone()))
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        let mut swarm = self.swarm();
        swarm.writes.push(format!("remove network {name}"));
        let operation = format!("removing network {name}");
        if let Some(left) = swarm.busy_networks.get_mut(name)
            && *left > 0
        {
            *left -= 1;
            return Err(api(
                &operation,
                &format!("error while removing network: network {name} has active endpoints"),
            ));
        }
        let before = swarm.networks.len();
        swarm.networks.retain(|network| network.spec.name != name);
        if swarm.networks.len() == before {
            return Err(api(&operation, &format!("network {name} not found")));
        }
        Ok(())
    }

    async fn create_object(&self, object: &ObjectSpec) -> Result<String, DockerError> {
        let mut swarm = self.swarm();
        let what = match object.kind {
            ObjectKind::Config => "config",
            ObjectKind::Secret => "secret",
        };
        swarm.writes.push(format!("create {what} {}", object.name));
        let id = swarm.new_id(what);
        swarm.objects.push(LiveObject {
            kind: object.kind,
            id: id.clone(),
            name: object.name.clone(),
            labels: object.labels.clone(),
            created_at: String::new(),
        });
        Ok(id)
    }

    async fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> Result<(), DockerError> {
        let mut swarm = self.swarm();
        swarm.writes.push(format!("remove object {name}"));
        swarm
            .objects
            .retain(|object| !(object.kind == kind && object.id == id));
        Ok(())
    }
}

fn spec_name(spec: &serde_json::Value) -> &str {
    spec.get("Name")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?")
}

fn api(operation: &str, message: &str) -> DockerError {
    DockerError::Api {
        operation: operation.to_owned(),
        message: message.to_owned(),
    }
}
