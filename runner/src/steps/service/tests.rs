//! The `service` step planned and applied against the in-memory swarm ([`FakeEngine`]):
//! each change shown field by field, unchanged when there is none, written once at the
//! service's version and awaited; what it cannot do refused before anything is written.

use std::time::Duration;

use serde_json::json;

use super::DesiredService;
use crate::apply::{Applier, ApplyEvent, CollectedEvents};
use crate::docker::DockerEngine as _;
use crate::docker::fake_engine::{FakeEngine, Schedule};
use crate::plan::{DesiredStep, plan, plan_text};
use crate::steps::Desired;
use crate::swarm::{STACK_NAMESPACE, ServiceScope};

fn change(name: &str) -> DesiredService {
    DesiredService {
        name: name.to_owned(),
        scale: None,
        image: None,
        force_update: false,
        rollback: false,
        wait: true,
    }
}

fn step(service: DesiredService) -> DesiredStep {
    DesiredStep {
        name: format!("service {}", service.name),
        kind: "service",
        skipped: false,
        timeout: None,
        continue_on_error: false,
        desired: Desired::Service(service),
    }
}

/// A fake swarm with `maiev_scaler`, replicated once, running `image`.
fn swarm_with_scaler(image: &str) -> FakeEngine {
    let engine = FakeEngine::new();
    engine.swarm().add_service(json!({
        "Name": "maiev_scaler",
        "Labels": { STACK_NAMESPACE: "maiev" },
        "Mode": { "Replicated": { "Replicas": 1 } },
        "TaskTemplate": { "ContainerSpec": { "Image": image } },
    }));
    engine
}

/// Plans the step against the fake swarm as it is: the plan's text.
async fn plan_of(engine: &FakeEngine, service: DesiredService) -> String {
    let live = engine.live_state().await.expect("the fake reads");
    plan_text(&plan(&[step(service)], &live), "scaler", "local")
}

/// Plans and applies the step; the events, or the error's text.
async fn apply(engine: &FakeEngine, service: DesiredService) -> Result<Vec<ApplyEvent>, String> {
    let live = engine.live_state().await.expect("the fake reads");
    let steps = [step(service)];
    let planned = plan(&steps, &live);
    let mut events = CollectedEvents::default();
    let result = Applier::new(engine, &mut events, &live)
        .apply(&steps, &planned)
        .await;
    match result {
        Ok(_) => Ok(events.events),
        Err((_, error)) => Err(error.to_string()),
    }
}

