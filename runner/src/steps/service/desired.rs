//! What a `service` step wants: a change to one service's live spec. It is not a whole
//! spec: the service keeps everything the step does not name, so the new spec is made
//! from the live one, at planning and again, from a fresh reading, when it is written.

use serde_json::Value;

use super::ServiceStep;
use super::render::IMAGE;
use crate::render::RenderedStep;
use crate::swarm::LiveService;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredService {
    /// The service's full name, rendered.
    pub name: String,
    pub scale: Option<u64>,
    /// The image, rendered.
    pub image: Option<String>,
    pub force_update: bool,
    pub rollback: bool,
    pub wait: bool,
}

pub fn desired(step: &ServiceStep, rendered: &RenderedStep) -> DesiredService {
    DesiredService {
        name: rendered.object.clone().unwrap_or_default(),
        scale: step.scale,
        image: rendered.values.get(IMAGE).cloned(),
        force_update: step.force_update,
        rollback: step.rollback,
        wait: step.wait,
    }
}

impl DesiredService {
    /// The spec `live` gets when this step is applied, or why it cannot be made.
    pub fn spec_from(&self, live: &LiveService) -> Result<Value, String> {
        if self.rollback {
            return live.previous_spec.clone().ok_or_else(|| {
                format!(
                    "service `{}` has no previous spec to roll back to: it was never updated",
                    self.name
                )
            });
        }
        let mut spec = live.spec.clone();
        if let Some(replicas) = self.scale {
            let Some(mode) = spec
                .pointer_mut("/Mode/Replicated")
                .and_then(Value::as_object_mut)
            else {
                return Err(format!(
                    "service `{}` is not replicated: `scale` sets the replica count of a replicated service",
                    self.name
                ));
            };
            mode.insert("Replicas".to_owned(), Value::from(replicas));
        }
        if let Some(image) = &self.image {
            let container = object_at(&mut spec, &["TaskTemplate", "ContainerSpec"]);
            let live_image = container.get("Image").and_then(Value::as_str).unwrap_or("");
            if !same_image(image, live_image) {
                container.insert("Image".to_owned(), Value::from(image.as_str()));
            }
        }
        if self.force_update {
            let template = object_at(&mut spec, &["TaskTemplate"]);
            let count = template
                .get("ForceUpdate")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            template.insert("ForceUpdate".to_owned(), Value::from(count + 1));
        }
        Ok(spec)
    }

    /// Whether applying it replaces the service's tasks (rather than adding or removing
    /// some, as a new replica count does).
    pub fn replaces_tasks(&self) -> bool {
        self.rollback || self.force_update || self.image.is_some()
    }
}

/// Whether `live` already is the `desired` image: the same text, or, for an image named
/// without a digest, that image pinned to the digest the daemon resolved when it was
/// deployed (`busybox:1.36@sha256:…` for `busybox:1.36`).
fn same_image(desired: &str, live: &str) -> bool {
    desired == live
        || (!desired.contains('@')
            && live
                .strip_prefix(desired)
                .is_some_and(|rest| rest.starts_with("@sha256:")))
}

/// The JSON object at `path` in `spec`, made (and put in place of any other value) where
/// it is missing.
fn object_at<'a>(spec: &'a mut Value, path: &[&str]) -> &'a mut serde_json::Map<String, Value> {
    let mut value = spec;
    for key in path {
        if !value.is_object() {
            *value = Value::Object(serde_json::Map::new());
        }
        value = value
            .as_object_mut()
            .expect("made an object above")
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    if !value.is_object() {
        *value = Value::Object(serde_json::Map::new());
    }
    value.as_object_mut().expect("made an object above")
}
