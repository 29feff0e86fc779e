//! The environment `plan` and `apply` reach, read from shoal.yml alone before the repo
//! loads: to refuse a Docker daemon shoal cannot reach through the settings given (an
//! npipe:// host) before anything connects, and to start connecting to it while the
//! workflows load and render.

use crate::cli::cluster_run::ClusterArgs;
use crate::load::{DirectoryFiles, load_environments};
use crate::model::Environment;
use crate::source::Diagnostics;

/// The environment `args` names, as shoal.yml gives it; `None` when shoal.yml has problems
/// or does not name it (the repo's loading reports those). Fails when the environment's
/// `docker` block asks for what is not implemented; a `--docker-host` or
/// `--docker-context` replaces the block, and the connector itself refuses the hosts it
/// cannot reach.
pub fn early_environment(args: &ClusterArgs) -> anyhow::Result<Option<Environment>> {
    let files = DirectoryFiles::new(&args.repo.repo);
    let mut problems = Diagnostics::default();
    let Some(environments) = load_environments(&files, &mut problems) else {
        return Ok(None);
    };
    if problems.has_errors() {
        return Ok(None);
    }
    let Some(environment) = environments.into_iter().find(|e| e.name == args.env) else {
        return Ok(None);
    };
    if args.docker_host.is_some() || args.docker_context.is_some() {
        return Ok(Some(environment));
    }
    match environment.unimplemented_docker_settings.first() {
        Some(setting) => anyhow::bail!(
            "environment `{}` cannot be reached: {setting}\n  = help: use `--docker-host` to \
             name a daemon to use instead (a unix socket, or a tcp:// address, such as an \
             SSH tunnel's)",
            environment.name
        ),
        None => Ok(Some(environment)),
    }
}
