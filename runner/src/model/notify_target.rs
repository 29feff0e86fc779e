//! A checked place to announce runs to, from a `notify:` list.

use std::time::Duration;

/// What is worth announcing about a workflow in an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotifyEvent {
    /// It failed, after succeeding (or for the first time).
    Failure,
    /// A drift check found the swarm differs from git.
    Drift,
    /// It succeeded after a failure or drift was announced.
    Recovery,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 3] = [
        NotifyEvent::Failure,
        NotifyEvent::Drift,
        NotifyEvent::Recovery,
    ];

    /// Its name in `on:` and in the JSON body.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::Failure => "failure",
            NotifyEvent::Drift => "drift",
            NotifyEvent::Recovery => "recovery",
        }
    }

    pub fn parse(text: &str) -> Option<NotifyEvent> {
        NotifyEvent::ALL
            .into_iter()
            .find(|event| event.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    pub channel: NotifyChannel,
    /// The events it wants, never empty.
    pub events: Vec<NotifyEvent>,
    /// How long one try may take.
    pub timeout: Duration,
}

/// Where a message goes. URLs and keys are named secrets of the environment, read only
/// when a message is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyChannel {
    Webhook {
        url_secret: String,
        key_secret: Option<String>,
    },
    Slack {
        url_secret: String,
    },
    Command {
        argv: Vec<String>,
    },
}

impl NotifyChannel {
    /// How logs and `shoal runs show` name it: never a URL.
    pub fn name(&self) -> String {
        match self {
            NotifyChannel::Webhook { url_secret, .. } => format!("notify webhook ({url_secret})"),
            NotifyChannel::Slack { url_secret } => format!("notify slack ({url_secret})"),
            NotifyChannel::Command { argv } => {
                format!("notify command {}", argv.first().map_or("", String::as_str))
            }
        }
    }

    /// The secrets it reads.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            NotifyChannel::Webhook {
                url_secret,
                key_secret,
            } => std::iter::once(url_secret.as_str())
                .chain(key_secret.as_deref())
                .collect(),
            NotifyChannel::Slack { url_secret } => vec![url_secret],
            NotifyChannel::Command { .. } => Vec::new(),
        }
    }
}
