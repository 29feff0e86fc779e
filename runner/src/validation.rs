//! Validation of a whole config repo: load it, then render every workflow for every
//! environment it targets (secrets masked, inputs at their defaults) and convert its
//! compose files, so that an undefined variable or a bad compose key is found before
//! any run needs the file.

use std::sync::Arc;

use crate::load::{RepoFiles, load_repo};
use crate::model::{ConfigRepo, Environment, ImagePush, Workflow};
use crate::plan::{RunIdentity, compose_variables, desired_steps};
use crate::render::{
    CommitInfo, RenderContext, SecretValues, TemplateEngine, TriggerInfo, render_workflow,
};
use crate::source::Diagnostics;

/// What validating a repo found.
#[derive(Debug)]
pub struct Validation {
    /// The repo, when it loaded without errors (renders may still have failed).
    pub repo: Option<ConfigRepo>,
    pub diagnostics: Diagnostics,
    /// How many (workflow, environment) pairs were rendered, and how many files in all.
    pub renders: usize,
    pub rendered_files: usize,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.has_errors()
    }
}

/// Loads the repo and renders everything, collecting every problem.
pub fn validate_repo(files: Arc<dyn RepoFiles>, commit: &CommitInfo) -> Validation {
    let (repo, mut diagnostics) = load_repo(files.as_ref());
    let mut renders = 0;
    let mut rendered_files = 0;
    let mut render_problems = Vec::new();
    if let Some(repo) = &repo {
        for environment in &repo.environments {
            let engine = TemplateEngine::new(files.clone());
            for workflow in repo
                .workflows
                .iter()
                .filter(|w| w.environments.contains(&environment.name))
            {
                let context = placeholder_context(environment, workflow, commit);
                renders += 1;
                let problems = match render_workflow(files.as_ref(), &engine, workflow, &context) {
                    Ok(rendered) => {
                        rendered_files += rendered.files().count();
                        // An `ssh` step's files, once per host.
                        rendered_files += rendered
                            .steps
                            .iter()
                            .flat_map(|step| &step.hosts)
                            .map(|host| host.files.len())
                            .sum::<usize>();
                        // Compose files are converted too, so that a compose error is found
                        // here rather than when a run needs the file.
                        let identity = RunIdentity {
                            workflow: &workflow.name,
                            environment: &environment.name,
                            commit,
                        };
                        match desired_steps(
                            files.as_ref(),
                            workflow,
                            &rendered,
                            &identity,
                            &compose_variables(environment),
                        ) {
                            Ok((_, warnings)) => warnings,
                            Err(problems) => problems,
                        }
                    }
                    Err(problems) => problems,
                };
                if !problems.is_empty() {
                    render_problems.push((environment.name.clone(), problems));
                }
            }
        }
    }
    diagnostics.extend(Diagnostics::for_environments(render_problems));
    Validation {
        repo,
        diagnostics,
        renders,
        rendered_files,
    }
}

/// A context with every secret masked, every input at its default, and, for a workflow a
/// registry push starts, a placeholder pushed image.
pub fn placeholder_context(
    environment: &Environment,
    workflow: &Workflow,
    commit: &CommitInfo,
) -> RenderContext {
    RenderContext {
        environment: environment.clone(),
        inputs: workflow
            .triggers
            .dispatch
            .as_ref()
            .map(|d| d.defaults())
            .unwrap_or_default(),
        commit: commit.clone(),
        trigger: TriggerInfo {
            image: placeholder_image(workflow),
            ..TriggerInfo::default()
        },
        secrets: SecretValues::masked(environment.secrets.keys()),
    }
}

/// `trigger.image` as validating sees it: a placeholder of the first repository the
/// workflow's `on.registry_push` names, or nothing when a registry push does not start it.
pub fn placeholder_image(workflow: &Workflow) -> Option<ImagePush> {
    workflow
        .triggers
        .registry_push
        .first()
        .map(|filter| ImagePush::placeholder(&filter.repository))
}
