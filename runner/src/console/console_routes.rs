//! The console's HTTP routes: the login, the pages, the live log (server-sent events and
//! plain text), and the forms that act (dispatch, cancel, log out), each checked for its
//! session's CSRF token and its role. Actions become the dispatcher's events, as the API's
//! do, with the name of who asked.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot};

use super::access::{constant_time_equal, expired_session_cookie, session_cookie};
use super::page_templates::{LIVE_JS, STYLE_CSS};
use super::{Console, LogEvent, Viewer};
use crate::daemon::{DaemonEvent, read_body};
use crate::limits::HttpLimits;
use crate::store::RunFilter;

type Body = BoxBody<Bytes, Infallible>;

/// Answers a request for the console (every path the API and webhooks do not take).
pub async fn respond(
    console: &Arc<Console>,
    request: Request<Incoming>,
    events: &mpsc::Sender<DaemonEvent>,
    limits: &HttpLimits,
) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    match (&method, path.as_str()) {
        (&Method::GET, "/assets/style.css") => return asset(STYLE_CSS, "text/css; charset=utf-8"),
        (&Method::GET, "/assets/live.js") => {
            return asset(LIVE_JS, "text/javascript; charset=utf-8");
        }
        (&Method::GET, "/login") => return html(StatusCode::OK, console.login_page(None)),
        (&Method::POST, "/login") => return login(console, request, limits).await,
        _ => {}
    }
    let Some((session_id, session)) = console.sessions.of_request(request.headers()) else {
        return redirect("/login");
    };
    let viewer = Viewer {
        identity: session.identity.clone(),
        csrf: session.csrf.clone(),
    };
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    if method == Method::POST {
        let form = match read_form(request, limits).await {
            Ok(form) => form,
            Err(response) => return response,
        };
        let given = field(&form, "csrf").unwrap_or_default();
        if !constant_time_equal(given.as_bytes(), session.csrf.as_bytes()) {
            let page = console.message_page(
                &viewer,
                "Form refused",
                "The form's security token is missing or out of date: reload the page and send it again.",
            );
            return html(StatusCode::FORBIDDEN, page);
        }
        if segments == ["logout"] {
            console.sessions.close(&session_id);
            return redirect_setting_cookie("/login", &expired_session_cookie());
        }
        if !viewer.identity.role.may_act() {
            let message = format!(
                "{} is a viewer: only an operator may dispatch, cancel or roll back.",
                viewer.identity.name
            );
            return html(
                StatusCode::FORBIDDEN,
                console.message_page(&viewer, "Not allowed", &message),
            );
        }
        return match segments.as_slice() {
            ["runs", id, "cancel"] => cancel(console, &viewer, id, events).await,
            ["workflows", workflow, "dispatch"] => {
                dispatch(console, &viewer, &decode(workflow), &form, events).await
            }
            ["workflows", workflow, "rollback"] => {
                rollback(console, &viewer, &decode(workflow), &form, events).await
            }
            _ => not_found(console, &viewer),
        };
    }
    if method != Method::GET {
        return not_found(console, &viewer);
    }
    match segments.as_slice() {
        [""] => match console.environments_page(&viewer).await {
            Ok(page) => html(StatusCode::OK, page),
            Err(error) => store_failed(console, &viewer, &error),
        },
        ["runs"] => {
            let filter = RunFilter {
                workflow: field(&query, "workflow"),
                environment: field(&query, "environment"),
                event: field(&query, "event"),
                result: field(&query, "result"),
            };
            let page = field(&query, "page")
                .and_then(|page| page.parse().ok())
                .unwrap_or(1);
            match console.runs_page(&viewer, filter, page).await {
                Ok(page) => html(StatusCode::OK, page),
                Err(error) => store_failed(console, &viewer, &error),
            }
        }
        ["runs", id] => {
            let Ok(id) = id.parse::<i64>() else {
                return not_found(console, &viewer);
            };
            let notice = field(&query, "notice");
            match console.run_page(&viewer, id, notice.as_deref()).await {
                Ok(Some(page)) => html(StatusCode::OK, page),
                Ok(None) => not_found(console, &viewer),
                Err(error) => store_failed(console, &viewer, &error),
            }
        }
        ["runs", id, "events"] => {
            // A reconnecting browser says the last line it saw.
            let after = request
                .headers()
                .get("last-event-id")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
                .or_else(|| field(&query, "after"))
                .and_then(|text| text.parse().ok())
                .unwrap_or(0);
            log_stream(console, &viewer, id, after, LogFormat::ServerSentEvents).await
        }
        ["runs", id, "log.txt"] => log_stream(console, &viewer, id, 0, LogFormat::Text).await,
        ["workflows", workflow, "dispatch"] if viewer.identity.role.may_act() => {
            let environment = field(&query, "environment");
            match console.dispatch_page(
                &viewer,
                &decode(workflow),
                environment.as_deref(),
                None,
                &[],
            ) {
                Some(page) => html(StatusCode::OK, page),
                None => not_found(console, &viewer),
            }
        }
        _ => not_found(console, &viewer),
    }
}

