//! Where and how shoal reports to GitHub: the API's base URL, the repository, the
//! credentials (an App or a token), and how deliveries are retried. Built by the CLI from
//! its options; the repository is read from the config repo's URL when it is a GitHub one.

use std::time::Duration;

use super::check_state::Conclusion;
use super::retry_policy::RetryPolicy;
use crate::secret_text::SecretText;

pub const DEFAULT_API_URL: &str = "https://api.github.com";

#[derive(Debug, Clone)]
pub struct GitHubSettings {
    /// `https://api.github.com`, or a GitHub Enterprise Server's `https://HOST/api/v3`.
    pub api_url: String,
    pub repository: Repository,
    pub credentials: Credentials,
    /// The daemon's public URL, for links from a check to its run.
    pub public_url: Option<String>,
    /// What a scheduled drift check that finds drift concludes: failure or neutral.
    pub drift_conclusion: Conclusion,
    /// How long one request may take.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

/// Who shoal is to GitHub. Only an App can write check runs; a token writes commit
/// statuses.
#[derive(Debug, Clone)]
pub enum Credentials {
    App {
        app_id: u64,
        installation_id: u64,
        /// The App's private key, PEM.
        private_key: SecretText,
    },
    Token(SecretText),
}

/// A GitHub repository, `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl Repository {
    /// `OWNER/NAME`, as given to `--github-repo`.
    pub fn parse(text: &str) -> Option<Repository> {
        let (owner, name) = text.split_once('/')?;
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (valid(owner) && valid(name)).then(|| Repository {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The repository a git URL names, when it is on `github.com` or on the host of
    /// `api_url` (a GitHub Enterprise Server): `https://github.com/o/n(.git)`,
    /// `git@github.com:o/n.git`, `ssh://git@github.com/o/n.git`.
    pub fn from_git_url(url: &str, api_url: &str) -> Option<Repository> {
        let (host, path) = if let Some(rest) = url.split_once("://").map(|(_, rest)| rest) {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
            rest.split_once('/')?
        } else {
            // scp-like: [user@]host:owner/name
            let rest = url.rsplit_once('@').map_or(url, |(_, after)| after);
            rest.split_once(':')?
        };
        let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        let api_host = api_url
            .split_once("://")
            .map_or(api_url, |(_, rest)| rest)
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let known = host == "github.com" || host == "www.github.com" || host == api_host;
        if !known {
            return None;
        }
        let path = path.trim_end_matches('/');
        Repository::parse(path.strip_suffix(".git").unwrap_or(path))
    }

    /// `/repos/OWNER/NAME`, the prefix of every path shoal calls.
    pub fn api_path(&self) -> String {
        format!("/repos/{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_is_read_from_github_urls_only() {
        let api = DEFAULT_API_URL;
        let expected = Some(Repository {
            owner: "octo-org".into(),
            name: "infra.cfg".into(),
        });
        for url in [
            "https://github.com/octo-org/infra.cfg",
            "https://github.com/octo-org/infra.cfg.git",
            "https://x-access-token:abc@github.com/octo-org/infra.cfg.git",
            "git@github.com:octo-org/infra.cfg.git",
            "ssh://git@github.com/octo-org/infra.cfg.git",
            "ssh://git@github.com:22/octo-org/infra.cfg",
        ] {
            assert_eq!(Repository::from_git_url(url, api), expected, "{url}");
        }
        for url in [
            "https://gitlab.com/octo-org/infra",
            "file:///srv/git/infra.git",
            "/srv/git/infra",
            "https://github.com/octo-org",
            "https://github.com/octo-org/infra/tree/main",
        ] {
            assert_eq!(Repository::from_git_url(url, api), None, "{url}");
        }
        assert_eq!(
            Repository::from_git_url(
                "https://ghe.example.org/ops/infra.git",
                "https://ghe.example.org/api/v3"
            ),
            Some(Repository {
                owner: "ops".into(),
                name: "infra".into()
            })
        );
    }

    #[test]
    fn owner_slash_name_is_checked() {
        assert_eq!(
            Repository::parse("ops/infra").map(|r| r.api_path()),
            Some("/repos/ops/infra".into())
        );
        for wrong in ["ops", "ops/", "/infra", "ops/infra/x", "ops/in fra"] {
            assert_eq!(Repository::parse(wrong), None, "{wrong}");
        }
    }
}
