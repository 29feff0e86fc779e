//! The secret values a render sees, and the redaction that keeps them off terminals,
//! logs and reports.

use std::collections::BTreeMap;

/// Secret values by name. Built at the edge (environment variables, files), or filled
/// with placeholders when only the shape of the output matters, as in `shoal validate`.
#[derive(Clone, Default)]
pub struct SecretValues {
    values: BTreeMap<String, String>,
}

/// What replaces a secret value wherever text leaves shoal.
pub const REDACTED: &str = "********";

impl SecretValues {
    pub fn new(values: BTreeMap<String, String>) -> SecretValues {
        SecretValues { values }
    }

    /// A placeholder for each name, for checking templates without the real values.
    pub fn placeholders<'a>(names: impl IntoIterator<Item = &'a String>) -> SecretValues {
        SecretValues {
            values: names
                .into_iter()
                .map(|name| (name.clone(), format!("secret-placeholder-{name}")))
                .collect(),
        }
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// `text` with every secret value replaced by [`REDACTED`].
    pub fn redact(&self, text: &str) -> String {
        let mut values: Vec<&String> = self.values.values().filter(|v| !v.is_empty()).collect();
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
}
