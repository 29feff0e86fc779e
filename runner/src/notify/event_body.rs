//! What a notification says: the JSON body a webhook and a command receive (documented in
//! docs/config-format.md), the text of a Slack-compatible message, and the HMAC-SHA256
//! signature of a webhook's body. Pure.

use hmac::{Hmac, Mac as _};
use serde::Serialize;
use sha2::Sha256;

use crate::model::NotifyEvent;
use crate::store::RunRecord;

/// The header that carries a webhook body's signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Shoal-Signature-256";
/// The header that names the event (`failure`, `drift`, `recovery`).
pub const EVENT_HEADER: &str = "X-Shoal-Event";

/// The JSON body of a notification: one per run and target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventBody {
    /// The body's format; 1 for this one.
    pub version: u32,
    /// The most serious event of its environments: failure, then drift, then recovery.
    pub event: &'static str,
    pub run: RunSummary,
    /// The environments the event is about, each with its own event.
    pub environments: Vec<EnvironmentEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub workflow: String,
    /// What started it: push, schedule, dispatch...
    pub trigger: String,
    /// apply, drift_check...
    pub mode: String,
    pub commit: String,
    pub actor: String,
    pub status: &'static str,
    pub summary: String,
    /// The run's page, when the daemon knows its public URL.
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentEvent {
    pub name: String,
    pub event: &'static str,
    /// One line: the error, the drift, what was applied.
    pub summary: String,
}

impl EventBody {
    /// The body for `run`, about `environments` (each with its event and summary).
    pub fn new(
        run: &RunRecord,
        environments: &[(String, NotifyEvent, String)],
        url: Option<String>,
    ) -> EventBody {
        let headline = environments
            .iter()
            .map(|(_, event, _)| *event)
            .min()
            .unwrap_or(NotifyEvent::Recovery);
        EventBody {
            version: 1,
            event: headline.as_str(),
            run: RunSummary {
                id: run.id,
                workflow: run.workflow.clone(),
                trigger: run.event.clone(),
                mode: run.mode.clone(),
                commit: run.commit.clone(),
                actor: run.actor.clone(),
                status: run.status.as_str(),
                summary: run.summary.clone(),
                url,
            },
            environments: environments
                .iter()
                .map(|(name, event, summary)| EnvironmentEvent {
                    name: name.clone(),
                    event: event.as_str(),
                    summary: summary.clone(),
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A Slack-compatible incoming webhook's body: `text`, one line per environment.
    pub fn slack_body(&self) -> Vec<u8> {
        let short = &self.run.commit[..self.run.commit.len().min(7)];
        let mut text = format!(
            "shoal: {} {} (run {}, commit {short})",
            self.run.workflow,
            match self.event {
                "failure" => "failed",
                "drift" => "found drift",
                _ => "recovered",
            },
            self.run.id,
        );
        if let Some(url) = &self.run.url {
            text = format!("{text} <{url}|run {}>", self.run.id);
        }
        for environment in &self.environments {
            text.push_str(&format!(
                "\n• {}: {} — {}",
                environment.name, environment.event, environment.summary
            ));
        }
        serde_json::to_vec(&serde_json::json!({ "text": text })).unwrap_or_default()
    }

    /// The `SHOAL_*` variables a command target gets besides the body on its input.
    pub fn variables(&self) -> Vec<(String, String)> {
        let names: Vec<&str> = self.environments.iter().map(|e| e.name.as_str()).collect();
        vec![
            ("SHOAL_EVENT".into(), self.event.into()),
            ("SHOAL_RUN_ID".into(), self.run.id.to_string()),
            ("SHOAL_WORKFLOW".into(), self.run.workflow.clone()),
            ("SHOAL_ENVIRONMENTS".into(), names.join(",")),
            ("SHOAL_COMMIT".into(), self.run.commit.clone()),
            ("SHOAL_RUN_STATUS".into(), self.run.status.into()),
            (
                "SHOAL_RUN_URL".into(),
                self.run.url.clone().unwrap_or_default(),
            ),
        ]
    }
}

/// `sha256=<hex>` of `body` under `key`: the value of [`SIGNATURE_HEADER`].
pub fn signature(key: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::RunStatus;

    fn run() -> RunRecord {
        RunRecord {
            id: 12,
            workflow: "deploy".into(),
            environments: vec!["staging".into(), "prod".into()],
            mode: "apply".into(),
            event: "schedule".into(),
            commit: "0123456789abcdef".into(),
            actor: "shoal".into(),
            status: RunStatus::Failure,
            created_at: String::new(),
            started_at: None,
            finished_at: None,
            summary: "prod: image not found".into(),
            rollback_from: None,
        }
    }

    #[test]
    fn the_body_leads_with_the_most_serious_event() {
        let body = EventBody::new(
            &run(),
            &[
                (
                    "staging".into(),
                    NotifyEvent::Recovery,
                    "Applied 1 change".into(),
                ),
                (
                    "prod".into(),
                    NotifyEvent::Failure,
                    "image not found".into(),
                ),
            ],
            Some("https://shoal.example.org/runs/12".into()),
        );
        let json: serde_json::Value = serde_json::from_slice(&body.to_json()).expect("JSON");
        assert_eq!(
            json,
            serde_json::json!({
                "version": 1,
                "event": "failure",
                "run": {
                    "id": 12, "workflow": "deploy", "trigger": "schedule", "mode": "apply",
                    "commit": "0123456789abcdef", "actor": "shoal", "status": "failure",
                    "summary": "prod: image not found",
                    "url": "https://shoal.example.org/runs/12"
                },
                "environments": [
                    {"name": "staging", "event": "recovery", "summary": "Applied 1 change"},
                    {"name": "prod", "event": "failure", "summary": "image not found"}
                ]
            })
        );
        let slack: serde_json::Value = serde_json::from_slice(&body.slack_body()).expect("JSON");
        assert_eq!(
            slack["text"],
            "shoal: deploy failed (run 12, commit 0123456) <https://shoal.example.org/runs/12|run 12>\n• staging: recovery — Applied 1 change\n• prod: failure — image not found"
        );
    }

    #[test]
    fn the_signature_is_github_style_hmac_sha256() {
        // The example of GitHub's documentation on validating webhook deliveries.
        assert_eq!(
            signature(b"It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert!(crate::webhook::signature_is_valid(
            b"key",
            b"{}",
            Some(&signature(b"key", b"{}"))
        ));
    }
}
