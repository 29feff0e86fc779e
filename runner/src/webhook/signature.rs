//! GitHub's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`,
//! checked in constant time.

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// True when `header` is the signature of `body` with `secret`.
pub fn signature_is_valid(secret: &[u8], body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_signature) = header.and_then(|value| value.strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(signature) = hex::decode(hex_signature.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of GitHub's documentation ("Validating webhook deliveries").
    #[test]
    fn accepts_githubs_documented_example_and_nothing_else() {
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(signature_is_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            Some(header)
        ));
        assert!(!signature_is_valid(
            b"wrong secret",
            b"Hello, World!",
            Some(header)
        ));
        assert!(!signature_is_valid(
            b"It's a Secret to Everybody",
            b"Hello, World?",
            Some(header)
        ));
        assert!(!signature_is_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            None
        ));
        assert!(!signature_is_valid(
            b"It's a Secret to Everybody",
            b"Hello, World!",
            Some("sha1=abc")
        ));
    }
}
