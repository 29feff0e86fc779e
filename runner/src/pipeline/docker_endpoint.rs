//! Which Docker daemon an environment is reached at, and with what TLS material.

use std::path::{Path, PathBuf};

use super::PipelineError;
use super::docker_context::{
    DEFAULT_CONTEXT, context_endpoint, current_context, docker_config_folder,
};
use crate::config::{TlsInput, TlsPart};
use crate::docker::{DockerEndpoint, PemText, SshLogin, TlsMaterial};
use crate::load::SHOAL_FILE;
use crate::model::Environment;
use crate::yaml::Spanned;

/// A daemon named on the command line (or by the daemon's settings) instead of the
/// environment's `docker` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaemonOverride {
    /// `--docker-host`: a host URL, TLS as the docker CLI takes it from the environment.
    Host(String),
    /// `--docker-context`: a docker CLI context.
    Context(String),
}

/// The daemons for `environment`, in the order they are tried: one, or the managers of
/// `docker.hosts`. The caller's override (`--docker-host`, `--docker-context`, a test
/// swarm) comes first, else the environment's `docker` block (`host`, `hosts` or
/// `context`), else, as the docker CLI chooses, `DOCKER_HOST`, `DOCKER_CONTEXT`, the
/// `currentContext` of the docker CLI's `config.json`, and the local socket. The CLI and
/// the daemon choose alike. A host given without TLS material (an override, or no
/// `docker` block) takes TLS from the process's environment as the docker CLI does: a
/// non-empty `DOCKER_TLS_VERIFY` means TLS with `ca.pem`, `cert.pem` and `key.pem` from
/// `DOCKER_CERT_PATH` (default `~/.docker`), for a `tcp://` host. Relative paths of
/// `docker.tls` and the secrets it names are read from `files_folder`, as relative secret
/// files are; `docker.tls` applies to the `tcp://` hosts of the list. Without an override,
/// an environment whose `docker` block asks for what shoal cannot do yet (see
/// [`Environment::unimplemented_docker_settings`]) is refused before anything connects.
/// An `ssh://` host, from any source, logs in with the environment's `ssh` block.
pub fn docker_endpoints(
    override_daemon: Option<&DaemonOverride>,
    environment: &Environment,
    files_folder: &Path,
) -> Result<Vec<DockerEndpoint>, PipelineError> {
    let tls_problem = |problem: String| PipelineError::DockerTls {
        environment: environment.name.clone(),
        problem,
    };
    let ssh = ssh_login(environment, files_folder);
    let from_context = |name: &str| {
        endpoint_of_context(name, ssh.clone()).map_err(|problem| PipelineError::DockerContext {
            environment: environment.name.clone(),
            problem,
        })
    };
    match override_daemon {
        Some(DaemonOverride::Host(host)) => {
            return Ok(vec![DockerEndpoint {
                host: host.clone(),
                tls: tls_from_process(host).map_err(tls_problem)?,
                ssh,
            }]);
        }
        Some(DaemonOverride::Context(name)) => return Ok(vec![from_context(name)?]),
        None => {}
    }
    if let Some(setting) = environment.unimplemented_docker_settings.first() {
        return Err(PipelineError::Unimplemented {
            environment: environment.name.clone(),
            setting: setting.to_string(),
        });
    }
    if let Some(docker) = &environment.docker {
        if let Some(context) = &docker.context {
            return Ok(vec![from_context(&context.value)?]);
        }
        let tls = match &docker.tls {
            Some(tls) => Some(tls_from_input(tls, environment, files_folder).map_err(tls_problem)?),
            None => None,
        };
        return Ok(docker
            .host_list()
            .into_iter()
            .map(|host| DockerEndpoint {
                host: host.value.clone(),
                tls: tls.clone().filter(|_| host.value.starts_with("tcp://")),
                ssh: ssh.clone(),
            })
            .collect());
    }
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty());
    if host.is_none()
        && let Some(context) = current_context(docker_config_folder().as_deref())
    {
        return Ok(vec![from_context(&context)?]);
    }
    let host = host.unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let tls = tls_from_process(&host).map_err(tls_problem)?;
    Ok(vec![DockerEndpoint { host, tls, ssh }])
}

/// How `swarm` steps reach each node's own engine (`docker.node_host`, rendered per
/// host): with the environment's `docker.tls` for `tcp://` endpoints and its `ssh` block
/// for `ssh://` ones, each call within `timeout`.
pub fn node_engines(
    environment: &Environment,
    files_folder: &Path,
    timeout: std::time::Duration,
) -> Result<crate::docker::ClientNodeEngines, PipelineError> {
    let tls =
        match environment
            .docker
            .as_ref()
            .and_then(|docker| docker.tls.as_ref())
        {
            Some(tls) => Some(tls_from_input(tls, environment, files_folder).map_err(
                |problem| PipelineError::DockerTls {
                    environment: environment.name.clone(),
                    problem,
                },
            )?),
            None => None,
        };
    Ok(crate::docker::ClientNodeEngines::new(
        timeout,
        tls,
        ssh_login(environment, files_folder),
    ))
}

/// Whether the environment lists several managers (`docker.hosts`), whose swarm is
/// remembered and checked, unless an override names another daemon.
pub fn remembers_swarm(
    override_daemon: Option<&DaemonOverride>,
    environment: &Environment,
) -> bool {
    override_daemon.is_none()
        && environment
            .docker
            .as_ref()
            .is_some_and(|docker| docker.hosts.is_some())
}

