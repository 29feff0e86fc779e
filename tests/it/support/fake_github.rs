//! A stand-in for GitHub's REST API on 127.0.0.1: a real HTTP server that records every
//! request (method, path, headers, JSON body), checks each against what GitHub's REST
//! reference requires of these endpoints (required fields, enum values, ISO 8601 times,
//! `conclusion` when completed, at most 50 annotations with their required fields, a
//! status description under 140 characters, the headers and the kind of token), and
//! answers as GitHub does. It can be scripted to fail (500, rate limits).

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::run_successfully;

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Option<Value>,
    pub at: Instant,
}

impl RecordedRequest {
    /// `METHOD path`, for comparing sequences of requests.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// An answer given, instead of the usual one, to the next request of `method` whose path
/// starts with `path`.
#[derive(Debug, Clone)]
pub struct ScriptedAnswer {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Who may call: an App (JWTs checked against its public key, installation tokens the
/// fake issued) or a token.
#[derive(Debug, Clone)]
pub enum FakeAuth {
    App {
        app_id: u64,
        public_key_der: Vec<u8>,
    },
    Token(String),
}

struct FakeState {
    auth: FakeAuth,
    requests: Vec<RecordedRequest>,
    problems: Vec<String>,
    script: VecDeque<ScriptedAnswer>,
    issued_tokens: Vec<String>,
    next_check_run_id: u64,
    /// How long the installation tokens it issues last (GitHub: an hour).
    token_lifetime: chrono::TimeDelta,
    /// Open pull requests: number and head commit.
    pull_requests: Vec<(u64, String)>,
    /// Issue comments: id, pull request number, body.
    comments: Vec<(u64, u64, String)>,
}

pub struct FakeGitHub {
    port: u16,
    state: Arc<Mutex<FakeState>>,
    stop: Arc<AtomicBool>,
}

impl FakeGitHub {
    pub fn start(auth: FakeAuth) -> FakeGitHub {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(Mutex::new(FakeState {
            auth,
            requests: Vec::new(),
            problems: Vec::new(),
            script: VecDeque::new(),
            issued_tokens: Vec::new(),
            next_check_run_id: 4_000_000_001,
            token_lifetime: chrono::TimeDelta::hours(1),
            pull_requests: Vec::new(),
            comments: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (serving, stopping) = (state.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let state = serving.clone();
                    std::thread::spawn(move || serve_connection(stream, &state));
                }
            }
        });
        FakeGitHub { port, state, stop }
    }

    /// The base URL to give shoal (`--github-api-url`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Pull request `number` is open with `head` as its head commit.
    pub fn open_pull_request(&self, number: u64, head: &str) {
        let mut state = self.lock();
        state.pull_requests.retain(|(n, _)| *n != number);
        state.pull_requests.push((number, head.to_owned()));
    }

    /// The comments on pull request `number`: id and body.
    pub fn comments(&self, number: u64) -> Vec<(u64, String)> {
        self.lock()
            .comments
            .iter()
            .filter(|(_, on, _)| *on == number)
            .map(|(id, _, body)| (*id, body.clone()))
            .collect()
    }

    /// Installation tokens issued from now on expire after `lifetime`.
    pub fn set_token_lifetime(&self, lifetime: chrono::TimeDelta) {
        self.lock().token_lifetime = lifetime;
    }

    pub fn script(&self, answer: ScriptedAnswer) {
        self.lock().script.push_back(answer);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The requests to `/repos/…`, leaving out the App's token exchanges.
    pub fn repository_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.path.starts_with("/repos/"))
            .collect()
    }

    /// Every way a request strayed from GitHub's REST reference.
    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }

