//! The daemon's HTTP edge: GitHub/Gitea/Forgejo webhooks, registry notifications, the
//! runs API (with live logs), dispatch, cancel, Prometheus metrics and a health check.
//! Handlers answer at once; the work goes to the dispatcher as events.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited, StreamBody};
use hyper::body::Body as _;
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::{DaemonEvent, RunMetrics};
use crate::console::{Console, Identity};
use crate::limits::{HttpLimits, describe_bytes};
use crate::store::{Store, follow_log};
use crate::webhook::{ForgeEvent, image_pushes, parse_forge_event, signature_is_valid};

type Body = BoxBody<Bytes, Infallible>;

pub struct ApiSettings {
    /// Webhooks are refused (404) when no secret is configured.
    pub webhook_secret: Option<Vec<u8>>,
    /// The console, and the named tokens the API and the console accept: mutating calls
    /// need an operator's, and are refused (404) when none is configured.
    pub console: Arc<Console>,
    /// Reads of the API (runs, logs) need no token (`--api-reads open`).
    pub open_reads: bool,
    /// Registry notifications are refused (404) when no token is configured.
    pub registry_token: Option<String>,
    /// Where the store is, for reading runs.
    pub state: PathBuf,
    pub metrics: RunMetrics,
    /// Body and header sizes, and how long a client may take.
    pub limits: HttpLimits,
}

/// Serves until the listener fails. Each connection is bounded by `settings.limits`: a
/// request head larger than allowed gets 431, one not sent in time closes the
/// connection, and no connection outlives `connection_timeout`.
pub async fn serve_http(
    listener: TcpListener,
    settings: Arc<ApiSettings>,
    events: mpsc::Sender<DaemonEvent>,
) {
    let limits = &settings.limits;
    let mut connections = hyper::server::conn::http1::Builder::new();
    connections
        .timer(TokioTimer::new())
        // The timer starts when hyper waits for a request head, so it also closes an
        // idle kept-alive connection.
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        // hyper's smallest read buffer is 8 KiB; the buffer bounds a head not complete yet.
        .max_buf_size(limits.max_header_bytes.max(8 * 1024));
    let connection_timeout = limits.connection_timeout;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let settings = settings.clone();
        let events = events.clone();
        let connection = connections.serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(move |request| {
                let settings = settings.clone();
                let events = events.clone();
                async move { Ok::<_, Infallible>(handle(request, &settings, &events).await) }
            }),
        );
        tokio::spawn(async move {
            let _ = tokio::time::timeout(connection_timeout, connection).await;
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let run_path: Vec<&str> = path
        .strip_prefix("/api/v1/runs/")
        .map(|rest| rest.split('/').collect())
        .unwrap_or_default();
    let api = path.starts_with("/api/");
    if !api && !path.starts_with("/hooks/") && path != "/healthz" && path != "/metrics" {
        return crate::console::respond(&settings.console, request, events, &settings.limits).await;
    }
    let reading = method == Method::GET && api;
    if reading
        && !settings.open_reads
        && settings.console.tokens.bearer(request.headers()).is_none()
    {
        return text(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token: reading the API needs a token (or start shoal serve with --api-reads open)\n",
        )
        .map(|body| body.boxed());
    }
    let response = match (method, path.as_str(), run_path.as_slice()) {
        (Method::GET, "/healthz", _) => text(StatusCode::OK, "ok\n"),
        (Method::GET, "/metrics", _) => {
            let mut response = text(StatusCode::OK, &settings.metrics.render());
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            response
        }
        (Method::POST, "/hooks/github", _) => webhook(request, settings, events).await,
        (Method::POST, "/hooks/registry", _) => registry_hook(request, settings, events).await,
        (Method::GET, "/api/v1/runs", _) => {
            let state = settings.state.clone();
            reading_the_store(move || runs(&state)).await
        }
        (Method::GET, _, [id]) => {
            let (state, id) = (settings.state.clone(), (*id).to_owned());
            reading_the_store(move || run_detail(&state, &id)).await
        }
        (Method::GET, _, [id, "logs"]) => {
            let follow = !query
                .split('&')
                .any(|pair| pair == "follow=false" || pair == "follow=0");
            return run_logs(settings, id, follow).await;
        }
        (Method::POST, _, [id, "cancel"]) => cancel(request, settings, events, id).await,
        (Method::POST, "/api/v1/dispatch", _) => dispatch(request, settings, events).await,
        (Method::POST, "/api/v1/rollback", _) => rollback(request, settings, events).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    response.map(|body| body.boxed())
}

/// Reads a request's body: at most `limit` bytes (413 past it, refused before reading when
/// its length says so) within the body read timeout (408 after it).
pub(crate) async fn body(
    request: Request<Incoming>,
    limit: usize,
    limits: &HttpLimits,
) -> Result<(hyper::HeaderMap, Bytes), Response<Full<Bytes>>> {
    let too_large = || {
        text(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!(
                "request body too large: this endpoint takes at most {}\n",
                describe_bytes(limit as u64)
            ),
        )
    };
    let (parts, body) = request.into_parts();
    // A Content-Length past the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let reading = Limited::new(body, limit).collect();
    match tokio::time::timeout(limits.body_read_timeout, reading).await {
        Ok(Ok(collected)) => Ok((parts.headers, collected.to_bytes())),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(error)) => Err(text(
            StatusCode::BAD_REQUEST,
            &format!("cannot read the request body: {error}\n"),
        )),
        Err(_) => Err(text(
            StatusCode::REQUEST_TIMEOUT,
            &format!(
                "request body not received within {}\n",
                humantime::format_duration(limits.body_read_timeout)
            ),
        )),
    }
}

async fn webhook(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Full<Bytes>> {
    let Some(secret) = &settings.webhook_secret else {
        return text(
            StatusCode::NOT_FOUND,
            "webhooks are off: start shoal serve with a webhook secret\n",
        );
    };
    let limit = settings.limits.max_webhook_body_bytes;
    let (headers, body) = match body(request, limit, &settings.limits).await {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if !signature_is_valid(secret, &body, header("x-hub-signature-256")) {
        return text(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Hub-Signature-256\n",
        );
    }
    let event = header("x-github-event")
        .or_else(|| header("x-gitea-event"))
        .or_else(|| header("x-forgejo-event"))
        .unwrap_or_default();
    let delivery = header("x-github-delivery")
        .or_else(|| header("x-gitea-delivery"))
        .or_else(|| header("x-forgejo-delivery"))
        .unwrap_or_default()
        .to_owned();
    match parse_forge_event(event, &body) {
        Ok(ForgeEvent::Ping) => json(StatusCode::OK, &serde_json::json!({ "pong": true })),
        Ok(ForgeEvent::Ignored { reason }) => json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "ignored": reason }),
        ),
        Ok(event) => {
            let _ = events.send(DaemonEvent::Forge { delivery, event }).await;
            json(
                StatusCode::ACCEPTED,
                &serde_json::json!({ "accepted": true }),
            )
        }
        Err(problem) => text(StatusCode::BAD_REQUEST, &format!("{problem}\n")),
    }
}

