//! The options of `shoal serve` that report runs to GitHub: a GitHub App (check runs) or a
//! token (commit statuses), the API's base URL, the repository, and how reports are
//! retried. Each has its `SHOAL_…` environment variable.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;

use super::secret_input::secret;
use crate::git::Mirror;
use crate::github::{
    CheckTracker, Conclusion, Credentials, DEFAULT_API_URL, GitHubSettings, Reporter, Repository,
    RetryPolicy,
};
use crate::load::load_repo;
use crate::secret_text::SecretText;
use crate::store::{RunRecord, Store};

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Reporting to GitHub")]
pub struct GitHubArgs {
    /// Report check runs as this GitHub App (with --github-private-key and --github-installation-id).
    #[arg(long, env = "SHOAL_GITHUB_APP_ID", value_name = "ID")]
    github_app_id: Option<u64>,
    /// The App's private key, a PEM file as GitHub hands it out.
    #[arg(long, env = "SHOAL_GITHUB_PRIVATE_KEY", value_name = "FILE")]
    github_private_key: Option<PathBuf>,
    /// The App's installation on the config repo's account.
    #[arg(long, env = "SHOAL_GITHUB_INSTALLATION_ID", value_name = "ID")]
    github_installation_id: Option<u64>,
    /// Report commit statuses with the token in this file (or SHOAL_GITHUB_TOKEN) instead of an App.
    #[arg(long, env = "SHOAL_GITHUB_TOKEN_FILE", value_name = "FILE")]
    github_token_file: Option<PathBuf>,
    /// GitHub's REST API; a GitHub Enterprise Server's is https://HOST/api/v3.
    #[arg(long, env = "SHOAL_GITHUB_API_URL", value_name = "URL", default_value = DEFAULT_API_URL)]
    github_api_url: String,
    /// The repository to report to, when --repo is not a GitHub URL.
    #[arg(long, env = "SHOAL_GITHUB_REPO", value_name = "OWNER/NAME")]
    github_repo: Option<String>,
    /// What a scheduled drift check that finds drift concludes.
    #[arg(long, env = "SHOAL_GITHUB_DRIFT_CONCLUSION", value_enum, default_value_t = DriftConclusion::Failure)]
    github_drift_conclusion: DriftConclusion,
    /// How long one call to GitHub may take.
    #[arg(long, env = "SHOAL_GITHUB_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    github_timeout: Duration,
    /// How many times a report is tried before it is given up (and shown in `shoal runs show`).
    #[arg(
        long,
        env = "SHOAL_GITHUB_ATTEMPTS",
        default_value_t = 6,
        value_name = "N"
    )]
    github_attempts: u32,
    /// The wait after the first failed try; it doubles after each, up to 5 minutes.
    #[arg(long, env = "SHOAL_GITHUB_RETRY_DELAY", default_value = "2s", value_parser = humantime::parse_duration)]
    github_retry_delay: Duration,
    /// This daemon's public URL: checks link to their run's page in its API.
    #[arg(long, env = "SHOAL_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DriftConclusion {
    Failure,
    Neutral,
}

impl GitHubArgs {
    /// The reporting settings, or `None` when neither an App nor a token is given.
    /// `repo_url` is the config repo's URL, which names the repository when it is a
    /// GitHub one.
    pub fn settings(&self, repo_url: &str) -> anyhow::Result<Option<GitHubSettings>> {
        let token = secret(self.github_token_file.as_ref(), "SHOAL_GITHUB_TOKEN")?;
        let app = (
            self.github_app_id,
            self.github_private_key.as_ref(),
            self.github_installation_id,
        );
        let credentials = match (app, token) {
            ((None, None, None), None) => return Ok(None),
            ((None, None, None), Some(token)) => Credentials::Token(SecretText::new(token)),
            ((Some(app_id), Some(key_file), Some(installation_id)), None) => {
                let private_key = secret(Some(key_file), "")?
                    .with_context(|| format!("{} is empty", key_file.display()))?;
                Credentials::App {
                    app_id,
                    installation_id,
                    private_key: SecretText::new(private_key),
                }
            }
            (_, Some(_)) => anyhow::bail!(
                "give either a GitHub App (--github-app-id) or a token (--github-token-file, SHOAL_GITHUB_TOKEN), not both"
            ),
            _ => anyhow::bail!(
                "a GitHub App needs all three of --github-app-id, --github-private-key and --github-installation-id"
            ),
        };
        let repository = match &self.github_repo {
            Some(text) => Repository::parse(text)
                .with_context(|| format!("--github-repo {text} is not OWNER/NAME"))?,
            None => Repository::from_git_url(repo_url, &self.github_api_url).with_context(|| {
                format!("{repo_url} is not a GitHub repository URL: give --github-repo OWNER/NAME to report to GitHub")
            })?,
        };
        Ok(Some(GitHubSettings {
            api_url: self.github_api_url.clone(),
            repository,
            credentials,
            public_url: self.public_url.clone(),
            drift_conclusion: match self.github_drift_conclusion {
                DriftConclusion::Failure => Conclusion::Failure,
                DriftConclusion::Neutral => Conclusion::Neutral,
            },
            request_timeout: self.github_timeout,
            retry: RetryPolicy {
                attempts: self.github_attempts.max(1),
                first_delay: self.github_retry_delay,
                max_delay: Duration::from_secs(300),
            },
        }))
    }
}

impl GitHubArgs {
    /// The daemon's public URL, for links to runs (also from notifications).
    pub fn public_url(&self) -> Option<&str> {
        self.public_url.as_deref()
    }
}

/// Starts reporting the runs of `notices` to GitHub in the background; reports that fail
/// after their retries are recorded in the store in `state`. The workflow of a pull
/// request's run is read from `mirror`, to know whether it wants a plan comment. Returns the task that ends once the notices end and the last reports are
/// delivered.
pub fn start_reporting(
    settings: GitHubSettings,
    state: &std::path::Path,
    mirror: Mirror,
    notices: tokio::sync::broadcast::Receiver<crate::daemon::RunNotice>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let store = Mutex::new(Store::open_reader(state)?);
    let wants_comment = move |run: &RunRecord| {
        run.event == "pull_request"
            && mirror
                .files_at(&run.commit)
                .ok()
                .and_then(|files| load_repo(files.as_ref()).0)
                .and_then(|repo| repo.workflow(&run.workflow).map(|w| w.pull_request_comment))
                .unwrap_or(false)
    };
    let repository = format!("{}/{}", settings.repository.owner, settings.repository.name);
    let tracker = CheckTracker::new(settings.drift_conclusion, settings.public_url.clone());
    let kind = match settings.credentials {
        Credentials::App { .. } => "check runs",
        Credentials::Token(_) => "commit statuses",
    };
    let (reporter, delivery) = Reporter::start(
        settings,
        Arc::new(move |failure| {
            let store = store.lock().unwrap_or_else(PoisonError::into_inner);
            let now = chrono::Utc::now().to_rfc3339();
            if let Err(error) =
                store.record_report_failure(failure.run_id, &failure.check, &failure.error, &now)
            {
                tracing::warn!(%error, "cannot record a failed GitHub report");
            }
        }),
    )?;
    tracing::info!(repository, kind, "reporting runs to GitHub");
    let following = tracker.follow(notices, reporter, wants_comment);
    Ok(tokio::spawn(async move {
        let _ = following.await;
        let _ = delivery.await;
    }))
}
