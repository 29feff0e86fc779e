//! The managers of one swarm, reached as one [`DockerEngine`]: calls go to the manager
//! that answered last, and move on to the next of the list when it stops answering (a
//! failed connection, a timeout) or is no longer a manager. A manager is used only when it
//! belongs to the expected swarm: the one its address is known for ([`KnownSwarms`]), or
//! else the one the first manager answered for. After a move, a write that may have landed
//! before the old manager went away is first looked for on the new one (the swarm is read
//! again), and made again only when it is not there. Every move is kept, for the run's
//! log ([`SwarmManagers::take_moves`]).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{DockerClient, DockerEndpoint, DockerEngine, DockerError, KnownSwarms};
use crate::swarm::{
    LiveService, LiveState, LiveTask, NetworkSpec, ObjectKind, ObjectSpec, ServiceScope,
};

/// How long calls wait for the managers that are left to elect a leader, when the one
/// that led goes away (swarmkit elects one within about ten seconds).
const LEADER_ELECTION_WAIT: Duration = Duration::from_secs(30);

/// Opens an engine for one endpoint: [`DockerClient::connect`], or a fake in tests.
pub trait EngineOpener: Send + Sync {
    type Engine: DockerEngine + Send + Sync + 'static;

    fn open(
        &self,
        endpoint: &DockerEndpoint,
    ) -> impl Future<Output = Result<Self::Engine, DockerError>> + Send;
}

/// Opens [`DockerClient`]s, each call with `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct ClientOpener {
    pub timeout: Duration,
}

impl EngineOpener for ClientOpener {
    type Engine = DockerClient;

    async fn open(&self, endpoint: &DockerEndpoint) -> Result<DockerClient, DockerError> {
        DockerClient::connect(endpoint, self.timeout).await
    }
}

/// A move from one manager to another, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerMove {
    pub from: String,
    pub to: String,
    /// Why the old manager was left.
    pub reason: String,
}

impl std::fmt::Display for ManagerMove {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "moved from manager {} to {}: {}",
            self.from, self.to, self.reason
        )
    }
}

pub struct SwarmManagers<O: EngineOpener = ClientOpener> {
    opener: O,
    endpoints: Vec<DockerEndpoint>,
    known: Option<KnownSwarms>,
    /// The swarm every manager used must belong to; `None` with one endpoint and nothing
    /// known, where no swarm is checked (as before there were several).
    swarm: Option<String>,
    current: Mutex<Current<O::Engine>>,
    /// Held while moving, so that calls failing together move once.
    moving: tokio::sync::Mutex<()>,
    moves: Mutex<Vec<ManagerMove>>,
}

struct Current<E> {
    index: usize,
    engine: Arc<E>,
}

impl<O: EngineOpener> SwarmManagers<O> {
    /// Connects to the first of `endpoints` (not empty) that answers as a manager of the
    /// expected swarm. With `known`, the swarm is the one `known` records for these
    /// addresses, and the swarm found is recorded there; without it, and with several
    /// endpoints, it is the one the first manager that answers belongs to.
    pub async fn connect(
        opener: O,
        endpoints: Vec<DockerEndpoint>,
        known: Option<KnownSwarms>,
    ) -> Result<SwarmManagers<O>, DockerError> {
        let Some(first) = endpoints.first() else {
            return Err(DockerError::NoManager {
                tried: "no Docker host is given".to_owned(),
            });
        };
        if endpoints.len() == 1 && known.is_none() {
            let engine = opener.open(first).await?;
            return Ok(SwarmManagers::with(
                opener, endpoints, known, None, 0, engine,
            ));
        }
        let expected = match &known {
            Some(known) => known_swarm(known, &endpoints)?,
            None => None,
        };
        let mut tried = Vec::new();
        for (index, endpoint) in endpoints.iter().enumerate() {
            match open_manager(&opener, endpoint, expected.as_deref(), known.as_ref()).await {
                Ok((engine, swarm)) => {
                    return Ok(SwarmManagers::with(
                        opener,
                        endpoints,
                        known,
                        Some(swarm),
                        index,
                        engine,
                    ));
                }
                Err(error) if endpoints.len() == 1 => return Err(error),
                Err(error) => tried.push(error.to_string()),
            }
        }
        Err(DockerError::NoManager {
            tried: tried.join("; "),
        })
    }

