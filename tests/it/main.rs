//! shoal's integration tests: one binary, one module per feature. They drive the real
//! `shoal` binary over config repos written to temporary folders or kept in `fixtures/`.

mod certs;
mod certs_hosts;
mod cli_apply;
mod cli_docker_faults;
mod cli_render;
mod cli_validate;
mod daemon_run;
mod docker_context;
mod docker_env;
mod docker_managers;
mod docker_ssh;
mod docker_tls;
mod faithful;
mod fixtures;
mod git_mirror;
mod git_remotes;
mod github_report;
mod lab;
mod notify;
mod pipeline_parity;
mod registry_push;
mod schemas;
mod secret_plans;
mod seed_hosts;
mod serve;
mod serve_drain;
mod serve_restart;
mod serve_runs;
mod serve_sandbox;
mod ssh_step;
mod ssh_transport;
mod support;
mod test_repo;
