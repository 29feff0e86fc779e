//! Config and secret names keyed with the swarm's [`ObjectNameKey`]. Conversion names
//! objects by their plain content hash (it runs while the swarm, and so the key, is still
//! being read); before anything is planned, every object of the desired steps is renamed
//! with the key, and the services' references follow. Then a stack's external references
//! to objects that earlier steps manage move to their current versions.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::plan::DesiredStep;
use crate::steps::Desired;
use crate::swarm::{CONTENT_HASH, OBJECT_NAME, ObjectKind, ObjectNameKey, ObjectSpec};

/// Renames every config and secret of `steps` to its keyed name.
pub fn name_objects(steps: &mut [DesiredStep], key: &ObjectNameKey) {
    for step in steps {
        match &mut step.desired {
            Desired::Object(object) => {
                rename(object, key);
            }
            Desired::Stack(stack) => {
                let renamed: BTreeMap<String, String> = stack
                    .spec
                    .objects
                    .iter_mut()
                    .filter_map(|object| {
                        let old = object.name.clone();
                        rename(object, key).then(|| (old, object.name.clone()))
                    })
                    .collect();
                stack
                    .spec
                    .objects
                    .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
                for service in &mut stack.spec.services {
                    let Some(container) = service.spec.pointer_mut("/TaskTemplate/ContainerSpec")
                    else {
                        continue;
                    };
                    for (list, field) in [("Configs", "ConfigName"), ("Secrets", "SecretName")] {
                        let Some(Value::Array(references)) = container.get_mut(list) else {
                            continue;
                        };
                        for reference in references {
                            if let Some(Value::String(name)) = reference.get_mut(field)
                                && let Some(new) = renamed.get(name.as_str())
                            {
                                *name = new.clone();
                            }
                        }
                    }
                }
            }
            // A `certs` step names its secrets when it is settled, with the same key.
            Desired::Certs(_)
            | Desired::Nothing
            | Desired::Wait(_)
            | Desired::Network(_)
            | Desired::Remove { .. }
            | Desired::Hosts(_)
            | Desired::Service(_)
            | Desired::Swarm(_)
            | Desired::Nodes(_) => {}
        }
    }
}

/// Points each stack's external configs and secrets at the current version of the object
/// an earlier step of the same workflow manages under that logical name (a `config`,
/// `secret` or `certs` step): a compose file writes `external: true, name: NAME`, and a
/// new version of NAME rolls the services that use it. Runs once objects are named and
/// `certs` steps settled.
pub fn use_managed_objects(steps: &mut [DesiredStep]) {
    let mut managed: BTreeMap<(ObjectKind, String), String> = BTreeMap::new();
    for step in steps.iter_mut().filter(|step| !step.skipped) {
        match &mut step.desired {
            Desired::Object(object) => {
                if let Some(logical) = object.labels.get(OBJECT_NAME) {
                    managed.insert((object.kind, logical.clone()), object.name.clone());
                }
            }
            Desired::Certs(certs) => {
                for (logical, name) in certs.outcomes.iter().flat_map(|o| &o.current) {
                    managed.insert((ObjectKind::Secret, logical.clone()), name.clone());
                }
            }
            Desired::Stack(stack) => {
                let spec = &mut stack.spec;
                for (kind, externals, list, field) in [
                    (
                        ObjectKind::Config,
                        &mut spec.external.configs,
                        "Configs",
                        "ConfigName",
                    ),
                    (
                        ObjectKind::Secret,
                        &mut spec.external.secrets,
                        "Secrets",
                        "SecretName",
                    ),
                ] {
                    let mut renamed = BTreeMap::new();
                    for external in externals.iter_mut() {
                        if let Some(current) = managed.get(&(kind, external.clone())) {
                            renamed.insert(external.clone(), current.clone());
                            external.clone_from(current);
                        }
                    }
                    for service in &mut spec.services {
                        let Some(Value::Array(references)) = service
                            .spec
                            .pointer_mut(&format!("/TaskTemplate/ContainerSpec/{list}"))
                        else {
                            continue;
                        };
                        for reference in references {
                            if let Some(Value::String(name)) = reference.get_mut(field)
                                && let Some(new) = renamed.get(name.as_str())
                            {
                                name.clone_from(new);
                            }
                        }
                    }
                }
            }
            Desired::Nothing
            | Desired::Wait(_)
            | Desired::Network(_)
            | Desired::Remove { .. }
            | Desired::Hosts(_)
            | Desired::Service(_)
            | Desired::Swarm(_)
            | Desired::Nodes(_) => {}
        }
    }
}