/// The endpoint of the docker CLI context `name` (`default` is the docker CLI's own
/// default: `DOCKER_HOST`, else the local socket); an `ssh://` context logs in with `ssh`.
fn endpoint_of_context(name: &str, ssh: Option<SshLogin>) -> Result<DockerEndpoint, String> {
    if name == DEFAULT_CONTEXT {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|host| !host.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        let tls = tls_from_process(&host)?;
        return Ok(DockerEndpoint { host, tls, ssh });
    }
    let folder = docker_config_folder()
        .ok_or("neither DOCKER_CONFIG nor HOME is set: the docker contexts cannot be found")?;
    let mut endpoint = context_endpoint(name, &folder)?;
    endpoint.ssh = ssh;
    Ok(endpoint)
}

/// The environment's `ssh` block as an ssh:// host's login, read as `ssh` steps read it
/// ([`crate::hosts::SshHosts::settings_for`]).
fn ssh_login(environment: &Environment, files_folder: &Path) -> Option<SshLogin> {
    let ssh = environment.ssh.as_ref()?;
    Some(SshLogin {
        user: ssh.user.clone(),
        settings: crate::hosts::SshHosts::settings_for(environment, files_folder),
    })
}

/// The material of `docker.tls`, each part from its file, its secret or `cert_path`.
fn tls_from_input(
    tls: &TlsInput,
    environment: &Environment,
    files_folder: &Path,
) -> Result<TlsMaterial, String> {
    let read = |part: TlsPart| -> Result<PemText, String> {
        let description = part.description();
        match tls.sources(part) {
            (_, Some(secret)) => {
                let value = crate::secret_source::read_secret(files_folder, environment, secret)
                    .ok_or_else(|| {
                    format!("{}: unknown secret `{}`", location(secret), secret.value)
                })??;
                Ok(PemText {
                    origin: format!("(secret `{}`)", secret.value),
                    pem: value.into_bytes(),
                })
            }
            (Some(file), None) => read_file(&files_folder.join(&file.value), description)
                .map_err(|problem| format!("{}: {problem}", location(file))),
            (None, None) => {
                let folder = tls
                    .cert_path
                    .as_ref()
                    .ok_or_else(|| format!("`docker.tls` does not say where {description} is"))?;
                read_file(
                    &files_folder.join(&folder.value).join(part.file_name()),
                    description,
                )
                .map_err(|problem| format!("{}: {problem}", location(folder)))
            }
        }
    };
    Ok(TlsMaterial {
        ca: read(TlsPart::Ca)?,
        cert: read(TlsPart::Cert)?,
        key: read(TlsPart::Key)?,
    })
}

/// TLS as the docker CLI takes it from its environment, for a `tcp://` host.
fn tls_from_process(host: &str) -> Result<Option<TlsMaterial>, String> {
    let verify = std::env::var("DOCKER_TLS_VERIFY").unwrap_or_default();
    if verify.is_empty() || !host.starts_with("tcp://") {
        return Ok(None);
    }
    let folder = match std::env::var("DOCKER_CERT_PATH") {
        Ok(folder) if !folder.is_empty() => PathBuf::from(folder),
        _ => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(".docker"))
            .ok_or("DOCKER_TLS_VERIFY is set, but neither DOCKER_CERT_PATH nor HOME")?,
    };
    let read = |part: TlsPart| {
        read_file(&folder.join(part.file_name()), part.description()).map_err(|problem| {
            format!("{problem} (DOCKER_TLS_VERIFY is set; DOCKER_CERT_PATH names the folder)")
        })
    };
    Ok(Some(TlsMaterial {
        ca: read(TlsPart::Ca)?,
        cert: read(TlsPart::Cert)?,
        key: read(TlsPart::Key)?,
    }))
}

fn read_file(path: &Path, description: &str) -> Result<PemText, String> {
    let origin = path.display().to_string();
    let pem = std::fs::read(path)
        .map_err(|error| format!("cannot read {description} {origin}: {error}"))?;
    Ok(PemText { origin, pem })
}

/// `shoal.yml:LINE:COLUMN` of a value of the `docker` block.
fn location(value: &Spanned<String>) -> String {
    format!(
        "{SHOAL_FILE}:{}:{}",
        value.span.start.line, value.span.start.column
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{MemoryFiles, load_environments};
    use crate::source::Diagnostics;

    fn environment(shoal_yml: &str) -> Environment {
        let files = MemoryFiles::new().with("shoal.yml", shoal_yml);
        let mut diagnostics = Diagnostics::default();
        let environments = load_environments(&files, &mut diagnostics).expect("loads");
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        environments.into_iter().next().expect("one environment")
    }

    #[test]
    fn the_managers_of_hosts_are_tried_in_order_with_tls_for_the_tcp_ones() {
        let folder = tempfile::tempdir().expect("temp");
        std::fs::create_dir(folder.path().join("certs")).expect("folder");
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(folder.path().join("certs").join(file), "PEM").expect("writes");
        }
        let environment = environment(
            "environments:\n  prod:\n    docker:\n      hosts: [tcp://m1:2376, unix:///run/m2.sock]\n      tls: { cert_path: certs }\n",
        );
        let endpoints = docker_endpoints(None, &environment, folder.path()).expect("endpoints");
        let hosts: Vec<(&str, bool)> = endpoints
            .iter()
            .map(|endpoint| (endpoint.host.as_str(), endpoint.tls.is_some()))
            .collect();
        assert_eq!(
            hosts,
            [("tcp://m1:2376", true), ("unix:///run/m2.sock", false)]
        );
        assert!(remembers_swarm(None, &environment));
        let host = DaemonOverride::Host("unix:///tmp/test.sock".to_owned());
        assert!(!remembers_swarm(Some(&host), &environment));
        assert_eq!(
            docker_endpoints(Some(&host), &environment, folder.path())
                .expect("endpoints")
                .iter()
                .map(|endpoint| endpoint.host.as_str())
                .collect::<Vec<_>>(),
            ["unix:///tmp/test.sock"]
        );
    }
}