    /// Waits until `done` holds for the repository requests; returns them.
    pub fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[RecordedRequest]) -> bool,
    ) -> Vec<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        loop {
            let requests = self.repository_requests();
            if done(&requests) {
                return requests;
            }
            assert!(
                Instant::now() < deadline,
                "GitHub did not get the expected requests within {timeout:?}; it got:\n{}",
                requests
                    .iter()
                    .map(|r| format!("{} {}", r.line(), r.body.clone().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// A throwaway RSA key, as GitHub hands an App's out (PKCS#1 PEM), and its public half as
/// DER for checking JWTs.
pub struct AppKeyPair {
    pub private_key_pem: String,
    pub public_key_der: Vec<u8>,
}

impl AppKeyPair {
    pub fn generate(folder: &std::path::Path) -> AppKeyPair {
        let private = folder.join("app-key.pem");
        let public = folder.join("app-key.pub.der");
        let timeout = Duration::from_secs(60);
        run_successfully(
            std::process::Command::new("openssl")
                .args(["genrsa", "-traditional", "-out"])
                .arg(&private)
                .arg("2048"),
            timeout,
        );
        run_successfully(
            std::process::Command::new("openssl")
                .args(["rsa", "-RSAPublicKey_out", "-outform", "DER", "-in"])
                .arg(&private)
                .arg("-out")
                .arg(&public),
            timeout,
        );
        AppKeyPair {
            private_key_pem: std::fs::read_to_string(&private).expect("the private key"),
            public_key_der: std::fs::read(&public).expect("the public key"),
        }
    }
}

fn serve_connection(mut stream: TcpStream, state: &Mutex<FakeState>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((method, path, headers, body)) = read_request(&stream) else {
        return;
    };
    let body_json = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(value) => Some(value),
            Err(error) => {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                state
                    .problems
                    .push(format!("{method} {path}: body is not JSON: {error}"));
                None
            }
        }
    };
    let (status, extra_headers, answer) = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        state.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            headers: headers.clone(),
            body: body_json.clone(),
            at: Instant::now(),
        });
        let problems = check_request(&mut state, &method, &path, &headers, body_json.as_ref());
        state.problems.extend(
            problems
                .into_iter()
                .map(|p| format!("{method} {path}: {p}")),
        );
        let scripted = state
            .script
            .iter()
            .position(|s| s.method == method && path.starts_with(&s.path))
            .and_then(|index| state.script.remove(index));
        match scripted {
            Some(answer) => (answer.status, answer.headers, answer.body),
            None => {
                let (status, body) = usual_answer(&mut state, &method, &path, body_json.as_ref());
                (status, Vec::new(), body.to_string())
            }
        }
    };
    let mut response = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        if status < 300 { "OK" } else { "Error" },
        answer.len()
    );
    for (name, value) in extra_headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&answer);
    let _ = stream.write_all(response.as_bytes());
}

type Request = (String, String, BTreeMap<String, String>, Vec<u8>);

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
    }
    let length = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, headers, body))
}

fn usual_answer(
    state: &mut FakeState,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let path_only = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path_only.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["app", "installations", _, "access_tokens"]) => {
            let token = format!("ghs_fake{:036}", state.issued_tokens.len() + 1);
            state.issued_tokens.push(token.clone());
            let expires_at = (chrono::Utc::now() + state.token_lifetime)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            (
                201,
                json!({ "token": token, "expires_at": expires_at, "permissions": { "checks": "write", "statuses": "write" }, "repository_selection": "all" }),
            )
        }
        ("POST", ["repos", owner, repo, "check-runs"]) => {
            let id = state.next_check_run_id;
            state.next_check_run_id += 1;
            let mut run = body.cloned().unwrap_or_default();
            run["id"] = json!(id);
            run["url"] = json!(format!(
                "https://api.github.com/repos/{owner}/{repo}/check-runs/{id}"
            ));
            run["html_url"] = json!(format!("https://github.com/{owner}/{repo}/runs/{id}"));
            (201, run)
        }
        ("PATCH", ["repos", _, _, "check-runs", id]) => {
            let mut run = body.cloned().unwrap_or_default();
            run["id"] = json!(id.parse::<u64>().unwrap_or(0));
            (200, run)
        }
        ("POST", ["repos", _, _, "statuses", _]) => {
            let mut status = body.cloned().unwrap_or_default();
            status["id"] = json!(1);
            status["created_at"] = json!(chrono::Utc::now().to_rfc3339());
            (201, status)
        }
        ("GET", ["repos", _, _, "commits", sha, "pulls"]) => {
            let pulls: Vec<Value> = state
                .pull_requests
                .iter()
                .filter(|(_, head)| head == sha)
                .map(|(number, head)| {
                    json!({ "number": number, "state": "open", "head": { "sha": head }, "base": { "ref": "main" } })
                })
                .collect();
            (200, Value::Array(pulls))
        }
        ("GET", ["repos", _, _, "issues", number, "comments"]) => {
            let number: u64 = number.parse().unwrap_or(0);
            let page: usize = query_value(path, "page").unwrap_or(1);
            let per_page: usize = query_value(path, "per_page").unwrap_or(30);
            let comments: Vec<Value> = state
                .comments
                .iter()
                .filter(|(_, on, _)| *on == number)
                .skip((page.max(1) - 1) * per_page)
                .take(per_page)
                .map(|(id, _, body)| json!({ "id": id, "body": body }))
                .collect();
            (200, Value::Array(comments))
        }
        ("POST", ["repos", _, _, "issues", number, "comments"]) => {
            let id = 900_000 + state.comments.len() as u64 + 1;
            let text = body
                .and_then(|b| b["body"].as_str())
                .unwrap_or_default()
                .to_owned();
            state
                .comments
                .push((id, number.parse().unwrap_or(0), text.clone()));
            (201, json!({ "id": id, "body": text }))
        }
        ("PATCH", ["repos", _, _, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            let text = body
                .and_then(|b| b["body"].as_str())
                .unwrap_or_default()
                .to_owned();
            match state.comments.iter_mut().find(|(c, _, _)| *c == id) {
                Some(comment) => {
                    comment.2 = text.clone();
                    (200, json!({ "id": id, "body": text }))
                }
                None => (404, json!({ "message": "Not Found" })),
            }
        }
        _ => (
            404,
            json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest" }),
        ),
    }
}

