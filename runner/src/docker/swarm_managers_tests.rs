//! Failing over between managers, against managers that share one in-memory swarm
//! ([`FakeEngine`]) and fail as a test says: on connection after some calls, as no longer
//! a manager, or as a manager of another swarm. Time is paused.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::*;
use crate::apply::{Applier, ApplyEvent, CollectedEvents};
use crate::docker::fake_engine::FakeEngine;
use crate::plan::{DesiredStep, plan};
use crate::steps::Desired;
use crate::steps::stack::DesiredStack;
use crate::swarm::{STACK_NAMESPACE, ServiceSpec, StackSpec};

/// How one fake manager behaves; shared with the test, which changes it as it goes.
#[derive(Default)]
struct ManagerState {
    /// Calls answered before the manager goes away (every call, and every connection,
    /// fails from then on); `None`: it stays.
    calls_left: Mutex<Option<usize>>,
    /// Calls answered so far.
    calls: AtomicUsize,
    /// Demoted: every call answers "not a swarm manager".
    demoted: AtomicBool,
    /// A write reaches the swarm, then the connection drops before the answer.
    drops_after_write: AtomicBool,
    /// Calls answered "the swarm does not have a leader" before one is elected.
    leaderless_calls: AtomicUsize,
}

/// One manager of the shared swarm.
struct FakeManager {
    host: String,
    swarm_id: String,
    swarm: Arc<FakeEngine>,
    state: Arc<ManagerState>,
}

impl FakeManager {
    /// Counts a call, and fails it when the manager is gone or demoted.
    fn answer(&self, operation: &str) -> Result<(), DockerError> {
        let mut left = self.state.calls_left.lock().expect("lock");
        if *left == Some(0) {
            return Err(DockerError::Lost {
                host: self.host.clone(),
                operation: operation.to_owned(),
                reason: "connection refused".to_owned(),
            });
        }
        if let Some(left) = left.as_mut() {
            *left -= 1;
        }
        self.state.calls.fetch_add(1, Ordering::SeqCst);
        let electing = self.state.leaderless_calls.load(Ordering::SeqCst);
        if electing > 0 {
            self.state
                .leaderless_calls
                .store(electing - 1, Ordering::SeqCst);
            return Err(DockerError::Api {
                operation: operation.to_owned(),
                message: "rpc error: code = Unknown desc = The swarm does not have a leader. \
                          It's possible that too few managers are online."
                    .to_owned(),
            });
        }
        if self.state.demoted.load(Ordering::SeqCst) {
            return Err(DockerError::NotAManager {
                host: self.host.clone(),
            });
        }
        Ok(())
    }

    /// A write's answer: lost after the write landed, when the test says so.
    fn written<T>(
        &self,
        operation: &str,
        result: Result<T, DockerError>,
    ) -> Result<T, DockerError> {
        if result.is_ok() && self.state.drops_after_write.swap(false, Ordering::SeqCst) {
            *self.state.calls_left.lock().expect("lock") = Some(0);
            return Err(DockerError::Lost {
                host: self.host.clone(),
                operation: operation.to_owned(),
                reason: "connection reset by peer".to_owned(),
            });
        }
        result
    }
}

impl DockerEngine for FakeManager {
    fn host(&self) -> &str {
        &self.host
    }

    async fn swarm_id(&self) -> Result<String, DockerError> {
        self.answer("reading the swarm")?;
        Ok(self.swarm_id.clone())
    }

    async fn live_state_of(&self, scope: ServiceScope) -> Result<LiveState, DockerError> {
        self.answer("listing services")?;
        self.swarm.live_state_of(scope).await
    }

    async fn services(&self, names: &[String]) -> Result<Vec<LiveService>, DockerError> {
        self.answer("listing services")?;
        self.swarm.services(names).await
    }

    async fn tasks(&self, service_ids: &[String]) -> Result<Vec<LiveTask>, DockerError> {
        self.answer("listing tasks")?;
        self.swarm.tasks(service_ids).await
    }

    async fn nodes(&self) -> Result<Vec<crate::swarm::LiveNode>, DockerError> {
        self.answer("listing nodes")?;
        self.swarm.nodes().await
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        self.answer("updating a node")?;
        let result = self.swarm.update_node(id, version, spec).await;
        self.written("updating a node", result)
    }

    async fn node_tasks(&self, id: &str) -> Result<Vec<LiveTask>, DockerError> {
        self.answer("listing a node's tasks")?;
        self.swarm.node_tasks(id).await
    }

    async fn create_service(&self, spec: &serde_json::Value) -> Result<String, DockerError> {
        self.answer("creating a service")?;
        let result = self.swarm.create_service(spec).await;
        self.written("creating a service", result)
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        self.answer("updating a service")?;
        let result = self.swarm.update_service(id, version, spec).await;
        self.written("updating a service", result)
    }

