//! Asking a running apply to stop at its next safe point: before a step starts, or while
//! it waits (for services to converge, for a URL). A write already sent is never cut off.

use tokio::sync::watch;

/// The side that asks: the daemon, on `POST /api/v1/runs/{id}/cancel`.
#[derive(Debug, Clone)]
pub struct CancelHandle(std::sync::Arc<watch::Sender<bool>>);

/// The side that listens: the applier.
#[derive(Debug, Clone)]
pub struct CancelSignal(watch::Receiver<bool>);

/// A new pair: the signal is raised once the handle cancels.
pub fn cancel_pair() -> (CancelHandle, CancelSignal) {
    let (sender, receiver) = watch::channel(false);
    (
        CancelHandle(std::sync::Arc::new(sender)),
        CancelSignal(receiver),
    )
}

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

impl CancelSignal {
    /// A signal that is never raised.
    pub fn never() -> CancelSignal {
        cancel_pair().1
    }

    pub fn is_raised(&self) -> bool {
        *self.0.borrow()
    }

    /// Sleeps for `duration`; returns `false` at once if the signal is raised meanwhile.
    pub async fn sleep(&mut self, duration: std::time::Duration) -> bool {
        if self.is_raised() {
            return false;
        }
        let deadline = tokio::time::Instant::now() + duration;
        let raised = tokio::select! {
            () = tokio::time::sleep_until(deadline) => None,
            raised = self.0.wait_for(|raised| *raised) => Some(raised.is_ok()),
        };
        match raised {
            None => !self.is_raised(),
            Some(true) => false,
            Some(false) => {
                // Every handle is gone: nobody can cancel any more.
                tokio::time::sleep_until(deadline).await;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_raised_signal_cuts_a_sleep_short() {
        let (handle, mut signal) = cancel_pair();
        assert!(signal.sleep(std::time::Duration::from_millis(10)).await);
        let waiting = tokio::spawn(async move {
            let slept = signal.sleep(std::time::Duration::from_secs(3600)).await;
            (slept, signal.is_raised())
        });
        tokio::task::yield_now().await;
        handle.cancel();
        assert_eq!(waiting.await.expect("task"), (false, true));
    }

    #[test]
    fn a_signal_without_handle_is_never_raised() {
        assert!(!CancelSignal::never().is_raised());
    }
}
