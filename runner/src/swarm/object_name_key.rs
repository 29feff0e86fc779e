//! The key of the content hash in config and secret names. Names are
//! `<name>-<first 8 hex of HMAC-SHA256(key, content)>`: a new name for new content, but
//! no way to confirm a guess of a secret's content from its name without the key. The key
//! lives in the swarm, in a label of a config of its own, so that `shoal apply` on any
//! machine and the daemon compute the same names; whoever can read it can read the
//! swarm's configs anyway. A plan shows the names; it never shows the key.

use hmac::{Hmac, Mac as _};

use super::{LiveState, ObjectKind, ObjectSpec};

/// The config that holds the key.
pub const OBJECT_NAME_KEY_CONFIG: &str = "shoal-object-name-key";
/// Its label that holds the key, in hex.
pub const OBJECT_NAME_KEY_LABEL: &str = "dev.shoal.object-name-key";

#[derive(Clone, PartialEq, Eq)]
pub struct ObjectNameKey([u8; 32]);

impl ObjectNameKey {
    /// A new random key, for a swarm that has none yet.
    pub fn generate() -> ObjectNameKey {
        let mut key = [0u8; 32];
        // The system's random source fails only on systems shoal does not run on.
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut key)
            .expect("the system's random number generator works");
        ObjectNameKey(key)
    }

    /// The swarm's key, if it has one.
    pub fn of_swarm(live: &LiveState) -> Option<ObjectNameKey> {
        let object = live.objects.iter().find(|object| {
            object.kind == ObjectKind::Config && object.name == OBJECT_NAME_KEY_CONFIG
        })?;
        let bytes = hex::decode(object.labels.get(OBJECT_NAME_KEY_LABEL)?).ok()?;
        Some(ObjectNameKey(bytes.try_into().ok()?))
    }

    /// The config that keeps this key in the swarm.
    pub fn config(&self) -> ObjectSpec {
        ObjectSpec {
            kind: ObjectKind::Config,
            name: OBJECT_NAME_KEY_CONFIG.to_owned(),
            labels: [(OBJECT_NAME_KEY_LABEL.to_owned(), hex::encode(self.0))].into(),
            data: b"shoal: the key of the content hash in config and secret names is this config's label\n".to_vec(),
        }
    }

    /// The hex HMAC-SHA256 of `data`.
    pub fn content_hash(&self, data: &[u8]) -> String {
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }

    /// `<base>-<first 8 hex of the keyed content hash>`.
    pub fn hashed_name(&self, base: &str, data: &[u8]) -> String {
        format!("{base}-{}", &self.content_hash(data)[..8])
    }
}

/// Never show the key, even in debug output.
impl std::fmt::Debug for ObjectNameKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ObjectNameKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::swarm::LiveObject;

    #[test]
    fn names_depend_on_the_key_and_the_key_is_read_back_from_its_config() {
        let key = ObjectNameKey::generate();
        let other = ObjectNameKey::generate();
        let name = key.hashed_name("app_site", b"hunter2");
        assert_eq!(name, key.hashed_name("app_site", b"hunter2"));
        assert_ne!(name, other.hashed_name("app_site", b"hunter2"));
        assert_ne!(name, key.hashed_name("app_site", b"hunter3"));
        // Not the unkeyed hash, which anyone could compute from a guess.
        assert_ne!(name, ObjectSpec::hashed_name("app_site", b"hunter2"));
        let config = key.config();
        let live = LiveState {
            objects: vec![LiveObject {
                kind: ObjectKind::Config,
                id: "c1".to_owned(),
                name: config.name,
                labels: config.labels,
                created_at: String::new(),
            }],
            ..LiveState::default()
        };
        assert_eq!(ObjectNameKey::of_swarm(&live), Some(key));
        assert_eq!(ObjectNameKey::of_swarm(&LiveState::default()), None);
        assert_eq!(format!("{other:?}"), "ObjectNameKey(***)");
    }
}
