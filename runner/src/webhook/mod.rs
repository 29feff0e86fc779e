//! Webhooks: checking GitHub's signatures and reading the payloads of GitHub, Gitea and
//! Forgejo, and Docker registry notifications. Pure: the HTTP server at the runner's edge
//! hands over headers and bodies.

mod forge_event;
mod registry_notification;
mod signature;

pub use forge_event::{ForgeEvent, parse_forge_event};
pub use registry_notification::{RegistryEvent, image_pushes};
pub use signature::signature_is_valid;
