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
    /// Cancelled before `step` started, or while it waited (its writes, `changed`, were
    /// made).
    #[error("cancelled {} step `{step}`{}", if *.waiting { "while waiting in" } else { "before" }, changed_before(.changed))]
    Cancelled {
        step: String,
        waiting: bool,
        changed: Vec<String>,
    },
}

impl ApplyError {
    /// What turns an engine's error in `step` into the step's error.
    pub fn docker_in(step: &str) -> impl Fn(DockerError) -> ApplyError + Copy + '_ {
        move |source| ApplyError::Docker {
            step: step.to_owned(),
            source,
        }
    }

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

    /// The error of a step that had made `changed` (`updated service app_web`) before it
    /// failed, saying so first: a failure after a write must not read as if nothing
    /// happened. Time-outs and cancels stay what they are, for callers that tell them
    /// apart.
    pub fn after_changes(self, changed: &[String]) -> ApplyError {
        if changed.is_empty() {
            return self;
        }
        let done = changed.join(", ");
        match self {
            ApplyError::Refused { .. } => self,
            ApplyError::TimedOut { step, message } => ApplyError::TimedOut {
                step,
                message: format!("{done}; {message}"),
            },
            ApplyError::Cancelled { step, waiting, .. } => ApplyError::Cancelled {
                step,
                waiting,
                changed: changed.to_vec(),
            },
            ApplyError::Docker { ref step, .. }
            | ApplyError::NotConverged { ref step, .. }
            | ApplyError::Step { ref step, .. } => ApplyError::Step {
                step: step.clone(),
                message: format!("{done}; {}", self.detail()),
            },
        }
    }
}

/// ` (done before: created service x)` when a cancelled step had changed something.
fn changed_before(changed: &[String]) -> String {
    if changed.is_empty() {
        String::new()
    } else {
        format!(" (done before: {})", changed.join(", "))
    }
}
