//! An image pushed to a registry under a tag: what a `registry_push` run rolls out.

use serde::{Deserialize, Serialize};

/// A tagged manifest push, as a registry notification reports it. Templates see it as
/// `trigger.image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePush {
    /// The registry's host and port as the pusher addressed it (`request.host` of the
    /// notification), such as `registry.example.org:5000`; empty when the registry did
    /// not say.
    pub registry: String,
    pub repository: String,
    pub tag: String,
    /// The manifest's digest, `sha256:…`.
    pub digest: String,
    /// `registry/repository@digest` (without `registry/` when it is empty): the exact
    /// image, for a service's `image`.
    pub reference: String,
}

impl ImagePush {
    pub fn new(registry: &str, repository: &str, tag: &str, digest: &str) -> ImagePush {
        let reference = if registry.is_empty() {
            format!("{repository}@{digest}")
        } else {
            format!("{registry}/{repository}@{digest}")
        };
        ImagePush {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            tag: tag.to_owned(),
            digest: digest.to_owned(),
            reference,
        }
    }

    /// What `shoal validate` and `shoal render` give `trigger.image` of a workflow that a
    /// registry push starts: obviously not a real image, like masked secrets.
    pub fn placeholder(repository: &str) -> ImagePush {
        ImagePush::new(
            "registry.invalid",
            repository,
            "latest",
            "sha256:0000000000000000000000000000000000000000000000000000000000000000",
        )
    }
}
