//! Docker registry notifications (the `events` envelope a registry posts to its
//! `notifications.endpoints`). A registry sends an event for every blob and manifest it
//! stores; only a manifest pushed under a tag is an image to roll out.

use serde::Deserialize;

/// An image pushed under a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePush {
    pub repository: String,
    pub tag: String,
    pub digest: String,
}

#[derive(Deserialize)]
struct Envelope {
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    action: String,
    target: Target,
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

/// The tagged manifest pushes of a notification body, each once.
pub fn image_pushes(body: &[u8]) -> Result<Vec<ImagePush>, String> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|error| format!("not a registry notification: {error}"))?;
    let mut pushes: Vec<ImagePush> = envelope
        .events
        .into_iter()
        .filter(|event| {
            event.action == "push"
                && !event.target.tag.is_empty()
                && event.target.media_type.contains("manifest")
        })
        .map(|event| ImagePush {
            repository: event.target.repository,
            tag: event.target.tag,
            digest: event.target.digest,
        })
        .collect();
    pushes.dedup();
    Ok(pushes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_tagged_manifest_pushes_count() {
        let body = json!({ "events": [
            { "id": "1", "action": "push", "target": { "mediaType": "application/octet-stream", "digest": "sha256:b1", "repository": "maiev/api" } },
            { "id": "2", "action": "push", "target": { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:m1", "repository": "maiev/api", "tag": "1.4.2" } },
            { "id": "3", "action": "pull", "target": { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:m1", "repository": "maiev/api", "tag": "1.4.2" } },
            { "id": "4", "action": "push", "target": { "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": "sha256:m1", "repository": "maiev/api" } }
        ]});
        assert_eq!(
            image_pushes(body.to_string().as_bytes()).expect("parses"),
            [ImagePush {
                repository: "maiev/api".into(),
                tag: "1.4.2".into(),
                digest: "sha256:m1".into()
            }]
        );
    }
}