/// A registry's notification: every tagged manifest push in it becomes an event for the
/// dispatcher; blobs, pulls and deletions are left out.
async fn registry_hook(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Full<Bytes>> {
    let Some(token) = &settings.registry_token else {
        return text(
            StatusCode::NOT_FOUND,
            "registry notifications are off: start shoal serve with a registry token\n",
        );
    };
    // The token is checked before the body is read: a stranger's megabyte is not.
    if !bearer_is_valid(request.headers(), token) {
        return text(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
    }
    let body = match body(request, settings.limits.max_body_bytes, &settings.limits).await {
        Ok((_, body)) => body,
        Err(response) => return response,
    };
    let pushes = match image_pushes(&body) {
        Ok(pushes) => pushes,
        Err(problem) => return text(StatusCode::BAD_REQUEST, &format!("{problem}\n")),
    };
    let accepted = pushes.len();
    for push in pushes {
        if events.send(DaemonEvent::RegistryPush(push)).await.is_err() {
            return text(StatusCode::SERVICE_UNAVAILABLE, "the runner is stopping\n");
        }
    }
    json(
        StatusCode::ACCEPTED,
        &serde_json::json!({ "image_pushes": accepted }),
    )
}

/// Runs `read` (SQLite calls, which block) on a blocking thread, so that no reader of
/// the store holds up the runtime's workers that serve webhooks and `/healthz`.
async fn reading_the_store(
    read: impl FnOnce() -> Response<Full<Bytes>> + Send + 'static,
) -> Response<Full<Bytes>> {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or_else(|error| {
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the store failed: {error}\n"),
            )
        })
}

fn runs(state: &std::path::Path) -> Response<Full<Bytes>> {
    match Store::open_reader(state).and_then(|store| store.runs(100)) {
        Ok(runs) => json(StatusCode::OK, &serde_json::json!({ "runs": runs })),
        Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
    }
}

fn run_detail(state: &std::path::Path, id: &str) -> Response<Full<Bytes>> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n");
    };
    let store = match Store::open_reader(state) {
        Ok(store) => store,
        Err(error) => return text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
    };
    match (store.run(id), store.steps(id), store.logs(id)) {
        (Ok(Some(run)), Ok(steps), Ok(logs)) => json(
            StatusCode::OK,
            &serde_json::json!({ "run": run, "steps": steps, "logs": logs }),
        ),
        (Ok(None), _, _) => text(StatusCode::NOT_FOUND, "no such run\n"),
        _ => text(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the run\n"),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    workflow: String,
    #[serde(default)]
    environments: Vec<String>,
    #[serde(default)]
    inputs: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    actor: Option<String>,
}

async fn dispatch(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Full<Bytes>> {
    let (identity, request): (Identity, DispatchBody) =
        match authorized_body(request, settings).await {
            Ok(request) => request,
            Err(response) => return response,
        };
    queue_runs(events, |reply| DaemonEvent::Dispatch {
        workflow: request.workflow,
        environments: request.environments,
        inputs: request.inputs,
        actor: request.actor.unwrap_or(identity.name),
        reply,
    })
    .await
}

/// `POST /api/v1/rollback`: apply a workflow on one environment as it was at an earlier
/// commit (`to`, or the last one whose run succeeded before the current one).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    workflow: String,
    environment: String,
    #[serde(default)]
    to: Option<String>,
    /// The workflow's dispatch inputs there: `{"confirm": "prod"}` when its dispatch must
    /// be confirmed by the environment's name.
    #[serde(default)]
    inputs: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    actor: Option<String>,
}

async fn rollback(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Full<Bytes>> {
    let (identity, request): (Identity, RollbackBody) =
        match authorized_body(request, settings).await {
            Ok(request) => request,
            Err(response) => return response,
        };
    queue_runs(events, |reply| DaemonEvent::Rollback {
        workflow: request.workflow,
        environment: request.environment,
        to: request.to,
        inputs: request.inputs,
        actor: request.actor.unwrap_or(identity.name),
        reply,
    })
    .await
}

/// Who sent a request that writes, and its JSON body, once their bearer token is checked
/// (404 when the API is read-only, 401 on a wrong token, 403 on a viewer's, 400 on a body
/// that is not `T`).
async fn authorized_body<T: serde::de::DeserializeOwned>(
    request: Request<Incoming>,
    settings: &ApiSettings,
) -> Result<(Identity, T), Response<Full<Bytes>>> {
    let (headers, body) = body(request, settings.limits.max_body_bytes, &settings.limits).await?;
    let identity =
        operator(settings, &headers).map_err(|(status, message)| text(status, &message))?;
    let parsed = serde_json::from_slice(&body)
        .map_err(|error| text(StatusCode::BAD_REQUEST, &format!("{error}\n")))?;
    Ok((identity, parsed))
}

/// Sends the event that asks for runs; answers 202 with their IDs, or 422 with why they
/// were refused.
async fn queue_runs(
    events: &mpsc::Sender<DaemonEvent>,
    event: impl FnOnce(oneshot::Sender<Result<Vec<i64>, Vec<String>>>) -> DaemonEvent,
) -> Response<Full<Bytes>> {
    let (reply, answer) = oneshot::channel();
    if events.send(event(reply)).await.is_err() {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the runner is stopping\n");
    }
    match answer.await {
        Ok(Ok(runs)) => json(StatusCode::ACCEPTED, &serde_json::json!({ "runs": runs })),
        Ok(Err(problems)) => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &serde_json::json!({ "errors": problems }),
        ),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "the runner is stopping\n"),
    }
}

