//! The live health of the stacks each environment's workflows deploy (services
//! `running/desired`, failing tasks and their errors), read from the swarm by one shared
//! reader at most every few seconds, however many browsers look.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::daemon::LoadedCommit;
use crate::docker::{ClientOpener, DockerEngine as _, KnownSwarms, SwarmManagers};
use crate::model::ConfigRepo;
use crate::pipeline::{DaemonOverride, docker_endpoints, remembers_swarm};
use crate::swarm::{LiveService, LiveTask, ServiceScope};

/// How old the health shown may be.
pub const HEALTH_MAX_AGE: Duration = Duration::from_secs(5);

/// One service of a stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceHealth {
    pub name: String,
    pub running: usize,
    pub desired: usize,
    /// The errors of its failed tasks, newest first (at most three), while it is short of
    /// tasks.
    pub failing: Vec<String>,
}

impl ServiceHealth {
    pub fn healthy(&self) -> bool {
        self.running >= self.desired
    }
}

/// What the swarm of one environment said, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentHealth {
    pub environment: String,
    pub services: Vec<ServiceHealth>,
    pub error: Option<String>,
}

pub type HealthFuture<'a> = Pin<Box<dyn Future<Output = Vec<EnvironmentHealth>> + Send + 'a>>;

/// Reads the health of the stacks the head's workflows deploy, per environment.
pub trait HealthReader: Send + Sync + 'static {
    fn read<'a>(&'a self, repo: &'a ConfigRepo) -> HealthFuture<'a>;
}

/// The last reading, shared: a browser asking within [`HEALTH_MAX_AGE`] of it gets it; the
/// first one after reads again while the others wait for that one reading.
pub struct StackHealth {
    reader: Arc<dyn HealthReader>,
    max_age: Duration,
    last: tokio::sync::Mutex<Option<Reading>>,
}

struct Reading {
    at: Instant,
    commit: String,
    health: Arc<Vec<EnvironmentHealth>>,
}

impl StackHealth {
    pub fn new(reader: Arc<dyn HealthReader>) -> StackHealth {
        StackHealth {
            reader,
            max_age: HEALTH_MAX_AGE,
            last: tokio::sync::Mutex::new(None),
        }
    }

    /// The health of the stacks of `head`, at most `max_age` old, and its age.
    pub async fn current(&self, head: &LoadedCommit) -> (Arc<Vec<EnvironmentHealth>>, Duration) {
        let mut last = self.last.lock().await;
        if let Some(reading) = last.as_ref()
            && reading.commit == head.commit
            && reading.at.elapsed() < self.max_age
        {
            return (reading.health.clone(), reading.at.elapsed());
        }
        let health = Arc::new(self.reader.read(&head.repo).await);
        *last = Some(Reading {
            at: Instant::now(),
            commit: head.commit.clone(),
            health: health.clone(),
        });
        (health, Duration::ZERO)
    }
}

/// The swarms of `shoal serve`'s environments, reached as runs reach them.
pub struct SwarmHealthReader {
    /// The daemon every environment uses instead of its own (`--docker-host`,
    /// `--docker-context`), as for runs.
    pub daemon_override: Option<DaemonOverride>,
    pub timeout: Duration,
    pub known_swarms: Option<PathBuf>,
    pub secrets_folder: PathBuf,
}

impl HealthReader for SwarmHealthReader {
    fn read<'a>(&'a self, repo: &'a ConfigRepo) -> HealthFuture<'a> {
        Box::pin(async move {
            let mut found = Vec::new();
            for (environment, stacks) in stacks_by_environment(repo) {
                let read = self.read_environment(repo, &environment, stacks);
                let (services, error) = match tokio::time::timeout(self.timeout, read).await {
                    Ok(Ok(services)) => (services, None),
                    Ok(Err(error)) => (Vec::new(), Some(error)),
                    Err(_) => (
                        Vec::new(),
                        Some(format!(
                            "the swarm did not answer within {}",
                            humantime::format_duration(self.timeout)
                        )),
                    ),
                };
                found.push(EnvironmentHealth {
                    environment,
                    services,
                    error,
                });
            }
            found
        })
    }
}

impl SwarmHealthReader {
    async fn read_environment(
        &self,
        repo: &ConfigRepo,
        name: &str,
        stacks: BTreeSet<String>,
    ) -> Result<Vec<ServiceHealth>, String> {
        if stacks.is_empty() {
            return Ok(Vec::new());
        }
        let Some(environment) = repo.environments.iter().find(|e| e.name == name) else {
            return Ok(Vec::new());
        };
        let endpoints = docker_endpoints(
            self.daemon_override.as_ref(),
            environment,
            &self.secrets_folder,
        )
        .map_err(|error| error.to_string())?;
        let known = self
            .known_swarms
            .as_deref()
            .filter(|_| remembers_swarm(self.daemon_override.as_ref(), environment))
            .map(KnownSwarms::at);
        let swarm = SwarmManagers::connect(
            ClientOpener {
                timeout: self.timeout,
            },
            endpoints,
            known,
        )
        .await
        .map_err(|error| error.to_string())?;
        let live = swarm
            .live_state_of(ServiceScope::Stacks(stacks))
            .await
            .map_err(|error| error.to_string())?;
        let ids: Vec<String> = live.services.iter().map(|s| s.id.clone()).collect();
        let tasks = swarm.tasks(&ids).await.map_err(|error| error.to_string())?;
        Ok(service_health(&live.services, &tasks))
    }
}

