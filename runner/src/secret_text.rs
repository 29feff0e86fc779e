//! A token, private key or other secret held in memory: its `Debug` and `Display` print
//! `***`, so it cannot reach a log or an error message by accident. Only `expose` reads
//! it, where it is used.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(value: impl Into<String>) -> SecretText {
        SecretText(value.into())
    }

    /// The value itself, for an `Authorization` header or for signing; nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

impl fmt::Display for SecretText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::SecretText;

    #[test]
    fn debug_and_display_hide_the_value() {
        let secret = SecretText::new("ghs_abc123");
        assert_eq!(format!("{secret} {secret:?}"), "*** ***");
        assert_eq!(
            format!("{:?}", Some(secret.clone())),
            "Some(***)",
            "nested in other types too"
        );
        assert_eq!(secret.expose(), "ghs_abc123");
    }
}
