//! Field-by-field comparison of a desired service spec with the one the daemon stores.
//! Both are Engine API JSON; before comparing, each is brought to a common form, so that
//! what the daemon fills in by itself and shoal's own bookkeeping labels are not changes.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::Concealment;

/// One field that differs, by its path in the spec (`TaskTemplate.ContainerSpec.Image`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    pub path: String,
    /// Absent when the field is added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// Absent when the field is removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Set, with neither value, when the values may not be shown (see
    /// [`super::SensitiveFields`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concealed: Option<Concealment>,
}

/// Label keys shoal writes to record what it applied; they change with every commit and
/// never make a difference on their own.
pub const BOOKKEEPING_LABEL_PREFIX: &str = "dev.shoal.";

/// Values the daemon stores when a spec leaves them out, by path of keys. A live field
/// holding one of these where the desired spec has nothing is the same spec.
const DAEMON_DEFAULTS: &[(&[&str], DaemonDefault)] = &[
    (&["TaskTemplate", "ForceUpdate"], DaemonDefault::Number(0)),
    (
        &["TaskTemplate", "Runtime"],
        DaemonDefault::Text("container"),
    ),
    (
        &["TaskTemplate", "ContainerSpec", "Isolation"],
        DaemonDefault::Text("default"),
    ),
    (&["EndpointSpec", "Mode"], DaemonDefault::Text("vip")),
    (
        &["Mode", "Replicated", "Replicas"],
        DaemonDefault::Number(1),
    ),
    (&["UpdateConfig", "Parallelism"], DaemonDefault::Number(1)),
    (&["RollbackConfig", "Parallelism"], DaemonDefault::Number(1)),
];

enum DaemonDefault {
    Number(u64),
    Text(&'static str),
}

impl DaemonDefault {
    fn matches(&self, value: &Value) -> bool {
        match self {
            DaemonDefault::Number(number) => value.as_u64() == Some(*number),
            DaemonDefault::Text(text) => value.as_str() == Some(*text),
        }
    }
}

/// The differences between a desired and a live service spec. `network_names` maps the
/// network IDs the daemon stores to the names a desired spec uses.
pub fn diff_service_specs(
    desired: &Value,
    live: &Value,
    network_names: &BTreeMap<String, String>,
) -> Vec<FieldDiff> {
    let desired = normalize_service(desired, &BTreeMap::new());
    let mut live = normalize_service(live, network_names);
    drop_daemon_defaults(&desired, &mut live);
    let mut diffs = Vec::new();
    // Most specs of a redeploy are unchanged: one comparison, no field paths.
    if desired == live {
        return diffs;
    }
    diff_values("", Some(&desired), Some(&live), &mut diffs);
    diffs
}

/// The common form: empty values removed, bookkeeping labels removed, config and secret
/// references by name only, networks by name.
pub fn normalize_service(spec: &Value, network_names: &BTreeMap<String, String>) -> Value {
    let mut spec = spec.clone();
    if let Some(container) = field_mut(&mut spec, &["TaskTemplate", "ContainerSpec"]) {
        for (list, id) in [("Configs", "ConfigID"), ("Secrets", "SecretID")] {
            if let Some(Value::Array(references)) = container.get_mut(list) {
                for reference in references {
                    if let Some(reference) = reference.as_object_mut() {
                        reference.remove(id);
                    }
                }
            }
        }
    }
    for path in [&["TaskTemplate", "Networks"][..], &["Networks"]] {
        if let Some(Value::Array(attachments)) = field_mut(&mut spec, path) {
            for attachment in attachments.iter_mut() {
                if let Some(Value::String(target)) = attachment.get_mut("Target")
                    && let Some(name) = network_names.get(target.as_str())
                {
                    *target = name.clone();
                }
            }
            attachments.sort_by(|a, b| {
                a.get("Target")
                    .map(Value::to_string)
                    .cmp(&b.get("Target").map(Value::to_string))
            });
        }
    }
    prune(&mut spec);
    spec
}

/// Removes empty values (null, "", false, {}, []) and bookkeeping labels, recursively,
/// and writes whole floats as integers (`0.0` as `0`): the daemon stores a ratio as a
/// float whatever way it was sent.
fn prune(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(labels)) = map.get_mut("Labels") {
                labels.retain(|key, _| !key.starts_with(BOOKKEEPING_LABEL_PREFIX));
            }
            for child in map.values_mut() {
                prune(child);
            }
            map.retain(|_, child| !is_empty(child));
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                prune(item);
            }
        }
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64()
                && float.fract() == 0.0
                && float.abs() < 9.0e15
            {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "a whole number well inside i64"
                )]
                let whole = float as i64;
                *value = Value::from(whole);
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Number(_) => false,
    }
}