    async fn remove_service(&self, name: &str) -> Result<(), DockerError> {
        self.answer("removing a service")?;
        let result = self.swarm.remove_service(name).await;
        self.written("removing a service", result)
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        self.answer("creating a network")?;
        let result = self.swarm.create_network(spec).await;
        self.written("creating a network", result)
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        self.answer("removing a network")?;
        let result = self.swarm.remove_network(name).await;
        self.written("removing a network", result)
    }

    async fn create_object(&self, object: &ObjectSpec) -> Result<String, DockerError> {
        self.answer("creating an object")?;
        let result = self.swarm.create_object(object).await;
        self.written("creating an object", result)
    }

    async fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> Result<(), DockerError> {
        self.answer("removing an object")?;
        let result = self.swarm.remove_object(kind, id, name).await;
        self.written("removing an object", result)
    }
}

/// Opens the fake managers by host; a manager that is gone refuses the connection.
struct FakeOpener {
    swarm: Arc<FakeEngine>,
    managers: BTreeMap<String, (String, Arc<ManagerState>)>,
}

impl FakeOpener {
    /// Managers `tcp://m1:2376`, `tcp://m2:2376`, … of swarm `swarm-a`, each with its state.
    fn new(count: usize) -> (FakeOpener, Vec<Arc<ManagerState>>, Vec<DockerEndpoint>) {
        let states: Vec<Arc<ManagerState>> = (0..count)
            .map(|_| Arc::new(ManagerState::default()))
            .collect();
        let endpoints: Vec<DockerEndpoint> = (1..=count)
            .map(|index| DockerEndpoint::plain(&format!("tcp://m{index}:2376")))
            .collect();
        let managers = endpoints
            .iter()
            .zip(&states)
            .map(|(endpoint, state)| (endpoint.host.clone(), ("swarm-a".to_owned(), state.clone())))
            .collect();
        let opener = FakeOpener {
            swarm: Arc::new(FakeEngine::new()),
            managers,
        };
        (opener, states, endpoints)
    }
}

impl EngineOpener for FakeOpener {
    type Engine = FakeManager;

    async fn open(&self, endpoint: &DockerEndpoint) -> Result<FakeManager, DockerError> {
        let (swarm_id, state) = self.managers.get(&endpoint.host).expect("a fake manager");
        if *state.calls_left.lock().expect("lock") == Some(0) {
            return Err(DockerError::Unreachable {
                host: endpoint.host.clone(),
                reason: "connection refused".to_owned(),
            });
        }
        Ok(FakeManager {
            host: endpoint.host.clone(),
            swarm_id: swarm_id.clone(),
            swarm: self.swarm.clone(),
            state: state.clone(),
        })
    }
}

fn gone(state: &ManagerState, after: usize) {
    *state.calls_left.lock().expect("lock") = Some(after);
}

fn service(name: &str) -> ServiceSpec {
    let name = format!("web_{name}");
    ServiceSpec {
        spec: json!({
            "Name": name,
            "Labels": { STACK_NAMESPACE: "web" },
            "Mode": { "Replicated": { "Replicas": 1 } },
            "TaskTemplate": { "ContainerSpec": { "Image": "busybox:1" } },
        }),
        name,
    }
}

fn stack_step(services: Vec<ServiceSpec>) -> DesiredStep {
    DesiredStep {
        name: "deploy".to_owned(),
        kind: "stack",
        skipped: false,
        timeout: None,
        continue_on_error: false,
        desired: Desired::Stack(DesiredStack {
            spec: StackSpec {
                name: "web".to_owned(),
                services,
                ..StackSpec::default()
            },
            prune: false,
            allow_empty: false,
            keep_versions: 1,
            wait: true,
            rollback_on_failure: false,
        }),
    }
}

#[tokio::test(start_paused = true)]
async fn a_read_moves_to_the_next_manager_that_answers() {
    let (opener, states, endpoints) = FakeOpener::new(3);
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    assert_eq!(managers.answering(), "tcp://m1:2376");
    assert_eq!(managers.swarm(), Some("swarm-a"));
    gone(&states[0], 0);
    gone(&states[1], 0);
    managers.live_state().await.expect("m3 answers");
    assert_eq!(managers.answering(), "tcp://m3:2376");
    assert_eq!(
        managers
            .take_moves()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "moved from manager tcp://m1:2376 to tcp://m3:2376: listing services failed: the Docker daemon at tcp://m1:2376 is unreachable: connection refused"
        ]
    );
    assert!(managers.take_moves().is_empty(), "moves are told once");
}

#[tokio::test(start_paused = true)]
async fn a_node_that_is_no_longer_a_manager_is_left() {
    let (opener, states, endpoints) = FakeOpener::new(2);
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    states[0].demoted.store(true, Ordering::SeqCst);
    managers
        .services(&["web_a".to_owned()])
        .await
        .expect("m2 answers");
    let moves = managers.take_moves();
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].to, "tcp://m2:2376");
    assert!(
        moves[0]
            .reason
            .starts_with("the Docker daemon at tcp://m1:2376 is not a swarm manager"),
        "{}",
        moves[0].reason
    );
}

