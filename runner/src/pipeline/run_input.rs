//! What one run renders: where the files come from, the environment, the chosen
//! workflows with their inputs, and the context of the request.

use std::path::Path;

use crate::load::RepoFiles;
use crate::model::{Environment, Workflow};
use crate::render::{CommitInfo, RenderContext, SecretValues, TemplateEngine, TriggerInfo};

pub struct RunInput<'a> {
    /// The config repo's files: a folder for the CLI, a commit of the mirror for the daemon.
    pub files: &'a dyn RepoFiles,
    pub engine: &'a TemplateEngine,
    pub environment: &'a Environment,
    /// Each workflow with its input values, in the order they are applied.
    pub workflows: &'a [(&'a Workflow, serde_json::Map<String, serde_json::Value>)],
    pub commit: &'a CommitInfo,
    pub trigger: &'a TriggerInfo,
    /// Where a relative secret `file:` is read from: the config repo's folder for `plan`
    /// and `apply` (unless `--secrets-folder` says otherwise), `--secrets-folder` for
    /// `shoal serve`.
    pub secrets_folder: &'a Path,
}

impl RunInput<'_> {
    /// The template context of a workflow with these inputs and secret values.
    pub fn context(
        &self,
        inputs: &serde_json::Map<String, serde_json::Value>,
        secrets: &SecretValues,
    ) -> RenderContext {
        RenderContext {
            environment: self.environment.clone(),
            inputs: inputs.clone(),
            commit: self.commit.clone(),
            trigger: self.trigger.clone(),
            secrets: secrets.clone(),
        }
    }
}