/// Names `object` with the key; false for an object without a logical name (which has a
/// name of its own, not a hashed one).
fn rename(object: &mut ObjectSpec, key: &ObjectNameKey) -> bool {
    let Some(base) = object.labels.get(OBJECT_NAME).cloned() else {
        return false;
    };
    object.name = key.hashed_name(&base, &object.data);
    object
        .labels
        .insert(CONTENT_HASH.to_owned(), key.content_hash(&object.data));
    true
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::steps::stack::DesiredStack;
    use crate::swarm::{ServiceSpec, StackSpec};

    #[test]
    fn objects_and_the_services_that_use_them_get_keyed_names() {
        let data = b"password=hunter2\n".to_vec();
        let unkeyed = ObjectSpec::hashed_name("app_site", &data);
        let mut steps = vec![DesiredStep {
            name: "stack app".to_owned(),
            kind: "stack",
            skipped: false,
            timeout: None,
            continue_on_error: false,
            desired: Desired::Stack(DesiredStack {
                spec: StackSpec {
                    name: "app".to_owned(),
                    services: vec![ServiceSpec {
                        name: "app_web".to_owned(),
                        spec: json!({ "TaskTemplate": { "ContainerSpec": {
                            "Configs": [{ "ConfigName": unkeyed }],
                            "Secrets": [{ "SecretName": "external-one" }] } } }),
                    }],
                    objects: vec![ObjectSpec {
                        kind: ObjectKind::Config,
                        name: unkeyed.clone(),
                        labels: [(OBJECT_NAME.to_owned(), "app_site".to_owned())].into(),
                        data: data.clone(),
                    }],
                    ..StackSpec::default()
                },
                prune: false,
                allow_empty: false,
                keep_versions: 3,
                wait: false,
                rollback_on_failure: false,
            }),
        }];
        let key = ObjectNameKey::generate();
        name_objects(&mut steps, &key);
        let Desired::Stack(stack) = &steps[0].desired else {
            panic!("a stack");
        };
        let keyed = key.hashed_name("app_site", &data);
        assert_ne!(keyed, unkeyed);
        assert_eq!(stack.spec.objects[0].name, keyed);
        assert_eq!(
            stack.spec.objects[0].labels[CONTENT_HASH],
            key.content_hash(&data)
        );
        assert_eq!(
            stack.spec.services[0].spec,
            json!({ "TaskTemplate": { "ContainerSpec": {
                "Configs": [{ "ConfigName": keyed }],
                "Secrets": [{ "SecretName": "external-one" }] } } })
        );
    }

    #[test]
    fn an_external_secret_an_earlier_step_manages_is_its_current_version() {
        let key = ObjectNameKey::generate();
        let data = b"token\n".to_vec();
        let secret = ObjectSpec {
            kind: ObjectKind::Secret,
            name: ObjectSpec::hashed_name("api_token", &data),
            labels: [(OBJECT_NAME.to_owned(), "api_token".to_owned())].into(),
            data: data.clone(),
        };
        let step = |name: &str, desired: Desired| DesiredStep {
            name: name.to_owned(),
            kind: "test",
            skipped: false,
            timeout: None,
            continue_on_error: false,
            desired,
        };
        let references = json!({ "TaskTemplate": { "ContainerSpec": { "Secrets": [
            { "SecretName": "api_token", "File": { "Name": "token" } },
            { "SecretName": "made_by_hand" } ] } } });
        let mut steps = vec![
            step("secret api_token", Desired::Object(secret)),
            step(
                "stack app",
                Desired::Stack(DesiredStack {
                    spec: StackSpec {
                        name: "app".to_owned(),
                        services: vec![ServiceSpec {
                            name: "app_web".to_owned(),
                            spec: references,
                        }],
                        external: crate::swarm::ExternalReferences {
                            secrets: vec!["api_token".to_owned(), "made_by_hand".to_owned()],
                            ..Default::default()
                        },
                        ..StackSpec::default()
                    },
                    prune: false,
                    allow_empty: false,
                    keep_versions: 3,
                    wait: false,
                    rollback_on_failure: false,
                }),
            ),
        ];
        name_objects(&mut steps, &key);
        use_managed_objects(&mut steps);
        let keyed = key.hashed_name("api_token", &data);
        let Desired::Stack(stack) = &steps[1].desired else {
            panic!("a stack");
        };
        assert_eq!(
            stack.spec.external.secrets,
            [keyed.as_str(), "made_by_hand"]
        );
        assert_eq!(
            stack.spec.services[0].spec,
            json!({ "TaskTemplate": { "ContainerSpec": { "Secrets": [
                { "SecretName": keyed, "File": { "Name": "token" } },
                { "SecretName": "made_by_hand" } ] } } })
        );
    }
}
