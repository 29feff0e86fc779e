//! The `config` step kind: a Swarm config made from a file of the repo, rendered or taken
//! as it is, named with a hash of its content so that a change rolls out as a new
//! object. The `secret` kind (`steps/secret`) is the same with a Swarm secret: the
//! functions here take the [`ObjectKind`](crate::swarm::ObjectKind) they make.

mod apply;
mod check;
mod desired;
mod input;
mod plan;
mod render;

use std::collections::BTreeMap;

pub use apply::apply;
pub use check::check;
pub use desired::desired;
pub use input::ConfigInput;
pub use plan::plan;
pub use render::render;

/// A checked `config` or `secret` step.
#[derive(Debug, Clone)]
pub struct ConfigStep {
    /// The object's name before its hash, as written (it may be a template).
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
