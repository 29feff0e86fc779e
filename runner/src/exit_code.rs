//! The process exit codes shoal documents, decided in one place.

use std::process::ExitCode;

/// Every way a shoal command can end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; for `plan`, nothing would change.
    Success,
    /// The config repo has errors, or the command failed; nothing was applied.
    Failure,
    /// `plan` only: the cluster differs from the config repo.
    ChangesPending,
    /// The command line itself is wrong.
    Usage,
    /// `serve` only: a second SIGTERM or SIGINT stopped it without waiting for its runs.
    Interrupted,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::ChangesPending => 2,
            Outcome::Usage => 64,
            Outcome::Interrupted => 130,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        ExitCode::from(outcome.code())
    }
}
