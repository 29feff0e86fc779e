//! The planner's rules on live states made up for each case: a missing external network,
//! a network to recreate while in use, `allow_empty`, old config versions still in use;
//! and, on a live state that holds only some stacks' services, that it plans what it can
//! tell from them and says when it needs every service.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use super::plan;
use crate::plan::{Action, DesiredStep, Plan};
use crate::steps::Desired;
use crate::steps::stack::DesiredStack;
use crate::swarm::{
    LiveNetwork, LiveObject, LiveService, LiveState, NetworkSpec, OBJECT_NAME, ObjectKind,
    ObjectSpec, STACK_NAMESPACE, ServiceScope, ServiceSpec, StackSpec,
};

fn step(desired: Desired) -> DesiredStep {
    DesiredStep {
        name: "step".to_owned(),
        kind: "stack",
        skipped: false,
        timeout: None,
        continue_on_error: false,
        desired,
    }
}

fn stack_step(spec: StackSpec) -> DesiredStep {
    step(Desired::Stack(DesiredStack {
        spec,
        prune: true,
        allow_empty: false,
        keep_versions: 1,
        wait: false,
        rollback_on_failure: false,
    }))
}

fn service_spec(name: &str, stack: &str, network: &str, config: Option<&str>) -> serde_json::Value {
    let configs: Vec<_> = config
        .map(|config| json!({ "ConfigName": config, "File": { "Name": "/c" } }))
        .into_iter()
        .collect();
    json!({
        "Name": name,
        "Labels": { STACK_NAMESPACE: stack },
        "TaskTemplate": {
            "ContainerSpec": { "Image": "busybox:1", "Configs": configs },
            "Networks": [{ "Target": network }],
        },
    })
}

fn live_service(name: &str, stack: &str, network: &str, config: Option<&str>) -> LiveService {
    LiveService {
        id: format!("id-{name}"),
        name: name.to_owned(),
        version: 1,
        spec: service_spec(name, stack, network, config),
        previous_spec: None,
        update_state: None,
        update_message: None,
    }
}

fn network(name: &str, stack: &str, attachable: bool) -> NetworkSpec {
    NetworkSpec {
        name: name.to_owned(),
        driver: "overlay".to_owned(),
        attachable,
        internal: false,
        labels: BTreeMap::from([(STACK_NAMESPACE.to_owned(), stack.to_owned())]),
        options: BTreeMap::new(),
        ipam: None,
    }
}

fn config(name: &str, stack: &str, created_at: &str) -> LiveObject {
    LiveObject {
        kind: ObjectKind::Config,
        id: format!("id-{name}"),
        name: name.to_owned(),
        labels: BTreeMap::from([
            (STACK_NAMESPACE.to_owned(), stack.to_owned()),
            (OBJECT_NAME.to_owned(), "conf".to_owned()),
        ]),
        created_at: created_at.to_owned(),
    }
}

/// Stack `web` (service `web_app` on `web_default`, using config `web_conf-3`), as the
/// swarm holds it and as the repo wants it, with stack `other` also using `web_default`
/// and config `web_conf-1`; every service read.
fn swarm() -> LiveState {
    LiveState {
        services: vec![
            live_service("other_app", "other", "net-web", Some("web_conf-1")),
            live_service("web_app", "web", "net-web", Some("web_conf-3")),
        ],
        networks: vec![LiveNetwork {
            id: "net-web".to_owned(),
            scope: "swarm".to_owned(),
            spec: network("web_default", "web", false),
        }],
        objects: vec![
            config("web_conf-1", "web", "2026-01-01T00:00:01Z"),
            config("web_conf-2", "web", "2026-01-01T00:00:02Z"),
            config("web_conf-3", "web", "2026-01-01T00:00:03Z"),
        ],
        ..LiveState::default()
    }
}

/// The same swarm read for stack `web` only.
fn web_only(every: &LiveState) -> LiveState {
    LiveState {
        services: every
            .services
            .iter()
            .filter(|service| service.name.starts_with("web_"))
            .cloned()
            .collect(),
        scope: ServiceScope::Stacks(BTreeSet::from(["web".to_owned()])),
        ..every.clone()
    }
}