/// `POST /login`: a known token opens a session.
async fn login(
    console: &Console,
    request: Request<Incoming>,
    limits: &HttpLimits,
) -> Response<Body> {
    let form = match read_form(request, limits).await {
        Ok(form) => form,
        Err(response) => return response,
    };
    if console.tokens.is_empty() {
        let page = console.login_page(Some(
            "No token is configured: start shoal serve with --access-tokens-file or --api-token-file.",
        ));
        return html(StatusCode::UNAUTHORIZED, page);
    }
    let token = field(&form, "token").unwrap_or_default();
    match console.tokens.identify(&token) {
        Some(identity) => {
            tracing::info!(user = identity.name, "logged in to the console");
            let id = console.sessions.open(identity);
            redirect_setting_cookie("/", &session_cookie(&id))
        }
        None => html(
            StatusCode::UNAUTHORIZED,
            console.login_page(Some("That token is not known.")),
        ),
    }
}

async fn cancel(
    console: &Arc<Console>,
    viewer: &Viewer,
    id: &str,
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Body> {
    let Ok(run) = id.parse::<i64>() else {
        return not_found(console, viewer);
    };
    let (reply, answer) = oneshot::channel();
    let event = DaemonEvent::Cancel {
        run,
        actor: viewer.identity.name.clone(),
        reply,
    };
    if events.send(event).await.is_err() {
        return stopping(console, viewer);
    }
    let said = match answer.await {
        Ok(Ok(message)) | Ok(Err(message)) => message,
        Err(_) => return stopping(console, viewer),
    };
    let notice: String = form_urlencoded::byte_serialize(said.as_bytes()).collect();
    redirect(&format!("/runs/{run}?notice={notice}"))
}

async fn dispatch(
    console: &Arc<Console>,
    viewer: &Viewer,
    workflow: &str,
    form: &[(String, String)],
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Body> {
    let Some(head) = console.head() else {
        return not_found(console, viewer);
    };
    let Some(declared) = head
        .repo
        .workflows
        .iter()
        .find(|w| w.name == workflow && w.triggers.dispatch.is_some())
    else {
        return not_found(console, viewer);
    };
    let environment = field(form, "environment");
    let inputs = super::dispatch_form::submitted_inputs(declared, form);
    let (reply, answer) = oneshot::channel();
    let event = DaemonEvent::Dispatch {
        workflow: workflow.to_owned(),
        environments: environment.iter().cloned().collect(),
        inputs,
        actor: viewer.identity.name.clone(),
        reply,
    };
    if events.send(event).await.is_err() {
        return stopping(console, viewer);
    }
    match answer.await {
        Ok(Ok(runs)) => {
            tracing::info!(
                user = viewer.identity.name,
                workflow,
                ?runs,
                "dispatched from the console"
            );
            match runs.first() {
                Some(run) => redirect(&format!("/runs/{run}")),
                None => redirect("/runs"),
            }
        }
        Ok(Err(problems)) => {
            let page = console.dispatch_page(
                viewer,
                workflow,
                environment.as_deref(),
                Some(form),
                &problems,
            );
            match page {
                Some(page) => html(StatusCode::UNPROCESSABLE_ENTITY, page),
                None => not_found(console, viewer),
            }
        }
        Err(_) => stopping(console, viewer),
    }
}

/// Rolls `workflow` back on the form's environment (to the last commit whose run
/// succeeded before its current one), once the environment's name is typed out; the
/// dispatcher checks the rest, as for `POST /api/v1/rollback`.
async fn rollback(
    console: &Arc<Console>,
    viewer: &Viewer,
    workflow: &str,
    form: &[(String, String)],
    events: &mpsc::Sender<DaemonEvent>,
) -> Response<Body> {
    let Some(head) = console.head() else {
        return not_found(console, viewer);
    };
    let Some(environment) = field(form, "environment") else {
        return not_found(console, viewer);
    };
    let typed = field(form, "confirm").unwrap_or_default();
    if typed != environment {
        let message = format!(
            "Type `{environment}` in the box beside Roll back to roll back {workflow} there."
        );
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            console.message_page(viewer, "Rollback refused", &message),
        );
    }
    // A workflow whose manual runs are confirmed by the environment's name gets it.
    let mut inputs = serde_json::Map::new();
    if let Some(name) = head
        .repo
        .workflows
        .iter()
        .find(|w| w.name == workflow)
        .and_then(super::dispatch_form::confirmation_input)
    {
        inputs.insert(name, serde_json::Value::String(typed));
    }
    let (reply, answer) = oneshot::channel();
    let event = DaemonEvent::Rollback {
        workflow: workflow.to_owned(),
        environment,
        to: None,
        inputs,
        actor: viewer.identity.name.clone(),
        reply,
    };
    if events.send(event).await.is_err() {
        return stopping(console, viewer);
    }
    match answer.await {
        Ok(Ok(runs)) => {
            tracing::info!(
                user = viewer.identity.name,
                workflow,
                ?runs,
                "rollback from the console"
            );
            match runs.first() {
                Some(run) => redirect(&format!("/runs/{run}")),
                None => redirect("/runs"),
            }
        }
        Ok(Err(problems)) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            console.message_page(viewer, "Rollback refused", &problems.join("\n")),
        ),
        Err(_) => stopping(console, viewer),
    }
}