    fn with(
        opener: O,
        endpoints: Vec<DockerEndpoint>,
        known: Option<KnownSwarms>,
        swarm: Option<String>,
        index: usize,
        engine: O::Engine,
    ) -> SwarmManagers<O> {
        SwarmManagers {
            opener,
            endpoints,
            known,
            swarm,
            current: Mutex::new(Current {
                index,
                engine: Arc::new(engine),
            }),
            moving: tokio::sync::Mutex::new(()),
            moves: Mutex::new(Vec::new()),
        }
    }

    /// The endpoint that answers now.
    pub fn answering(&self) -> &str {
        &self.endpoints[self.current().0].host
    }

    /// The swarm's ID, when it was checked (several endpoints, or a known one).
    pub fn swarm(&self) -> Option<&str> {
        self.swarm.as_deref()
    }

    /// The moves made since last asked, oldest first.
    pub fn take_moves(&self) -> Vec<ManagerMove> {
        std::mem::take(&mut *self.moves.lock().expect("the moves' lock"))
    }

    fn current(&self) -> (usize, Arc<O::Engine>) {
        let current = self.current.lock().expect("the current manager's lock");
        (current.index, current.engine.clone())
    }

    /// Leaves the manager at `failed` for the next one of the list that answers as a
    /// manager of the swarm (the old one last: it may have come back). Calls that failed
    /// on the same manager together move once.
    async fn move_from(&self, failed: usize, error: &DockerError) -> Result<(), DockerError> {
        let _moving = self.moving.lock().await;
        if self.current().0 != failed {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + LEADER_ELECTION_WAIT;
        loop {
            match self.move_once(failed, error).await {
                Err((_, true)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err((tried, _)) => return Err(tried),
                Ok(()) => return Ok(()),
            }
        }
    }

    /// One round of [`SwarmManagers::move_from`]; a failure says whether a manager that
    /// answered had no leader (worth another round once one is elected).
    async fn move_once(
        &self,
        failed: usize,
        error: &DockerError,
    ) -> Result<(), (DockerError, bool)> {
        let count = self.endpoints.len();
        let mut leaderless = false;
        let mut tried = vec![format!("{}: {error}", self.endpoints[failed].host)];
        for step in 1..=count {
            let index = (failed + step) % count;
            let endpoint = &self.endpoints[index];
            match open_manager(
                &self.opener,
                endpoint,
                self.swarm.as_deref(),
                self.known.as_ref(),
            )
            .await
            {
                Ok((engine, _)) => {
                    *self.current.lock().expect("the current manager's lock") = Current {
                        index,
                        engine: Arc::new(engine),
                    };
                    // The same manager again, reconnected, is no move to tell of.
                    if index == failed {
                        return Ok(());
                    }
                    self.moves
                        .lock()
                        .expect("the moves' lock")
                        .push(ManagerMove {
                            from: self.endpoints[failed].host.clone(),
                            to: endpoint.host.clone(),
                            reason: error.to_string(),
                        });
                    return Ok(());
                }
                Err(error) => {
                    leaderless |= error.is_leaderless();
                    if index != failed {
                        tried.push(error.to_string());
                    }
                }
            }
        }
        Err((
            DockerError::NoManager {
                tried: tried.join("; "),
            },
            leaderless,
        ))
    }

    /// Whether a call that failed with `error` is made again on another manager.
    fn moves_on(&self, error: &DockerError) -> bool {
        self.endpoints.len() > 1 && error.is_lost_manager()
    }

    /// A read, made again on the next manager as long as one is lost.
    async fn read<T, Call, CallFuture>(&self, call: Call) -> Result<T, DockerError>
    where
        Call: Fn(Arc<O::Engine>) -> CallFuture,
        CallFuture: Future<Output = Result<T, DockerError>>,
    {
        self.write(call, |_| async { Ok(None) }).await
    }

    /// A write, made again on the next manager as long as one is lost; after a move,
    /// `landed` reads the new manager's swarm first and gives the write's result when it
    /// had landed before the old one went away.
    async fn write<T, Call, CallFuture, Landed, LandedFuture>(
        &self,
        call: Call,
        landed: Landed,
    ) -> Result<T, DockerError>
    where
        Call: Fn(Arc<O::Engine>) -> CallFuture,
        CallFuture: Future<Output = Result<T, DockerError>>,
        Landed: Fn(Arc<O::Engine>) -> LandedFuture,
        LandedFuture: Future<Output = Result<Option<T>, DockerError>>,
    {
        let mut moved = 0;
        let deadline = tokio::time::Instant::now() + LEADER_ELECTION_WAIT;
        loop {
            let (index, engine) = self.current();
            let result = if moved > 0 {
                match landed(engine.clone()).await {
                    Ok(Some(done)) => Ok(done),
                    Ok(None) => call(engine).await,
                    Err(error) => Err(error),
                }
            } else {
                call(engine).await
            };
            match result {
                // The swarm elects a new leader: the same call, once more, in a second.
                Err(error)
                    if self.endpoints.len() > 1
                        && error.is_leaderless()
                        && tokio::time::Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) if self.moves_on(&error) && moved < self.endpoints.len() => {
                    self.move_from(index, &error).await?;
                    moved += 1;
                }
                result => return result,
            }
        }
    }
}

/// Opens `endpoint` and checks that it is a manager of `expected` (when known); records
/// the swarm found in `known`.
async fn open_manager<O: EngineOpener>(
    opener: &O,
    endpoint: &DockerEndpoint,
    expected: Option<&str>,
    known: Option<&KnownSwarms>,
) -> Result<(O::Engine, String), DockerError> {
    let engine = opener.open(endpoint).await?;
    let swarm = engine.swarm_id().await?;
    let recorded = match known {
        Some(known) => known
            .swarm_of(&endpoint.host)
            .map_err(DockerError::KnownSwarms)?,
        None => None,
    };
    if let Some(expected) = recorded.as_deref().or(expected)
        && swarm != expected
    {
        return Err(DockerError::OtherSwarm {
            host: endpoint.host.clone(),
            found: swarm,
            expected: expected.to_owned(),
            known_swarms: known.map_or_else(
                || "the first manager that answered".to_owned(),
                |known| known.path().display().to_string(),
            ),
        });
    }
    if let Some(known) = known {
        known
            .remember(&endpoint.host, &swarm)
            .map_err(DockerError::KnownSwarms)?;
    }
    Ok((engine, swarm))
}

/// The one swarm `known` records for the addresses of `endpoints`, if any.
fn known_swarm(
    known: &KnownSwarms,
    endpoints: &[DockerEndpoint],
) -> Result<Option<String>, DockerError> {
    let mut found: Vec<(String, String)> = Vec::new();
    for endpoint in endpoints {
        if let Some(swarm) = known
            .swarm_of(&endpoint.host)
            .map_err(DockerError::KnownSwarms)?
        {
            found.push((endpoint.host.clone(), swarm));
        }
    }
    let Some((_, first)) = found.first() else {
        return Ok(None);
    };
    if found.iter().all(|(_, swarm)| swarm == first) {
        return Ok(Some(first.clone()));
    }
    let listed: Vec<String> = found
        .iter()
        .map(|(host, swarm)| format!("{host} is in swarm {swarm}"))
        .collect();
    Err(DockerError::KnownSwarms(format!(
        "{} records more than one swarm for this environment's hosts ({}); remove the lines \
         that are out of date",
        known.path().display(),
        listed.join(", ")
    )))
}

impl<O: EngineOpener> DockerEngine for SwarmManagers<O> {
    fn host(&self) -> &str {
        self.answering()
    }

