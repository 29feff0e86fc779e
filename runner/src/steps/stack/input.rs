//! `stack:` as written in a workflow.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// `stack:` deploys one or more compose files, merged in order, as a Swarm stack.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StackInput {
    /// The stack name: services are named `<name>_<service>`.
    pub name: Spanned<String>,
    /// Compose file(s), relative to the config repo root; later files override earlier ones.
    pub compose: OneOrMany,
    /// Remove the stack's services that are no longer in the compose files.
    #[serde(default)]
    pub prune: bool,
    /// Wait until every changed service has converged (default true).
    #[serde(default = "default_true")]
    pub wait: bool,
    /// Allow `prune` to remove every service when the compose files have none.
    #[serde(default)]
    pub allow_empty: bool,
    /// What to do when a service fails to converge: `stop` (default) leaves the swarm as
    /// it is; `rollback` restores every service this step changed to its previous spec.
    #[serde(default)]
    pub on_failure: OnFailure,
    /// How many older content versions of each config and secret to keep for rollback
    /// (default 3); older ones are removed once no service uses them.
    #[serde(default = "default_keep_versions")]
    pub keep_versions: usize,
    /// Globs (relative to the repo root) of files the compose files reference that are
    /// taken as they are rather than rendered as templates, e.g. Prometheus rules that
    /// use `{{ $labels }}` themselves.
    #[serde(default)]
    pub verbatim: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    #[default]
    Stop,
    Rollback,
}

/// One path or a list of paths.
#[derive(Debug, Clone, JsonSchema)]
#[schemars(untagged)]
pub enum OneOrMany {
    One(Spanned<String>),
    Many(Vec<Spanned<String>>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<Spanned<String>> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Decoded through the position-keeping tree: a list becomes `Many`, a scalar `One`.
        let spanned = Spanned::<ListOrString>::deserialize(deserializer)?;
        Ok(match spanned.value {
            ListOrString::String(text) => OneOrMany::One(Spanned::new(spanned.span, text)),
            ListOrString::List(items) => OneOrMany::Many(items),
        })
    }
}

enum ListOrString {
    String(String),
    List(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for ListOrString {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListOrStringVisitor;

        impl<'de> serde::de::Visitor<'de> for ListOrStringVisitor {
            type Value = ListOrString;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or a list of paths")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ListOrString, E> {
                Ok(ListOrString::String(text.to_owned()))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ListOrString, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ListOrString::List(items))
            }
        }

        deserializer.deserialize_any(ListOrStringVisitor)
    }
}

fn default_true() -> bool {
    true
}

fn default_keep_versions() -> usize {
    3
}
