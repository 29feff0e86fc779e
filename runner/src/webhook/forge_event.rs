//! The webhook payloads of GitHub (push, pull_request, ping) and Gitea/Forgejo (push),
//! read into what the runner needs. Unknown events and actions are ignored, with a reason.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForgeEvent {
    /// A new head on a branch. The changed files come from git, not the payload, which
    /// lists at most a few thousand commits.
    Push {
        branch: String,
        after: String,
        actor: String,
    },
    /// Opened, updated or reopened: plan its head.
    PullRequest {
        number: u64,
        base_branch: String,
        head_commit: String,
        actor: String,
    },
    Ping,
    Ignored {
        reason: String,
    },
}

#[derive(Deserialize)]
struct PushPayload {
    #[serde(rename = "ref")]
    reference: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    #[serde(default)]
    pusher: Option<Person>,
    #[serde(default)]
    sender: Option<Person>,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    action: String,
    number: u64,
    pull_request: PullRequest,
    #[serde(default)]
    sender: Option<Person>,
}

#[derive(Deserialize)]
struct PullRequest {
    base: Branch,
    head: Commit,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(rename = "ref")]
    reference: String,
}

#[derive(Deserialize)]
struct Commit {
    sha: String,
}

/// GitHub sends `login` for senders and `name` for pushers; Gitea sends `login` and
/// `username`.
#[derive(Deserialize)]
struct Person {
    #[serde(default)]
    login: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

impl Person {
    fn display(&self) -> String {
        self.login
            .clone()
            .or_else(|| self.username.clone())
            .or_else(|| self.name.clone())
            .unwrap_or_default()
    }
}

/// Reads a delivery by its event name (`X-GitHub-Event`, `X-Gitea-Event` or
/// `X-Forgejo-Event`). An error names what is wrong with the body.
pub fn parse_forge_event(event: &str, body: &[u8]) -> Result<ForgeEvent, String> {
    match event {
        "ping" => Ok(ForgeEvent::Ping),
        "push" => {
            let payload: PushPayload = serde_json::from_slice(body)
                .map_err(|error| format!("not a push payload: {error}"))?;
            let Some(branch) = payload.reference.strip_prefix("refs/heads/") else {
                return Ok(ForgeEvent::Ignored {
                    reason: format!("push to {}, not a branch", payload.reference),
                });
            };
            if payload.deleted || payload.after.chars().all(|c| c == '0') {
                return Ok(ForgeEvent::Ignored {
                    reason: format!("branch {branch} was deleted"),
                });
            }
            let actor = payload
                .sender
                .or(payload.pusher)
                .map(|p| p.display())
                .unwrap_or_default();
            Ok(ForgeEvent::Push {
                branch: branch.to_owned(),
                after: payload.after,
                actor,
            })
        }
        "pull_request" => {
            let payload: PullRequestPayload = serde_json::from_slice(body)
                .map_err(|error| format!("not a pull_request payload: {error}"))?;
            if !matches!(
                payload.action.as_str(),
                "opened" | "synchronize" | "reopened"
            ) {
                return Ok(ForgeEvent::Ignored {
                    reason: format!("pull request action `{}`", payload.action),
                });
            }
            Ok(ForgeEvent::PullRequest {
                number: payload.number,
                base_branch: payload.pull_request.base.reference,
                head_commit: payload.pull_request.head.sha,
                actor: payload.sender.map(|p| p.display()).unwrap_or_default(),
            })
        }
        other => Ok(ForgeEvent::Ignored {
            reason: format!("event `{other}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(event: &str, body: serde_json::Value) -> ForgeEvent {
        parse_forge_event(event, body.to_string().as_bytes()).expect("parses")
    }

    #[test]
    fn github_push_and_pull_request() {
        // Trimmed from the payloads GitHub documents: extra fields are ignored.
        let push = json!({ "ref": "refs/heads/main", "before": "a1", "after": "b2c3", "created": false, "deleted": false,
            "forced": false, "commits": [], "pusher": { "name": "octocat", "email": "o@example.com" },
            "sender": { "login": "octocat", "id": 1 }, "repository": { "full_name": "o/infra" } });
        assert_eq!(
            parse("push", push),
            ForgeEvent::Push {
                branch: "main".into(),
                after: "b2c3".into(),
                actor: "octocat".into()
            }
        );
        let opened = json!({ "action": "opened", "number": 7, "pull_request": { "number": 7,
            "base": { "ref": "main", "sha": "a1" }, "head": { "ref": "feature", "sha": "d4" } }, "sender": { "login": "hubot" } });
        assert_eq!(
            parse("pull_request", opened),
            ForgeEvent::PullRequest {
                number: 7,
                base_branch: "main".into(),
                head_commit: "d4".into(),
                actor: "hubot".into()
            }
        );
        let closed = json!({ "action": "closed", "number": 7, "pull_request": { "base": { "ref": "main" }, "head": { "sha": "d4" } } });
        assert_eq!(
            parse("pull_request", closed),
            ForgeEvent::Ignored {
                reason: "pull request action `closed`".into()
            }
        );
        assert_eq!(
            parse("ping", json!({ "zen": "Keep it logically awesome." })),
            ForgeEvent::Ping
        );
    }

    #[test]
    fn gitea_push_tags_and_deletions() {
        let gitea = json!({ "ref": "refs/heads/main", "before": "a1", "after": "e5", "commits": [],
            "pusher": { "login": "gitea-user", "username": "gitea-user" }, "sender": { "login": "gitea-user", "username": "gitea-user" } });
        assert_eq!(
            parse("push", gitea),
            ForgeEvent::Push {
                branch: "main".into(),
                after: "e5".into(),
                actor: "gitea-user".into()
            }
        );
        let tag = json!({ "ref": "refs/tags/v1", "after": "e5" });
        assert_eq!(
            parse("push", tag),
            ForgeEvent::Ignored {
                reason: "push to refs/tags/v1, not a branch".into()
            }
        );
        let deleted = json!({ "ref": "refs/heads/old", "after": "0000000000000000000000000000000000000000", "deleted": true });
        assert_eq!(
            parse("push", deleted),
            ForgeEvent::Ignored {
                reason: "branch old was deleted".into()
            }
        );
        assert!(
            parse_forge_event("push", b"{not json")
                .expect_err("refused")
                .starts_with("not a push payload")
        );
    }
}
