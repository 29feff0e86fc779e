//! Docker registry notifications (the `events` envelope a registry posts to its
//! `notifications.endpoints`). A registry sends an event for every blob and manifest it
//! stores; only a manifest pushed under a tag is an image to roll out.

use serde::Deserialize;

use crate::model::ImagePush;

/// One tagged manifest push of a notification, with the event's ID: a registry retries
/// a delivery until it is answered, so the same ID can arrive more than once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEvent {
    pub id: String,
    pub image: ImagePush,
    /// Who pushed, as the registry authenticated them; empty without authentication.
    pub actor: String,
}

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(default)]
    id: String,
    action: String,
    target: Target,
    #[serde(default)]
    request: Request,
    #[serde(default)]
    actor: Actor,
}

#[derive(Deserialize)]
struct Target {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    repository: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    tag: String,
}

#[derive(Default, Deserialize)]
struct Request {
    /// The Host header of the push: the registry as the pusher named it.
    #[serde(default)]
    host: String,
}

#[derive(Default, Deserialize)]
struct Actor {
    #[serde(default)]
    name: String,
}

/// The tagged manifest pushes of a notification body, each once.
pub fn image_pushes(body: &[u8]) -> Result<Vec<RegistryEvent>, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|error| format!("not a registry notification: {error}"))?;
    let mut pushes: Vec<RegistryEvent> = Vec::new();
    for event in envelope.events {
        let target = &event.target;
        // Docker and OCI manifests, manifest lists and OCI image indexes (multi-platform
        // images) all name an image; blobs (`application/octet-stream`) do not.
        let is_tagged_manifest_push = event.action == "push"
            && !target.tag.is_empty()
            && !target.digest.is_empty()
            && (target.media_type.contains("manifest")
                || target.media_type.contains("image.index"));
        if !is_tagged_manifest_push {
            continue;
        }
        let image = ImagePush::new(
            &event.request.host,
            &target.repository,
            &target.tag,
            &target.digest,
        );
        // Docker's registry gives every event an ID; for one that does not, the image
        // stands in, so that its retries are recognised all the same.
        let id = if event.id.is_empty() {
            format!("{}:{}@{}", image.repository, image.tag, image.digest)
        } else {
            event.id
        };
        if pushes.iter().any(|seen| seen.id == id) {
            continue;
        }
        pushes.push(RegistryEvent {
            id,
            image,
            actor: event.actor.name,
        });
    }
    Ok(pushes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

    #[test]
    fn registry_notification_only_tagged_manifest_pushes_count() {
        let request = json!({ "host": "127.0.0.1:5000", "method": "PUT" });
        let body = json!({ "events": [
            { "id": "1", "action": "push", "target": { "mediaType": "application/octet-stream", "digest": "sha256:b1", "repository": "maiev/api" }, "request": request },
            { "id": "2", "action": "push", "target": { "mediaType": MANIFEST, "digest": "sha256:m1", "repository": "maiev/api", "tag": "1.4.2" }, "request": request, "actor": { "name": "ci" } },
            { "id": "2", "action": "push", "target": { "mediaType": MANIFEST, "digest": "sha256:m1", "repository": "maiev/api", "tag": "1.4.2" }, "request": request },
            { "id": "3", "action": "pull", "target": { "mediaType": MANIFEST, "digest": "sha256:m1", "repository": "maiev/api", "tag": "1.4.2" }, "request": request },
            { "id": "4", "action": "push", "target": { "mediaType": MANIFEST, "digest": "sha256:m1", "repository": "maiev/api" }, "request": request }
        ]});
        assert_eq!(
            image_pushes(body.to_string().as_bytes()).expect("parses"),
            [RegistryEvent {
                id: "2".into(),
                image: ImagePush::new("127.0.0.1:5000", "maiev/api", "1.4.2", "sha256:m1"),
                actor: "ci".into(),
            }]
        );
        let without_id = json!({ "events": [
            { "action": "push", "target": { "mediaType": MANIFEST, "digest": "sha256:m2", "repository": "maiev/api", "tag": "1.5" } }
        ]});
        assert_eq!(
            image_pushes(without_id.to_string().as_bytes()).expect("parses")[0].id,
            "maiev/api:1.5@sha256:m2"
        );
        assert_eq!(
            image_pushes(b"{}").expect_err("refused"),
            "not a registry notification: missing field `events` at line 1 column 2"
        );
    }

    #[test]
    fn registry_image_reference_names_the_registry_when_known() {
        assert_eq!(
            ImagePush::new("127.0.0.1:5000", "maiev/scaler", "1.1", "sha256:ab").reference,
            "127.0.0.1:5000/maiev/scaler@sha256:ab"
        );
        assert_eq!(
            ImagePush::new("", "maiev/scaler", "1.1", "sha256:ab").reference,
            "maiev/scaler@sha256:ab"
        );
    }
}