/// The stacks each environment's workflows deploy, known before anything renders.
pub fn stacks_by_environment(repo: &ConfigRepo) -> BTreeMap<String, BTreeSet<String>> {
    let mut stacks: BTreeMap<String, BTreeSet<String>> = repo
        .environments
        .iter()
        .map(|environment| (environment.name.clone(), BTreeSet::new()))
        .collect();
    for workflow in &repo.workflows {
        let named: Vec<String> = workflow
            .steps
            .iter()
            .filter_map(|step| step.kind.stack())
            .filter(|name| !name.contains("{{") && !name.contains("{%"))
            .map(str::to_owned)
            .collect();
        for environment in &workflow.environments {
            stacks
                .entry(environment.clone())
                .or_default()
                .extend(named.iter().cloned());
        }
    }
    stacks
}

/// Each service's running and desired tasks, and its failed tasks' errors while it is
/// short of tasks.
pub fn service_health(services: &[LiveService], tasks: &[LiveTask]) -> Vec<ServiceHealth> {
    let mut health: Vec<ServiceHealth> = services
        .iter()
        .map(|service| {
            let own: Vec<&LiveTask> = tasks
                .iter()
                .filter(|t| t.service_id == service.id)
                .collect();
            let running = own
                .iter()
                .filter(|t| t.state == "running" && t.desired_state == "running")
                .count();
            let desired = service.spec["Mode"]["Replicated"]["Replicas"]
                .as_u64()
                .map_or_else(
                    // A global service wants one task on each node it chose.
                    || own.iter().filter(|t| t.desired_state == "running").count(),
                    |replicas| usize::try_from(replicas).unwrap_or(usize::MAX),
                );
            let mut failed: Vec<&LiveTask> = own
                .iter()
                .copied()
                .filter(|t| matches!(t.state.as_str(), "failed" | "rejected"))
                .collect();
            failed.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
            let failing = if running < desired {
                failed
                    .iter()
                    .take(3)
                    .map(|t| {
                        let error = t.error.clone().unwrap_or_else(|| t.message.clone());
                        format!("{}: {error}", t.state)
                    })
                    .collect()
            } else {
                Vec::new()
            };
            ServiceHealth {
                name: service.name.clone(),
                running,
                desired,
                failing,
            }
        })
        .collect();
    health.sort_by(|a, b| a.name.cmp(&b.name));
    health
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn task(service: &str, desired: &str, state: &str, error: Option<&str>, at: &str) -> LiveTask {
        LiveTask {
            id: format!("{service}-{at}"),
            service_id: service.to_owned(),
            slot: Some(1),
            node_id: None,
            desired_state: desired.to_owned(),
            state: state.to_owned(),
            message: state.to_owned(),
            error: error.map(str::to_owned),
            spec_image: None,
            timestamp: at.to_owned(),
        }
    }

    fn service(id: &str, replicas: u64) -> LiveService {
        LiveService {
            id: id.to_owned(),
            name: format!("shop_{id}"),
            version: 1,
            spec: serde_json::json!({ "Mode": { "Replicated": { "Replicas": replicas } } }),
            update_state: None,
            update_message: None,
            previous_spec: None,
        }
    }

    #[test]
    fn a_service_short_of_tasks_shows_its_failed_tasks_errors() {
        let tasks = [
            task("web", "running", "running", None, "t1"),
            task("web", "running", "running", None, "t2"),
            task(
                "db",
                "shutdown",
                "failed",
                Some("task: non-zero exit (1)"),
                "t1",
            ),
            task("db", "shutdown", "rejected", Some("no suitable node"), "t3"),
            task("db", "running", "pending", None, "t4"),
        ];
        let health = service_health(&[service("web", 2), service("db", 1)], &tasks);
        assert_eq!(
            health,
            [
                ServiceHealth {
                    name: "shop_db".to_owned(),
                    running: 0,
                    desired: 1,
                    failing: vec![
                        "rejected: no suitable node".to_owned(),
                        "failed: task: non-zero exit (1)".to_owned()
                    ],
                },
                ServiceHealth {
                    name: "shop_web".to_owned(),
                    running: 2,
                    desired: 2,
                    failing: Vec::new(),
                },
            ]
        );
    }

    struct CountingReader(AtomicUsize);

    impl HealthReader for CountingReader {
        fn read<'a>(&'a self, _repo: &'a ConfigRepo) -> HealthFuture<'a> {
            Box::pin(async move {
                self.0.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Vec::new()
            })
        }
    }

    #[tokio::test]
    async fn many_browsers_at_once_cost_one_reading_of_the_swarm() {
        let reader = Arc::new(CountingReader(AtomicUsize::new(0)));
        let health = Arc::new(StackHealth::new(reader.clone()));
        let files = crate::load::MemoryFiles::new()
            .with("shoal.yml", "environments: { prod: {} }\n")
            .with(
                "workflows/web.yml",
                "on: { workflow_dispatch: {} }\nsteps:\n  - network: { name: n }\n",
            );
        let head = Arc::new(LoadedCommit::load("c0ffee", Arc::new(files)).expect("loads"));
        let mut browsers = Vec::new();
        for _ in 0..20 {
            let (health, head) = (health.clone(), head.clone());
            browsers.push(tokio::spawn(async move { health.current(&head).await }));
        }
        for browser in browsers {
            browser.await.expect("answers");
        }
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
    }
}