    async fn swarm_id(&self) -> Result<String, DockerError> {
        self.read(|engine| async move { engine.swarm_id().await })
            .await
    }

    async fn live_state_of(&self, scope: ServiceScope) -> Result<LiveState, DockerError> {
        let scope = &scope;
        self.read(|engine| async move { engine.live_state_of(scope.clone()).await })
            .await
    }

    async fn with_services_of(
        &self,
        objects: LiveState,
        scope: ServiceScope,
    ) -> Result<LiveState, DockerError> {
        let (objects, scope) = (&objects, &scope);
        self.read(|engine| async move {
            engine
                .with_services_of(objects.clone(), scope.clone())
                .await
        })
        .await
    }

    async fn services(&self, names: &[String]) -> Result<Vec<LiveService>, DockerError> {
        self.read(|engine| async move { engine.services(names).await })
            .await
    }

    async fn tasks(&self, service_ids: &[String]) -> Result<Vec<LiveTask>, DockerError> {
        self.read(|engine| async move { engine.tasks(service_ids).await })
            .await
    }

    async fn nodes(&self) -> Result<Vec<crate::swarm::LiveNode>, DockerError> {
        self.read(|engine| async move { engine.nodes().await })
            .await
    }

    async fn update_node(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        // As a service's: made again at the same version, a landed update is "out of
        // sequence", and the node step reads the node and compares again.
        self.read(|engine| async move { engine.update_node(id, version, spec).await })
            .await
    }

