//! Why a run stopped before it could apply anything.

use crate::docker::DockerError;
use crate::source::Diagnostics;

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Errors in the config repo's files, with their positions (and the warnings found
    /// with them). Shown as they are: they come from renders with placeholders for secrets,
    /// or have their messages hidden.
    #[error("rendering failed")]
    Render(Diagnostics),
    #[error("converting failed")]
    Convert(Diagnostics),
    /// Secrets the files read that could not be read, one message each.
    #[error("{}", .0.join("; "))]
    MissingSecrets(Vec<String>),
    /// (The Docker error is part of the message, so that it shows once whether the chain
    /// of causes is printed or not.)
    #[error("environment `{environment}`: {error}")]
    Connect {
        environment: String,
        error: DockerError,
    },
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The TLS material of the environment's Docker endpoint cannot be read.
    #[error("environment `{environment}`: {problem}")]
    DockerTls {
        environment: String,
        problem: String,
    },
    /// The docker CLI context of the environment cannot be used.
    #[error("environment `{environment}`: {problem}")]
    DockerContext {
        environment: String,
        problem: String,
    },
    /// The environment's `docker` block asks for a setting shoal does not implement yet.
    #[error("environment `{environment}` cannot be reached: {setting}")]
    Unimplemented {
        environment: String,
        setting: String,
    },
    /// The task reading the swarm ended without an answer.
    #[error("reading the swarm stopped: {0}")]
    Reading(String),
}

impl PipelineError {
    /// The problems in the repo's files, when that is what stopped the run.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            PipelineError::Render(diagnostics) | PipelineError::Convert(diagnostics) => {
                Some(diagnostics)
            }
            _ => None,
        }
    }
}
