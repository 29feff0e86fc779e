//! Fills the config and secret IDs a service spec needs: the desired spec names its
//! configs and secrets, the daemon wants their IDs as well.

use std::collections::BTreeMap;

use crate::swarm::{LiveState, ObjectKind};

/// The spec with every `ConfigID`/`SecretID` set from the live objects of the same name.
/// Names not found are left as they are: the daemon then reports them, by name.
pub fn resolve_object_ids(spec: &serde_json::Value, live: &LiveState) -> serde_json::Value {
    let ids: BTreeMap<(ObjectKind, &str), &str> = live
        .objects
        .iter()
        .map(|object| ((object.kind, object.name.as_str()), object.id.as_str()))
        .collect();
    let mut spec = spec.clone();
    for (list, kind, name_field, id_field) in [
        ("Configs", ObjectKind::Config, "ConfigName", "ConfigID"),
        ("Secrets", ObjectKind::Secret, "SecretName", "SecretID"),
    ] {
        let pointer = format!("/TaskTemplate/ContainerSpec/{list}");
        let Some(serde_json::Value::Array(references)) = spec.pointer_mut(&pointer) else {
            continue;
        };
        for reference in references {
            let name = reference
                .get(name_field)
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_owned();
            if let Some(id) = ids.get(&(kind, name.as_str()))
                && let Some(map) = reference.as_object_mut()
            {
                map.insert(
                    id_field.to_owned(),
                    serde_json::Value::String((*id).to_owned()),
                );
            }
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::swarm::LiveObject;

    #[test]
    fn fills_ids_by_name() {
        let live = LiveState {
            objects: vec![LiveObject {
                kind: ObjectKind::Config,
                id: "c1".into(),
                name: "app_conf-12345678".into(),
                labels: Default::default(),
                created_at: String::new(),
            }],
            ..LiveState::default()
        };
        let spec = json!({ "TaskTemplate": { "ContainerSpec": { "Configs": [{ "ConfigName": "app_conf-12345678", "ConfigID": "" }] } } });
        assert_eq!(
            resolve_object_ids(&spec, &live),
            json!({ "TaskTemplate": { "ContainerSpec": { "Configs": [{ "ConfigName": "app_conf-12345678", "ConfigID": "c1" }] } } })
        );
    }
}
