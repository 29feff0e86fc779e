//! The daemon's HTTP edge: GitHub/Gitea/Forgejo webhooks, registry notifications, the
//! runs API (with live logs), dispatch, cancel, Prometheus metrics and a health check.
//! Handlers answer at once; the work goes to the dispatcher as events.

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::{DaemonEvent, RunMetrics};
use crate::store::{Store, follow_log};
use crate::webhook::{ForgeEvent, image_pushes, parse_forge_event, signature_is_valid};

/// The largest body accepted: GitHub caps webhook payloads at 25 MB.
const BODY_LIMIT: usize = 25 * 1024 * 1024;
/// The largest registry notification accepted: a registry sends a few events per
/// request (`threshold`), each well under 2 KB.
const REGISTRY_BODY_LIMIT: usize = 1024 * 1024;

type Body = BoxBody<Bytes, Infallible>;

pub struct ApiSettings {
    /// Webhooks are refused (404) when no secret is configured.
    pub webhook_secret: Option<Vec<u8>>,
    /// Mutating calls are refused (404) when no token is configured.
    pub api_token: Option<String>,
    /// Registry notifications are refused (404) when no token is configured.
    pub registry_token: Option<String>,
    /// Where the store is, for reading runs.
    pub state: PathBuf,
    pub metrics: RunMetrics,
}

/// Serves until the listener fails.
pub async fn serve_http(
    listener: TcpListener,
    settings: Arc<ApiSettings>,
    events: mpsc::Sender<DaemonEvent>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let settings = settings.clone();
        let events = events.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let settings = settings.clone();
                let events = events.clone();
                async move { Ok::<_, Infallible>(handle(request, &settings, &events).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
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
        (Method::GET, "/api/v1/runs", _) => runs(settings),
        (Method::GET, _, [id]) => run_detail(settings, id),
        (Method::GET, _, [id, "logs"]) => {
            let follow = !query
                .split('&')
                .any(|pair| pair == "follow=false" || pair == "follow=0");
            return run_logs(settings, id, follow);
        }
        (Method::POST, _, [id, "cancel"]) => cancel(request, settings, events, id).await,
        (Method::POST, "/api/v1/dispatch", _) => dispatch(request, settings, events).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    response.map(|body| body.boxed())
}

async fn body(
    request: Request<Incoming>,
    limit: usize,
) -> Result<(hyper::HeaderMap, Bytes), Response<Full<Bytes>>> {
    let (parts, body) = request.into_parts();
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok((parts.headers, collected.to_bytes())),
        Err(_) => Err(text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n")),
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
    let (headers, body) = match body(request, BODY_LIMIT).await {
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
    let body = match body(request, REGISTRY_BODY_LIMIT).await {
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

fn runs(settings: &ApiSettings) -> Response<Full<Bytes>> {
    match Store::open_reader(&settings.state).and_then(|store| store.runs(100)) {
        Ok(runs) => json(StatusCode::OK, &serde_json::json!({ "runs": runs })),
        Err(error) => text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n")),
    }
}

fn run_detail(settings: &ApiSettings, id: &str) -> Response<Full<Bytes>> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n");
    };
    let store = match Store::open_reader(&settings.state) {
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
    let Some(token) = &settings.api_token else {
        return text(
            StatusCode::NOT_FOUND,
            "the API is read-only: start shoal serve with an API token\n",
        );
    };
    let (headers, body) = match body(request, BODY_LIMIT).await {
        Ok(parts) => parts,
        Err(response) => return response,
    };
    if !bearer_is_valid(&headers, token) {
        return text(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
    }
    let request: DispatchBody = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => return text(StatusCode::BAD_REQUEST, &format!("{error}\n")),
    };
    let (reply, answer) = oneshot::channel();
    let event = DaemonEvent::Dispatch {
        workflow: request.workflow,
        environments: request.environments,
        inputs: request.inputs,
        actor: request.actor.unwrap_or_else(|| "api".to_owned()),
        reply,
    };
    if events.send(event).await.is_err() {
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
    let Some(token) = &settings.api_token else {
        return text(
            StatusCode::NOT_FOUND,
            "the API is read-only: start shoal serve with an API token\n",
        );
    };
    if !bearer_is_valid(request.headers(), token) {
        return text(StatusCode::UNAUTHORIZED, "missing or wrong bearer token\n");
    }
    let Ok(run) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n");
    };
    let (reply, answer) = oneshot::channel();
    if events
        .send(DaemonEvent::Cancel { run, reply })
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
fn run_logs(settings: &ApiSettings, id: &str, follow: bool) -> Response<Body> {
    let Ok(id) = id.parse::<i64>() else {
        return text(StatusCode::NOT_FOUND, "no such run\n").map(|body| body.boxed());
    };
    let store = match Store::open_reader(&settings.state) {
        Ok(store) => store,
        Err(error) => {
            return text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n"))
                .map(|body| body.boxed());
        }
    };
    match store.run(id) {
        Ok(Some(_)) => {}
        Ok(None) => return text(StatusCode::NOT_FOUND, "no such run\n").map(|body| body.boxed()),
        Err(error) => {
            return text(StatusCode::INTERNAL_SERVER_ERROR, &format!("{error}\n"))
                .map(|body| body.boxed());
        }
    }
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
        .is_some_and(|given| constant_time_equal(given.as_bytes(), token.as_bytes()))
}

fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .fold(0_u8, |difference, (x, y)| difference | (x ^ y))
            == 0
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
