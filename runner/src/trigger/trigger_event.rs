//! The events that start runs, already parsed from webhooks, git fetches, the clock or
//! the API, and which runs each one starts.

use globset::Glob;
use serde_json::{Map, Value};

use super::dispatch_inputs::{confirmation_problems, resolve_inputs};
use super::{RunMode, RunRequest};
use crate::model::{BranchFilter, ConfigRepo, ImagePush, RegistryPushFilter, Workflow};

#[derive(Debug, Clone, PartialEq)]
pub enum TriggerEvent {
    /// A new head on a branch; `changed_paths` are relative to the repo root.
    Push {
        branch: String,
        commit: String,
        changed_paths: Vec<String>,
        actor: String,
    },
    /// A pull request opened or updated, into `base_branch`.
    PullRequest {
        base_branch: String,
        head_commit: String,
        changed_paths: Vec<String>,
        actor: String,
    },
    /// A schedule of a workflow fell due; `heal` applies instead of only planning.
    Schedule {
        workflow: String,
        commit: String,
        heal: bool,
    },
    /// Started by a person; `environments` empty means all of the workflow's.
    Dispatch {
        workflow: String,
        commit: String,
        environments: Vec<String>,
        inputs: Map<String, Value>,
        actor: String,
    },
    /// An image pushed to a registry under a tag; runs apply `commit`, the branch head.
    RegistryPush {
        image: ImagePush,
        commit: String,
        actor: String,
    },
    /// `shoal rollback` or `POST /api/v1/rollback`: apply `workflow` on `environment` as
    /// it was at `commit`, an earlier one, instead of `from`, the commit of its last run.
    Rollback {
        workflow: String,
        commit: String,
        from: Option<String>,
        environment: String,
        inputs: Map<String, Value>,
        actor: String,
    },
}

impl TriggerEvent {
    /// The event's name, as runs record it.
    pub fn name(&self) -> &'static str {
        match self {
            TriggerEvent::Push { .. } => "push",
            TriggerEvent::PullRequest { .. } => "pull_request",
            TriggerEvent::Schedule { .. } => "schedule",
            TriggerEvent::Dispatch { .. } => "workflow_dispatch",
            TriggerEvent::RegistryPush { .. } => "registry_push",
            TriggerEvent::Rollback { .. } => "rollback",
        }
    }

    /// Who caused it (empty for a schedule).
    pub fn actor(&self) -> &str {
        match self {
            TriggerEvent::Push { actor, .. }
            | TriggerEvent::PullRequest { actor, .. }
            | TriggerEvent::Dispatch { actor, .. }
            | TriggerEvent::RegistryPush { actor, .. }
            | TriggerEvent::Rollback { actor, .. } => actor,
            TriggerEvent::Schedule { .. } => "",
        }
    }

    /// What its runs do with the plan.
    pub fn mode(&self) -> RunMode {
        match self {
            TriggerEvent::PullRequest { .. } => RunMode::Plan,
            TriggerEvent::Schedule { heal: false, .. } => RunMode::DriftCheck,
            _ => RunMode::Apply,
        }
    }
}