/// What GitHub's REST reference requires of the request, as a list of what is wrong.
fn check_request(
    state: &mut FakeState,
    method: &str,
    path: &str,
    headers: &BTreeMap<String, String>,
    body: Option<&Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    if headers.get("accept").map(String::as_str) != Some("application/vnd.github+json") {
        problems.push(format!("Accept is {:?}", headers.get("accept")));
    }
    if headers.get("x-github-api-version").map(String::as_str) != Some("2022-11-28") {
        problems.push("X-GitHub-Api-Version is not 2022-11-28".into());
    }
    if headers.get("user-agent").is_none_or(String::is_empty) {
        problems.push("no User-Agent".into());
    }
    let bearer = headers
        .get("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let path_only = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path_only.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["app", "installations", _, "access_tokens"]) => {
            problems.extend(check_jwt(&state.auth, &bearer));
        }
        ("POST", ["repos", _, _, "check-runs"]) => {
            problems.extend(check_installation_token(state, &bearer));
            problems.extend(check_check_run(body, true));
        }
        ("PATCH", ["repos", _, _, "check-runs", id]) => {
            problems.extend(check_installation_token(state, &bearer));
            if id.parse::<u64>().is_err() {
                problems.push(format!("check run id {id} is not a number"));
            }
            problems.extend(check_check_run(body, false));
        }
        ("POST", ["repos", _, _, "statuses", sha]) => {
            if !is_sha(sha) {
                problems.push(format!("{sha} is not a commit SHA"));
            }
            match &state.auth {
                FakeAuth::Token(token) if *token == bearer => {}
                FakeAuth::Token(_) => problems.push("the token is not the one configured".into()),
                FakeAuth::App { .. } => problems.extend(check_installation_token(state, &bearer)),
            }
            problems.extend(check_status(body));
        }
        ("GET", ["repos", _, _, "commits", sha, "pulls"]) => {
            if !is_sha(sha) {
                problems.push(format!("{sha} is not a commit SHA"));
            }
            problems.extend(check_any_token(state, &bearer));
            if body.is_some() {
                problems.push("a GET with a body".into());
            }
        }
        ("GET", ["repos", _, _, "issues", number, "comments"]) => {
            if number.parse::<u64>().is_err() {
                problems.push(format!("issue number {number} is not a number"));
            }
            problems.extend(check_any_token(state, &bearer));
            if query_value::<usize>(path, "per_page").is_some_and(|n| n > 100) {
                problems.push("per_page is at most 100".into());
            }
        }
        ("POST", ["repos", _, _, "issues", _, "comments"])
        | ("PATCH", ["repos", _, _, "issues", "comments", _]) => {
            problems.extend(check_any_token(state, &bearer));
            problems.extend(check_comment(body));
        }
        _ => problems.push("no such endpoint".into()),
    }
    problems
}

