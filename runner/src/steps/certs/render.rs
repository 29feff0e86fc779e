//! What a `certs` step renders: the CA certificate (its path may be a template; the file
//! is read as it is), the CA key (the
//! secret, through the template context, so that the pipeline reads it only when
//! trusted), `force`, and each certificate's common name, SANs and secret names; for a
//! certificate that goes to hosts, its hosts (into [`RenderedStep::hosts`], in the order
//! of the certificates) and, per host, its common name and SANs with `host` in the
//! templates' context.

use std::collections::BTreeMap;

use super::{CertificateStep, CertsStep, HostsTarget};
use crate::render::{RenderedStep, StepRenderer};
use crate::source::Diagnostics;
use crate::steps::ssh::{
    DEFAULT_PARALLEL, HostTemplates, RenderedHost, SshStep, host_values, render_hosts,
};

/// Keys of [`RenderedStep::values`].
pub const CA_CERT: &str = "ca.cert";
/// The CA certificate's path, as rendered.
pub const CA_CERT_PATH: &str = "ca.cert_path";
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

/// How many of [`RenderedStep::hosts`] certificate `index` goes to.
pub fn host_count_key(index: usize) -> String {
    format!("certificates.{index}.hosts")
}

pub fn host_common_name_key(index: usize, host: usize) -> String {
    format!("certificates.{index}.hosts.{host}.common_name")
}

pub fn host_san_key(index: usize, host: usize, san: usize) -> String {
    format!("certificates.{index}.hosts.{host}.sans.{san}")
}

pub fn host_dir_key(index: usize, host: usize) -> String {
    format!("certificates.{index}.hosts.{host}.dir")
}

pub fn render(
    certs: &CertsStep,
    renderer: &StepRenderer<'_>,
    rendered: &mut RenderedStep,
    diagnostics: &mut Diagnostics,
) {
    let mut values = BTreeMap::new();
    let ca_path = if crate::model::is_template(&certs.ca_cert) {
        renderer.inline(&certs.ca_cert, "ca.cert", diagnostics)
    } else {
        Some(certs.ca_cert.clone())
    };
    if let Some(path) = ca_path {
        if let Some(pem) = renderer.verbatim(&path, diagnostics) {
            values.insert(CA_CERT.to_owned(), pem);
        }
        values.insert(CA_CERT_PATH.to_owned(), path);
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
        if let Some(target) = &certificate.target {
            if let Some(text) =
                renderer.inline(&certificate.common_name, "common_name", diagnostics)
            {
                values.insert(common_name_key(index), text);
            }
            for (number, san) in certificate.sans.iter().enumerate() {
                if let Some(text) = renderer.inline(san, "sans", diagnostics) {
                    values.insert(san_key(index, number), text);
                }
            }
            for (number, secret) in target.names().into_iter().enumerate() {
                if let Some(text) = renderer.inline(secret, "to_secret", diagnostics) {
                    values.insert(secret_key(index, number), text);
                }
            }
        }
        if let Some(to_hosts) = &certificate.to_hosts {
            let hosts = render_to_hosts(
                certificate,
                to_hosts,
                index,
                renderer,
                &mut values,
                diagnostics,
            );
            rendered.hosts.extend(hosts);
        }
    }
    rendered.values = values;
}

/// The hosts of `certificate` (its `on_change` rendered for each), with each host's
/// common name, SANs and directory in `values`.
fn render_to_hosts(
    certificate: &CertificateStep,
    to_hosts: &HostsTarget,
    index: usize,
    renderer: &StepRenderer<'_>,
    values: &mut BTreeMap<String, String>,
    diagnostics: &mut Diagnostics,
) -> Vec<RenderedHost> {
    let templates = HostTemplates {
        file: &|path, values, diagnostics| renderer.template_with(path, values, diagnostics),
        inline: &|text, what, values, diagnostics| {
            renderer.inline_with(text, what, values, diagnostics)
        },
        error: &|message| renderer.error(message),
    };
    // The hosts are resolved as an `ssh` step's are: the same groups, the same checks.
    let step = SshStep {
        hosts: to_hosts.hosts.clone(),
        become_user: None,
        parallel: DEFAULT_PARALLEL,
        batch: None,
        files: Vec::new(),
        commands: Vec::new(),
        on_change: to_hosts.on_change.clone(),
        rollback_if_unreachable: None,
    };
    let hosts = render_hosts(
        &step,
        renderer.environment(),
        renderer.values(),
        &templates,
        diagnostics,
    );
    values.insert(host_count_key(index), hosts.len().to_string());
    for (number, host) in hosts.iter().enumerate() {
        let host_values = host_values(&host.target, &host.group, host.index, renderer.values());
        let inline = |text: &str, what: &str, diagnostics: &mut Diagnostics| {
            renderer.inline_with(text, what, &host_values, diagnostics)
        };
        if let Some(text) = inline(&certificate.common_name, "common_name", diagnostics) {
            values.insert(host_common_name_key(index, number), text);
        }
        for (san_number, san) in certificate.sans.iter().enumerate() {
            if let Some(text) = inline(san, "sans", diagnostics) {
                values.insert(host_san_key(index, number, san_number), text);
            }
        }
        if let Some(text) = inline(&to_hosts.dir, "dir", diagnostics) {
            match super::check::dir_problem(&text) {
                Some(problem) => diagnostics.push(renderer.error(format!(
                    "host {}: {problem} (as rendered)",
                    host.target.name
                ))),
                None => {
                    values.insert(host_dir_key(index, number), text);
                }
            }
        }
    }
    hosts
}
