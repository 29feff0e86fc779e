//! Checks a `notify:` list (of `shoal.yml`, of an environment, or of a workflow) into
//! [`NotifyTarget`]s: one channel per entry, known events, a valid timeout, a command
//! with a program, and secrets that every environment the list serves declares.

use std::time::Duration;

use super::Document;
use crate::config::NotifyTargetInput;
use crate::model::{Environment, NotifyChannel, NotifyEvent, NotifyTarget};
use crate::source::{Diagnostics, Span};
use crate::yaml::{Node, Spanned};

/// How long one try of a notification may take when `timeout` is not given.
pub const DEFAULT_NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// The checked targets of `inputs`, decoded from `list` (the `notify` node, for the
/// entries' positions). `environments` are those whose secrets the targets read, as
/// `(name, declared secret names)`.
pub fn notify_targets(
    document: &Document,
    list: Option<&Node>,
    inputs: &[NotifyTargetInput],
    environments: &[(&str, Vec<&str>)],
    diagnostics: &mut Diagnostics,
) -> Vec<NotifyTarget> {
    let entries = list.and_then(Node::as_sequence).unwrap_or_default();
    let mut targets = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let span = entries
            .get(index)
            .map_or_else(|| list.map_or(document.root.span, |l| l.span), |e| e.span);
        if let Some(target) = notify_target(document, span, input, environments, diagnostics) {
            targets.push(target);
        }
    }
    targets
}

/// The secret names `environment` declares, for [`notify_targets`].
pub fn declared_secrets(environment: &Environment) -> (&str, Vec<&str>) {
    (
        environment.name.as_str(),
        environment.secrets.keys().map(String::as_str).collect(),
    )
}

fn notify_target(
    document: &Document,
    span: Span,
    input: &NotifyTargetInput,
    environments: &[(&str, Vec<&str>)],
    diagnostics: &mut Diagnostics,
) -> Option<NotifyTarget> {
    let errors_before = diagnostics.error_count();
    let mut secrets: Vec<&Spanned<String>> = Vec::new();
    let channels = [
        input.webhook.is_some(),
        input.slack.is_some(),
        input.command.is_some(),
    ];
    let channel = match (&input.webhook, &input.slack, &input.command) {
        _ if channels.iter().filter(|given| **given).count() != 1 => {
            diagnostics.push(
                document
                    .error(
                        span,
                        "a notify target needs exactly one of `webhook`, `slack` and `command`",
                    )
                    .with_help("write one target per list entry"),
            );
            None
        }
        (Some(webhook), _, _) => {
            secrets.push(&webhook.url_secret);
            secrets.extend(webhook.key_secret.as_ref());
            Some(NotifyChannel::Webhook {
                url_secret: webhook.url_secret.value.clone(),
                key_secret: webhook.key_secret.as_ref().map(|key| key.value.clone()),
            })
        }
        (_, Some(slack), _) => {
            secrets.push(&slack.url_secret);
            Some(NotifyChannel::Slack {
                url_secret: slack.url_secret.value.clone(),
            })
        }
        (_, _, Some(command)) => {
            if command
                .argv
                .value
                .first()
                .is_none_or(|program| program.is_empty())
            {
                diagnostics.push(
                    document
                        .error(command.argv.span, "a notify command needs a program")
                        .with_help("e.g. `argv: [/usr/local/bin/page-ops, --team, infra]`"),
                );
            }
            Some(NotifyChannel::Command {
                argv: command.argv.value.clone(),
            })
        }
        _ => None,
    };
    for secret in secrets {
        for (environment, declared) in environments {
            if !declared.contains(&secret.value.as_str()) {
                diagnostics.push(
                    document
                        .error(
                            secret.span,
                            format!(
                                "unknown secret `{}` of environment `{environment}`",
                                secret.value
                            ),
                        )
                        .with_help("declare it under the environment's `secrets`"),
                );
            }
        }
    }
    let mut events = Vec::new();
    match &input.on {
        None => events.extend(NotifyEvent::ALL),
        Some(names) => {
            for name in names {
                match NotifyEvent::parse(&name.value) {
                    Some(event) if !events.contains(&event) => events.push(event),
                    Some(_) => {}
                    None => diagnostics.push(
                        document
                            .error(name.span, format!("unknown notify event `{}`", name.value))
                            .with_help("use `failure`, `drift` or `recovery`"),
                    ),
                }
            }
            if names.is_empty() {
                diagnostics.push(document.error(span, "`on` names no event").with_help(
                    "use `failure`, `drift` or `recovery`, or leave `on` out for all three",
                ));
            }
        }
    }
    let timeout = match &input.timeout {
        None => DEFAULT_NOTIFY_TIMEOUT,
        Some(text) => match humantime::parse_duration(&text.value) {
            Ok(timeout) if !timeout.is_zero() => timeout,
            _ => {
                diagnostics.push(
                    document
                        .error(text.span, format!("invalid timeout `{}`", text.value))
                        .with_help("a duration such as `10s` or `1m`"),
                );
                DEFAULT_NOTIFY_TIMEOUT
            }
        },
    };
    if diagnostics.error_count() > errors_before {
        return None;
    }
    Some(NotifyTarget {
        channel: channel?,
        events,
        timeout,
    })
}

