//! The pure decision at the heart of notifications: given what the last announced state
//! of a workflow in an environment was and how this run ended there, what to announce and
//! what to remember. A failure that repeats on every schedule is announced once; the
//! success after it is announced as a recovery; a success after a success says nothing.

use crate::model::NotifyEvent;

/// What a workflow's runs in an environment last left it in, as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Healthy,
    Failing,
    Drifted,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Healthy => "healthy",
            Condition::Failing => "failing",
            Condition::Drifted => "drifted",
        }
    }

    pub fn parse(text: &str) -> Option<Condition> {
        [Condition::Healthy, Condition::Failing, Condition::Drifted]
            .into_iter()
            .find(|condition| condition.as_str() == text)
    }
}

/// How one environment of a run ended, as far as notifications care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
    /// A drift check found the swarm differs from git.
    DriftFound,
    /// Cancelled, skipped, interrupted, or a plan only: it says nothing about the
    /// environment, so nothing changes.
    Inconclusive,
}

/// What to announce (if anything) and the condition to remember (`None`: keep the one
/// there is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub announce: Option<NotifyEvent>,
    pub remember: Option<Condition>,
}

/// Decides for one environment. `previous` is `None` when nothing was ever remembered,
/// which counts as healthy: a first success is not a recovery.
pub fn decide(previous: Option<Condition>, outcome: Outcome) -> Decision {
    let previous = previous.unwrap_or(Condition::Healthy);
    let (announce, now) = match outcome {
        Outcome::Inconclusive => {
            return Decision {
                announce: None,
                remember: None,
            };
        }
        Outcome::Succeeded => (
            (previous != Condition::Healthy).then_some(NotifyEvent::Recovery),
            Condition::Healthy,
        ),
        Outcome::Failed => (
            (previous != Condition::Failing).then_some(NotifyEvent::Failure),
            Condition::Failing,
        ),
        Outcome::DriftFound => (
            (previous != Condition::Drifted).then_some(NotifyEvent::Drift),
            Condition::Drifted,
        ),
    };
    Decision {
        announce,
        remember: (now != previous).then_some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `outcomes` one after the other from nothing remembered; what each announced.
    fn check(outcomes: &[Outcome], expected: &[Option<NotifyEvent>]) {
        let mut remembered = None;
        let mut announced = Vec::new();
        for outcome in outcomes {
            let decision = decide(remembered, *outcome);
            announced.push(decision.announce);
            if let Some(condition) = decision.remember {
                remembered = Some(condition);
            }
        }
        assert_eq!(announced, expected, "{outcomes:?}");
    }

    use NotifyEvent::{Drift, Failure, Recovery};
    use Outcome::{DriftFound, Failed, Inconclusive, Succeeded};

    #[test]
    fn a_failure_repeated_on_every_schedule_is_announced_once_then_its_recovery() {
        check(
            &[Failed, Failed, Failed, Succeeded, Succeeded],
            &[Some(Failure), None, None, Some(Recovery), None],
        );
    }

    #[test]
    fn a_first_success_is_no_recovery() {
        check(&[Succeeded, Succeeded], &[None, None]);
    }

    #[test]
    fn drift_is_announced_once_and_a_failure_after_it_is_news() {
        check(
            &[
                DriftFound, DriftFound, Failed, Failed, DriftFound, Succeeded,
            ],
            &[
                Some(Drift),
                None,
                Some(Failure),
                None,
                Some(Drift),
                Some(Recovery),
            ],
        );
    }

    #[test]
    fn cancelled_or_planned_runs_neither_announce_nor_forget() {
        check(
            &[Failed, Inconclusive, Failed, Inconclusive, Succeeded],
            &[Some(Failure), None, None, None, Some(Recovery)],
        );
        assert_eq!(
            decide(Some(Condition::Failing), Inconclusive),
            Decision {
                announce: None,
                remember: None
            }
        );
    }

    #[test]
    fn only_changes_are_written() {
        assert_eq!(decide(Some(Condition::Healthy), Succeeded).remember, None);
        assert_eq!(decide(None, Succeeded).remember, None);
        assert_eq!(
            decide(Some(Condition::Drifted), Succeeded).remember,
            Some(Condition::Healthy)
        );
        for condition in [Condition::Healthy, Condition::Failing, Condition::Drifted] {
            assert_eq!(Condition::parse(condition.as_str()), Some(condition));
        }
    }
}
