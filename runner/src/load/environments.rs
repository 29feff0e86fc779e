//! Loads `shoal.yml` into the list of environments.

use super::notify_targets::{declared_secrets, notify_targets};
use super::{Document, RepoFiles};
use crate::config::{DockerInput, EnvironmentInput, ShoalFile, TlsPart};
use crate::model::{Environment, NotifyTarget, UnimplementedSetting};
use crate::source::{Diagnostic, Diagnostics};
use crate::yaml::Node;

pub const SHOAL_FILE: &str = "shoal.yml";

/// The environments of `shoal.yml`, in order; `None` when the file cannot be used.
pub fn load_environments(
    files: &dyn RepoFiles,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<Environment>> {
    load_shoal_file(files, diagnostics).map(|(environments, _)| environments)
}

/// The environments of `shoal.yml`, in order, and its top-level `notify` targets; `None`
/// when the file cannot be used.
pub fn load_shoal_file(
    files: &dyn RepoFiles,
    diagnostics: &mut Diagnostics,
) -> Option<(Vec<Environment>, Vec<NotifyTarget>)> {
    if !files.exists(SHOAL_FILE) {
        diagnostics.push(
            Diagnostic::file_error(SHOAL_FILE, "file not found")
                .with_help("a config repo has a shoal.yml at its root that names its environments"),
        );
        return None;
    }
    let document = Document::read(files, SHOAL_FILE, diagnostics)?;
    let shoal_file: ShoalFile = document.decode(&document.root, diagnostics)?;
    if shoal_file.environments.is_empty() {
        let span = document
            .root
            .entry("environments")
            .map_or(document.root.span, |(key, _)| key.span);
        diagnostics.push(
            document
                .error(span, "no environments defined")
                .with_help("add one, e.g. `environments: { local: {} }`"),
        );
    }
    let mut environments = Vec::new();
    for (name, input) in shoal_file.environments {
        if !is_valid_name(&name.value) {
            diagnostics.push(document.error(
                name.span,
                format!(
                    "invalid environment name `{}`: use lowercase letters, digits, `-` and `_`",
                    name.value
                ),
            ));
        }
        let mut unimplemented_docker_settings = Vec::new();
        if let Some(docker) = &input.docker {
            for host in docker.host_list() {
                let known = ["unix://", "tcp://", "ssh://", "npipe://"];
                if !known.iter().any(|scheme| host.value.starts_with(scheme)) {
                    diagnostics.push(
                        document
                            .error(
                                host.span,
                                format!("unsupported Docker host `{}`", host.value),
                            )
                            .with_help(
                                "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST",
                            ),
                    );
                } else if host.value.starts_with("ssh://")
                    && let Err(problem) = crate::docker::SshDockerHost::parse(&host.value)
                {
                    diagnostics.push(document.error(host.span, problem));
                }
            }
            let environment_node = document
                .root
                .get("environments")
                .and_then(|environments| environments.get(&name.value));
            let docker_node = environment_node.and_then(|environment| environment.get("docker"));
            let docker_span = environment_node
                .and_then(|environment| environment.entry("docker"))
                .map_or(name.span, |(key, _)| key.span);
            check_daemon_choice(&document, docker, docker_node, docker_span, diagnostics);
            check_tls(&document, docker, docker_node, &input, diagnostics);
            unimplemented_docker_settings = unimplemented_docker(docker);
            for setting in &unimplemented_docker_settings {
                diagnostics.push(
                    document
                        .error(setting.span, &setting.message)
                        .into_warning()
                        .with_help(UNIMPLEMENTED_DOCKER_HELP),
                );
            }
        }
        let (hosts, host_groups) =
            crate::steps::ssh::host_inventory(&document, &input, diagnostics);
        let mut vars = shoal_file.vars.clone();
        for (key, value) in input.vars {
            match vars.get_mut(&key) {
                Some(global) => merge_value(global, value),
                None => {
                    vars.insert(key, value);
                }
            }
        }
        let environment_node = document
            .root
            .get("environments")
            .and_then(|environments| environments.get(&name.value));
        let declared: Vec<&str> = input.secrets.keys().map(String::as_str).collect();
        let notify = notify_targets(
            &document,
            environment_node.and_then(|environment| environment.get("notify")),
            &input.notify,
            &[(name.value.as_str(), declared)],
            diagnostics,
        );
        environments.push(Environment {
            notify,
            name: name.value,
            docker: input.docker,
            ssh: input.ssh,
            hosts,
            host_groups,
            vars,
            secrets: input
                .secrets
                .into_iter()
                .map(|(key, source)| (key, source.value))
                .collect(),
            unimplemented_docker_settings,
        });
    }
    let every_environment: Vec<(&str, Vec<&str>)> =
        environments.iter().map(declared_secrets).collect();
    let notify = notify_targets(
        &document,
        document.root.get("notify"),
        &shoal_file.notify,
        &every_environment,
        diagnostics,
    );
    Some((environments, notify))
}

/// What `plan` and `apply` can do about a `docker` setting they refuse.
const UNIMPLEMENTED_DOCKER_HELP: &str = "`plan` and `apply` refuse this environment until \
    then, unless `--docker-host` names a daemon to use instead (a unix socket, or a tcp:// \
    address, such as an SSH tunnel's)";

/// The settings of an environment's `docker` block that shoal accepts but cannot honour
/// yet.
fn unimplemented_docker(docker: &DockerInput) -> Vec<UnimplementedSetting> {
    let setting = |span, message: String| UnimplementedSetting {
        path: SHOAL_FILE.to_owned(),
        span,
        message,
    };
    let mut found = Vec::new();
    for host in docker.host_list() {
        if host.value.starts_with("npipe://") {
            found.push(setting(
                host.span,
                format!(
                    "npipe:// Docker hosts (Windows named pipes) are not implemented: shoal \
                     refuses to connect to `{}`",
                    host.value
                ),
            ));
        }
    }
    found
}

/// A `docker` block names its daemon once: one `host`, a list of `hosts` (not empty), or a
/// `context`. `span` is the `docker` key's, where the block's key is missing.
fn check_daemon_choice(
    document: &Document,
    docker: &DockerInput,
    node: Option<&Node>,
    span: crate::source::Span,
    diagnostics: &mut Diagnostics,
) {
    let key_span = |key: &str| {
        node.and_then(|node| node.entry(key))
            .map_or(span, |(key, _)| key.span)
    };
    let given: Vec<&str> = [
        ("host", docker.host.is_some()),
        ("hosts", docker.hosts.is_some()),
        ("context", docker.context.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, given)| given.then_some(key))
    .collect();
    match given.as_slice() {
        [] => diagnostics.push(document.error(span, "`docker` names no daemon").with_help(
            "add `host: URL`, `hosts: [URL, ...]` (managers of one swarm) or \
                     `context: NAME` (a docker CLI context)",
        )),
        [_] => {}
        [first, rest @ ..] => {
            for key in rest {
                diagnostics.push(
                    document
                        .error(
                            key_span(key),
                            format!("`docker.{key}` and `docker.{first}` exclude each other"),
                        )
                        .with_help(format!("keep one of `{first}` and `{key}`")),
                );
            }
        }
    }
    if docker.hosts.as_ref().is_some_and(Vec::is_empty) {
        diagnostics.push(
            document
                .error(key_span("hosts"), "`docker.hosts` is empty")
                .with_help(
                    "list the swarm's managers, e.g. `hosts: [tcp://m1:2376, tcp://m2:2376]`",
                ),
        );
    }
    if let (Some(context), Some(_)) = (&docker.context, &docker.tls) {
        diagnostics.push(
            document
                .error(
                    key_span("tls"),
                    format!(
                        "`docker.tls` does not apply to a context: context `{}` has its own TLS material",
                        context.value
                    ),
                )
                .with_help("remove `tls`; `docker context inspect NAME` shows what the context uses"),
        );
    }
}

/// `docker.tls` goes with a `tcp://` host, and names each of the CA certificate, the
/// client certificate and the key once: as a file, a secret of the environment, or
/// through `cert_path`. `node` is the `docker` block in shoal.yml, for the position of the
/// `tls` key.
fn check_tls(
    document: &Document,
    docker: &DockerInput,
    node: Option<&Node>,
    environment: &EnvironmentInput,
    diagnostics: &mut Diagnostics,
) {
    let Some(tls) = &docker.tls else {
        return;
    };
    let Some(tls_span) = node
        .and_then(|node| node.entry("tls"))
        .map(|(key, _)| key.span)
    else {
        return;
    };
    let hosts = docker.host_list();
    if docker.context.is_none() && !hosts.iter().any(|host| host.value.starts_with("tcp://")) {
        let names: Vec<String> = hosts
            .iter()
            .map(|host| format!("`{}`", host.value))
            .collect();
        diagnostics.push(
            document
                .error(
                    tls_span,
                    format!(
                        "`docker.tls` applies to tcp:// hosts, not {}",
                        names.join(", ")
                    ),
                )
                .with_help("remove `tls`, or use a tcp://HOST:PORT host (2376 by convention)"),
        );
    }
    for part in TlsPart::ALL {
        let key = part.key();
        match tls.sources(part) {
            (Some(_), Some(secret)) => diagnostics.push(
                document
                    .error(
                        secret.span,
                        format!(
                            "`{key}` and `{key}_secret` both give {}",
                            part.description()
                        ),
                    )
                    .with_help(format!("keep one of `{key}` and `{key}_secret`")),
            ),
            (None, None) if tls.cert_path.is_none() => diagnostics.push(
                document
                    .error(
                        tls_span,
                        format!("`docker.tls` does not say where {} is", part.description()),
                    )
                    .with_help(format!(
                        "add `{key}: PATH`, `{key}_secret: NAME`, or `cert_path: FOLDER` \
                         holding {}",
                        part.file_name()
                    )),
            ),
            (_, Some(secret)) if !environment.secrets.contains_key(&secret.value) => {
                let known: Vec<&str> = environment.secrets.keys().map(String::as_str).collect();
                let help = if known.is_empty() {
                    "declare it under the environment's `secrets`".to_owned()
                } else {
                    format!(
                        "declare it under the environment's `secrets`, which has: {}",
                        known.join(", ")
                    )
                };
                diagnostics.push(
                    document
                        .error(secret.span, format!("unknown secret `{}`", secret.value))
                        .with_help(help),
                );
            }
            _ => {}
        }
    }
}

/// Deep merge: maps merge key by key, anything else is replaced. So an environment that
/// sets `images: { traefik: ... }` keeps the global `images` it does not mention.
fn merge_value(base: &mut serde_json::Value, overlay: serde_json::Value) {
    match (base, overlay) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge_value(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

/// Environment names end up in check names, labels and folder names.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::MemoryFiles;

    #[test]
    fn environment_vars_merge_deeply_over_global_ones() {
        let files = MemoryFiles::new().with(
            "shoal.yml",
            "vars: { images: { a: a:1, b: b:1 }, n: 1 }\nenvironments:\n  prod: { vars: { images: { b: b:2 }, n: 2 } }\n",
        );
        let mut diagnostics = Diagnostics::default();
        let environments = load_environments(&files, &mut diagnostics).expect("loads");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(
            serde_json::to_value(&environments[0].vars).expect("json"),
            serde_json::json!({ "images": { "a": "a:1", "b": "b:2" }, "n": 2 })
        );
    }
}
