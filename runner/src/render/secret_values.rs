//! The secret values a render sees, and the redaction that keeps them off terminals,
//! logs and reports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// What replaces a secret value wherever text leaves shoal.
pub const REDACTED: &str = "********";

/// Secret values by name, as templates see them under `secrets`. Records which names
/// the templates read, so that a caller can load only the secrets a render needs.
#[derive(Clone, Default)]
pub struct SecretValues {
    values: Arc<BTreeMap<String, String>>,
    used: Arc<Mutex<BTreeSet<String>>>,
}

impl SecretValues {
    pub fn new(values: BTreeMap<String, String>) -> SecretValues {
        SecretValues {
            values: Arc::new(values),
            used: Arc::default(),
        }
    }

    /// Every named secret with a mask as its value, `__secret_NAME__`. Rendering with these
    /// is safe to print whatever the templates do with the values (filters included), and
    /// needs none of them: `shoal validate` and `shoal render` on a terminal use it. The mask
    /// is plain in YAML, JSON, shell and URLs, so the files still parse.
    pub fn masked<'a>(names: impl IntoIterator<Item = &'a String>) -> SecretValues {
        SecretValues::new(
            names
                .into_iter()
                .map(|name| (name.clone(), mask(name)))
                .collect(),
        )
    }

    /// Every named secret with another mask as its value, [`other_mask`]: of another
    /// length and other characters than [`SecretValues::masked`]'s. A field that renders
    /// differently with the two masks depends on a secret's value, whatever the templates
    /// did with it.
    pub fn masked_otherwise<'a>(names: impl IntoIterator<Item = &'a String>) -> SecretValues {
        SecretValues::new(
            names
                .into_iter()
                .map(|name| (name.clone(), other_mask(name)))
                .collect(),
        )
    }

    /// Whether no secret has a value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The names templates have read since this value (or a clone of it) was made.
    pub fn used(&self) -> BTreeSet<String> {
        self.used
            .lock()
            .map(|used| used.clone())
            .unwrap_or_default()
    }

    /// The template context's view: `secrets.NAME` and `secrets["NAME"]`.
    pub fn to_value(&self) -> Value {
        Value::from_object(self.clone())
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut values: Vec<&String> = self.values.values().filter(|v| v.len() > 1).collect();
        // Longest first, so that a value containing another is hidden whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut text = text.to_owned();
        for value in values {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), REDACTED);
            }
        }
        text
    }
}

/// The stand-in for a secret's value in output that people see.
pub fn mask(name: &str) -> String {
    format!("__secret_{name}__")
}

/// The second stand-in, `Sealed<NAME>Value9`: another length than [`mask`]'s, and another
/// character at either end, so that a slice, an index, a length or a case change of the
/// value differs too. Plain in YAML, JSON, shell and URLs, as the first.
pub fn other_mask(name: &str) -> String {
    format!("Sealed{name}Value9")
}

impl Object for SecretValues {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        let value = self.values.get(name)?;
        if let Ok(mut used) = self.used.lock() {
            used.insert(name.to_owned());
        }
        Some(Value::from(value.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.values
                .keys()
                .map(|name| Value::from(name.as_str()))
                .collect(),
        )
    }

    /// `{{ secrets }}` shows the names, never the values.
    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<secrets: {}>",
            self.values.keys().cloned().collect::<Vec<_>>().join(", ")
        )
    }
}

/// Never show the values, even in debug output.
impl std::fmt::Debug for SecretValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_longest_values_first() {
        let secrets = SecretValues::new(BTreeMap::from([
            ("a".to_owned(), "hunter2".to_owned()),
            ("b".to_owned(), "hunter2-and-more".to_owned()),
        ]));
        assert_eq!(
            secrets.redact("x hunter2-and-more y hunter2"),
            "x ******** y ********"
        );
        assert_eq!(format!("{secrets:?}"), "{\"a\", \"b\"}");
    }

    #[test]
    fn records_which_secrets_templates_read() {
        let secrets = SecretValues::new(BTreeMap::from([
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "2".to_owned()),
        ]));
        let environment = minijinja::Environment::new();
        let context = minijinja::context! { secrets => secrets.to_value() };
        let text = environment
            .render_str("{{ secrets.b }}{{ secrets }}", context)
            .expect("renders");
        assert_eq!(text, "2<secrets: a, b>");
        assert_eq!(secrets.used(), BTreeSet::from(["b".to_owned()]));
    }
}
