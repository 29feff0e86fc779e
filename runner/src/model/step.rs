//! A validated step: the common settings and exactly one kind.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::source::Span;

/// Whether `text` (a step's object name, URL…) holds template syntax. Text without it
/// renders as it is written.
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

#[derive(Debug, Clone)]
pub struct Step {
    pub id: Option<String>,
    /// A display name: the `name`, else the `id`, else the kind and its object's name.
    pub name: String,
    /// The `if` expression and where it was written.
    pub condition: Option<(String, Span)>,
    pub timeout: Option<Duration>,
    pub continue_on_error: bool,
    pub kind: StepKind,
    /// Where the step starts in its workflow file.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Stack(StackStep),
    Network(NetworkStep),
    Config(ConfigStep),
    Secret(ConfigStep),
    Wait(WaitStep),
    Remove(RemoveStep),
    Ssh(crate::steps::ssh::SshStep),
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Stack(_) => "stack",
            StepKind::Network(_) => "network",
            StepKind::Config(_) => "config",
            StepKind::Secret(_) => "secret",
            StepKind::Wait(_) => "wait",
            StepKind::Remove(_) => "remove",
            StepKind::Ssh(_) => "ssh",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StackStep {
    pub name: String,
    /// Compose files relative to the repo root, merged in order.
    pub compose: Vec<String>,
    pub prune: bool,
    pub wait: bool,
    pub allow_empty: bool,
    pub on_failure: crate::config::OnFailure,
    pub keep_versions: usize,
    /// Globs of referenced files that are not rendered.
    pub verbatim: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NetworkStep {
    pub name: String,
    pub driver: String,
    pub attachable: bool,
    pub internal: bool,
    pub encrypted: bool,
    pub subnet: Option<String>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct ConfigStep {
    pub name: String,
    pub source: ConfigSource,
    pub labels: BTreeMap<String, String>,
}

/// Where a config's or secret's content comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// Rendered for each environment.
    Template(String),
    /// Taken as it is.
    File(String),
}

impl ConfigSource {
    pub fn path(&self) -> &str {
        match self {
            ConfigSource::Template(path) | ConfigSource::File(path) => path,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WaitStep {
    pub services: Vec<String>,
    pub url: Option<String>,
    pub status: u16,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct RemoveStep {
    pub stack: String,
}
