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
    if !plans.iter().any(|plan| plan.needs_every_service) {
        return Ok((plans, live));
    }
    let live = client.live_state().await?;
    let plans = workflows.iter().map(|steps| plan(steps, &live)).collect();
    Ok((plans, live))
}
