//! Trigger: which runs an event starts (push, pull request, schedule, dispatch), when
//! schedules fall due, and how runs of one concurrency group queue. Pure: the runner's
//! edges (webhooks, git, the clock, the API) turn what they see into a `TriggerEvent`.

mod concurrency_group;
mod dispatch_inputs;
mod rollback_target;
mod run_queue;
mod run_request;
mod schedule_clock;
mod trigger_event;

pub use concurrency_group::concurrency_group;
pub use dispatch_inputs::{confirmation_problems, parse_input, resolve_inputs, undeclared};
pub use rollback_target::{RollbackTarget, rollback_target, short};
pub use run_queue::{Admission, QueuedRun, RunQueue};
pub use run_request::{RunMode, RunRequest};
pub use schedule_clock::next_due;
pub use trigger_event::{TriggerEvent, matches, run_requests};

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::load::{MemoryFiles, load_repo};
    use crate::model::{ConfigRepo, ImagePush};

    fn repo() -> ConfigRepo {
        let files = MemoryFiles::new()
            .with("shoal.yml", "environments: { staging: {}, prod: {} }")
            .with(
                "workflows/infra.yml",
                "on:\n  push: { branches: [main], paths: [\"stacks/**\"] }\n  pull_request: { branches: [main] }\n  schedule: [{ cron: \"0 * * * *\" }]\nsteps:\n  - network: { name: n }\n",
            )
            .with(
                "workflows/scaler.yml",
                "on:\n  registry_push:\n    - { repository: maiev/scaler, tags: [\"1.*\"] }\n    - repository: \"maiev/tools-*\"\nenvironments: [prod]\nsteps:\n  - network: { name: n }\n",
            )
            .with(
                "workflows/teardown.yml",
                "on:\n  workflow_dispatch:\n    inputs:\n      confirm: { type: string, required: true, confirms: environment }\n      force: { type: boolean, default: false }\nsteps:\n  - remove: { stack: app }\n",
            );
        let (repo, diagnostics) = load_repo(&files);
        repo.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    fn push(branch: &str, paths: &[&str]) -> TriggerEvent {
        TriggerEvent::Push {
            branch: branch.into(),
            commit: "abc".into(),
            changed_paths: paths.iter().map(|p| (*p).to_owned()).collect(),
            actor: "ada".into(),
        }
    }

    #[test]
    fn a_push_starts_the_workflows_whose_branch_and_paths_match() {
        let requests =
            run_requests(&repo(), &push("main", &["stacks/web/compose.yml"])).expect("runs");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].workflow, "infra");
        assert_eq!(requests[0].mode, RunMode::Apply);
        assert_eq!(requests[0].environments, ["staging", "prod"]);
        assert!(
            run_requests(&repo(), &push("main", &["README.md"]))
                .expect("runs")
                .is_empty()
        );
        assert!(
            run_requests(&repo(), &push("feature", &["stacks/a.yml"]))
                .expect("runs")
                .is_empty()
        );
    }

    #[test]
    fn a_pull_request_only_plans_and_a_schedule_checks_drift() {
        let event = TriggerEvent::PullRequest {
            base_branch: "main".into(),
            head_commit: "def".into(),
            changed_paths: vec![],
            actor: "ada".into(),
        };
        let requests = run_requests(&repo(), &event).expect("runs");
        assert_eq!(
            (requests[0].mode, requests[0].commit.as_str()),
            (RunMode::Plan, "def")
        );
        let event = TriggerEvent::Schedule {
            workflow: "infra".into(),
            commit: "abc".into(),
            heal: false,
        };
        assert_eq!(
            run_requests(&repo(), &event).expect("runs")[0].mode,
            RunMode::DriftCheck
        );
    }

    #[test]
    fn a_dispatch_checks_its_inputs_before_anything_runs() {
        let dispatch = |inputs: serde_json::Value, environments: &[&str]| TriggerEvent::Dispatch {
            workflow: "teardown".into(),
            commit: "abc".into(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            inputs: inputs.as_object().cloned().unwrap_or_else(Map::new),
            actor: "ada".into(),
        };
        assert_eq!(
            run_requests(&repo(), &dispatch(json!({ "force": "yes" }), &["qa"]))
                .expect_err("refused"),
            [
                "workflow `teardown` does not target environment `qa`; it targets staging, prod",
                "input `force` is a boolean: give true or false, not `yes`",
                "input `confirm` is required",
            ]
        );
        let requests = run_requests(&repo(), &dispatch(json!({ "confirm": "prod" }), &["prod"]))
            .expect("runs");
        assert_eq!(requests[0].environments, ["prod"]);
        assert_eq!(
            requests[0].inputs,
            json!({ "confirm": "prod", "force": false })
                .as_object()
                .cloned()
                .expect("map")
        );
        assert_eq!(requests[0].actor, "ada");
        assert_eq!(
            run_requests(
                &repo(),
                &dispatch(json!({ "confirm": "staging" }), &["prod"])
            )
            .expect_err("refused"),
            [
                "input `confirm` must be `prod`, the name of the environment this run is for, typed out; it is `staging`"
            ]
        );
        assert_eq!(
            run_requests(&repo(), &dispatch(json!({ "confirm": "prod" }), &[]))
                .expect_err("refused"),
            [
                "input `confirm` confirms one environment: run workflow `teardown` on one environment at a time (--env), not on staging, prod"
            ]
        );
    }

    fn image_push(repository: &str, tag: &str) -> TriggerEvent {
        TriggerEvent::RegistryPush {
            image: ImagePush::new("127.0.0.1:5000", repository, tag, "sha256:ab"),
            commit: "abc".into(),
            actor: "ci".into(),
        }
    }

    #[test]
    fn a_registry_push_applies_the_workflows_whose_repository_and_tags_match() {
        let requests = run_requests(&repo(), &image_push("maiev/scaler", "1.1")).expect("runs");
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(
            (
                request.workflow.as_str(),
                request.mode,
                request.event,
                request.commit.as_str()
            ),
            ("scaler", RunMode::Apply, "registry_push", "abc")
        );
        assert_eq!(request.environments, ["prod"]);
        assert_eq!(
            request.image.as_ref().map(|image| image.reference.as_str()),
            Some("127.0.0.1:5000/maiev/scaler@sha256:ab")
        );
        let started = |repository: &str, tag: &str| {
            run_requests(&repo(), &image_push(repository, tag))
                .expect("runs")
                .len()
        };
        assert_eq!(started("maiev/scaler", "2.0"), 0, "tag outside `1.*`");
        assert_eq!(started("maiev/overseer", "1.1"), 0, "another repository");
        assert_eq!(started("maiev/tools-cli", "anything"), 1, "no tag filter");
        // Pushes of code never carry an image, and images never start push workflows.
        assert!(
            run_requests(&repo(), &push("main", &["stacks/a.yml"]))
                .expect("runs")
                .iter()
                .all(|request| request.image.is_none() && request.workflow != "scaler")
        );
    }
}
