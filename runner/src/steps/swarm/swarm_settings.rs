//! The swarm-wide settings a `swarm` step may set: those of the swarm's spec, which can
//! change at any time, and those fixed when the swarm is made (the address pool, the
//! subnet size, the data path port).

use std::time::Duration;

use serde_json::{Value, json};

use crate::plan::FieldDiff;
use crate::swarm::SwarmCluster;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SwarmSettings {
    pub default_addr_pool: Option<Vec<String>>,
    pub subnet_size: Option<u32>,
    pub data_path_port: Option<u32>,
    pub task_history_limit: Option<i64>,
    pub dispatcher_heartbeat: Option<Duration>,
    pub cert_expiry: Option<Duration>,
    pub autolock: Option<bool>,
}

/// A spec setting: where it lives in the `SwarmSpec` JSON, and its value there.
fn spec_fields(settings: &SwarmSettings) -> Vec<(&'static [&'static str], Value)> {
    let nanos =
        |duration: &Duration| Value::from(u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX));
    let mut fields: Vec<(&'static [&'static str], Value)> = Vec::new();
    if let Some(limit) = settings.task_history_limit {
        fields.push((
            &["Orchestration", "TaskHistoryRetentionLimit"],
            Value::from(limit),
        ));
    }
    if let Some(period) = &settings.dispatcher_heartbeat {
        fields.push((&["Dispatcher", "HeartbeatPeriod"], nanos(period)));
    }
    if let Some(expiry) = &settings.cert_expiry {
        fields.push((&["CAConfig", "NodeCertExpiry"], nanos(expiry)));
    }
    if let Some(autolock) = settings.autolock {
        fields.push((
            &["EncryptionConfig", "AutoLockManagers"],
            Value::from(autolock),
        ));
    }
    fields
}

impl SwarmSettings {
    /// `spec` with every spec setting of these put in.
    pub fn applied_to(&self, spec: &Value) -> Value {
        let mut spec = spec.clone();
        for (path, value) in spec_fields(self) {
            let mut at = &mut spec;
            for key in &path[..path.len() - 1] {
                if !at.is_object() {
                    *at = json!({});
                }
                at = at
                    .as_object_mut()
                    .expect("an object, made above")
                    .entry((*key).to_owned())
                    .or_insert_with(|| json!({}));
            }
            if !at.is_object() {
                *at = json!({});
            }
            at.as_object_mut()
                .expect("an object, made above")
                .insert(path[path.len() - 1].to_owned(), value);
        }
        spec
    }

    /// The spec settings whose value differs from the live spec's.
    pub fn diffs(&self, live: &Value) -> Vec<FieldDiff> {
        spec_fields(self)
            .into_iter()
            .filter_map(|(path, value)| {
                let mut before = Some(live);
                for key in path {
                    before = before.and_then(|at| at.get(*key));
                }
                let before = before.filter(|value| !value.is_null()).cloned();
                (before.as_ref() != Some(&value)).then(|| FieldDiff {
                    path: path.join("."),
                    before,
                    after: Some(value),
                    concealed: None,
                })
            })
            .collect()
    }

    /// What differs from the settings fixed when `cluster` was made: each a problem,
    /// since only a new swarm takes them.
    pub fn fixed_problems(&self, cluster: &SwarmCluster) -> Vec<String> {
        let mut problems = Vec::new();
        let fixed = "it is set when a swarm is made and cannot change after";
        if let Some(pool) = &self.default_addr_pool
            && *pool != cluster.default_addr_pool
        {
            problems.push(format!(
                "`default_addr_pool` is [{}], the swarm's is [{}]: {fixed}",
                pool.join(", "),
                cluster.default_addr_pool.join(", ")
            ));
        }
        if let Some(size) = self.subnet_size
            && Some(u64::from(size)) != cluster.subnet_size
        {
            problems.push(format!(
                "`subnet_size` is {size}, the swarm's is {}: {fixed}",
                cluster
                    .subnet_size
                    .map_or("unset".to_owned(), |s| s.to_string())
            ));
        }
        if let Some(port) = self.data_path_port
            && Some(u64::from(port)) != cluster.data_path_port
        {
            problems.push(format!(
                "`data_path_port` is {port}, the swarm's is {}: {fixed}",
                cluster
                    .data_path_port
                    .map_or("unset".to_owned(), |p| p.to_string())
            ));
        }
        problems
    }

    /// The body of `POST /swarm/init` for a node listening at `listen` and advertising
    /// `advertise`.
    pub fn init_request(&self, listen: &str, advertise: &str) -> Value {
        let mut request = json!({
            "ListenAddr": listen,
            "AdvertiseAddr": advertise,
            "Spec": self.applied_to(&json!({})),
        });
        if let Some(pool) = &self.default_addr_pool {
            request["DefaultAddrPool"] = json!(pool);
        }
        if let Some(size) = self.subnet_size {
            request["SubnetSize"] = json!(size);
        }
        if let Some(port) = self.data_path_port {
            request["DataPathPort"] = json!(port);
        }
        request
    }
}