#[tokio::test(start_paused = true)]
async fn an_apply_finishes_through_another_manager_when_one_dies_in_the_middle() {
    let (opener, states, endpoints) = FakeOpener::new(3);
    let swarm = opener.swarm.clone();
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    let steps = [stack_step(
        (0..6).map(|index| service(&format!("s{index}"))).collect(),
    )];
    let live = managers.live_state().await.expect("reads");
    let planned = plan(&steps, &live);
    // m1 answers three more calls: it dies among the creates.
    gone(&states[0], 3);
    let mut events = CollectedEvents::default();
    let report = Applier::new(&managers, &mut events, &live)
        .apply(&steps, &planned)
        .await
        .expect("the apply completes through m2");
    assert_eq!(report.changes(), 6);
    assert_eq!(swarm.swarm().services.len(), 6, "each service created once");
    let converged = events
        .events
        .iter()
        .filter(|event| matches!(event, ApplyEvent::Converged { .. }))
        .count();
    assert_eq!(converged, 6);
    let moves = managers.take_moves();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert_eq!(
        (moves[0].from.as_str(), moves[0].to.as_str()),
        ("tcp://m1:2376", "tcp://m2:2376")
    );
    assert!(states[1].calls.load(Ordering::SeqCst) > 0);
}

#[tokio::test(start_paused = true)]
async fn a_write_that_landed_before_the_manager_went_away_is_not_made_again() {
    let (opener, states, endpoints) = FakeOpener::new(2);
    let swarm = opener.swarm.clone();
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    states[0].drops_after_write.store(true, Ordering::SeqCst);
    let id = managers
        .create_service(&service("api").spec)
        .await
        .expect("created");
    let swarm = swarm.swarm();
    assert_eq!(swarm.services.len(), 1);
    assert_eq!(swarm.services[0].id, id);
    assert_eq!(
        swarm
            .writes
            .iter()
            .filter(|write| write.starts_with("create service"))
            .count(),
        1,
        "{:?}",
        swarm.writes
    );
}

#[tokio::test(start_paused = true)]
async fn one_manager_fails_as_it_always_did() {
    let (opener, states, mut endpoints) = FakeOpener::new(1);
    endpoints.truncate(1);
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    assert_eq!(managers.swarm(), None, "one host: no swarm is checked");
    gone(&states[0], 0);
    let error = managers.live_state().await.expect_err("nowhere to move");
    assert_eq!(
        error.to_string(),
        "listing services failed: the Docker daemon at tcp://m1:2376 is unreachable: connection refused"
    );
}

#[tokio::test(start_paused = true)]
async fn a_swarm_reinstalled_at_a_known_address_is_refused() {
    let folder = tempfile::tempdir().expect("temp");
    let known = KnownSwarms::at(&folder.path().join("known_swarms"));
    known
        .remember("tcp://m1:2376", "swarm-old")
        .expect("writes");
    let (opener, states, endpoints) = FakeOpener::new(2);
    gone(&states[1], 0);
    let error = SwarmManagers::connect(opener, endpoints, Some(known.clone()))
        .await
        .err()
        .expect("refused");
    let path = known.path().display();
    assert_eq!(
        error.to_string(),
        format!(
            "no manager of the swarm answered: the Docker daemon at tcp://m1:2376 is a manager of swarm swarm-a, not of swarm swarm-old, which {path} records for this environment's hosts; if the swarm was rebuilt on purpose, remove its hosts' lines from {path}; cannot connect to the Docker daemon at tcp://m2:2376: connection refused"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn the_swarm_found_first_is_remembered_for_each_manager_used() {
    let folder = tempfile::tempdir().expect("temp");
    let known = KnownSwarms::at(&folder.path().join("known_swarms"));
    let (opener, states, endpoints) = FakeOpener::new(2);
    let managers = SwarmManagers::connect(opener, endpoints, Some(known.clone()))
        .await
        .expect("connects");
    gone(&states[0], 0);
    managers.live_state().await.expect("m2 answers");
    assert_eq!(
        std::fs::read_to_string(known.path()).expect("written"),
        "tcp://m1:2376 swarm-a\ntcp://m2:2376 swarm-a\n"
    );
}

#[tokio::test(start_paused = true)]
async fn calls_wait_while_the_managers_left_elect_a_leader() {
    let (opener, states, endpoints) = FakeOpener::new(3);
    let managers = SwarmManagers::connect(opener, endpoints, None)
        .await
        .expect("connects");
    gone(&states[0], 0);
    gone(&states[2], 0);
    states[1].leaderless_calls.store(3, Ordering::SeqCst);
    let started = tokio::time::Instant::now();
    managers
        .live_state()
        .await
        .expect("m2 answers once it has a leader");
    assert_eq!(managers.answering(), "tcp://m2:2376");
    assert_eq!(states[1].leaderless_calls.load(Ordering::SeqCst), 0);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "a second between tries"
    );
}
