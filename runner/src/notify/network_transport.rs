//! The real [`Transport`]: a POST over hyper and rustls, or a program run without a
//! shell. Each try has its timeout; the program is killed when it runs out. A URL is a
//! secret: errors name the target's answer or the transport's failure, and any text that
//! would quote the URL has it replaced.

use std::process::Stdio;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request as HttpRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::io::AsyncWriteExt as _;

use super::delivery::{Request, Transport, TryError, TryFuture};
use crate::secret_text::SecretText;

/// How much of a program's standard error an error quotes.
const QUOTED_ERROR: usize = 300;

pub struct NetworkTransport {
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Default for NetworkTransport {
    fn default() -> NetworkTransport {
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let builder = match builder.with_native_roots() {
            Ok(native) => native,
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots(),
        };
        let connector = builder.https_or_http().enable_http1().build();
        NetworkTransport {
            http: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

impl Transport for NetworkTransport {
    fn try_once<'a>(&'a self, request: &'a Request, timeout: Duration) -> TryFuture<'a> {
        Box::pin(async move {
            let attempt = async {
                match request {
                    Request::Post { url, body, headers } => self.post(url, body, headers).await,
                    Request::Command {
                        argv,
                        stdin,
                        variables,
                    } => run_command(argv, stdin, variables).await,
                }
            };
            tokio::time::timeout(timeout, attempt)
                .await
                .unwrap_or_else(|_| {
                    Err(TryError::Retry(format!(
                        "no answer within {}",
                        humantime::format_duration(timeout)
                    )))
                })
        })
    }
}

impl NetworkTransport {
    async fn post(
        &self,
        url: &SecretText,
        body: &[u8],
        headers: &[(&'static str, String)],
    ) -> Result<(), TryError> {
        let hidden = |text: String| text.replace(url.expose(), "(the secret URL)");
        let mut request = HttpRequest::builder()
            .method(Method::POST)
            .uri(url.expose())
            .header("content-type", "application/json")
            .header("user-agent", concat!("shoal/", env!("CARGO_PKG_VERSION")));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_vec())))
            .map_err(|_| TryError::GiveUp("the URL in the secret is not a valid URL".into()))?;
        let response = self
            .http
            .request(request)
            .await
            .map_err(|error| TryError::Retry(hidden(error_chain(&error))))?;
        let status = response.status().as_u16();
        let answer = response
            .into_body()
            .collect()
            .await
            .map(|body| body.to_bytes())
            .unwrap_or_default();
        let answer: String = String::from_utf8_lossy(&answer).chars().take(200).collect();
        match status {
            200..=299 => Ok(()),
            408 | 429 | 500.. => Err(TryError::Retry(hidden(format!(
                "answered {status}: {answer}"
            )))),
            _ => Err(TryError::GiveUp(hidden(format!(
                "answered {status}: {answer}"
            )))),
        }
    }
}

/// Runs `argv` with `stdin` on its input; the program is killed if the try's timeout
/// drops this future.
async fn run_command(
    argv: &[String],
    stdin: &[u8],
    variables: &[(String, String)],
) -> Result<(), TryError> {
    let Some((program, arguments)) = argv.split_first() else {
        return Err(TryError::GiveUp("the command has no program".into()));
    };
    let mut child = tokio::process::Command::new(program)
        .args(arguments)
        .envs(variables.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| TryError::GiveUp(format!("cannot run {program}: {error}")))?;
    if let Some(mut input) = child.stdin.take() {
        // A program that does not read its input is not a failure.
        let _ = input.write_all(stdin).await;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|error| TryError::Retry(format!("{program}: {error}")))?;
    if output.status.success() {
        return Ok(());
    }
    let error = String::from_utf8_lossy(&output.stderr);
    let error: String = error.trim().chars().take(QUOTED_ERROR).collect();
    Err(TryError::Retry(format!(
        "{program} exited with {}: {error}",
        output.status
    )))
}

/// An error and its causes on one line: hyper's own message alone says little.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
