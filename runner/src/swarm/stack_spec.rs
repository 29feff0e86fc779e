//! Everything one `stack` step wants on the swarm.

use super::{NetworkSpec, ObjectSpec, ServiceSpec};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StackSpec {
    pub name: String,
    /// Sorted by name.
    pub services: Vec<ServiceSpec>,
    /// Networks the stack creates (`<stack>_default`, `<stack>_<name>`), sorted by name.
    pub networks: Vec<NetworkSpec>,
    /// Configs and secrets the stack creates, with content-hashed names, sorted by name.
    pub objects: Vec<ObjectSpec>,
    /// Objects the compose file declares `external`: they must already exist.
    pub external: ExternalReferences,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalReferences {
    pub networks: Vec<String>,
    pub configs: Vec<String>,
    pub secrets: Vec<String>,
}