/// The runs an event starts, in workflow order; an error when a dispatch asks for
/// something the workflow does not allow (every problem, not only the first).
pub fn run_requests(
    repo: &ConfigRepo,
    event: &TriggerEvent,
) -> Result<Vec<RunRequest>, Vec<String>> {
    match event {
        TriggerEvent::Push {
            branch,
            commit,
            changed_paths,
            actor,
        } => Ok(branch_runs(
            repo,
            |workflow| workflow.triggers.push.as_ref(),
            (branch, changed_paths),
            (event.mode(), commit, event.name(), actor),
        )),
        TriggerEvent::PullRequest {
            base_branch,
            head_commit,
            changed_paths,
            actor,
        } => Ok(branch_runs(
            repo,
            |workflow| workflow.triggers.pull_request.as_ref(),
            (base_branch, changed_paths),
            (event.mode(), head_commit, event.name(), actor),
        )),
        TriggerEvent::Schedule {
            workflow, commit, ..
        } => {
            let workflow = repo
                .workflow(workflow)
                .ok_or_else(|| vec![format!("unknown workflow `{workflow}`")])?;
            Ok(vec![request(
                workflow,
                event.mode(),
                commit,
                event.name(),
                event.actor(),
                workflow.environments.clone(),
                defaults(workflow),
            )])
        }
        TriggerEvent::Dispatch {
            workflow,
            commit,
            environments,
            inputs,
            actor,
        } => {
            let workflow = repo
                .workflow(workflow)
                .ok_or_else(|| vec![format!("unknown workflow `{workflow}`")])?;
            let mut problems = Vec::new();
            if workflow.triggers.dispatch.is_none() {
                problems.push(format!(
                    "workflow `{}` cannot be dispatched: it has no `on.workflow_dispatch`",
                    workflow.name
                ));
            }
            for environment in environments {
                if !workflow.environments.contains(environment) {
                    problems.push(format!(
                        "workflow `{}` does not target environment `{environment}`; it targets {}",
                        workflow.name,
                        workflow.environments.join(", ")
                    ));
                }
            }
            let inputs = resolve_inputs(workflow, inputs).unwrap_or_else(|found| {
                problems.extend(found);
                Map::new()
            });
            // Chosen environments keep the workflow's order.
            let targets: Vec<String> = if environments.is_empty() {
                workflow.environments.clone()
            } else {
                workflow
                    .environments
                    .iter()
                    .filter(|e| environments.contains(e))
                    .cloned()
                    .collect()
            };
            if problems.is_empty() {
                problems.extend(confirmation_problems(workflow, &targets, &inputs));
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            Ok(vec![request(
                workflow,
                event.mode(),
                commit,
                event.name(),
                actor,
                targets,
                inputs,
            )])
        }
        TriggerEvent::RegistryPush {
            image,
            commit,
            actor,
        } => Ok(repo
            .workflows
            .iter()
            .filter(|workflow| {
                workflow
                    .triggers
                    .registry_push
                    .iter()
                    .any(|filter| image_matches(filter, image))
            })
            .map(|workflow| RunRequest {
                image: Some(image.clone()),
                rollback_from: None,
                ..request(
                    workflow,
                    event.mode(),
                    commit,
                    event.name(),
                    actor,
                    workflow.environments.clone(),
                    defaults(workflow),
                )
            })
            .collect()),
        TriggerEvent::Rollback {
            workflow,
            commit,
            from,
            environment,
            inputs,
            actor,
        } => {
            let short = commit.get(..7).unwrap_or(commit);
            let Some(workflow) = repo.workflow(workflow) else {
                return Err(vec![format!(
                    "workflow `{workflow}` does not exist at commit {short}: nothing to roll back to"
                )]);
            };
            if !workflow.environments.contains(environment) {
                return Err(vec![format!(
                    "workflow `{}` does not target environment `{environment}` at commit {short}; it targets {}",
                    workflow.name,
                    workflow.environments.join(", ")
                )]);
            }
            // The inputs the workflow declares there, checked as a dispatch's: a workflow
            // whose dispatch must be confirmed by the environment's name is rolled back
            // only with that confirmation.
            let inputs = match &workflow.triggers.dispatch {
                Some(_) => resolve_inputs(workflow, inputs)?,
                None => Map::new(),
            };
            let targets = vec![environment.clone()];
            let refused = confirmation_problems(workflow, &targets, &inputs);
            if !refused.is_empty() {
                return Err(refused);
            }
            Ok(vec![RunRequest {
                rollback_from: from.clone(),
                ..request(
                    workflow,
                    event.mode(),
                    commit,
                    event.name(),
                    actor,
                    targets,
                    inputs,
                )
            }])
        }
    }
}

/// The runs of every workflow whose branch filter (push or pull request) matches.
fn branch_runs(
    repo: &ConfigRepo,
    filter: impl Fn(&Workflow) -> Option<&BranchFilter>,
    (branch, changed_paths): (&str, &[String]),
    (mode, commit, event, actor): (RunMode, &str, &'static str, &str),
) -> Vec<RunRequest> {
    repo.workflows
        .iter()
        .filter(|workflow| filter(workflow).is_some_and(|f| matches(f, branch, changed_paths)))
        .map(|workflow| {
            request(
                workflow,
                mode,
                commit,
                event,
                actor,
                workflow.environments.clone(),
                defaults(workflow),
            )
        })
        .collect()
}

fn request(
    workflow: &Workflow,
    mode: RunMode,
    commit: &str,
    event: &'static str,
    actor: &str,
    environments: Vec<String>,
    inputs: Map<String, Value>,
) -> RunRequest {
    RunRequest {
        workflow: workflow.name.clone(),
        environments,
        mode,
        commit: commit.to_owned(),
        event,
        actor: actor.to_owned(),
        inputs,
        image: None,
        rollback_from: None,
    }
}

/// Runs that are not dispatched see each input at its default.
fn defaults(workflow: &Workflow) -> Map<String, Value> {
    workflow
        .triggers
        .dispatch
        .as_ref()
        .map(|d| d.defaults())
        .unwrap_or_default()
}

/// A registry push filter matches when the repository matches its glob and the tag one
/// of its tag globs (or it has none).
fn image_matches(filter: &RegistryPushFilter, image: &ImagePush) -> bool {
    let repository_matches = glob_matches(&filter.repository, &image.repository);
    let tag_matches =
        filter.tags.is_empty() || filter.tags.iter().any(|tag| glob_matches(tag, &image.tag));
    repository_matches && tag_matches
}

/// A branch filter matches when the branch matches one of its globs (or it has none) and
/// a changed file matches one of its path globs (or it has none).
pub fn matches(filter: &BranchFilter, branch: &str, changed_paths: &[String]) -> bool {
    let any = |globs: &[String], text: &str| globs.iter().any(|glob| glob_matches(glob, text));
    let branch_matches = filter.branches.is_empty() || any(&filter.branches, branch);
    let paths_match =
        filter.paths.is_empty() || changed_paths.iter().any(|path| any(&filter.paths, path));
    branch_matches && paths_match
}

fn glob_matches(glob: &str, text: &str) -> bool {
    Glob::new(glob).is_ok_and(|glob| glob.compile_matcher().is_match(text))
}