async fn cancel(
    request: Request<Incoming>,
    settings: &ApiSettings,
    events: &mpsc::Sender<DaemonEvent>,
    id: &str,
) -> Response<Full<Bytes>> {
    let identity = match operator(settings, request.headers()) {
        Ok(identity) => identity,
        Err((status, message)) => return text(status, &message),
    };
    let Ok(run) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n");
    };
    let (reply, answer) = oneshot::channel();
    if events
        .send(DaemonEvent::Cancel {
            run,
            actor: identity.name,
            reply,
        })
        .await
        .is_err()
    {
        return text(StatusCode::SERVICE_UNAVAILABLE, "the runner is stopping\n");
    }
    match answer.await {
        Ok(Ok(message)) => json(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "run": run, "message": message }),
        ),
        Ok(Err(problem)) => json(
            StatusCode::CONFLICT,
            &serde_json::json!({ "run": run, "error": problem }),
        ),
        Err(_) => text(StatusCode::SERVICE_UNAVAILABLE, "the runner is stopping\n"),
    }
}

/// A run's log as plain text lines. While the run is queued or running and `follow` is
/// on, the response stays open and sends each new line as it is written.
async fn run_logs(settings: &ApiSettings, id: &str, follow: bool) -> Response<Body> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n").map(|body| body.boxed());
    };
    let state = settings.state.clone();
    // Opening the store and finding the run block: they run on a blocking thread too.
    let opened = tokio::task::spawn_blocking(move || {
        let store = Store::open_reader(&state)
            .map_err(|error| (StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n")))?;
        match store.run(id) {
            Ok(Some(_)) => Ok(store),
            Ok(None) => Err((StatusCode::NOT_FOUND, "no such run\n".to_owned())),
            Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{error}\n"))),
        }
    })
    .await;
    let store = match opened {
        Ok(Ok(store)) => store,
        Ok(Err((status, message))) => return text(status, &message).map(|body| body.boxed()),
        Err(error) => {
            return text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("reading the store failed: {error}\n"),
            )
            .map(|body| body.boxed());
        }
    };
    let (sender, receiver) = mpsc::channel::<Bytes>(16);
    tokio::task::spawn_blocking(move || {
        follow_log(&store, id, follow, |lines| {
            let chunk = lines
                .iter()
                .map(|line| format!("{line}\n"))
                .collect::<String>();
            sender.blocking_send(Bytes::from(chunk)).is_ok()
        })
    });
    let frames = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), receiver))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed());
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether the `Authorization` header is `Bearer TOKEN`, compared in constant time.
fn bearer_is_valid(headers: &hyper::HeaderMap, token: &str) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| {
            crate::console::constant_time_equal(given.as_bytes(), token.as_bytes())
        })
}

