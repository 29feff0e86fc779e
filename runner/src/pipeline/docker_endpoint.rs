//! Which Docker daemon an environment is reached at.

use super::PipelineError;
use crate::model::Environment;

/// The daemon for `environment`: the caller's override (`--docker-host`, a test swarm),
/// else the environment's `docker.host`, else `DOCKER_HOST`, else the local socket. The
/// CLI and the daemon choose alike. Without an override, an environment whose `docker`
/// block asks for what shoal cannot do yet (`docker.tls`, see
/// [`Environment::unimplemented_docker_settings`]) is refused before anything connects,
/// rather than reached without it.
pub fn docker_host(
    override_host: Option<&str>,
    environment: &Environment,
) -> Result<String, PipelineError> {
    if override_host.is_none()
        && let Some(setting) = environment.unimplemented_docker_settings.first()
    {
        return Err(PipelineError::Unimplemented {
            environment: environment.name.clone(),
            setting: setting.to_string(),
        });
    }
    Ok(override_host
        .map(str::to_owned)
        .or_else(|| {
            environment
                .docker
                .as_ref()
                .map(|docker| docker.host.value.clone())
        })
        .or_else(|| {
            std::env::var("DOCKER_HOST")
                .ok()
                .filter(|host| !host.is_empty())
        })
        .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned()))
}