#[cfg(test)]
mod tests {
    use crate::load::{MemoryFiles, load_repo};

    /// Loads `shoal_yml` and `workflow` (as workflows/w.yml); each error as
    /// `file:line:column: message`.
    fn errors(shoal_yml: &str, workflow: &str) -> Vec<String> {
        let files = MemoryFiles::new()
            .with("shoal.yml", shoal_yml)
            .with("workflows/w.yml", workflow);
        let (_, diagnostics) = load_repo(&files);
        diagnostics
            .sorted()
            .iter()
            .map(|d| format!("{}: {}", d.location(), d.message))
            .collect()
    }

    const STEPS: &str = "steps:\n  - network: { name: n }\n";

    #[test]
    fn bad_notify_entries_are_pointed_at() {
        let shoal_yml = "\
environments:
  prod:
    secrets: { HOOK: { env: HOOK } }
    notify:
      - slack: { url_secret: HOOK }
        command: { argv: [x] }
      - webhook: { url_secret: HOOK, key_secret: KEY }
        on: [failure, storm]
        timeout: soon
notify:
  - command: { argv: [] }
";
        assert_eq!(
            errors(shoal_yml, STEPS),
            [
                "shoal.yml:5:9: a notify target needs exactly one of `webhook`, `slack` and `command`",
                "shoal.yml:7:50: unknown secret `KEY` of environment `prod`",
                "shoal.yml:8:23: unknown notify event `storm`",
                "shoal.yml:9:18: invalid timeout `soon`",
                "shoal.yml:11:22: a notify command needs a program",
            ]
        );
        // A key serde does not know stops the file's decoding, so it comes alone.
        let unknown_key = "environments: { prod: { secrets: { HOOK: { env: HOOK } } } }\nnotify:\n  - slack: { url_secret: HOOK, channel: ops }\n";
        assert_eq!(
            errors(unknown_key, STEPS),
            ["shoal.yml:3:32: unknown key `channel`"]
        );
    }

    #[test]
    fn a_workflows_targets_read_secrets_its_environments_declare() {
        let shoal_yml = "\
environments:
  staging: {}
  prod:
    secrets: { HOOK: { env: HOOK } }
";
        let workflow = format!("notify:\n  - webhook: {{ url_secret: HOOK }}\n{STEPS}");
        assert_eq!(
            errors(shoal_yml, &workflow),
            ["workflows/w.yml:2:28: unknown secret `HOOK` of environment `staging`"]
        );
        let only_prod = format!("environments: [prod]\n{workflow}");
        assert_eq!(errors(shoal_yml, &only_prod), Vec::<String>::new());
    }
}
