//! The applier against an in-memory swarm ([`FakeEngine`]): bounded concurrent writes,
//! updates out of sequence, convergence (and why it waits), rollback, and a cancel while
//! a teardown waits. Time is paused: minutes of waiting take none.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::Applier;
use crate::apply::{ApplyError, ApplyEvent, ApplyReport, CollectedEvents, cancel_pair};
use crate::docker::DockerEngine as _;
use crate::docker::fake_engine::{FakeEngine, Schedule};
use crate::plan::{DesiredStep, ObjectType, Plan, plan};
use crate::steps::Desired;
use crate::steps::stack::{DesiredStack, PARALLELISM};
use crate::steps::wait::WaitTarget;
use crate::swarm::{NetworkSpec, STACK_NAMESPACE, ServiceSpec, StackSpec};

const PORT_IN_USE: &str = "no suitable node (host-mode port already in use on 1 node)";

fn service(stack: &str, name: &str, args: &str) -> ServiceSpec {
    let name = format!("{stack}_{name}");
    ServiceSpec {
        spec: json!({
            "Name": name,
            "Labels": { STACK_NAMESPACE: stack },
            "Mode": { "Replicated": { "Replicas": 1 } },
            "TaskTemplate": { "ContainerSpec": { "Image": "busybox:1", "Args": [args] } },
        }),
        name,
    }
}

fn network(name: &str, stack: &str) -> NetworkSpec {
    NetworkSpec {
        name: name.to_owned(),
        driver: "overlay".to_owned(),
        attachable: false,
        internal: false,
        labels: BTreeMap::from([(STACK_NAMESPACE.to_owned(), stack.to_owned())]),
        options: BTreeMap::new(),
        ipam: None,
    }
}

fn step(name: &str, timeout: Option<Duration>, desired: Desired) -> DesiredStep {
    DesiredStep {
        name: name.to_owned(),
        kind: "stack",
        skipped: false,
        timeout,
        continue_on_error: false,
        desired,
    }
}

fn stack_step(services: Vec<ServiceSpec>, rollback_on_failure: bool) -> DesiredStep {
    step(
        "deploy",
        None,
        Desired::Stack(DesiredStack {
            spec: StackSpec {
                name: "web".to_owned(),
                services,
                ..StackSpec::default()
            },
            prune: false,
            allow_empty: false,
            keep_versions: 1,
            wait: true,
            rollback_on_failure,
        }),
    )
}

/// Plans `steps` against the fake swarm as it is, then applies them.
async fn apply(
    engine: &FakeEngine,
    steps: &[DesiredStep],
) -> (
    CollectedEvents,
    Result<ApplyReport, (ApplyReport, ApplyError)>,
) {
    let live = engine.live_state().await.expect("the fake reads");
    let planned: Plan = plan(steps, &live);
    let mut events = CollectedEvents::default();
    let result = Applier::new(engine, &mut events, &live)
        .apply(steps, &planned)
        .await;
    (events, result)
}

fn error_text(result: Result<ApplyReport, (ApplyReport, ApplyError)>) -> String {
    match result {
        Ok(report) => panic!("expected a failure, got {report:?}"),
        Err((_, error)) => error.to_string(),
    }
}

#[tokio::test(start_paused = true)]
async fn writes_at_most_the_parallelism_at_once_and_waits_for_every_service() {
    let engine = FakeEngine::new();
    let services: Vec<ServiceSpec> = (0..PARALLELISM + 8)
        .map(|index| service("web", &format!("s{index:02}"), "run"))
        .collect();
    let (events, result) = apply(&engine, &[stack_step(services, false)]).await;
    let report = result.expect("applied");
    assert_eq!(report.changes(), PARALLELISM + 8);
    assert_eq!(engine.most_concurrent_writes(), PARALLELISM);
    let converged = events
        .events
        .iter()
        .filter(|event| matches!(event, ApplyEvent::Converged { .. }))
        .count();
    assert_eq!(converged, PARALLELISM + 8);
}

