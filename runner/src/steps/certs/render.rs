//! What a `certs` step renders: the CA certificate (read as it is), the CA key (the
//! secret, through the template context, so that the pipeline reads it only when
//! trusted), `force`, and each certificate's common name, SANs and secret names.

use super::CertsStep;
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;

/// Keys of [`RenderedStep::values`].
pub const CA_CERT: &str = "ca.cert";
pub const CA_KEY: &str = "ca.key";
pub const FORCE: &str = "force";

pub fn common_name_key(index: usize) -> String {
    format!("certificates.{index}.common_name")
}

pub fn san_key(index: usize, san: usize) -> String {
    format!("certificates.{index}.sans.{san}")
}

pub fn secret_key(index: usize, secret: usize) -> String {
    format!("certificates.{index}.secrets.{secret}")
}

pub fn render(
    certs: &CertsStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    let mut values = std::collections::BTreeMap::new();
    if let Some(pem) = renderer.verbatim(&certs.ca_cert, diagnostics) {
        values.insert(CA_CERT.to_owned(), pem);
    }
    // A name with a quote in it cannot be a secret's name: `check` refuses none, so the
    // template escapes it as a string literal.
    let key_template = format!(
        "{{{{ secrets[{}] }}}}",
        serde_json::Value::from(certs.key_secret.as_str())
    );
    if let Some(key) = renderer.inline(&key_template, "ca.key_secret", diagnostics) {
        values.insert(CA_KEY.to_owned(), key);
    }
    if let Some(force) = &certs.force
        && let Some(text) = renderer.inline(force, "force", diagnostics)
    {
        values.insert(FORCE.to_owned(), text);
    }
    for (index, certificate) in certs.certificates.iter().enumerate() {
        if let Some(text) = renderer.inline(&certificate.common_name, "common_name", diagnostics) {
            values.insert(common_name_key(index), text);
        }
        for (number, san) in certificate.sans.iter().enumerate() {
            if let Some(text) = renderer.inline(san, "sans", diagnostics) {
                values.insert(san_key(index, number), text);
            }
        }
        for (number, secret) in certificate.target.names().into_iter().enumerate() {
            if let Some(text) = renderer.inline(secret, "to_secret", diagnostics) {
                values.insert(secret_key(index, number), text);
            }
        }
    }
    rendered.values = values;
}
