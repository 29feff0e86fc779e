//! Which Docker daemon an environment is reached at, and with what TLS material.

use std::path::{Path, PathBuf};

use super::PipelineError;
use crate::config::{TlsInput, TlsPart};
use crate::docker::{DockerEndpoint, PemText, SshLogin, TlsMaterial};
use crate::load::SHOAL_FILE;
use crate::model::Environment;
use crate::yaml::Spanned;

/// The daemon for `environment`: the caller's override (`--docker-host`, a test swarm),
/// else the environment's `docker` block, else `DOCKER_HOST`, else the local socket. The
/// CLI and the daemon choose alike. An override, or an environment without a `docker`
/// block, takes TLS from the process's environment as the docker CLI does: a non-empty
/// `DOCKER_TLS_VERIFY` means TLS with `ca.pem`, `cert.pem` and `key.pem` from
/// `DOCKER_CERT_PATH` (default `~/.docker`), for a `tcp://` host. Relative paths of
/// `docker.tls` and the secrets it names are read from `files_folder`, as relative secret
/// files are. Without an override, an environment whose `docker` block asks for what
/// shoal cannot do yet (see [`Environment::unimplemented_docker_settings`]) is refused
/// before anything connects. An `ssh://` host, from any source, logs in with the
/// environment's `ssh` block.
pub fn docker_endpoint(
    override_host: Option<&str>,
    environment: &Environment,
    files_folder: &Path,
) -> Result<DockerEndpoint, PipelineError> {
    let tls_problem = |problem: String| PipelineError::DockerTls {
        environment: environment.name.clone(),
        problem,
    };
    if let Some(host) = override_host {
        return Ok(DockerEndpoint {
            host: host.to_owned(),
            tls: tls_from_process(host).map_err(tls_problem)?,
            ssh: ssh_login(environment, files_folder),
        });
    }
    if let Some(setting) = environment.unimplemented_docker_settings.first() {
        return Err(PipelineError::Unimplemented {
            environment: environment.name.clone(),
            setting: setting.to_string(),
        });
    }
    if let Some(docker) = &environment.docker {
        let tls = match &docker.tls {
            Some(tls) => Some(tls_from_input(tls, environment, files_folder).map_err(tls_problem)?),
            None => None,
        };
        return Ok(DockerEndpoint {
            host: docker.host.value.clone(),
            tls,
            ssh: ssh_login(environment, files_folder),
        });
    }
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|host| !host.is_empty())
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
    let tls = tls_from_process(&host).map_err(tls_problem)?;
    Ok(DockerEndpoint {
        host,
        tls,
        ssh: ssh_login(environment, files_folder),
    })
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