    async fn node_tasks(&self, id: &str) -> Result<Vec<LiveTask>, DockerError> {
        self.read(|engine| async move { engine.node_tasks(id).await })
            .await
    }

    async fn create_service(&self, spec: &serde_json::Value) -> Result<String, DockerError> {
        let name = [spec
            .get("Name")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()];
        let name = &name;
        self.write(
            |engine| async move { engine.create_service(spec).await },
            |engine| async move {
                let found = engine.services(name).await?;
                Ok(found.into_iter().next().map(|service| service.id))
            },
        )
        .await
    }

    async fn update_service(
        &self,
        id: &str,
        version: u64,
        spec: &serde_json::Value,
    ) -> Result<(), DockerError> {
        // Made again at the same version: if it had landed, the daemon answers "out of
        // sequence", and the applier reads the service and updates it again.
        self.read(|engine| async move { engine.update_service(id, version, spec).await })
            .await
    }

    async fn remove_service(&self, name: &str) -> Result<(), DockerError> {
        let names = [name.to_owned()];
        let names = &names;
        self.write(
            |engine| async move { engine.remove_service(name).await },
            |engine| async move { Ok(engine.services(names).await?.is_empty().then_some(())) },
        )
        .await
    }

    async fn create_network(&self, spec: &NetworkSpec) -> Result<String, DockerError> {
        self.write(
            |engine| async move { engine.create_network(spec).await },
            |engine| async move {
                let live = engine.live_state_of(no_services()).await?;
                Ok(live
                    .networks
                    .into_iter()
                    .find(|network| network.spec.name == spec.name)
                    .map(|network| network.id))
            },
        )
        .await
    }

    async fn remove_network(&self, name: &str) -> Result<(), DockerError> {
        self.write(
            |engine| async move { engine.remove_network(name).await },
            |engine| async move {
                let live = engine.live_state_of(no_services()).await?;
                let gone = !live
                    .networks
                    .iter()
                    .any(|network| network.spec.name == name);
                Ok(gone.then_some(()))
            },
        )
        .await
    }

    async fn create_object(&self, object: &ObjectSpec) -> Result<String, DockerError> {
        self.write(
            |engine| async move { engine.create_object(object).await },
            |engine| async move {
                let live = engine.live_state_of(no_services()).await?;
                Ok(live
                    .objects
                    .into_iter()
                    .find(|live| live.kind == object.kind && live.name == object.name)
                    .map(|live| live.id))
            },
        )
        .await
    }

    async fn remove_object(
        &self,
        kind: ObjectKind,
        id: &str,
        name: &str,
    ) -> Result<(), DockerError> {
        self.write(
            |engine| async move { engine.remove_object(kind, id, name).await },
            |engine| async move {
                let live = engine.live_state_of(no_services()).await?;
                let gone = !live
                    .objects
                    .iter()
                    .any(|live| live.kind == kind && live.id == id);
                Ok(gone.then_some(()))
            },
        )
        .await
    }
}

/// A reading of the swarm's networks, configs and secrets, without its services.
fn no_services() -> ServiceScope {
    ServiceScope::Stacks(std::collections::BTreeSet::new())
}

#[cfg(test)]
#[path = "swarm_managers_tests.rs"]
mod tests;
