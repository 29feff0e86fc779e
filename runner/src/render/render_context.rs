//! The values a template sees: `environment`, `vars`, `inputs`, `commit`, `trigger`
//! and `secrets`.

use serde::Serialize;

use super::SecretValues;
use crate::model::{Environment, ImagePush};

/// The commit a run works on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommitInfo {
    pub sha: String,
    pub short_sha: String,
    pub message: String,
    pub author: String,
    pub branch: String,
}

impl CommitInfo {
    pub fn new(sha: &str, message: &str, author: &str, branch: &str) -> CommitInfo {
        CommitInfo {
            sha: sha.to_owned(),
            short_sha: sha.chars().take(7).collect(),
            message: message.to_owned(),
            author: author.to_owned(),
            branch: branch.to_owned(),
        }
    }
}

/// What started a run.
#[derive(Debug, Clone, Serialize)]
pub struct TriggerInfo {
    /// `push`, `pull_request`, `schedule`, `workflow_dispatch`, `registry_push`, or
    /// `manual` for the CLI.
    pub event: String,
    pub actor: String,
    /// The pushed image of a `registry_push` run; absent (undefined in templates) for
    /// other events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImagePush>,
}

impl Default for TriggerInfo {
    fn default() -> TriggerInfo {
        TriggerInfo {
            event: "manual".to_owned(),
            actor: String::new(),
            image: None,
        }
    }
}

/// Everything a render needs besides the templates.
#[derive(Debug, Clone)]
pub struct RenderContext {
    pub environment: Environment,
    pub inputs: serde_json::Map<String, serde_json::Value>,
    pub commit: CommitInfo,
    pub trigger: TriggerInfo,
    pub secrets: SecretValues,
}

#[derive(Serialize)]
struct EnvironmentView<'a> {
    name: &'a str,
    vars: &'a indexmap::IndexMap<String, serde_json::Value>,
    hosts: &'a indexmap::IndexMap<String, Vec<String>>,
}

#[derive(Serialize)]
struct ContextView<'a> {
    environment: EnvironmentView<'a>,
    vars: &'a indexmap::IndexMap<String, serde_json::Value>,
    inputs: &'a serde_json::Map<String, serde_json::Value>,
    commit: &'a CommitInfo,
    trigger: &'a TriggerInfo,
}

impl RenderContext {
    pub fn to_value(&self) -> minijinja::Value {
        let environment = &self.environment;
        let view = minijinja::Value::from(minijinja::value::Serde(ContextView {
            environment: EnvironmentView {
                name: &environment.name,
                vars: &environment.vars,
                hosts: &environment.hosts,
            },
            vars: &environment.vars,
            inputs: &self.inputs,
            commit: &self.commit,
            trigger: &self.trigger,
        }));
        minijinja::context! { secrets => self.secrets.to_value(), ..view }
    }
}
