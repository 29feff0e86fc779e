//! What shoal wants a swarm to hold: services, networks, configs and secrets, as values.
//! Service specs are kept in the Docker Engine API's own JSON shape (the `Spec` that
//! `docker service inspect` shows), so that the desired spec, the live spec and the spec
//! `docker stack deploy` would send compare field by field. Built by [`crate::convert`]
//! (pure), read from a cluster by [`crate::docker`] (edge), compared by [`crate::plan`].

mod cluster;
mod labels;
mod live_state;
mod network_spec;
mod object_name_key;
mod object_spec;
mod service_scope;
mod service_spec;
mod stack_spec;

pub use cluster::{LiveNode, NodeMembership, SwarmCluster, managers_stay_in_quorum};
pub use labels::*;
pub use live_state::{LiveNetwork, LiveObject, LiveService, LiveState, LiveTask};
pub use network_spec::{IpamConfig, NetworkSpec};
pub use object_name_key::{OBJECT_NAME_KEY_CONFIG, OBJECT_NAME_KEY_LABEL, ObjectNameKey};
pub use object_spec::{ObjectKind, ObjectSpec};
pub use service_scope::ServiceScope;
pub use service_spec::ServiceSpec;
pub use stack_spec::{ExternalReferences, StackSpec};
