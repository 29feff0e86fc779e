//! A step as written in a workflow: the common keys, and exactly one kind key
//! (`stack`, `network`, …) that says what the step does.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::steps::StepKindInput;
use crate::steps::certs::CertsInput;
use crate::steps::config::ConfigInput;
use crate::steps::network::NetworkInput;
use crate::steps::remove::RemoveInput;
use crate::steps::service::ServiceInput;
use crate::steps::stack::StackInput;
use crate::steps::wait::WaitInput;
use crate::yaml::Spanned;

/// The step kinds this version runs.
pub const SUPPORTED_KINDS: &[&str] = &[
    "stack", "network", "config", "secret", "certs", "wait", "remove", "ssh", "service", "swarm",
    "node",
];

/// Step kinds that are planned but not implemented yet, with what they will do.
/// A step using one is rejected, never silently skipped.
pub const PLANNED_KINDS: &[(&str, &str)] = &[];

/// One step.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = exactly_one_kind)]
pub struct StepInput {
    /// Names the step for `if` expressions and reports; unique in the workflow.
    #[serde(default)]
    pub id: Option<Spanned<String>>,
    /// Shown in logs and reports.
    #[serde(default)]
    pub name: Option<String>,
    /// A template expression; the step runs only when it is true,
    /// e.g. `environment.name == "prod"`.
    #[serde(rename = "if", default)]
    pub condition: Option<Spanned<String>>,
    /// The longest the step may take, e.g. `2m`, `90s`, `1h 30m`.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// A failure of this step does not stop the run.
    #[serde(default)]
    pub continue_on_error: bool,

    /// Deploy a compose file as a stack.
    #[serde(default)]
    pub stack: Option<StackInput>,
    /// Ensure an overlay network.
    #[serde(default)]
    pub network: Option<NetworkInput>,
    /// Ensure a Swarm config from a file.
    #[serde(default)]
    pub config: Option<ConfigInput>,
    /// Ensure a Swarm secret from a file.
    #[serde(default)]
    pub secret: Option<ConfigInput>,
    /// Issue certificates from the environment's CA into Swarm secrets, and renew them.
    #[serde(default)]
    pub certs: Option<CertsInput>,
    /// Wait for services to converge or a URL to answer.
    #[serde(default)]
    pub wait: Option<WaitInput>,
    /// Remove a stack and everything it created.
    #[serde(default)]
    pub remove: Option<RemoveInput>,
    /// Put files on hosts and run commands there, over SSH.
    #[serde(default)]
    pub ssh: Option<crate::steps::ssh::SshStepInput>,
    /// Change one existing service: scale, image, forced update or rollback.
    #[serde(default)]
    pub service: Option<ServiceInput>,
    /// Make the hosts of some groups one swarm: managers and workers.
    #[serde(default)]
    pub swarm: Option<crate::steps::swarm::SwarmInput>,
    /// Set the labels, availability or role of the nodes of some hosts.
    #[serde(default)]
    pub node: Option<crate::steps::node::NodeInput>,
}

/// The keys of a step other than its kind.
#[derive(Debug, Clone)]
pub struct StepCommonInput {
    pub id: Option<Spanned<String>>,
    pub name: Option<String>,
    pub condition: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub continue_on_error: bool,
}

impl StepInput {
    /// The step's common keys, and its kind: `None` when it has no kind this version runs
    /// (the checks of its keys say why).
    pub fn split(self) -> (StepCommonInput, Option<StepKindInput>) {
        // Every field is named: a new field of `StepInput` is a compile error here.
        let StepInput {
            id,
            name,
            condition,
            timeout,
            continue_on_error,
            stack,
            network,
            config,
            secret,
            certs,
            wait,
            remove,
            ssh,
            service,
            swarm,
            node,
        } = self;
        let kinds = [
            stack.map(StepKindInput::Stack),
            network.map(StepKindInput::Network),
            config.map(StepKindInput::Config),
            secret.map(StepKindInput::Secret),
            certs.map(StepKindInput::Certs),
            wait.map(StepKindInput::Wait),
            remove.map(StepKindInput::Remove),
            ssh.map(StepKindInput::Ssh),
            service.map(StepKindInput::Service),
            swarm.map(StepKindInput::Swarm),
            node.map(StepKindInput::Node),
        ];
        let common = StepCommonInput {
            id,
            name,
            condition,
            timeout,
            continue_on_error,
        };
        (common, kinds.into_iter().flatten().next())
    }
}

/// The schema says what validation says: exactly one supported kind key per step.
fn exactly_one_kind(schema: &mut schemars::Schema) {
    let one_of: Vec<serde_json::Value> = SUPPORTED_KINDS
        .iter()
        .map(|kind| serde_json::json!({ "required": [kind] }))
        .collect();
    schema.insert("oneOf".to_owned(), serde_json::Value::Array(one_of));
}

#[cfg(test)]
mod tests {
    use super::{SUPPORTED_KINDS, StepInput};

    /// `SUPPORTED_KINDS` is a list of names the compiler cannot check: every key of a step
    /// that is not a common key must be in it, and every name in it a key.
    #[test]
    fn supported_kinds_are_the_kind_keys_of_a_step() {
        let schema = schemars::schema_for!(StepInput);
        let mut kind_keys: Vec<&str> = schema
            .get("properties")
            .and_then(|properties| properties.as_object())
            .expect("a step's schema has properties")
            .keys()
            .map(String::as_str)
            .filter(|key| !["id", "name", "if", "timeout", "continue_on_error"].contains(key))
            .collect();
        let mut supported = SUPPORTED_KINDS.to_vec();
        kind_keys.sort_unstable();
        supported.sort_unstable();
        assert_eq!(kind_keys, supported);
    }
}
