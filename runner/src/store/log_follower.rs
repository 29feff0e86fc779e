//! Reading a run's log as it is written: the lines so far, then, while the run is queued
//! or running, each new batch, until the run ends. The daemon's API and `shoal runs logs
//! --follow` both follow a log this way, through a reader connection (WAL lets it read
//! while the dispatcher writes).

use std::time::Duration;

use super::{RunStatus, Store, StoreError};

/// How often a followed log looks for new lines.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// Hands `emit` the lines of run `id`'s log in batches: those written so far, then, when
/// `follow`, new ones until the run ends. Stops early when `emit` says false (the reader
/// went away).
pub fn follow_log(
    store: &Store,
    id: i64,
    follow: bool,
    mut emit: impl FnMut(Vec<String>) -> bool,
) -> Result<(), StoreError> {
    let mut last = 0;
    loop {
        // The status is read before the lines, so lines written before the run ended
        // are sent before the loop stops.
        let live = store
            .run(id)?
            .is_some_and(|run| matches!(run.status, RunStatus::Queued | RunStatus::Running));
        let lines = store.logs_after(id, last)?;
        if let Some((number, _)) = lines.last() {
            last = *number;
            if !emit(lines.into_iter().map(|(_, line)| line).collect()) {
                return Ok(());
            }
        }
        if !live || !follow {
            return Ok(());
        }
        std::thread::sleep(FOLLOW_INTERVAL);
    }
}
