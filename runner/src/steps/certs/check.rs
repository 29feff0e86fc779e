//! The load-time checks of a `certs` step: the CA certificate is a file of the repo (or a
//! template of its path),
//! names are unique, durations parse, each certificate goes to a `to_secret` target, to
//! hosts (`to_hosts`: an absolute directory, octal mode, valid owner), or both.

use std::collections::BTreeSet;
use std::time::Duration;

use super::input::{CertificateInput, HostsTargetInput, SecretTargetInput};
use super::{
    CertificateStep, CertificateUsage, CertsInput, CertsStep, HostsTarget, SecretTarget,
    UsageInput, UsageName,
};
use crate::load::{WorkflowChecker, normalize};
use crate::source::Diagnostics;
use crate::yaml::{Node, Spanned};

const DEFAULT_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
const DEFAULT_RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);
/// The mode of the files `to_hosts` writes when it does not say: the key is private.
const DEFAULT_HOST_FILE_MODE: u32 = 0o600;

/// Checks the `certs` of the step written at `node`; `None` when a certificate cannot be
/// used (the errors are in `diagnostics`).
pub fn check(
    input: CertsInput,
    node: &Node,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<CertsStep> {
    // A template (one CA per environment, `pki/{{ environment.name }}/ca.pem`) names a
    // file known only when rendered; the render says when it is missing.
    if crate::model::is_template(&input.ca.cert.value) {
        checker.template_syntax(&input.ca.cert, "ca.cert", diagnostics);
    } else {
        checker.referenced_file(&input.ca.cert, diagnostics);
    }
    if input.certificates.is_empty() {
        let span = node.entry("certs").map_or(node.span, |(key, _)| key.span);
        diagnostics.push(checker.error(span, "`certs` needs at least one certificate"));
    }
    if let Some(force) = &input.force
        && !force.value.contains("{{")
        && !matches!(force.value.to_ascii_lowercase().as_str(), "true" | "false")
    {
        diagnostics.push(checker.error(
            force.span,
            format!(
                "`force` is `true`, `false` or a template, not `{}`",
                force.value
            ),
        ));
    }
    let mut names = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    let mut certificates = Vec::new();
    let mut usable = true;
    for certificate in input.certificates {
        if !names.insert(certificate.name.value.clone()) {
            diagnostics.push(checker.error(
                certificate.name.span,
                format!(
                    "certificate `{}` is named twice in this step",
                    certificate.name.value
                ),
            ));
        }
        match check_certificate(certificate, checker, &mut secrets, diagnostics) {
            Some(certificate) => certificates.push(certificate),
            None => usable = false,
        }
    }
    let ca_cert = if crate::model::is_template(&input.ca.cert.value) {
        input.ca.cert.value
    } else {
        normalize(&input.ca.cert.value).unwrap_or(input.ca.cert.value)
    };
    usable.then(|| CertsStep {
        ca_cert,
        key_secret: input.ca.key_secret.value,
        certificates,
        force: input.force.map(|force| force.value),
    })
}

fn check_certificate(
    input: CertificateInput,
    checker: &WorkflowChecker<'_>,
    secrets: &mut BTreeSet<String>,
    diagnostics: &mut Diagnostics,
) -> Option<CertificateStep> {
    let name = &input.name;
    let usage = usage(&input.usage, checker, diagnostics)?;
    let validity = duration(
        input.validity.as_ref(),
        DEFAULT_VALIDITY,
        checker,
        diagnostics,
    )?;
    let renew_before = duration(
        input.renew_before.as_ref(),
        DEFAULT_RENEW_BEFORE,
        checker,
        diagnostics,
    )?;
    if renew_before >= validity {
        let span = input.renew_before.as_ref().map_or(name.span, |r| r.span);
        diagnostics.push(checker.error(
            span,
            format!("certificate `{}` would be renewed on every run: `renew_before` is not shorter than `validity`", name.value),
        ));
        return None;
    }
    if input.to_secret.is_none() && input.to_hosts.is_none() {
        diagnostics.push(checker.error(
            name.span,
            format!(
                "certificate `{}` needs `to_secret`, `to_hosts` or both: where it goes",
                name.value
            ),
        ));
        return None;
    }
    let to_hosts = match input.to_hosts {
        Some(to_hosts) => Some(hosts_target(to_hosts, name, checker, diagnostics)?),
        None => None,
    };
    let target = match input.to_secret {
        Some(to_secret) => Some(secret_target(to_secret, name, checker, diagnostics)?),
        None => None,
    };
    for secret in target.iter().flat_map(SecretTarget::names) {
        if !secret.contains("{{") && !secrets.insert(secret.to_owned()) {
            diagnostics.push(checker.error(
                name.span,
                format!("secret `{secret}` is the target of two certificates of this step"),
            ));
        }
    }
    Some(CertificateStep {
        common_name: input
            .common_name
            .map_or_else(|| name.value.clone(), |common_name| common_name.value),
        name: input.name.value,
        usage,
        sans: input.sans.into_iter().map(|san| san.value).collect(),
        validity,
        renew_before,
        target,
        to_hosts,
    })
}

/// Why `dir` cannot be the directory of a certificate's files on hosts.
pub fn dir_problem(dir: &str) -> Option<String> {
    let bad = !dir.starts_with('/')
        || dir.split('/').any(|part| part == "." || part == "..")
        || dir.chars().any(char::is_control);
    bad.then(|| format!("`dir` must be an absolute path without `.` or `..`, not `{dir}`"))
}

fn hosts_target(
    input: Spanned<HostsTargetInput>,
    name: &Spanned<String>,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<HostsTarget> {
    let errors_before = diagnostics.error_count();
    let target = input.value;
    if target.hosts.is_empty() {
        diagnostics.push(checker.error(
            input.span,
            format!(
                "`to_hosts` of certificate `{}` needs `hosts`: host groups of shoal.yml or addresses",
                name.value
            ),
        ));
    }
    if !target.dir.value.contains("{{")
        && let Some(problem) = dir_problem(&target.dir.value)
    {
        diagnostics.push(checker.error(target.dir.span, problem));
    }
    if let Some(owner) = &target.owner
        && !crate::steps::ssh::is_system_name(&owner.value)
    {
        diagnostics.push(checker.error(owner.span, format!("invalid user name `{}`", owner.value)));
    }
    let mode = match &target.mode {
        None => DEFAULT_HOST_FILE_MODE,
        Some(mode) => match u32::from_str_radix(&mode.value, 8) {
            Ok(bits) if bits <= 0o7777 => bits,
            _ => {
                diagnostics.push(checker.error(
                    mode.span,
                    format!(
                        "invalid mode `{}`: expected octal permission bits such as \"0600\"",
                        mode.value
                    ),
                ));
                return None;
            }
        },
    };
    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(HostsTarget {
        hosts: target.hosts.into_iter().map(|host| host.value).collect(),
        dir: target.dir.value.trim_end_matches('/').to_owned(),
        owner: target.owner.map(|owner| owner.value),
        mode,
        on_change: target.on_change,
    })
}

fn usage(
    input: &Spanned<UsageInput>,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<CertificateUsage> {
    let names = match &input.value {
        UsageInput::One(name) => vec![*name],
        UsageInput::Several(names) => names.clone(),
    };
    if names.is_empty() {
        diagnostics.push(checker.error(input.span, "`usage` needs `server`, `client` or both"));
        return None;
    }
    Some(CertificateUsage {
        server: names.contains(&UsageName::Server),
        client: names.contains(&UsageName::Client),
    })
}

fn duration(
    input: Option<&Spanned<String>>,
    default: Duration,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<Duration> {
    match input {
        None => Some(default),
        Some(text) => checker.duration(text, diagnostics),
    }
}

fn secret_target(
    input: SecretTargetInput,
    name: &Spanned<String>,
    checker: &WorkflowChecker<'_>,
    diagnostics: &mut Diagnostics,
) -> Option<SecretTarget> {
    for secret in [&input.bundle, &input.cert, &input.key, &input.ca]
        .into_iter()
        .flatten()
    {
        checker.object_name(secret, diagnostics);
    }
    match (input.bundle, input.cert, input.key, input.ca) {
        (Some(bundle), None, None, None) => Some(SecretTarget::Bundle(bundle.value)),
        (None, Some(cert), Some(key), Some(ca)) => Some(SecretTarget::Separate {
            cert: cert.value,
            key: key.value,
            ca: ca.value,
        }),
        _ => {
            diagnostics.push(
                checker
                    .error(
                        name.span,
                        format!("`to_secret` of certificate `{}` takes `bundle`, or `cert`, `key` and `ca`", name.value),
                    )
                    .with_help("`bundle` is one secret with the certificate, its key and the CA's certificate, in that order"),
            );
            None
        }
    }
}
