//! A step as written in a workflow: the common keys, and exactly one kind key
//! (`stack`, `network`, …) that says what the step does.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// The step kinds this version runs.
pub const SUPPORTED_KINDS: &[&str] = &[
    "stack", "network", "config", "secret", "wait", "remove", "ssh",
];

/// Step kinds that are planned but not implemented yet, with what they will do.
/// A step using one is rejected, never silently skipped.
pub const PLANNED_KINDS: &[(&str, &str)] = &[
    ("certs", "certificate generation and renewal"),
    ("service", "single-service updates"),
    ("node", "node labels and availability"),
    ("swarm", "swarm init and join"),
];

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
    /// Wait for services to converge or a URL to answer.
    #[serde(default)]
    pub wait: Option<WaitInput>,
    /// Remove a stack and everything it created.
    #[serde(default)]
    pub remove: Option<RemoveInput>,
    /// Put files on hosts and run commands there, over SSH.
    #[serde(default)]
    pub ssh: Option<crate::steps::ssh::SshStepInput>,

    // Planned kinds: accepted by the decoder so that validation can say they are not
    // supported yet, and absent from the schema so that editors do not offer them.
    #[serde(default)]
    #[schemars(skip)]
    pub certs: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(skip)]
    pub service: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(skip)]
    pub node: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    #[schemars(skip)]
    pub swarm: Option<serde::de::IgnoredAny>,
}

/// The one kind a step has, out of its `StepInput`: matched exhaustively, so a kind added
/// here and not handled where steps are checked is a compile error.
#[derive(Debug, Clone)]
pub enum StepKindInput {
    Stack(StackInput),
    Network(NetworkInput),
    Config(ConfigInput),
    Secret(ConfigInput),
    Wait(WaitInput),
    Remove(RemoveInput),
    Ssh(crate::steps::ssh::SshStepInput),
}

/// The schema says what validation says: exactly one supported kind key per step.
fn exactly_one_kind(schema: &mut schemars::Schema) {
    let one_of: Vec<serde_json::Value> = SUPPORTED_KINDS
        .iter()
        .map(|kind| serde_json::json!({ "required": [kind] }))
        .collect();
    schema.insert("oneOf".to_owned(), serde_json::Value::Array(one_of));
}

/// `stack:` deploys one or more compose files, merged in order, as a Swarm stack.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackInput {
    /// The stack name: services are named `<name>_<service>`.
    pub name: Spanned<String>,
    /// Compose file(s), relative to the config repo root; later files override earlier ones.
    pub compose: OneOrMany,
    /// Remove the stack's services that are no longer in the compose files.
    #[serde(default)]
    pub prune: bool,
    /// Wait until every changed service has converged (default true).
    #[serde(default = "default_true")]
    pub wait: bool,
    /// Allow `prune` to remove every service when the compose files have none.
    #[serde(default)]
    pub allow_empty: bool,
    /// What to do when a service fails to converge: `stop` (default) leaves the swarm as
    /// it is; `rollback` restores every service this step changed to its previous spec.
    #[serde(default)]
    pub on_failure: OnFailure,
    /// How many older content versions of each config and secret to keep for rollback
    /// (default 3); older ones are removed once no service uses them.
    #[serde(default = "default_keep_versions")]
    pub keep_versions: usize,
    /// Globs (relative to the repo root) of files the compose files reference that are
    /// taken as they are rather than rendered as templates, e.g. Prometheus rules that
    /// use `{{ $labels }}` themselves.
    #[serde(default)]
    pub verbatim: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    #[default]
    Stop,
    Rollback,
}

/// `network:` ensures an overlay network exists with these options.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkInput {
    pub name: Spanned<String>,
    #[serde(default = "default_driver")]
    pub driver: String,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub internal: bool,
    /// Encrypt traffic between nodes (IPsec).
    #[serde(default)]
    pub encrypted: bool,
    /// e.g. `10.10.0.0/16`.
    #[serde(default)]
    pub subnet: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `config:` or `secret:` makes a Swarm object from a file of the repo.
/// Give `template` (rendered per environment) or `file` (taken as it is).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigInput {
    /// The object's name; shoal appends a hash of the content so that changes roll out.
    pub name: Spanned<String>,
    /// A template, relative to the repo root, rendered for each environment.
    #[serde(default)]
    pub template: Option<Spanned<String>>,
    /// A file, relative to the repo root, taken as it is.
    #[serde(default)]
    pub file: Option<Spanned<String>>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `wait:` blocks until services converged or a URL answers.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitInput {
    /// Full service names (`<stack>_<service>`) that must have converged.
    #[serde(default)]
    pub services: Vec<String>,
    /// An HTTP URL that must answer with `status`.
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    #[serde(default = "default_status")]
    pub status: u16,
    /// How long to wait before failing, e.g. `5m` (default 5m).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}

/// `remove:` tears a stack down: its services, then its networks, configs and secrets.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveInput {
    pub stack: Spanned<String>,
}

/// One path or a list of paths.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum OneOrMany {
    One(Spanned<String>),
    Many(Vec<Spanned<String>>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<Spanned<String>> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Decoded through the position-keeping tree: a list becomes `Many`, a scalar `One`.
        let spanned = Spanned::<ListOrString>::deserialize(deserializer)?;
        Ok(match spanned.value {
            ListOrString::String(text) => OneOrMany::One(Spanned::new(spanned.span, text)),
            ListOrString::List(items) => OneOrMany::Many(items),
        })
    }
}

enum ListOrString {
    String(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for ListOrString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListOrStringVisitor;

        impl<'de> serde::de::Visitor<'de> for ListOrStringVisitor {
            type Value = ListOrString;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or a list of paths")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ListOrString, E> {
                Ok(ListOrString::String(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ListOrString, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ListOrString::List(items))
            }
        }

        deserializer.deserialize_any(ListOrStringVisitor)
    }
}

fn default_true() -> bool {
    true
}

fn default_keep_versions() -> usize {
    3
}

fn default_driver() -> String {
    "overlay".to_owned()
}

fn default_status() -> u16 {
    200
}