fn web_stack(attachable: bool, config: &str) -> StackSpec {
    StackSpec {
        name: "web".to_owned(),
        services: vec![ServiceSpec {
            name: "web_app".to_owned(),
            spec: service_spec("web_app", "web", "web_default", Some(config)),
        }],
        networks: vec![network("web_default", "web", attachable)],
        objects: vec![ObjectSpec {
            kind: ObjectKind::Config,
            name: config.to_owned(),
            labels: BTreeMap::from([
                (STACK_NAMESPACE.to_owned(), "web".to_owned()),
                (OBJECT_NAME.to_owned(), "conf".to_owned()),
            ]),
            data: b"x".to_vec(),
        }],
        ..StackSpec::default()
    }
}

fn actions(plan: &Plan) -> Vec<(String, Action)> {
    plan.steps
        .iter()
        .flat_map(|step| &step.changes)
        .filter(|change| change.action != Action::Unchanged)
        .map(|change| (change.name.clone(), change.action.clone()))
        .collect()
}

#[test]
fn an_unchanged_stack_plans_from_its_own_services() {
    let swarm = swarm();
    // No old config version to clean up: the stack's own services tell everything.
    let mut narrow = web_only(&swarm);
    narrow.objects.retain(|object| object.name == "web_conf-3");
    let plan = plan(&[stack_step(web_stack(false, "web_conf-3"))], &narrow);
    assert!(!plan.needs_every_service);
    assert_eq!(actions(&plan), vec![]);
}

#[test]
fn a_network_to_recreate_needs_every_service_to_say_who_uses_it() {
    let swarm = swarm();
    let steps = [stack_step(web_stack(true, "web_conf-3"))];
    assert!(plan(&steps, &web_only(&swarm)).needs_every_service);
    let full = plan(&steps, &swarm);
    assert!(!full.needs_every_service);
    let recreate = actions(&full)
        .into_iter()
        .find(|(name, _)| name == "web_default")
        .expect("the network is recreated");
    match recreate.1 {
        Action::Recreate { used_by, .. } => assert_eq!(used_by, ["other_app", "web_app"]),
        other => panic!("expected a recreate, got {other:?}"),
    }
}

#[test]
fn old_config_versions_need_every_service_to_say_which_are_unused() {
    let swarm = swarm();
    let steps = [stack_step(web_stack(false, "web_conf-3"))];
    assert!(plan(&steps, &web_only(&swarm)).needs_every_service);
    let full = plan(&steps, &swarm);
    assert!(!full.needs_every_service);
    // web_conf-2 is kept for rollback (keep_versions: 1); web_conf-1 is used by `other`.
    assert_eq!(actions(&full), vec![]);
    let mut unused = swarm.clone();
    unused.services.remove(0);
    let plan = plan(&steps, &unused);
    assert_eq!(
        actions(&plan),
        vec![(
            "web_conf-1".to_owned(),
            Action::Remove {
                reason: crate::plan::RemoveReason::OldVersion
            }
        )]
    );
}

#[test]
fn a_stack_outside_the_scope_needs_every_service() {
    let swarm = swarm();
    let remove_other = [step(Desired::Remove {
        stack: "other".to_owned(),
    })];
    assert!(plan(&remove_other, &web_only(&swarm)).needs_every_service);
    let full = plan(&remove_other, &swarm);
    assert!(!full.needs_every_service);
    assert_eq!(
        actions(&full),
        vec![(
            "other_app".to_owned(),
            Action::Remove {
                reason: crate::plan::RemoveReason::Teardown
            }
        )]
    );
    let remove_web = [step(Desired::Remove {
        stack: "web".to_owned(),
    })];
    assert!(!plan(&remove_web, &web_only(&swarm)).needs_every_service);
}

fn problems(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .flat_map(|step| step.problems.clone())
        .collect()
}

#[test]
fn a_missing_external_network_is_a_problem_unless_an_earlier_step_creates_it() {
    let swarm = swarm();
    let mut stack = web_stack(false, "web_conf-3");
    stack.external.networks = vec!["proxy".to_owned()];
    let steps = [stack_step(stack.clone())];
    assert_eq!(
        problems(&plan(&steps, &swarm)),
        [
            "external network `proxy` does not exist; create it first, e.g. with a `network` step before this one"
        ]
    );
    let steps = [
        step(Desired::Network(network("proxy", "web", true))),
        stack_step(stack),
    ];
    let planned = plan(&steps, &swarm);
    assert_eq!(problems(&planned), Vec::<String>::new());
    assert_eq!(actions(&planned), [("proxy".to_owned(), Action::Create)]);
}

