//! What an apply reports as it goes, for a terminal, a log or a check run.

use crate::plan::ObjectType;

#[derive(Debug, Clone, PartialEq)]
pub enum ApplyEvent {
    StepStarted {
        step: String,
    },
    StepSkipped {
        step: String,
        reason: String,
    },
    Created {
        object: ObjectType,
        name: String,
    },
    Updated {
        object: ObjectType,
        name: String,
    },
    Removed {
        object: ObjectType,
        name: String,
    },
    /// Tasks of a service converging: `running` of `desired`, and what a task waits for
    /// when the swarm says (`pending: no suitable node (…)`).
    Converging {
        service: String,
        running: usize,
        desired: usize,
        waiting: Option<String>,
    },
    Converged {
        service: String,
    },
    RolledBack {
        service: String,
    },
    /// The manager that answered stopped answering (or is no longer a manager): calls go
    /// to another manager of the swarm from now on.
    ManagerMoved {
        from: String,
        to: String,
        reason: String,
    },
    /// A line of what an `ssh` step does on a host, or of a command's output there.
    HostOutput {
        host: String,
        line: String,
    },
    StepFinished {
        step: String,
        changes: usize,
        /// Why the step failed, when it did.
        error: Option<String>,
        /// It stopped because the apply was cancelled while it waited.
        cancelled: bool,
    },
}

/// Receives apply events.
pub trait ApplyObserver: Send + Sync {
    fn event(&mut self, event: ApplyEvent);
}

/// Collects events, for tests and for reports written after the run.
#[derive(Debug, Default)]
pub struct CollectedEvents {
    pub events: Vec<ApplyEvent>,
}

impl ApplyObserver for CollectedEvents {
    fn event(&mut self, event: ApplyEvent) {
        self.events.push(event);
    }
}
