//! Why an apply stopped, and what it had done by then.

use crate::docker::DockerError;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the plan cannot be applied:\n  {}", .problems.join("\n  "))]
    Refused { problems: Vec<String> },
    #[error("step `{step}` failed: {source}")]
    Docker {
        step: String,
        #[source]
        source: DockerError,
    },
    #[error("step `{step}`: service {service} did not converge: {reason}")]
    NotConverged {
        step: String,
        service: String,
        reason: String,
    },
    #[error("step `{step}`: {message}")]
    Step { step: String, message: String },
    /// The step's `timeout` (or a wait's) ran out.
    #[error("step `{step}`: {message}")]
    TimedOut { step: String, message: String },
    /// Cancelled before `step` started, or while it waited (its writes were made).
    #[error("cancelled {} step `{step}`", if *.waiting { "while waiting in" } else { "before" })]
    Cancelled { step: String, waiting: bool },
}

impl ApplyError {
    /// The error without the step it happened in, for messages that name the step already.
    pub fn detail(&self) -> String {
        match self {
            ApplyError::Refused { .. } => self.to_string(),
            ApplyError::Docker { source, .. } => source.to_string(),
            ApplyError::NotConverged {
                service, reason, ..
            } => format!("service {service} did not converge: {reason}"),
            ApplyError::Step { message, .. } | ApplyError::TimedOut { message, .. } => {
                message.clone()
            }
            ApplyError::Cancelled { .. } => self.to_string(),
        }
    }
}