fn spec_of(engine: &FakeEngine, pointer: &str) -> serde_json::Value {
    let swarm = engine.swarm();
    let service = swarm.service("maiev_scaler").expect("the service");
    service.spec.pointer(pointer).cloned().unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn scale_shows_the_replica_count_then_writes_it_once_and_waits() {
    let engine = swarm_with_scaler("busybox:1");
    let scale = DesiredService {
        scale: Some(3),
        ..change("maiev_scaler")
    };
    assert_eq!(
        plan_of(&engine, scale.clone()).await,
        "workflow scaler, environment local:\n  \
         step 1 service service maiev_scaler\n    \
         ~ update service maiev_scaler\n        \
         Mode.Replicated.Replicas: 1 -> 3\n\
         Plan: 1 to update.\n"
    );
    let events = apply(&engine, scale.clone()).await.expect("applied");
    assert!(
        events.contains(&ApplyEvent::Converged {
            service: "maiev_scaler".to_owned()
        }),
        "{events:?}"
    );
    assert_eq!(spec_of(&engine, "/Mode/Replicated/Replicas"), json!(3));
    let running = engine
        .swarm()
        .tasks
        .iter()
        .filter(|task| task.state == "running")
        .count();
    assert_eq!(running, 3);

    // Applied again: unchanged, shown as such, and nothing written.
    assert_eq!(
        plan_of(&engine, scale.clone()).await,
        "workflow scaler, environment local:\n  \
         step 1 service service maiev_scaler\n    \
         = 1 unchanged\n\
         Plan: no changes.\n"
    );
    let writes_before = engine.swarm().writes.len();
    apply(&engine, scale).await.expect("applied");
    assert_eq!(engine.swarm().writes.len(), writes_before);
}

#[tokio::test(start_paused = true)]
async fn image_by_digest_replaces_the_tasks_and_a_tag_matches_its_resolved_digest() {
    let pinned = "busybox:1@sha256:aaaa";
    let engine = swarm_with_scaler(pinned);
    // The tag the service was deployed with, resolved by the daemon: nothing to change.
    let same = DesiredService {
        image: Some("busybox:1".to_owned()),
        ..change("maiev_scaler")
    };
    assert!(plan_of(&engine, same).await.contains("= 1 unchanged"));

    let pushed = "registry.test:5000/maiev/scaler@sha256:bbbb";
    let push = DesiredService {
        image: Some(pushed.to_owned()),
        ..change("maiev_scaler")
    };
    assert!(
        plan_of(&engine, push.clone()).await.contains(&format!(
            "~ update service maiev_scaler\n        \
             TaskTemplate.ContainerSpec.Image: \"{pinned}\" -> \"{pushed}\"\n"
        )),
        "{}",
        plan_of(&engine, push.clone()).await
    );
    let old_tasks: Vec<String> = engine.swarm().tasks.iter().map(|t| t.id.clone()).collect();
    apply(&engine, push).await.expect("applied");
    assert_eq!(
        spec_of(&engine, "/TaskTemplate/ContainerSpec/Image"),
        json!(pushed)
    );
    let swarm = engine.swarm();
    let running: Vec<&str> = swarm
        .tasks
        .iter()
        .filter(|task| task.state == "running")
        .map(|task| task.id.as_str())
        .collect();
    assert_eq!(running.len(), 1);
    assert!(!old_tasks.iter().any(|old| old == running[0]));
}

#[tokio::test(start_paused = true)]
async fn force_update_is_a_change_at_every_apply() {
    let engine = swarm_with_scaler("busybox:1");
    let force = DesiredService {
        force_update: true,
        ..change("maiev_scaler")
    };
    assert!(
        plan_of(&engine, force.clone())
            .await
            .contains("        TaskTemplate.ForceUpdate: (none) -> 1\n"),
        "{}",
        plan_of(&engine, force.clone()).await
    );
    apply(&engine, force.clone()).await.expect("applied");
    assert!(
        plan_of(&engine, force.clone())
            .await
            .contains("        TaskTemplate.ForceUpdate: 1 -> 2\n"),
        "{}",
        plan_of(&engine, force.clone()).await
    );
    apply(&engine, force).await.expect("applied");
    assert_eq!(spec_of(&engine, "/TaskTemplate/ForceUpdate"), json!(2));
    let updates = engine
        .swarm()
        .writes
        .iter()
        .filter(|write| write.starts_with("update service maiev_scaler"))
        .count();
    assert_eq!(updates, 2);
}

#[tokio::test(start_paused = true)]
async fn rollback_puts_back_the_previous_spec_and_needs_one() {
    let engine = swarm_with_scaler("busybox:1");
    let rollback = DesiredService {
        rollback: true,
        ..change("maiev_scaler")
    };
    assert_eq!(
        apply(&engine, rollback.clone()).await.expect_err("refused"),
        "the plan cannot be applied:\n  \
         step `service maiev_scaler`: service `maiev_scaler` has no previous spec to roll back to: it was never updated"
    );
    assert!(engine.swarm().writes.is_empty());

    let update = DesiredService {
        image: Some("busybox:2".to_owned()),
        ..change("maiev_scaler")
    };
    apply(&engine, update).await.expect("applied");
    assert!(
        plan_of(&engine, rollback.clone())
            .await
            .contains("        TaskTemplate.ContainerSpec.Image: \"busybox:2\" -> \"busybox:1\"\n"),
        "{}",
        plan_of(&engine, rollback.clone()).await
    );
    let events = apply(&engine, rollback).await.expect("rolled back");
    assert!(events.contains(&ApplyEvent::Converged {
        service: "maiev_scaler".to_owned()
    }));
    assert_eq!(
        spec_of(&engine, "/TaskTemplate/ContainerSpec/Image"),
        json!("busybox:1")
    );
}

#[tokio::test(start_paused = true)]
async fn an_update_out_of_sequence_is_made_again_from_a_new_reading() {
    let engine = swarm_with_scaler("busybox:1");
    engine
        .swarm()
        .concurrent_writes
        .insert("maiev_scaler".to_owned(), 1);
    let scale = DesiredService {
        scale: Some(2),
        ..change("maiev_scaler")
    };
    apply(&engine, scale).await.expect("applied");
    assert_eq!(
        engine.swarm().writes,
        [
            "update service maiev_scaler at version 1",
            "update service maiev_scaler at version 2"
        ]
    );
    assert_eq!(spec_of(&engine, "/Mode/Replicated/Replicas"), json!(2));
}

#[tokio::test(start_paused = true)]
async fn a_service_that_does_not_converge_fails_the_step_with_the_task_error() {
    let engine = swarm_with_scaler("busybox:1");
    engine.swarm().schedules.insert(
        "maiev_scaler".to_owned(),
        Schedule::Fails("task: non-zero exit (3)".to_owned()),
    );
    let image = DesiredService {
        image: Some("busybox:broken".to_owned()),
        ..change("maiev_scaler")
    };
    let error = apply(&engine, image).await.expect_err("refused");
    assert!(
        error.starts_with(
            "step `service maiev_scaler`: updated service maiev_scaler; \
             service maiev_scaler did not converge: "
        ) && error.contains("non-zero exit (3)"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn what_cannot_be_changed_is_a_problem_of_the_plan() {
    let engine = swarm_with_scaler("busybox:1");
    engine.swarm().add_service(json!({
        "Name": "monitoring_agent",
        "Labels": { STACK_NAMESPACE: "monitoring" },
        "Mode": { "Global": {} },
        "TaskTemplate": { "ContainerSpec": { "Image": "busybox:1" } },
    }));
    let global = DesiredService {
        scale: Some(2),
        ..change("monitoring_agent")
    };
    assert!(plan_of(&engine, global).await.contains(
        "    error: service `monitoring_agent` is not replicated: `scale` sets the replica count of a replicated service\n"
    ));
    let missing = DesiredService {
        scale: Some(2),
        ..change("maiev_missing")
    };
    assert!(plan_of(&engine, missing.clone()).await.contains(
        "    error: service `maiev_missing` does not exist: a `service` step changes an existing service; create it with a `stack` step first\n"
    ));

    // A reading of some stacks' services asks for every service before it is trusted.
    let stacks = ServiceScope::Stacks(["maiev".to_owned()].into());
    let live = engine.live_state_of(stacks).await.expect("reads");
    assert!(plan(&[step(missing)], &live).needs_every_service);
    let present = DesiredService {
        scale: Some(2),
        ..change("maiev_scaler")
    };
    assert!(!plan(&[step(present)], &live).needs_every_service);
}

#[tokio::test(start_paused = true)]
async fn waits_no_longer_than_the_step_timeout() {
    let engine = swarm_with_scaler("busybox:1");
    engine.swarm().schedules.insert(
        "maiev_scaler".to_owned(),
        Schedule::Pending("no suitable node".to_owned()),
    );
    let live = engine.live_state().await.expect("the fake reads");
    let mut slow = step(DesiredService {
        scale: Some(2),
        ..change("maiev_scaler")
    });
    slow.timeout = Some(Duration::from_secs(30));
    let steps = [slow];
    let planned = plan(&steps, &live);
    let mut events = CollectedEvents::default();
    let error = Applier::new(&engine, &mut events, &live)
        .apply(&steps, &planned)
        .await
        .expect_err("times out");
    assert!(
        error.1.to_string().contains("timed out after 30s")
            || error.1.to_string().contains("did not converge within 30s"),
        "{}",
        error.1
    );
}
