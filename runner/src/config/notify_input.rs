//! The `notify:` lists of `shoal.yml` (at the top, for every environment, and per
//! environment) and of workflows: where shoal announces failures, drift and recoveries.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::yaml::Spanned;

/// One place to announce to: exactly one of `webhook`, `slack` and `command`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyTargetInput {
    /// A generic webhook: the event as JSON, POSTed and signed with HMAC-SHA256.
    #[serde(default)]
    pub webhook: Option<WebhookInput>,
    /// A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat).
    #[serde(default)]
    pub slack: Option<SlackInput>,
    /// A program, given the event as JSON on its standard input and in `SHOAL_*` variables.
    #[serde(default)]
    pub command: Option<CommandInput>,
    /// Which events: `failure`, `drift`, `recovery` (default: all three).
    #[serde(default)]
    pub on: Option<Vec<Spanned<String>>>,
    /// How long one try may take (default `10s`).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}

/// A generic webhook.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// The secret of the environment that holds the URL (a URL may carry a token).
    pub url_secret: Spanned<String>,
    /// The secret of the environment that holds the HMAC-SHA256 key the body is signed
    /// with, in `X-Shoal-Signature-256: sha256=<hex>`.
    #[serde(default)]
    pub key_secret: Option<Spanned<String>>,
}

/// A Slack-compatible incoming webhook.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlackInput {
    /// The secret of the environment that holds the incoming webhook's URL.
    pub url_secret: Spanned<String>,
}

/// A program run on the machine shoal runs on, without a shell.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    /// The program and its arguments, e.g. `[/usr/local/bin/page-ops, --team, infra]`.
    pub argv: Spanned<Vec<String>>,
}