fn check_jwt(auth: &FakeAuth, jwt: &str) -> Vec<String> {
    let FakeAuth::App {
        app_id,
        public_key_der,
    } = auth
    else {
        return vec!["an installation token was asked for without an App".into()];
    };
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return vec!["the bearer is not a JWT".into()];
    };
    let mut problems = Vec::new();
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).unwrap_or_default();
    let header: Value = serde_json::from_slice(&decode(header)).unwrap_or_default();
    if header["alg"] != "RS256" {
        problems.push(format!("JWT alg is {}", header["alg"]));
    }
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key_der,
    );
    let message = format!("{}.{}", parts[0], parts[1]);
    if key.verify(message.as_bytes(), &decode(signature)).is_err() {
        problems.push("the JWT signature does not verify with the App's public key".into());
    }
    let claims: Value = serde_json::from_slice(&decode(claims)).unwrap_or_default();
    let now = chrono::Utc::now().timestamp();
    let iat = claims["iat"].as_i64().unwrap_or(i64::MAX);
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if !(now - 70..=now - 50).contains(&iat) {
        problems.push(format!("JWT iat {iat} is not 60 s in the past (now {now})"));
    }
    if exp <= now || exp - iat > 600 {
        problems.push(format!(
            "JWT exp {exp} is not within 10 minutes of iat {iat}"
        ));
    }
    if claims["iss"].as_str() != Some(app_id.to_string().as_str()) && claims["iss"] != json!(app_id)
    {
        problems.push(format!("JWT iss is {}", claims["iss"]));
    }
    problems
}

/// An installation token the fake issued, or the configured token.
fn check_any_token(state: &FakeState, bearer: &str) -> Vec<String> {
    match &state.auth {
        FakeAuth::Token(token) if token == bearer => Vec::new(),
        FakeAuth::Token(_) => vec!["the token is not the one configured".into()],
        FakeAuth::App { .. } => check_installation_token(state, bearer),
    }
}

fn check_comment(body: Option<&Value>) -> Vec<String> {
    let Some(body) = body.and_then(Value::as_object) else {
        return vec!["no JSON object body".into()];
    };
    let mut problems: Vec<String> = body
        .keys()
        .filter(|key| *key != "body")
        .map(|key| format!("unknown parameter {key}"))
        .collect();
    match body.get("body").and_then(Value::as_str) {
        Some(text) if text.chars().count() > 65_536 => {
            problems.push(format!("body has {} characters", text.chars().count()));
        }
        Some(_) => {}
        None => problems.push("body is required".into()),
    }
    problems
}

fn query_value<T: std::str::FromStr>(path: &str, name: &str) -> Option<T> {
    let (_, query) = path.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
        .and_then(|value| value.parse().ok())
}

fn check_installation_token(state: &FakeState, bearer: &str) -> Vec<String> {
    match &state.auth {
        FakeAuth::App { .. } if state.issued_tokens.iter().any(|t| t == bearer) => Vec::new(),
        FakeAuth::App { .. } => {
            vec!["the bearer is not an installation token the fake issued".into()]
        }
        FakeAuth::Token(_) => vec!["only GitHub Apps can write check runs".into()],
    }
}

const CONCLUSIONS: [&str; 8] = [
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
];

