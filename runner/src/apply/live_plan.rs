//! Planning against the live swarm: plans are made from a reading of only the services of
//! the stacks the workflows name; when a plan needs the others too (is a network to
//! recreate, or an old config version, used elsewhere?), every service is read and the
//! workflows are planned again.

use crate::docker::{DockerEngine, DockerError};
use crate::plan::{DesiredStep, Plan, plan};
use crate::swarm::LiveState;

/// One plan for each workflow's steps, and the live state they were made from.
pub async fn plan_workflows<E: DockerEngine>(
    client: &E,
    workflows: &[&[DesiredStep]],
    live: LiveState,
) -> Result<(Vec<Plan>, LiveState), DockerError> {
    let plans: Vec<Plan> = workflows.iter().map(|steps| plan(steps, &live)).collect();
    // A swarm a `swarm` step is still to make has no services to read.
    if live.swarm_pending || !plans.iter().any(|plan| plan.needs_every_service) {
        return Ok((plans, live));
    }
    let live = LiveState {
        nodes: live.nodes,
        ..client.live_state().await?
    };
    let plans = workflows.iter().map(|steps| plan(steps, &live)).collect();
    Ok((plans, live))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::*;
    use crate::docker::fake_engine::FakeEngine;
    use crate::plan::{Action, DesiredStep};
    use crate::steps::Desired;
    use crate::swarm::{NetworkSpec, STACK_NAMESPACE, ServiceScope};

    /// A network step that changes a network's options needs to know who uses it: the
    /// swarm is read again, whole, and the plan names the other stack's service.
    #[tokio::test]
    async fn a_plan_that_needs_every_service_reads_them_and_plans_again() {
        let engine = FakeEngine::new();
        let mut network = NetworkSpec {
            name: "shared".to_owned(),
            driver: "overlay".to_owned(),
            attachable: false,
            internal: false,
            labels: Default::default(),
            options: Default::default(),
            ipam: None,
        };
        {
            let mut swarm = engine.swarm();
            swarm.add_network(network.clone());
            swarm.add_service(json!({
                "Name": "other_app",
                "Labels": { STACK_NAMESPACE: "other" },
                "TaskTemplate": { "Networks": [{ "Target": "shared" }] },
            }));
        }
        network.attachable = true;
        let steps = [DesiredStep {
            name: "net".to_owned(),
            kind: "network",
            skipped: false,
            timeout: None,
            continue_on_error: false,
            desired: Desired::Network(network),
        }];
        let narrow = engine
            .live_state_of(ServiceScope::Stacks(BTreeSet::from(["web".to_owned()])))
            .await
            .expect("the fake reads");
        assert!(narrow.services.is_empty());
        let (plans, live) = plan_workflows(&engine, &[&steps], narrow)
            .await
            .expect("planned");
        assert_eq!(live.scope, ServiceScope::Every);
        assert!(!plans[0].needs_every_service);
        assert!(matches!(
            &plans[0].steps[0].changes[0].action,
            Action::Recreate { used_by, .. } if used_by == &["other_app"]
        ));
    }
}
