//! How a `wait` step is planned: it changes nothing, but a URL it cannot wait for yet is
//! refused before anything is applied, not when the step is reached.

use super::WaitTarget;
use crate::plan::StepPlan;

pub fn plan(wait: &WaitTarget, plan: &mut StepPlan) {
    if let Some(url) = wait.url.as_ref().filter(|url| url.starts_with("https://")) {
        plan.problems.push(format!(
            "waiting for `{url}` is not implemented yet: only http:// URLs are waited for"
        ));
    }
}
