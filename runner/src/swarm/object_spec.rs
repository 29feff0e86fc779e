//! A Swarm config or secret to create. Both are immutable once created, so a change of
//! content means a new object: shoal names them `<name>-<first 8 hex of the content hash>`,
//! a hash keyed with the swarm's [`super::ObjectNameKey`].

use std::collections::BTreeMap;

use sha2::Digest as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectKind {
    Config,
    Secret,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    pub kind: ObjectKind,
    /// The full Swarm name, hash suffix included.
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub data: Vec<u8>,
}

impl ObjectSpec {
    /// The hex SHA-256 of the content.
    pub fn content_hash(data: &[u8]) -> String {
        hex::encode(sha2::Sha256::digest(data))
    }

    /// `<base>-<first 8 hex of the content hash>`: the provisional name conversion gives;
    /// before planning, the pipeline renames every object with the swarm's key
    /// ([`super::ObjectNameKey::hashed_name`]), so that a name confirms no guess.
    pub fn hashed_name(base: &str, data: &[u8]) -> String {
        format!("{base}-{}", &Self::content_hash(data)[..8])
    }
}

/// Secret data is never printed, not even in debug output.
impl std::fmt::Debug for ObjectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = match self.kind {
            ObjectKind::Config => format!("{} bytes", self.data.len()),
            ObjectKind::Secret => "(secret)".to_owned(),
        };
        f.debug_struct("ObjectSpec")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("labels", &self.labels)
            .field("data", &data)
            .finish()
    }
}
