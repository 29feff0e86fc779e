//! How a `wait` step is applied: services polled until they converge, then the URL until
//! it answers with the awaited status, each within the step's timeout.

use std::time::Duration;

use super::WaitTarget;
use super::http_probe::http_status;
use crate::apply::{Applier, ApplyError, OldTasks};
use crate::docker::DockerEngine;

pub async fn apply<E: DockerEngine>(
    applier: &mut Applier<'_, E>,
    step: &str,
    target: &WaitTarget,
) -> Result<(), ApplyError> {
    if !target.services.is_empty() {
        applier
            .converge(step, &target.services, &OldTasks::default(), target.timeout)
            .await?;
    }
    if let Some(url) = &target.url {
        let started = tokio::time::Instant::now();
        loop {
            let last = match http_status(url, Duration::from_secs(5)).await {
                Ok(status) if status == target.status => return Ok(()),
                Ok(status) => format!("{url} answered {status}, waiting for {}", target.status),
                Err(error) => error,
            };
            if started.elapsed() >= target.timeout {
                return Err(ApplyError::TimedOut {
                    step: step.to_owned(),
                    message: format!(
                        "gave up after {}: {last}",
                        humantime::format_duration(target.timeout)
                    ),
                });
            }
            if !applier.cancel_signal().sleep(Duration::from_secs(1)).await {
                return Err(ApplyError::Cancelled {
                    step: step.to_owned(),
                    waiting: true,
                    changed: Vec::new(),
                });
            }
        }
    }
    Ok(())
}
