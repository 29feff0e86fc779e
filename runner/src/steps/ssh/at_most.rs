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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    async fn task(index: usize, active: &AtomicUsize, most: &AtomicUsize) -> usize {
        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
        most.fetch_max(now, Ordering::SeqCst);
        // Later tasks end sooner: results still come back in the tasks' order.
        tokio::time::sleep(Duration::from_secs(10 - index as u64)).await;
        active.fetch_sub(1, Ordering::SeqCst);
        index
    }

    #[tokio::test(start_paused = true)]
    async fn runs_at_most_the_limit_at_once_and_keeps_the_order() {
        let (active, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let tasks: Vec<HostTask<'_, usize>> = (0..5)
            .map(|index| Box::pin(task(index, &active, &most)) as HostTask<'_, usize>)
            .collect();
        assert_eq!(at_most(2, tasks).await, vec![0, 1, 2, 3, 4]);
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}
