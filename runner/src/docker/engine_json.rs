//! The Engine API JSON of a service spec, to and from bollard's typed model. bollard's
//! model follows Docker's API description, which spells one key differently from what
//! the daemon reads and writes (`HealthCheck` for the daemon's `Healthcheck`), and serde
//! drops a key it does not know without a word: so keys are translated here, and a spec
//! that would lose a field on the way is refused rather than sent without it.

use serde_json::Value;

/// Keys the daemon spells one way and bollard's model another: (daemon, bollard).
const KEY_SPELLINGS: &[(&str, &str)] = &[("Healthcheck", "HealthCheck")];

/// The typed spec to send, or the fields it could not carry.
pub fn to_bollard(spec: &Value) -> Result<bollard::models::ServiceSpec, String> {
    let mut translated = spec.clone();
    respell(&mut translated, true);
    let typed: bollard::models::ServiceSpec = serde_json::from_value(translated)
        .map_err(|error| format!("the service spec does not fit the Engine API: {error}"))?;
    let round_trip = from_bollard(&typed);
    let mut lost = Vec::new();
    missing_fields("", spec, &round_trip, &mut lost);
    if lost.is_empty() {
        Ok(typed)
    } else {
        Err(format!(
            "these fields cannot be sent through shoal's Engine API model: {}",
            lost.join(", ")
        ))
    }
}

/// A typed spec read from the daemon, as Engine API JSON.
pub fn from_bollard(spec: &bollard::models::ServiceSpec) -> Value {
    let mut value = serde_json::to_value(spec).unwrap_or_default();
    respell(&mut value, false);
    value
}

fn respell(value: &mut Value, to_bollard: bool) {
    match value {
        Value::Object(map) => {
            for (daemon, bollard) in KEY_SPELLINGS {
                let (from, to) = if to_bollard {
                    (daemon, bollard)
                } else {
                    (bollard, daemon)
                };
                if let Some(moved) = map.remove(*from) {
                    map.insert((*to).to_owned(), moved);
                }
            }
            map.values_mut()
                .for_each(|child| respell(child, to_bollard));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| respell(child, to_bollard)),
        _ => {}
    }
}

/// Paths of fields with a value in `original` that `round_trip` does not have.
fn missing_fields(path: &str, original: &Value, round_trip: &Value, lost: &mut Vec<String>) {
    match (original, round_trip) {
        (Value::Object(original), Value::Object(round_trip)) => {
            for (key, value) in original {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match round_trip.get(key) {
                    Some(other) => missing_fields(&child, value, other, lost),
                    None if !is_empty(value) => lost.push(child),
                    None => {}
                }
            }
        }
        (Value::Array(original), Value::Array(round_trip)) => {
            for (index, (value, other)) in original.iter().zip(round_trip).enumerate() {
                missing_fields(&format!("{path}[{index}]"), value, other, lost);
            }
        }
        _ => {}
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(map) => map.values().all(is_empty),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn healthchecks_survive_both_ways() {
        let spec = json!({ "Name": "a_web", "TaskTemplate": { "ContainerSpec": {
            "Image": "busybox", "Healthcheck": { "Test": ["CMD", "true"], "Retries": 3 } } } });
        let typed = to_bollard(&spec).expect("fits");
        let back = from_bollard(&typed);
        assert_eq!(
            back.pointer("/TaskTemplate/ContainerSpec/Healthcheck"),
            spec.pointer("/TaskTemplate/ContainerSpec/Healthcheck")
        );
    }

    #[test]
    fn an_unknown_field_is_refused_not_dropped() {
        let spec = json!({ "Name": "a_web", "TaskTemplate": { "ContainerSpec": { "Image": "busybox", "Frobnicate": 1 } } });
        assert_eq!(
            to_bollard(&spec).expect_err("refused"),
            "these fields cannot be sent through shoal's Engine API model: TaskTemplate.ContainerSpec.Frobnicate"
        );
    }

    /// Every service spec the compose fixtures convert to goes through bollard's model
    /// without losing a field.
    #[test]
    fn every_fixture_spec_fits_the_model() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/compose");
        let mut checked = 0;
        for entry in std::fs::read_dir(root).expect("fixtures/compose") {
            let expected = entry.expect("entry").path().join("expected.json");
            let Ok(text) = std::fs::read_to_string(&expected) else {
                continue;
            };
            let value: Value = serde_json::from_str(&text).expect("JSON");
            for spec in value
                .get("Services")
                .and_then(Value::as_object)
                .into_iter()
                .flat_map(|services| services.values())
            {
                if let Err(error) = to_bollard(spec) {
                    panic!("{}: {error}", expected.display());
                }
                checked += 1;
            }
        }
        assert!(checked > 20, "checked only {checked} specs");
    }
}
