//! The refusal of `plan` and `apply` to reach a Docker daemon through settings shoal
//! cannot honour (an npipe:// host), before they connect.

use crate::cli::cluster_run::ClusterArgs;
use crate::load::{DirectoryFiles, load_environments};
use crate::source::Diagnostics;

/// Fails when the environment's `docker` block, which `plan` and `apply` would connect
/// through, asks for what is not implemented. Only shoal.yml is read: this runs before the
/// repo loads, because loading and connecting start together. A `--docker-host` replaces
/// the block, and the connector itself refuses the hosts it cannot reach.
pub fn refuse_unimplemented_docker_settings(args: &ClusterArgs) -> anyhow::Result<()> {
    if args.docker_host.is_some() {
        return Ok(());
    }
    let files = DirectoryFiles::new(&args.repo.repo);
    // Problems in shoal.yml are reported when the repo loads.
    let mut ignored = Diagnostics::default();
    let Some(environments) = load_environments(&files, &mut ignored) else {
        return Ok(());
    };
    let Some(environment) = environments.iter().find(|e| e.name == args.env) else {
        return Ok(());
    };
    match environment.unimplemented_docker_settings.first() {
        Some(setting) => anyhow::bail!(
            "environment `{}` cannot be reached: {setting}\n  = help: use `--docker-host` to \
             name a daemon to use instead (a unix socket, or a tcp:// address, such as an \
             SSH tunnel's)",
            environment.name
        ),
        None => Ok(()),
    }
}