/// Who the bearer token names, when it is an operator's: the API's mutating calls. Else
/// the status and message of the refusal.
fn operator(
    settings: &ApiSettings,
    headers: &hyper::HeaderMap,
) -> Result<Identity, (StatusCode, String)> {
    if settings.console.tokens.is_empty() {
        return Err((
            StatusCode::NOT_FOUND,
            "the API is read-only: start shoal serve with an API token\n".to_owned(),
        ));
    }
    match settings.console.tokens.bearer(headers) {
        Some(identity) if identity.role.may_act() => Ok(identity),
        Some(identity) => Err((
            StatusCode::FORBIDDEN,
            format!(
                "{} is a viewer: only an operator may dispatch, cancel or roll back\n",
                identity.name
            ),
        )),
        None => Err((
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token\n".to_owned(),
        )),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = status;
    response
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = text(status, &value.to_string());
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    use super::*;

    struct NoSwarm;

    impl crate::console::HealthReader for NoSwarm {
        fn read<'a>(
            &'a self,
            _repo: &'a crate::model::ConfigRepo,
        ) -> crate::console::HealthFuture<'a> {
            Box::pin(async { Vec::new() })
        }
    }

    struct NoCommits;

    impl crate::console::CommitDescriber for NoCommits {
        fn describe(&self, _commit: &str) -> Option<crate::render::CommitInfo> {
            None
        }
    }

    /// A console whose only token is `token`, an operator's, with no branch head yet.
    fn test_console(state: &std::path::Path) -> Console {
        let mut tokens = crate::console::AccessTokens::default();
        tokens.add("api", crate::console::Role::Operator, "token");
        Console::new(crate::console::ConsoleSettings {
            state: state.to_owned(),
            tokens,
            heads: tokio::sync::watch::channel(None).1,
            health: Arc::new(NoSwarm),
            commits: Arc::new(NoCommits),
        })
    }

    /// `shoal serve`'s HTTP edge on a loopback port, with limits small enough for a test.
    struct TestServer {
        address: SocketAddr,
        _state: tempfile::TempDir,
        _events: mpsc::Receiver<DaemonEvent>,
    }

    impl TestServer {
        async fn start() -> TestServer {
            let state = tempfile::tempdir().expect("a state folder");
            crate::store::Store::open(state.path()).expect("a store");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
            let address = listener.local_addr().expect("an address");
            let settings = Arc::new(ApiSettings {
                webhook_secret: Some(b"secret".to_vec()),
                console: Arc::new(test_console(state.path())),
                open_reads: false,
                registry_token: None,
                state: state.path().to_owned(),
                metrics: RunMetrics::default(),
                limits: HttpLimits {
                    max_webhook_body_bytes: 1024,
                    max_body_bytes: 1024,
                    max_header_bytes: 8 * 1024,
                    header_read_timeout: Duration::from_millis(300),
                    body_read_timeout: Duration::from_millis(300),
                    connection_timeout: Duration::from_secs(2),
                },
            });
            let (sender, events) = mpsc::channel(16);
            tokio::spawn(serve_http(listener, settings, sender));
            TestServer {
                address,
                _state: state,
                _events: events,
            }
        }

        async fn connect(&self) -> TcpStream {
            TcpStream::connect(self.address).await.expect("connects")
        }

        /// Sends `request` and returns all the server says until it closes.
        async fn exchange(&self, request: &[u8]) -> String {
            let mut stream = self.connect().await;
            stream.write_all(request).await.expect("sends");
            read_until_closed(&mut stream).await
        }
    }

    /// What the server sends until it closes the connection; a guard keeps a broken
    /// server from hanging the test.
    async fn read_until_closed(stream: &mut TcpStream) -> String {
        let mut received = Vec::new();
        let reading = stream.read_to_end(&mut received);
        let _ = tokio::time::timeout(Duration::from_secs(20), reading).await;
        String::from_utf8_lossy(&received).into_owned()
    }

    #[tokio::test]
    async fn a_client_that_sends_its_headers_slowly_is_cut_off() {
        let server = TestServer::start().await;
        let mut stream = server.connect().await;
        let request = b"GET /healthz HTTP/1.1\r\nHost: shoal\r\nX-Slow: one byte at a time\r\n\r\n";
        let mut sent = 0;
        let mut received = [0_u8; 1];
        // One byte every 100 ms: the whole head would take 6 s, the limit is 300 ms.
        while sent < request.len() {
            if stream.write_all(&request[sent..=sent]).await.is_err() {
                break;
            }
            sent += 1;
            let read = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut received));
            if let Ok(result) = read.await {
                assert!(matches!(result, Ok(0) | Err(_)), "the server answered");
                break;
            }
        }
        assert!(
            sent < request.len(),
            "the whole head was sent and not cut off"
        );
        assert_eq!(read_until_closed(&mut stream).await, "");
    }

    #[tokio::test]
    async fn an_oversized_body_gets_413_before_it_is_read() {
        let server = TestServer::start().await;
        let response = server
            .exchange(b"POST /hooks/github HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\nContent-Length: 1000000\r\n\r\n{")
            .await;
        assert!(
            response.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{response}"
        );
        assert!(
            response
                .ends_with("\r\n\r\nrequest body too large: this endpoint takes at most 1 KiB\n"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn a_chunked_body_past_the_limit_gets_413() {
        let server = TestServer::start().await;
        let chunk = format!("800\r\n{}\r\n", "x".repeat(0x800));
        let request = format!(
            "POST /api/v1/dispatch HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}0\r\n\r\n"
        );
        let response = server.exchange(request.as_bytes()).await;
        assert!(
            response.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn a_body_that_does_not_arrive_gets_408() {
        let server = TestServer::start().await;
        let mut stream = server.connect().await;
        stream
            .write_all(b"POST /hooks/github HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\nContent-Length: 100\r\n\r\n{\"a\":")
            .await
            .expect("sends");
        let response = read_until_closed(&mut stream).await;
        assert!(
            response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{response}"
        );
        assert!(
            response.ends_with("\r\n\r\nrequest body not received within 300ms\n"),
            "{response}"
        );
    }

    #[tokio::test]
    async fn an_oversized_header_is_refused() {
        let server = TestServer::start().await;
        let big = "x".repeat(16 * 1024);
        let request = format!("GET /healthz HTTP/1.1\r\nHost: shoal\r\nX-Big: {big}\r\n\r\n");
        let response = server.exchange(request.as_bytes()).await;
        assert!(
            response.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
            "{response}"
        );
        let small = server
            .exchange(b"GET /healthz HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\n\r\n")
            .await;
        assert!(small.starts_with("HTTP/1.1 200 OK\r\n"), "{small}");
    }

    /// The header `name` of a response, and its body.
    fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
        response
            .split("\r\n\r\n")
            .next()?
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
    }

    #[tokio::test]
    async fn the_console_needs_a_login_and_its_forms_their_csrf_token() {
        let server = TestServer::start().await;
        let get = |path: &str, cookie: &str| {
            format!("GET {path} HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\n{cookie}\r\n")
        };
        // Nothing without logging in: pages go to the login, the API's reads need a token.
        let page = server.exchange(get("/runs", "").as_bytes()).await;
        assert!(page.starts_with("HTTP/1.1 303 See Other\r\n"), "{page}");
        assert_eq!(header(&page, "location"), Some("/login"));
        let api = server.exchange(get("/api/v1/runs", "").as_bytes()).await;
        assert!(api.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{api}");
        let api = server
            .exchange(get("/api/v1/runs", "Authorization: Bearer token\r\n").as_bytes())
            .await;
        assert!(api.starts_with("HTTP/1.1 200 OK\r\n"), "{api}");

        let login = |token: &str| {
            let body = format!("token={token}");
            format!(
                "POST /login HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let refused = server.exchange(login("wrong").as_bytes()).await;
        assert!(
            refused.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{refused}"
        );
        assert!(refused.contains("That token is not known."), "{refused}");
        let logged_in = server.exchange(login("token").as_bytes()).await;
        assert!(
            logged_in.starts_with("HTTP/1.1 303 See Other\r\n"),
            "{logged_in}"
        );
        let cookie = header(&logged_in, "set-cookie").expect("a session cookie");
        assert!(
            cookie.ends_with("; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=43200"),
            "{cookie}"
        );
        let session = cookie.split(';').next().expect("name=value");
        let with_session = format!("Cookie: {session}\r\n");

        let runs = server
            .exchange(get("/runs", &with_session).as_bytes())
            .await;
        assert!(runs.starts_with("HTTP/1.1 200 OK\r\n"), "{runs}");
        assert!(runs.contains("api (operator)"), "{runs}");
        let csrf = runs
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a CSRF token in the page");

        // A form without the session's CSRF token is refused, and changes nothing.
        let post = |path: &str, body: &str| {
            format!(
                "POST {path} HTTP/1.1\r\nHost: shoal\r\nConnection: close\r\n{with_session}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        };
        let forged = server
            .exchange(post("/logout", "csrf=forged").as_bytes())
            .await;
        assert!(forged.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{forged}");
        assert!(
            forged.contains("security token is missing or out of date"),
            "{forged}"
        );
        let still = server
            .exchange(get("/runs", &with_session).as_bytes())
            .await;
        assert!(still.starts_with("HTTP/1.1 200 OK\r\n"), "{still}");

        let logged_out = server
            .exchange(post("/logout", &format!("csrf={csrf}")).as_bytes())
            .await;
        assert!(
            logged_out.starts_with("HTTP/1.1 303 See Other\r\n"),
            "{logged_out}"
        );
        assert_eq!(
            header(&logged_out, "set-cookie"),
            Some("shoal_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
        );
        let gone = server
            .exchange(get("/runs", &with_session).as_bytes())
            .await;
        assert!(gone.starts_with("HTTP/1.1 303 See Other\r\n"), "{gone}");
    }

    #[tokio::test]
    async fn no_connection_outlives_the_connection_timeout() {
        let server = TestServer::start().await;
        let mut stream = server.connect().await;
        let mut answered = 0;
        // A client that keeps its connection busy: a request every 100 ms, for up to
        // 20 s; the connection may last 2 s.
        for _ in 0..200 {
            if stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: shoal\r\n\r\n")
                .await
                .is_err()
            {
                break;
            }
            let mut response = Vec::new();
            let mut buffer = [0_u8; 512];
            while !response.ends_with(b"ok\n") {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => response.extend_from_slice(&buffer[..read]),
                }
            }
            if !response.ends_with(b"ok\n") {
                break;
            }
            answered += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(answered > 0, "the first requests were answered");
        assert!(answered < 200, "the connection was never closed");
    }
}
