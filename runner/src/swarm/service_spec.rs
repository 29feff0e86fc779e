//! A service as the Engine API takes it: `ServiceSpec` JSON.

/// The name and the full Engine API `ServiceSpec` (with `Name`, `Labels`, `TaskTemplate`,
/// `Mode`, `UpdateConfig`, `RollbackConfig`, `EndpointSpec`).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub name: String,
    pub spec: serde_json::Value,
}