fn drop_daemon_defaults(desired: &Value, live: &mut Value) {
    let mut dropped = false;
    for (path, default) in DAEMON_DEFAULTS {
        if field(desired, path).is_some() {
            continue;
        }
        if field(live, path).is_some_and(|value| default.matches(value))
            && let Some((key, parent)) = path.split_last()
            && let Some(Value::Object(map)) = field_mut(live, parent)
        {
            map.remove(*key);
            dropped = true;
        }
    }
    // A parent left empty goes too.
    if dropped {
        prune(live);
    }
}

/// The value at a path of object keys (`Value::pointer` without its parsing and
/// unescaping, which took a tenth of an unchanged run's comparisons).
fn field<'v>(value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(value, |value, key| value.get(key))
}

fn field_mut<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |value, key| value.get_mut(key))
}

fn diff_values(
    path: &str,
    desired: Option<&Value>,
    live: Option<&Value>,
    diffs: &mut Vec<FieldDiff>,
) {
    match (desired, live) {
        (Some(Value::Object(desired)), Some(Value::Object(live))) => {
            diff_maps(path, desired, live, diffs)
        }
        (Some(desired), Some(live)) if desired == live => {}
        (None, None) => {}
        (desired, live) => diffs.push(FieldDiff {
            path: path.to_owned(),
            before: live.cloned(),
            after: desired.cloned(),
            concealed: None,
        }),
    }
}

fn diff_maps(
    path: &str,
    desired: &Map<String, Value>,
    live: &Map<String, Value>,
    diffs: &mut Vec<FieldDiff>,
) {
    let mut keys: Vec<&String> = desired.keys().chain(live.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let child = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        diff_values(&child, desired.get(key), live.get(key), diffs);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(desired: Value, live: Value, expected: &[&str]) {
        let networks = BTreeMap::from([("n1d".to_owned(), "app_default".to_owned())]);
        let diffs: Vec<String> = diff_service_specs(&desired, &live, &networks)
            .iter()
            .map(|d| {
                format!(
                    "{}: {} -> {}",
                    d.path,
                    d.before.as_ref().map_or("-".into(), Value::to_string),
                    d.after.as_ref().map_or("-".into(), Value::to_string)
                )
            })
            .collect();
        assert_eq!(diffs, expected);
    }

    #[test]
    fn daemon_defaults_and_bookkeeping_are_not_changes() {
        check(
            json!({ "Name": "app_web", "Labels": { "dev.shoal.commit": "bbb", "a": "1" },
                    "TaskTemplate": { "ContainerSpec": { "Image": "busybox", "Configs": [{ "ConfigName": "app_c-1234abcd", "ConfigID": "" }] },
                                      "Networks": [{ "Target": "app_default" }] } }),
            json!({ "Name": "app_web", "Labels": { "dev.shoal.commit": "aaa", "a": "1" },
                    "TaskTemplate": { "ContainerSpec": { "Image": "busybox", "Isolation": "default", "Configs": [{ "ConfigName": "app_c-1234abcd", "ConfigID": "x9" }] },
                                      "ForceUpdate": 0, "Runtime": "container", "Networks": [{ "Target": "n1d" }] },
                    "EndpointSpec": { "Mode": "vip" } }),
            &[],
        );
    }

    #[test]
    fn whole_floats_equal_integers() {
        check(
            json!({ "Name": "a", "UpdateConfig": { "MaxFailureRatio": 0, "Parallelism": 2 } }),
            json!({ "Name": "a", "UpdateConfig": { "MaxFailureRatio": 0.0, "Parallelism": 2 } }),
            &[],
        );
    }

    #[test]
    fn changes_name_their_fields() {
        check(
            json!({ "Name": "app_web", "TaskTemplate": { "ContainerSpec": { "Image": "busybox:2", "Env": ["A=1"] } }, "Mode": { "Replicated": { "Replicas": 3 } } }),
            json!({ "Name": "app_web", "TaskTemplate": { "ContainerSpec": { "Image": "busybox:1", "Env": ["A=1", "B=2"] } }, "Mode": { "Replicated": { "Replicas": 1 } } }),
            &[
                "Mode.Replicated.Replicas: 1 -> 3",
                "TaskTemplate.ContainerSpec.Env: [\"A=1\",\"B=2\"] -> [\"A=1\"]",
                "TaskTemplate.ContainerSpec.Image: \"busybox:1\" -> \"busybox:2\"",
            ],
        );
    }
}