enum LogFormat {
    ServerSentEvents,
    Text,
}

/// A run's log from line `after` on, following it while the run is live: as server-sent
/// events (each line's number its event ID; `end` with the run's status last) or as
/// plain text. A page of lines at a time: a long log is never held whole.
async fn log_stream(
    console: &Arc<Console>,
    viewer: &Viewer,
    id: &str,
    after: i64,
    format: LogFormat,
) -> Response<Body> {
    let Ok(run) = id.parse::<i64>() else {
        return not_found(console, viewer);
    };
    let mut events = match console.logs.follow(run, after).await {
        Ok(Some(events)) => events,
        Ok(None) => return not_found(console, viewer),
        Err(error) => return store_failed(console, viewer, &error),
    };
    // At most 4 chunks of 16 KiB wait for a slow browser.
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    let console = console.clone();
    let sse = matches!(format, LogFormat::ServerSentEvents);
    tokio::spawn(async move {
        while let Some(first) = events.recv().await {
            // What has arrived meanwhile goes in the same chunk.
            let mut chunk = String::new();
            let mut next = Some(first);
            let mut ended = false;
            while let Some(event) = next.take() {
                match event {
                    LogEvent::Line(number, line) if sse => {
                        chunk.push_str(&format!("id: {number}\n"));
                        for part in line.split('\n') {
                            chunk.push_str(&format!("data: {part}\n"));
                        }
                        chunk.push('\n');
                    }
                    LogEvent::Line(_, line) => {
                        chunk.push_str(&line);
                        chunk.push('\n');
                    }
                    LogEvent::End => {
                        ended = true;
                        break;
                    }
                }
                if chunk.len() < 16 * 1024 {
                    next = events.try_recv().ok();
                }
            }
            if ended && sse {
                let status = console
                    .run_status(run)
                    .await
                    .map_or("ended", |status| status.as_str());
                chunk.push_str(&format!("event: end\ndata: {status}\n\n"));
            }
            if !chunk.is_empty() && sender.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            if ended {
                return;
            }
        }
    });
    let frames = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), receiver))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed());
    let content_type = if sse {
        "text/event-stream"
    } else {
        "text/plain; charset=utf-8"
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

async fn read_form(
    request: Request<Incoming>,
    limits: &HttpLimits,
) -> Result<Vec<(String, String)>, Response<Body>> {
    match read_body(request, limits.max_body_bytes, limits).await {
        Ok((_, body)) => Ok(form_urlencoded::parse(&body).into_owned().collect()),
        Err(response) => Err(response.map(|body| body.boxed())),
    }
}

/// A form or query field, `None` when absent or empty.
fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .filter(|value| !value.is_empty())
}

fn decode(segment: &str) -> String {
    form_urlencoded::parse(format!("x={segment}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

fn html(status: StatusCode, page: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(page)).boxed());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    response
}

fn asset(text: &'static str, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    response
}

/// A 303 to `location`.
fn redirect(location: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()).boxed());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A 303 to `location` that sets (or expires) the session cookie.
fn redirect_setting_cookie(location: &str, cookie: &str) -> Response<Body> {
    let mut response = redirect(location);
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn not_found(console: &Console, viewer: &Viewer) -> Response<Body> {
    html(
        StatusCode::NOT_FOUND,
        console.message_page(viewer, "Not found", "There is nothing here."),
    )
}

fn stopping(console: &Console, viewer: &Viewer) -> Response<Body> {
    html(
        StatusCode::SERVICE_UNAVAILABLE,
        console.message_page(viewer, "Stopping", "The runner is stopping."),
    )
}

fn store_failed(
    console: &Console,
    viewer: &Viewer,
    error: &crate::store::StoreError,
) -> Response<Body> {
    html(
        StatusCode::INTERNAL_SERVER_ERROR,
        console.message_page(viewer, "Cannot read the history", &error.to_string()),
    )
}
