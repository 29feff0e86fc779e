//! From a finished run to its notifications: each environment's outcome against what was
//! remembered of it gives its event (see [`decide`]); each target that wants some of the
//! events gets one message for the whole run, never one per environment. Pure: what was
//! remembered comes in, what to remember goes out.

use std::collections::HashMap;

use super::condition::{Condition, Outcome, decide};
use super::event_body::EventBody;
use crate::model::{ConfigRepo, NotifyEvent, NotifyTarget};
use crate::store::RunRecord;

/// How one environment of the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentResult {
    pub environment: String,
    pub outcome: Outcome,
    pub summary: String,
}

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub target: NotifyTarget,
    /// The environment whose secrets the target's URL and key are read from: the first
    /// of the message that the target serves.
    pub secrets_of: String,
    pub body: EventBody,
}

/// What a finished run comes to.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunAnnouncement {
    /// The conditions that changed, by environment.
    pub remember: Vec<(String, Condition)>,
    pub messages: Vec<Message>,
}

/// Decides the notifications of `run`, whose environments ended as `results`;
/// `remembered` holds each environment's condition for this workflow, and `repo` is the
/// config at the run's commit (its targets: `shoal.yml`'s, the environment's, the
/// workflow's).
pub fn announce_run<'run>(
    run: &RunRecord,
    results: &'run [EnvironmentResult],
    remembered: &HashMap<String, Condition>,
    repo: Option<&ConfigRepo>,
    url: Option<String>,
) -> RunAnnouncement {
    let mut announcement = RunAnnouncement::default();
    let mut events: Vec<(&'run str, NotifyEvent, String)> = Vec::new();
    for result in results {
        let decision = decide(remembered.get(&result.environment).copied(), result.outcome);
        if let Some(condition) = decision.remember {
            announcement
                .remember
                .push((result.environment.clone(), condition));
        }
        if let Some(event) = decision.announce {
            events.push((&result.environment, event, result.summary.clone()));
        }
    }
    let Some(repo) = repo else {
        return announcement;
    };
    if events.is_empty() {
        return announcement;
    }
    // Each target with the environments it serves; the same target written in two places
    // is one target.
    let mut targets: Vec<(NotifyTarget, Vec<&str>)> = Vec::new();
    let mut add = |target: &NotifyTarget, environment: &'run str| match targets
        .iter_mut()
        .find(|(known, _)| known == target)
    {
        Some((_, environments)) if !environments.contains(&environment) => {
            environments.push(environment);
        }
        Some(_) => {}
        None => targets.push((target.clone(), vec![environment])),
    };
    let workflow = repo.workflow(&run.workflow);
    for (environment, _, _) in &events {
        let own = repo
            .environment(environment)
            .map(|e| e.notify.as_slice())
            .unwrap_or_default();
        let of_workflow = workflow.map(|w| w.notify.as_slice()).unwrap_or_default();
        for target in repo.notify.iter().chain(own).chain(of_workflow) {
            add(target, environment);
        }
    }
    for (target, environments) in targets {
        let wanted: Vec<(String, NotifyEvent, String)> = events
            .iter()
            .filter(|(environment, event, _)| {
                environments.contains(environment) && target.events.contains(event)
            })
            .map(|(environment, event, summary)| {
                ((*environment).to_owned(), *event, summary.clone())
            })
            .collect();
        let Some((first, _, _)) = wanted.first() else {
            continue;
        };
        announcement.messages.push(Message {
            secrets_of: first.clone(),
            body: EventBody::new(run, &wanted, url.clone()),
            target,
        });
    }
    announcement
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{MemoryFiles, load_repo};
    use crate::store::RunStatus;

    fn repo() -> ConfigRepo {
        let files = MemoryFiles::new()
            .with(
                "shoal.yml",
                "notify:\n  - command: { argv: [/bin/all] }\nenvironments:\n  staging: {}\n  prod:\n    secrets: { HOOK: { env: PROD_HOOK } }\n    notify:\n      - slack: { url_secret: HOOK }\n        on: [failure]\n",
            )
            .with("c.yml", "services: {}\n")
            .with(
                "workflows/deploy.yml",
                "notify:\n  - command: { argv: [/bin/deploy] }\n    on: [recovery]\nsteps:\n  - stack: { name: web, compose: c.yml }\n",
            );
        let (repo, diagnostics) = load_repo(&files);
        repo.unwrap_or_else(|| panic!("{diagnostics:?}"))
    }

    fn run(status: RunStatus) -> RunRecord {
        RunRecord {
            id: 7,
            workflow: "deploy".into(),
            environments: vec!["staging".into(), "prod".into()],
            mode: "apply".into(),
            event: "schedule".into(),
            commit: "abcdef0".into(),
            actor: "shoal".into(),
            status,
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            summary: String::new(),
            rollback_from: None,
        }
    }

    fn result(environment: &str, outcome: Outcome) -> EnvironmentResult {
        EnvironmentResult {
            environment: environment.into(),
            outcome,
            summary: format!("{environment} {outcome:?}"),
        }
    }

    /// Each message as `program-or-channel: event [environments]`.
    fn shown(announcement: &RunAnnouncement) -> Vec<String> {
        announcement
            .messages
            .iter()
            .map(|message| {
                let names: Vec<&str> = message
                    .body
                    .environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect();
                format!(
                    "{}: {} [{}]",
                    message.target.channel.name(),
                    message.body.event,
                    names.join(",")
                )
            })
            .collect()
    }

    #[test]
    fn one_message_per_target_for_the_whole_run() {
        let repo = repo();
        let announcement = announce_run(
            &run(RunStatus::Failure),
            &[
                result("staging", Outcome::Failed),
                result("prod", Outcome::Failed),
            ],
            &HashMap::new(),
            Some(&repo),
            None,
        );
        assert_eq!(
            shown(&announcement),
            [
                "notify command /bin/all: failure [staging,prod]",
                "notify slack (HOOK): failure [prod]",
            ]
        );
        assert_eq!(announcement.messages[1].secrets_of, "prod");
        assert_eq!(
            announcement.remember,
            [
                ("staging".to_owned(), Condition::Failing),
                ("prod".to_owned(), Condition::Failing)
            ]
        );
    }

    #[test]
    fn a_failure_already_announced_sends_nothing_and_its_recovery_goes_where_asked() {
        let repo = repo();
        let failing: HashMap<String, Condition> = [
            ("staging".to_owned(), Condition::Failing),
            ("prod".to_owned(), Condition::Failing),
        ]
        .into();
        let again = announce_run(
            &run(RunStatus::Failure),
            &[
                result("staging", Outcome::Failed),
                result("prod", Outcome::Failed),
            ],
            &failing,
            Some(&repo),
            None,
        );
        assert_eq!(again, RunAnnouncement::default());
        let recovered = announce_run(
            &run(RunStatus::Success),
            &[
                result("staging", Outcome::Succeeded),
                result("prod", Outcome::Succeeded),
            ],
            &failing,
            Some(&repo),
            None,
        );
        assert_eq!(
            shown(&recovered),
            [
                "notify command /bin/all: recovery [staging,prod]",
                "notify command /bin/deploy: recovery [staging,prod]",
            ],
            "slack asked for failures only"
        );
    }

    #[test]
    fn without_the_config_the_conditions_are_still_remembered() {
        let announcement = announce_run(
            &run(RunStatus::Failure),
            &[result("prod", Outcome::DriftFound)],
            &HashMap::new(),
            None,
            None,
        );
        assert!(announcement.messages.is_empty());
        assert_eq!(
            announcement.remember,
            [("prod".to_owned(), Condition::Drifted)]
        );
    }
}
