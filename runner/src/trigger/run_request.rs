//! What an event asks for: a run of a workflow over its environments, in a mode.

use serde::{Deserialize, Serialize};

use crate::model::ImagePush;

/// What a run does with the plan of each environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Plan and apply, environment after environment, stopping at the first failure.
    Apply,
    /// Plan only, shown on a pull request.
    Plan,
    /// Plan only, on a schedule: changes pending are drift.
    DriftCheck,
}

/// One run to start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRequest {
    pub workflow: String,
    /// In the order they are applied.
    pub environments: Vec<String>,
    pub mode: RunMode,
    /// The commit to check out: never the moving branch head.
    pub commit: String,
    /// `push`, `pull_request`, `schedule`, `workflow_dispatch`, `registry_push` or
    /// `rollback`.
    pub event: &'static str,
    pub actor: String,
    pub inputs: serde_json::Map<String, serde_json::Value>,
    /// The pushed image of a `registry_push` run, `trigger.image` in templates.
    pub image: Option<ImagePush>,
    /// For a `rollback` run: the commit of the workflow's last run, which it rolls back
    /// from (its own `commit` is the earlier one it applies).
    pub rollback_from: Option<String>,
}

impl RunRequest {
    /// The event name a stored run was recorded with.
    pub fn event_name(text: &str) -> &'static str {
        [
            "push",
            "pull_request",
            "schedule",
            "workflow_dispatch",
            "registry_push",
            "rollback",
        ]
        .into_iter()
        .find(|name| *name == text)
        .unwrap_or("unknown")
    }
}
