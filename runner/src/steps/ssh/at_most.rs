//! Running futures with at most a given number at once, results in their order: the
//! hosts of an `ssh` step, `parallel` at a time.

use std::future::Future;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

pub type HostTask<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Polls `tasks` in the current task, at most `limit` at once; the results are in the
/// order of `tasks`.
pub async fn at_most<T>(limit: usize, tasks: Vec<HostTask<'_, T>>) -> Vec<T> {
    let count = tasks.len();
    let mut pending = tasks.into_iter().enumerate();
    let mut running = FuturesUnordered::new();
    let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (index, task) in pending.by_ref().take(limit.max(1)) {
        running.push(indexed(index, task));
    }
    while let Some((index, result)) = running.next().await {
        results[index] = Some(result);
        if let Some((index, task)) = pending.next() {
            running.push(indexed(index, task));
        }
    }
    results.into_iter().flatten().collect()
}

async fn indexed<T>(index: usize, task: HostTask<'_, T>) -> (usize, T) {
    (index, task.await)
}
