//! The environments page as data: for each environment and each workflow that targets
//! it, the last apply (commit, message, author, time, result) and the last drift check
//! (when, and whether it found drift), beside the live health of its stacks. Pure: the
//! runs, the health and the commits' descriptions are given.

use std::collections::HashMap;

use serde::Serialize;

use super::stack_health::{EnvironmentHealth, ServiceHealth};
use crate::model::ConfigRepo;
use crate::render::CommitInfo;
use crate::store::RunRecord;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentView {
    pub name: String,
    pub workflows: Vec<WorkflowRow>,
    pub services: Vec<ServiceHealth>,
    pub health_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkflowRow {
    pub workflow: String,
    pub apply: Option<AppliedRun>,
    pub drift: Option<DriftCheck>,
    /// It can be dispatched by hand.
    pub dispatchable: bool,
    /// The input that confirms a manual run by the environment's name, if it has one: a
    /// rollback passes the name typed to it.
    pub confirm_input: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedRun {
    pub id: i64,
    pub short_sha: String,
    pub message: String,
    pub author: String,
    pub at: String,
    pub status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriftCheck {
    pub id: i64,
    pub at: String,
    /// The check ran to its end and found the swarm differs from git.
    pub found: bool,
}

/// The rows of the page, environments in `shoal.yml`'s order, workflows in file order.
/// `latest`: the newest finished run of each workflow, environments and mode
/// (`Store::latest_finished_runs`); `describe`: a commit's message and author.
pub fn environment_views(
    repo: &ConfigRepo,
    latest: &[RunRecord],
    health: &[EnvironmentHealth],
    mut describe: impl FnMut(&str) -> Option<CommitInfo>,
) -> Vec<EnvironmentView> {
    // The newest run of each (workflow, environment, mode).
    let mut newest: HashMap<(&str, &str, &str), &RunRecord> = HashMap::new();
    for run in latest {
        for environment in &run.environments {
            let key = (
                run.workflow.as_str(),
                environment.as_str(),
                run.mode.as_str(),
            );
            let entry = newest.entry(key).or_insert(run);
            if run.id > entry.id {
                *entry = run;
            }
        }
    }
    repo.environments
        .iter()
        .map(|environment| {
            let name = environment.name.as_str();
            let workflows = repo
                .workflows
                .iter()
                .filter(|workflow| workflow.environments.iter().any(|e| e == name))
                .map(|workflow| {
                    let last =
                        |mode: &str| newest.get(&(workflow.name.as_str(), name, mode)).copied();
                    WorkflowRow {
                        workflow: workflow.name.clone(),
                        apply: last("apply").map(|run| {
                            let commit = describe(&run.commit);
                            AppliedRun {
                                id: run.id,
                                short_sha: run.commit.chars().take(7).collect(),
                                message: commit
                                    .as_ref()
                                    .map(|c| c.message.clone())
                                    .unwrap_or_default(),
                                author: commit.map(|c| c.author).unwrap_or_default(),
                                at: short_time(
                                    run.finished_at.as_deref().unwrap_or(&run.created_at),
                                ),
                                status: run.status.as_str(),
                            }
                        }),
                        drift: last("drift_check").map(|run| DriftCheck {
                            id: run.id,
                            at: short_time(run.finished_at.as_deref().unwrap_or(&run.created_at)),
                            found: run.summary.starts_with("drift:"),
                        }),
                        dispatchable: workflow.triggers.dispatch.is_some(),
                        confirm_input: super::dispatch_form::confirmation_input(workflow),
                    }
                })
                .collect();
            let found = health.iter().find(|h| h.environment == name);
            EnvironmentView {
                name: name.to_owned(),
                workflows,
                services: found.map(|h| h.services.clone()).unwrap_or_default(),
                health_error: found.and_then(|h| h.error.clone()),
            }
        })
        .collect()
}

/// An RFC 3339 time as people read it: `2026-12-04 23:20:22 UTC`.
pub fn short_time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::load::{MemoryFiles, load_repo};
    use crate::store::RunStatus;

    fn run(
        id: i64,
        workflow: &str,
        environments: &[&str],
        mode: &str,
        status: RunStatus,
        summary: &str,
    ) -> RunRecord {
        RunRecord {
            id,
            workflow: workflow.to_owned(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            mode: mode.to_owned(),
            event: "push".to_owned(),
            commit: format!("{id:0>40}"),
            actor: "ana".to_owned(),
            status,
            created_at: "2026-12-04T10:00:00+00:00".to_owned(),
            started_at: None,
            finished_at: Some(format!("2026-12-04T10:00:{id:0>2}+00:00")),
            summary: summary.to_owned(),
            rollback_from: None,
        }
    }

    #[test]
    fn each_environment_shows_its_workflows_last_apply_and_drift_check() {
        let files = MemoryFiles::new()
            .with("shoal.yml", "environments: { staging: {}, prod: {} }\n")
            .with(
                "workflows/web.yml",
                "on: { workflow_dispatch: {} }\nenvironments: [staging, prod]\nsteps:\n  - network: { name: n }\n",
            )
            .with(
                "workflows/db.yml",
                "on: { push: { branches: [main] } }\nenvironments: [prod]\nsteps:\n  - network: { name: m }\n",
            );
        let (repo, diagnostics) = load_repo(&files);
        let repo = Arc::new(repo.unwrap_or_else(|| panic!("{diagnostics:?}")));
        let latest = [
            run(
                7,
                "web",
                &["staging", "prod"],
                "drift_check",
                RunStatus::Failure,
                "drift: 1 to update",
            ),
            run(
                5,
                "web",
                &["prod"],
                "apply",
                RunStatus::Success,
                "Applied 1 change",
            ),
            run(
                3,
                "web",
                &["staging", "prod"],
                "apply",
                RunStatus::Failure,
                "boom",
            ),
        ];
        let health = [EnvironmentHealth {
            environment: "prod".to_owned(),
            services: vec![ServiceHealth {
                name: "shop_web".to_owned(),
                running: 1,
                desired: 2,
                failing: vec!["failed: exit 1".to_owned()],
            }],
            error: None,
        }];
        let views = environment_views(&repo, &latest, &health, |commit| {
            Some(CommitInfo::new(commit, "Bump web", "Ada", "main"))
        });
        assert_eq!(views.len(), 2);
        let (staging, prod) = (&views[0], &views[1]);
        assert_eq!(staging.name, "staging");
        let web = &staging.workflows[0];
        assert_eq!(
            web.apply.as_ref().map(|a| (a.id, a.status)),
            Some((3, "failure"))
        );
        assert!(web.dispatchable);
        assert_eq!(web.drift.as_ref().map(|d| (d.id, d.found)), Some((7, true)));
        let names: Vec<&str> = prod.workflows.iter().map(|w| w.workflow.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        assert_eq!(prod.workflows[0].apply, None);
        let applied = prod.workflows[1].apply.as_ref().expect("applied");
        assert_eq!(
            (
                applied.id,
                applied.short_sha.as_str(),
                applied.message.as_str(),
                applied.author.as_str(),
                applied.at.as_str()
            ),
            (5, "0000000", "Bump web", "Ada", "2026-12-04 10:00:05 UTC")
        );
        assert_eq!(prod.services[0].failing, ["failed: exit 1"]);
    }
}
