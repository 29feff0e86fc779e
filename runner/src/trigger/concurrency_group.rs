//! The concurrency group of a run: the workflow's `concurrency` template (by default
//! `{{ environment.name }}`), rendered for each environment the run covers. Runs against
//! the same group never overlap. A pull request's plan only reads the swarm, so it gets a
//! group of its own commit: it neither waits for an apply nor replaces another plan.

use std::sync::Arc;

use super::{RunMode, RunRequest};
use crate::load::RepoFiles;
use crate::model::ConfigRepo;
use crate::render::{CommitInfo, RenderContext, SecretValues, TemplateEngine, TriggerInfo};

pub fn concurrency_group(
    files: Arc<dyn RepoFiles>,
    repo: &ConfigRepo,
    request: &RunRequest,
) -> String {
    if request.mode == RunMode::Plan {
        return format!("plan:{}:{}", request.workflow, request.commit);
    }
    let Some(workflow) = repo.workflow(&request.workflow) else {
        return request.environments.join(",");
    };
    let engine = TemplateEngine::new(files);
    let mut groups: Vec<String> = Vec::new();
    for name in &request.environments {
        let Some(environment) = repo.environment(name) else {
            continue;
        };
        let context = RenderContext {
            environment: environment.clone(),
            inputs: request.inputs.clone(),
            commit: CommitInfo::new(&request.commit, "", "", ""),
            trigger: TriggerInfo {
                event: request.event.to_owned(),
                actor: request.actor.clone(),
                image: request.image.clone(),
            },
            secrets: SecretValues::masked(environment.secrets.keys()),
        };
        // A template that fails to render falls back to the default: the environment.
        let group = engine
            .render_str(&workflow.concurrency, &context.to_value())
            .map(|group| group.trim().to_owned())
            .ok()
            .filter(|group| !group.is_empty())
            .unwrap_or_else(|| name.clone());
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{MemoryFiles, load_repo};
    use crate::trigger::RunMode;

    fn request(workflow: &str, mode: RunMode) -> RunRequest {
        RunRequest {
            workflow: workflow.to_owned(),
            environments: vec!["staging".to_owned(), "prod".to_owned()],
            mode,
            commit: "c0ffee".to_owned(),
            event: "push",
            actor: "ana".to_owned(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        }
    }

    fn repo() -> (Arc<dyn RepoFiles>, ConfigRepo) {
        let files = MemoryFiles::new()
            .with(
                "shoal.yml",
                "environments:\n  staging: { vars: { cluster: eu } }\n  prod: { vars: { cluster: eu } }\n",
            )
            .with("workflows/deploy.yml", "steps:\n  - network: { name: n }\n")
            .with(
                "workflows/shared.yml",
                "concurrency: \"cluster-{{ vars.cluster }}\"\nsteps:\n  - network: { name: n }\n",
            );
        let (repo, diagnostics) = load_repo(&files);
        let repo = repo.unwrap_or_else(|| panic!("{diagnostics:?}"));
        (Arc::new(files), repo)
    }

    #[test]
    fn by_default_the_group_is_each_environment() {
        let (files, repo) = repo();
        assert_eq!(
            concurrency_group(files, &repo, &request("deploy", RunMode::Apply)),
            "staging,prod"
        );
    }

    #[test]
    fn a_template_can_put_environments_of_one_cluster_in_one_group() {
        let (files, repo) = repo();
        assert_eq!(
            concurrency_group(files, &repo, &request("shared", RunMode::DriftCheck)),
            "cluster-eu"
        );
    }

    #[test]
    fn a_pull_request_plan_has_a_group_of_its_own() {
        let (files, repo) = repo();
        assert_eq!(
            concurrency_group(files, &repo, &request("deploy", RunMode::Plan)),
            "plan:deploy:c0ffee"
        );
    }
}
