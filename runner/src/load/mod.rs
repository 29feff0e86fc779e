//! Load: read `shoal.yml` and `workflows/*.yml` from a [`RepoFiles`], check them, and
//! produce a [`ConfigRepo`] or every problem found. Pure apart from the reads it asks for.

mod commit_budget;
mod cron;
mod document;
mod environments;
mod notify_targets;
mod repo_files;
mod workflow;

pub use commit_budget::{BudgetExceeded, CommitBudget};
pub use cron::check_cron;
pub use document::Document;
pub use environments::{SHOAL_FILE, is_valid_name, load_environments, load_shoal_file};
pub use notify_targets::{DEFAULT_NOTIFY_TIMEOUT, declared_secrets, notify_targets};
pub use repo_files::{
    DirectoryFiles, MemoryFiles, ReadError, RepoFiles, check_file_size, join_relative, normalize,
};
pub use workflow::{WorkflowChecker, load_workflow};

use crate::model::ConfigRepo;
use crate::source::{Diagnostic, Diagnostics};

pub const WORKFLOWS_FOLDER: &str = "workflows";

/// Loads a whole config repo. The repo is `None` when any error was found; the
/// diagnostics hold every error and warning, from every file.
pub fn load_repo(files: &dyn RepoFiles) -> (Option<ConfigRepo>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let (environments, notify) = match load_shoal_file(files, &mut diagnostics) {
        Some((environments, notify)) => (Some(environments), notify),
        None => (None, Vec::new()),
    };
    let workflow_paths: Vec<String> = files
        .list(WORKFLOWS_FOLDER)
        .into_iter()
        .filter(|path| path.ends_with(".yml") || path.ends_with(".yaml"))
        .collect();
    if workflow_paths.is_empty() {
        diagnostics.push(
            Diagnostic::file_error(WORKFLOWS_FOLDER, "no workflows found")
                .with_help("add a workflow such as workflows/deploy.yml"),
        );
    }
    let known_environments = environments.clone().unwrap_or_default();
    let mut workflows = Vec::new();
    for path in &workflow_paths {
        if let Some(workflow) = load_workflow(files, path, &known_environments, &mut diagnostics) {
            workflows.push(workflow);
        }
    }
    for (index, workflow) in workflows.iter().enumerate() {
        if let Some(first) = workflows[..index].iter().find(|w| w.name == workflow.name) {
            diagnostics.push(
                Diagnostic::file_error(
                    &workflow.path,
                    format!("duplicate workflow name `{}`", workflow.name),
                )
                .with_help(format!("{} has the same name", first.path)),
            );
        }
    }
    if diagnostics.has_errors() {
        return (None, diagnostics);
    }
    let repo = ConfigRepo {
        environments: environments.unwrap_or_default(),
        workflows,
        notify,
    };
    (Some(repo), diagnostics)
}
