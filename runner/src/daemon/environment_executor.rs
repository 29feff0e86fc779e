//! How the dispatcher has one environment of a run executed: a port, so that the
//! dispatcher's tests run against a fake that holds runs for as long as a test needs,
//! while the daemon executes them on a swarm ([`SwarmExecutor`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::run_executor::secret_policy;
use super::run_progress::ProgressSink;
use super::sandboxed_plan::{SandboxSettings, execute_sandboxed};
use super::{EnvironmentOutcome, RunSettings, execute_environment};
use crate::apply::CancelSignal;
use crate::load::RepoFiles;
use crate::pipeline::SecretPolicy;
use crate::render::CommitInfo;
use crate::trigger::RunRequest;

pub type ExecutionFuture<'a> = Pin<Box<dyn Future<Output = EnvironmentOutcome> + Send + 'a>>;

pub trait EnvironmentExecutor: Send + Sync {
    /// Runs `request` for `environment` on `files`, reporting through `sink`; stops at
    /// the next safe point once `cancel` is raised.
    fn execute<'a>(
        &'a self,
        files: Arc<dyn RepoFiles>,
        request: &'a RunRequest,
        environment: &'a str,
        commit: &'a CommitInfo,
        sink: &'a mut ProgressSink,
        cancel: CancelSignal,
    ) -> ExecutionFuture<'a>;
}

/// The real executor: load, render, plan against the environment's swarm, apply. With
/// a sandbox, a pull request's plan runs in a child process under its limits.
pub struct SwarmExecutor {
    settings: RunSettings,
    sandbox: Option<SandboxSettings>,
}

impl SwarmExecutor {
    pub fn new(settings: RunSettings) -> SwarmExecutor {
        SwarmExecutor {
            settings,
            sandbox: None,
        }
    }

    /// Untrusted runs (pull requests' plans) run in a sandboxed child process.
    pub fn with_sandbox(self, sandbox: SandboxSettings) -> SwarmExecutor {
        SwarmExecutor {
            sandbox: Some(sandbox),
            ..self
        }
    }
}

impl EnvironmentExecutor for SwarmExecutor {
    fn execute<'a>(
        &'a self,
        files: Arc<dyn RepoFiles>,
        request: &'a RunRequest,
        environment: &'a str,
        commit: &'a CommitInfo,
        sink: &'a mut ProgressSink,
        cancel: CancelSignal,
    ) -> ExecutionFuture<'a> {
        if let Some(sandbox) = &self.sandbox
            && secret_policy(request) == SecretPolicy::Untrusted
        {
            return Box::pin(execute_sandboxed(
                sandbox,
                &self.settings,
                request,
                environment,
                commit,
                sink,
                cancel,
            ));
        }
        Box::pin(execute_environment(
            files,
            request,
            environment,
            commit,
            &self.settings,
            sink,
            cancel,
        ))
    }
}