#[tokio::test(start_paused = true)]
async fn convergence_reads_only_the_services_it_waits_for() {
    let engine = FakeEngine::new();
    {
        let mut swarm = engine.swarm();
        for index in 0..5 {
            swarm.add_service(service("other", &format!("s{index}"), "run").spec);
        }
    }
    let (_, result) = apply(
        &engine,
        &[stack_step(vec![service("web", "app", "run")], false)],
    )
    .await;
    result.expect("applied");
    let reads = engine.swarm().reads.clone();
    // The one full reading is the test's own, for the plan.
    assert_eq!(reads[0], "live state");
    let id = engine
        .swarm()
        .service("web_app")
        .expect("created")
        .id
        .clone();
    assert_eq!(
        reads[1..],
        ["services web_app".to_owned(), format!("tasks {id}")]
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_out_of_sequence_is_made_again_at_the_version_the_service_has_now() {
    let engine = FakeEngine::new();
    engine
        .swarm()
        .add_service(service("web", "app", "old").spec);
    engine
        .swarm()
        .concurrent_writes
        .insert("web_app".to_owned(), 1);
    let (events, result) = apply(
        &engine,
        &[stack_step(vec![service("web", "app", "new")], false)],
    )
    .await;
    result.expect("applied");
    assert_eq!(
        engine.swarm().writes,
        [
            "update service web_app at version 1",
            "update service web_app at version 2"
        ]
    );
    assert_eq!(
        engine
            .swarm()
            .service("web_app")
            .map(|s| s.spec["TaskTemplate"]["ContainerSpec"]["Args"].clone()),
        Some(json!(["new"]))
    );
    assert!(events.events.contains(&ApplyEvent::Updated {
        object: ObjectType::Service,
        name: "web_app".to_owned()
    }));
}

#[tokio::test(start_paused = true)]
async fn an_update_that_stays_out_of_sequence_fails_after_three_retries() {
    let engine = FakeEngine::new();
    engine
        .swarm()
        .add_service(service("web", "app", "old").spec);
    engine
        .swarm()
        .concurrent_writes
        .insert("web_app".to_owned(), 100);
    let (_, result) = apply(
        &engine,
        &[stack_step(vec![service("web", "app", "new")], false)],
    )
    .await;
    assert_eq!(
        error_text(result),
        "step `deploy` failed: updating service web_app failed: rpc error: code = Unknown desc = update out of sequence"
    );
    assert_eq!(engine.swarm().writes.len(), 4);
}

/// A task the scheduler cannot place: the progress and the step's time-out say why, and
/// the error says what the step had changed.
#[tokio::test(start_paused = true)]
async fn a_pending_task_shows_the_schedulers_reason_until_the_step_times_out() {
    let engine = FakeEngine::new();
    engine.swarm().schedules.insert(
        "web_app".to_owned(),
        Schedule::Pending(PORT_IN_USE.to_owned()),
    );
    let mut deploy = stack_step(vec![service("web", "app", "run")], false);
    deploy.timeout = Some(Duration::from_secs(25));
    let (events, result) = apply(&engine, &[deploy]).await;
    assert_eq!(
        error_text(result),
        format!(
            "step `deploy`: created service web_app; timed out after 25s waiting for web_app (0/1 running, pending: {PORT_IN_USE})"
        )
    );
    assert!(events.events.contains(&ApplyEvent::Converging {
        service: "web_app".to_owned(),
        running: 0,
        desired: 1,
        waiting: Some(format!("pending: {PORT_IN_USE}")),
    }));
}

/// A `wait` step's own limit says the same.
#[tokio::test(start_paused = true)]
async fn a_wait_step_that_runs_out_names_what_each_service_waits_for() {
    let engine = FakeEngine::new();
    {
        let mut swarm = engine.swarm();
        swarm.schedules.insert(
            "web_app".to_owned(),
            Schedule::Pending(PORT_IN_USE.to_owned()),
        );
        swarm.add_service(service("web", "app", "run").spec);
        swarm.add_service(service("web", "db", "run").spec);
    }
    let wait = step(
        "ready",
        None,
        Desired::Wait(WaitTarget {
            services: vec!["web_app".to_owned(), "web_db".to_owned()],
            url: None,
            status: 200,
            timeout: Duration::from_secs(90),
        }),
    );
    let (events, result) = apply(&engine, &[wait]).await;
    assert_eq!(
        error_text(result),
        format!(
            "step `ready`: services did not converge within 1m 30s: web_app (0/1 running, pending: {PORT_IN_USE})"
        )
    );
    assert!(events.events.contains(&ApplyEvent::Converged {
        service: "web_db".to_owned()
    }));
}

#[tokio::test(start_paused = true)]
async fn a_service_that_fails_is_rolled_back_and_a_new_one_removed() {
    let engine = FakeEngine::new();
    let old = service("web", "app", "old");
    engine.swarm().add_service(old.spec.clone());
    engine.swarm().schedules.insert(
        "web_app".to_owned(),
        Schedule::Fails("task: non-zero exit (3)".to_owned()),
    );
    let (events, result) = apply(
        &engine,
        &[stack_step(
            vec![
                service("web", "app", "broken"),
                service("web", "new", "run"),
            ],
            true,
        )],
    )
    .await;
    assert_eq!(
        error_text(result),
        "step `deploy`: updated service web_app, created service web_new; service web_app did not converge: 3 tasks failed; the last one: task: non-zero exit (3); every service the step changed was restored"
    );
    let swarm = engine.swarm();
    assert_eq!(swarm.service("web_app").map(|s| &s.spec), Some(&old.spec));
    assert!(swarm.service("web_new").is_none());
    assert!(events.events.contains(&ApplyEvent::RolledBack {
        service: "web_app".to_owned()
    }));
}

/// The daemon refuses a service after the step created its network: the error says so,
/// rather than reading as if nothing had happened.
#[tokio::test(start_paused = true)]
async fn a_write_refused_after_another_names_what_the_step_changed() {
    let engine = FakeEngine::new();
    engine.swarm().refused_creates.insert(
        "web_app".to_owned(),
        "rpc error: code = InvalidArgument desc = port '80' is already in use by service 'proxy_web'".to_owned(),
    );
    let mut deploy = stack_step(vec![service("web", "app", "run")], false);
    if let Desired::Stack(stack) = &mut deploy.desired {
        stack.spec.networks = vec![network("web_default", "web")];
    }
    let (_, result) = apply(&engine, &[deploy]).await;
    let (report, error) = result.expect_err("refused");
    assert_eq!(
        error.to_string(),
        "step `deploy`: created network web_default; creating service web_app failed: rpc error: code = InvalidArgument desc = port '80' is already in use by service 'proxy_web'"
    );
    assert_eq!(report.steps[0].changed, ["created network web_default"]);
    assert_eq!(report.changes(), 1);
}

/// A teardown waits for a network its old tasks still use; a cancel then stops it at
/// once, and the error says what it had removed.
#[tokio::test(start_paused = true)]
async fn a_cancel_stops_a_teardown_waiting_for_a_network_in_use() {
    let engine = FakeEngine::new();
    {
        let mut swarm = engine.swarm();
        swarm.add_service(service("web", "app", "run").spec);
        swarm.add_network(network("web_default", "web"));
        swarm
            .busy_networks
            .insert("web_default".to_owned(), usize::MAX);
    }
    let steps = [step(
        "down",
        None,
        Desired::Remove {
            stack: "web".to_owned(),
        },
    )];
    let live = engine.live_state().await.expect("the fake reads");
    let planned = plan(&steps, &live);
    let (handle, signal) = cancel_pair();
    let mut events = CollectedEvents::default();
    let mut applier = Applier::new(&engine, &mut events, &live).with_cancel(signal);
    let cancel_later = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        handle.cancel();
    };
    let (result, ()) = tokio::join!(applier.apply(&steps, &planned), cancel_later);
    let (report, error) = result.expect_err("cancelled");
    assert!(matches!(error, ApplyError::Cancelled { .. }));
    assert_eq!(
        error.to_string(),
        "cancelled while waiting in step `down` (done before: removed service web_app)"
    );
    assert_eq!(report.changes(), 1);
    let swarm = engine.swarm();
    assert!(swarm.services.is_empty());
    assert_eq!(swarm.networks.len(), 1);
    // Retried every half second for the five seconds before the cancel.
    let attempts = swarm
        .writes
        .iter()
        .filter(|write| *write == "remove network web_default")
        .count();
    assert!((10..=11).contains(&attempts), "{attempts}");
}