#[test]
fn recreating_a_network_in_use_is_a_problem_and_one_unused_is_recreated() {
    let swarm = swarm();
    let steps = [stack_step(web_stack(true, "web_conf-3"))];
    assert_eq!(
        problems(&plan(&steps, &swarm)),
        [
            "network `web_default` must be recreated to change its options, but it is in use by other_app, web_app; remove those services first or keep the network's options"
        ]
    );
    let mut unused = swarm.clone();
    unused
        .services
        .retain(|service| service.name != "other_app");
    let mut stack = web_stack(true, "web_conf-3");
    // The stack's one service moves to another network, so nothing keeps this one.
    stack.services[0].spec = service_spec("web_app", "web", "elsewhere", Some("web_conf-3"));
    unused.services[0].spec = stack.services[0].spec.clone();
    let planned = plan(&[stack_step(stack)], &unused);
    assert_eq!(problems(&planned), Vec::<String>::new());
    let network_action = actions(&planned)
        .into_iter()
        .find(|(name, _)| name == "web_default")
        .map(|(_, action)| action);
    assert!(matches!(
        network_action,
        Some(Action::Recreate { used_by, .. }) if used_by.is_empty()
    ));
}

#[test]
fn pruning_every_service_needs_allow_empty() {
    let swarm = swarm();
    let empty = StackSpec {
        name: "web".to_owned(),
        ..StackSpec::default()
    };
    let refused = plan(&[stack_step(empty.clone())], &swarm);
    assert_eq!(
        problems(&refused),
        [
            "the compose files have no services, so `prune` would remove all 1 services of stack `web`; set `allow_empty: true` if that is what you want"
        ]
    );
    let mut allowed = stack_step(empty);
    if let Desired::Stack(stack) = &mut allowed.desired {
        stack.allow_empty = true;
    }
    let planned = plan(&[allowed], &swarm);
    assert_eq!(problems(&planned), Vec::<String>::new());
    assert_eq!(
        actions(&planned),
        [(
            "web_app".to_owned(),
            Action::Remove {
                reason: crate::plan::RemoveReason::Pruned
            }
        )]
    );
}

#[test]
fn old_config_versions_beyond_those_kept_go_once_no_service_uses_them() {
    let mut swarm = swarm();
    // Nothing uses web_conf-1 any more; web_conf-2 is used by another stack.
    swarm.services[0] = live_service("other_app", "other", "net-web", Some("web_conf-2"));
    let mut keep_none = stack_step(web_stack(false, "web_conf-3"));
    if let Desired::Stack(stack) = &mut keep_none.desired {
        stack.keep_versions = 0;
    }
    assert_eq!(
        actions(&plan(&[keep_none], &swarm)),
        [(
            "web_conf-1".to_owned(),
            Action::Remove {
                reason: crate::plan::RemoveReason::OldVersion
            }
        )]
    );
    // The newest older version stays for rollback.
    assert_eq!(
        actions(&plan(&[stack_step(web_stack(false, "web_conf-3"))], &swarm)),
        [(
            "web_conf-1".to_owned(),
            Action::Remove {
                reason: crate::plan::RemoveReason::OldVersion
            }
        )]
    );
}

#[test]
fn a_wait_for_an_https_url_is_refused_before_anything_is_applied() {
    let wait = |url: &str| {
        step(Desired::Wait(crate::steps::wait::WaitTarget {
            services: Vec::new(),
            url: Some(url.to_owned()),
            status: 200,
            timeout: std::time::Duration::from_secs(60),
        }))
    };
    let steps = [
        wait("https://grafana.example.org/api/health"),
        wait("http://grafana.example.org/api/health"),
    ];
    assert_eq!(
        plan(&steps, &swarm()).problems(),
        [
            "step `step`: waiting for `https://grafana.example.org/api/health` is not implemented \
          yet: only http:// URLs are waited for"
        ]
    );
}
