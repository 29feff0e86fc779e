//! What the dispatcher tells reporters (GitHub checks, metrics) about runs, on a broadcast
//! channel. Each notice carries the run as the store has it at that moment. Secret values
//! are redacted before anything becomes a notice.

use super::EnvironmentOutcome;
use crate::store::{RunRecord, StepRecord};

#[derive(Debug, Clone)]
pub enum RunNotice {
    /// Recorded and waiting for its concurrency group (or about to start).
    Queued { run: RunRecord },
    /// One of its environments started.
    EnvironmentStarted { run: RunRecord, environment: String },
    /// One of its environments ended; `steps` are that environment's steps.
    EnvironmentFinished {
        run: RunRecord,
        outcome: EnvironmentOutcome,
        steps: Vec<StepRecord>,
    },
    /// The run ended: `run.status` is final. Environments that never started (after a
    /// failure, a cancel, or a run skipped or superseded before it began) got no
    /// `EnvironmentFinished`.
    Finished { run: RunRecord },
}

/// How many notices a slow reporter may fall behind before it misses some.
pub const NOTICE_BACKLOG: usize = 4096;
