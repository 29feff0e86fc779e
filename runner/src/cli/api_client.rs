//! The daemon's HTTP API as `shoal dispatch` and `shoal cancel` reach it: one request over
//! plain HTTP (the API listens on a private address, or behind a TLS proxy), with a
//! timeout, and the bearer token from `--api-token-file` or `SHOAL_API_TOKEN`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

use super::secret_input::secret;

/// How long the daemon may take to answer one call.
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// The daemon's API (`shoal serve --listen`).
    #[arg(
        long,
        env = "SHOAL_SERVER",
        default_value = "http://127.0.0.1:8080",
        value_name = "URL"
    )]
    server: String,
    /// File holding the API token (or SHOAL_API_TOKEN), as given to `shoal serve`.
    #[arg(long, value_name = "FILE")]
    api_token_file: Option<PathBuf>,
}

pub struct ApiClient {
    authority: String,
    token: Option<String>,
}

impl ApiClient {
    pub fn new(args: &ApiArgs) -> anyhow::Result<ApiClient> {
        let authority = args
            .server
            .strip_prefix("http://")
            .map(|rest| rest.trim_end_matches('/'))
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--server `{}`: give the API's address as http://HOST:PORT",
                    args.server
                )
            })?
            .to_owned();
        let token = secret(args.api_token_file.as_ref(), "SHOAL_API_TOKEN")?;
        Ok(ApiClient { authority, token })
    }

    /// Sends one request; returns the response with its body unread.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.authority)
            .header(hyper::header::USER_AGENT, "shoal");
        if let Some(token) = &self.token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(json) => {
                request = request.header(hyper::header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(json.to_string()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body)?;
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(&self.authority).await?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            anyhow::Ok(sender.send_request(request).await?)
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the daemon at http://{} did not answer within {} s",
                    self.authority,
                    TIMEOUT.as_secs()
                )
            })?
            .with_context(|| format!("cannot reach the daemon at http://{}", self.authority))
    }

    /// Sends one request and reads the whole answer: its status and body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> anyhow::Result<(u16, String)> {
        let response = self.send(method, path, body).await?;
        let status = response.status().as_u16();
        let bytes = tokio::time::timeout(TIMEOUT, response.into_body().collect())
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "the daemon's answer did not arrive within {} s",
                    TIMEOUT.as_secs()
                )
            })??
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Copies run `id`'s log to standard output, following it until the run ends.
    pub async fn follow_log(&self, id: i64) -> anyhow::Result<()> {
        use std::io::Write as _;
        let response = self
            .send(Method::GET, &format!("/api/v1/runs/{id}/logs"), None)
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "cannot read the log of run {id}: {}",
            response.status()
        );
        let mut body = response.into_body();
        let mut out = std::io::stdout().lock();
        // No timeout here: a run may stay quiet for long, and the daemon ends the body.
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                out.write_all(&data)?;
                out.flush()?;
            }
        }
        Ok(())
    }
}