fn check_check_run(body: Option<&Value>, creating: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(body) = body.and_then(Value::as_object) else {
        return vec!["no JSON object body".into()];
    };
    let mut allowed = vec![
        "name",
        "details_url",
        "external_id",
        "status",
        "started_at",
        "conclusion",
        "completed_at",
        "output",
        "actions",
    ];
    if creating {
        allowed.push("head_sha");
        if !body.get("name").is_some_and(Value::is_string) {
            problems.push("name is required".into());
        }
        if !body
            .get("head_sha")
            .and_then(Value::as_str)
            .is_some_and(is_sha)
        {
            problems.push("head_sha is required, a commit SHA".into());
        }
    }
    for key in body.keys() {
        if !allowed.contains(&key.as_str()) {
            problems.push(format!("unknown parameter {key}"));
        }
    }
    for key in ["name", "details_url", "external_id"] {
        if body.get(key).is_some_and(|v| !v.is_string()) {
            problems.push(format!("{key} is not a string"));
        }
    }
    let status = body.get("status").and_then(Value::as_str);
    if let Some(status) = status
        && !["queued", "in_progress", "completed"].contains(&status)
    {
        problems.push(format!("status {status} is not one shoal may set"));
    }
    if let Some(conclusion) = body.get("conclusion")
        && !conclusion
            .as_str()
            .is_some_and(|c| CONCLUSIONS.contains(&c))
    {
        problems.push(format!("conclusion {conclusion} is not one of GitHub's"));
    }
    let completed = status == Some("completed") || body.contains_key("completed_at");
    if completed && !body.contains_key("conclusion") {
        problems.push("conclusion is required when completed".into());
    }
    for key in ["started_at", "completed_at"] {
        if let Some(time) = body.get(key)
            && time
                .as_str()
                .is_none_or(|t| chrono::DateTime::parse_from_rfc3339(t).is_err())
        {
            problems.push(format!("{key} {time} is not ISO 8601"));
        }
    }
    if let Some(output) = body.get("output") {
        problems.extend(check_output(output));
    }
    problems
}

fn check_output(output: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if !output["title"].is_string() {
        problems.push("output.title is required".into());
    }
    match output["summary"].as_str() {
        Some(summary) if summary.chars().count() > 65_535 => {
            problems.push(format!(
                "output.summary has {} characters",
                summary.chars().count()
            ));
        }
        Some(_) => {}
        None => problems.push("output.summary is required".into()),
    }
    let Some(annotations) = output.get("annotations") else {
        return problems;
    };
    let Some(annotations) = annotations.as_array() else {
        return vec!["output.annotations is not an array".into()];
    };
    if annotations.len() > 50 {
        problems.push(format!("{} annotations in one request", annotations.len()));
    }
    for annotation in annotations {
        let line = |key: &str| annotation[key].as_u64().filter(|&n| n >= 1);
        if !annotation["path"].is_string() || !annotation["message"].is_string() {
            problems.push(format!("annotation without path or message: {annotation}"));
        }
        let (Some(start), Some(end)) = (line("start_line"), line("end_line")) else {
            problems.push(format!(
                "annotation without start_line and end_line: {annotation}"
            ));
            continue;
        };
        if !annotation["annotation_level"]
            .as_str()
            .is_some_and(|l| ["notice", "warning", "failure"].contains(&l))
        {
            problems.push(format!("annotation_level of {annotation}"));
        }
        let columns =
            annotation.get("start_column").is_some() || annotation.get("end_column").is_some();
        if columns && start != end {
            problems.push(format!(
                "columns on an annotation of several lines: {annotation}"
            ));
        }
    }
    problems
}

fn check_status(body: Option<&Value>) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(body) = body.and_then(Value::as_object) else {
        return vec!["no JSON object body".into()];
    };
    for key in body.keys() {
        if !["state", "target_url", "description", "context"].contains(&key.as_str()) {
            problems.push(format!("unknown parameter {key}"));
        }
    }
    if !body
        .get("state")
        .and_then(Value::as_str)
        .is_some_and(|s| ["error", "failure", "pending", "success"].contains(&s))
    {
        problems.push(format!(
            "state {:?} is not one of GitHub's",
            body.get("state")
        ));
    }
    if let Some(description) = body.get("description") {
        match description.as_str() {
            Some(text) if text.chars().count() >= 140 => {
                problems.push(format!(
                    "description has {} characters",
                    text.chars().count()
                ));
            }
            Some(_) => {}
            None => problems.push("description is not a string".into()),
        }
    }
    for key in ["target_url", "context"] {
        if body.get(key).is_some_and(|v| !v.is_string()) {
            problems.push(format!("{key} is not a string"));
        }
    }
    problems
}

fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.chars().all(|c| c.is_ascii_hexdigit())
}
