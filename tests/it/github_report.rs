//! Reporting to GitHub, against a stand-in for its REST API on loopback that checks every
//! request against GitHub's reference: check runs with an App (JWT, installation token,
//! create then update, annotations 50 a request), commit statuses with a token, retries
//! after a 500 and after rate limits, the newest state winning while GitHub is down, and a
//! report given up after its retries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use serde_json::json;
use shoal::github::{
    Annotation, AnnotationLevel, CheckPhase, CheckState, Conclusion, Credentials, GitHubSettings,
    PlanComment, ReportFailure, Reporter, Repository, RetryPolicy, StepRow, comment_marker,
};
use shoal::secret_text::SecretText;

use crate::support::fake_github::{
    AppKeyPair, FakeAuth, FakeGitHub, RecordedRequest, ScriptedAnswer,
};

const SHA: &str = "9fceb02d0ae598e95dc970b74767f19372d61af8";
const WAIT: Duration = Duration::from_secs(20);

struct Reporting {
    runtime: tokio::runtime::Runtime,
    reporter: Option<Reporter>,
    failures: Arc<Mutex<Vec<ReportFailure>>>,
}

impl Reporting {
    fn start(fake: &FakeGitHub, credentials: Credentials, retry: RetryPolicy) -> Reporting {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let failures = Arc::new(Mutex::new(Vec::new()));
        let sink = failures.clone();
        let settings = GitHubSettings {
            api_url: fake.url(),
            repository: Repository::parse("octo-org/infra").expect("a repository"),
            credentials,
            public_url: Some("https://shoal.example.org".into()),
            drift_conclusion: Conclusion::Failure,
            request_timeout: Duration::from_secs(5),
            retry,
        };
        let (reporter, _task) = {
            let _inside = runtime.enter();
            Reporter::start(
                settings,
                Arc::new(move |failure| sink.lock().expect("not poisoned").push(failure)),
            )
            .expect("the reporter starts")
        };
        Reporting {
            runtime,
            reporter: Some(reporter),
            failures,
        }
    }

    fn report(&self, state: CheckState) {
        self.reporter.as_ref().expect("running").report(state);
    }

    fn failures(&self) -> Vec<ReportFailure> {
        self.failures.lock().expect("not poisoned").clone()
    }
}

impl Drop for Reporting {
    fn drop(&mut self) {
        self.reporter = None;
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime"),
        );
        runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

fn app(folder: &std::path::Path) -> (FakeGitHub, Credentials) {
    let key = AppKeyPair::generate(folder);
    let fake = FakeGitHub::start(FakeAuth::App {
        app_id: 123_456,
        public_key_der: key.public_key_der,
    });
    let credentials = Credentials::App {
        app_id: 123_456,
        installation_id: 7_890,
        private_key: SecretText::new(key.private_key_pem),
    };
    (fake, credentials)
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        first_delay: Duration::from_millis(300),
        max_delay: Duration::from_secs(2),
    }
}

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 6, 30, second)
        .single()
        .expect("a time")
}

fn check(phase: CheckPhase, title: &str) -> CheckState {
    CheckState {
        run_id: 12,
        workflow: "deploy".into(),
        environment: "prod".into(),
        head_sha: SHA.into(),
        phase,
        title: title.into(),
        steps: Vec::new(),
        plan_text: None,
        annotations: Vec::new(),
    }
}

fn completed(conclusion: Conclusion) -> CheckPhase {
    CheckPhase::Completed {
        started_at: Some(at(1)),
        completed_at: at(4),
        conclusion,
    }
}

fn lines(requests: &[RecordedRequest]) -> Vec<String> {
    requests.iter().map(RecordedRequest::line).collect()
}

fn body(request: &RecordedRequest) -> serde_json::Value {
    request.body.clone().unwrap_or_default()
}

#[test]
fn an_app_creates_a_check_run_then_updates_it_through_its_life() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    let reporting = Reporting::start(&fake, credentials, quick_retries());

    reporting.report(check(CheckPhase::Queued, "Queued"));
    fake.wait_for(WAIT, |r| r.len() == 1);
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(1) },
        "Applying to prod",
    ));
    fake.wait_for(WAIT, |r| r.len() == 2);
    let mut done = check(completed(Conclusion::Success), "Applied 1 change to prod");
    done.steps = vec![StepRow {
        name: "web".into(),
        result: "success".into(),
        duration: Some(Duration::from_millis(2_500)),
    }];
    done.plan_text = Some("~ service web: replicas 1 -> 2".into());
    reporting.report(done);
    let requests = fake.wait_for(WAIT, |r| r.len() == 3);

    assert_eq!(fake.problems(), Vec::<String>::new());
    assert_eq!(
        lines(&fake.requests()),
        [
            "POST /app/installations/7890/access_tokens",
            "POST /repos/octo-org/infra/check-runs",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
        ],
        "one installation token for the three reports"
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "name": "shoal/deploy/prod",
            "head_sha": SHA,
            "external_id": "12",
            "details_url": "https://shoal.example.org/api/v1/runs/12",
            "status": "queued",
            "output": { "title": "Queued", "summary": "No step has run yet.\n" },
        })
    );
    assert_eq!(body(&requests[1])["status"], "in_progress");
    assert_eq!(body(&requests[1])["started_at"], "2026-11-22T06:30:01Z");
    assert_eq!(
        body(&requests[2]),
        json!({
            "name": "shoal/deploy/prod",
            "external_id": "12",
            "details_url": "https://shoal.example.org/api/v1/runs/12",
            "status": "completed",
            "started_at": "2026-11-22T06:30:01Z",
            "completed_at": "2026-11-22T06:30:04Z",
            "conclusion": "success",
            "output": {
                "title": "Applied 1 change to prod",
                "summary": "| Step | Result | Duration |\n| --- | --- | --- |\n| web | success | 2.5 s |\n\n\
                            <details><summary>Plan for prod</summary>\n\n```diff\n\
                            ~ service web: replicas 1 -> 2\n```\n\n</details>\n",
            },
        })
    );
    assert!(reporting.failures().is_empty());
}

#[test]
fn annotations_past_fifty_are_added_by_later_updates() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    let reporting = Reporting::start(&fake, credentials, quick_retries());
    let mut failed = check(
        completed(Conclusion::Failure),
        "Failed: rendering failed: stacks/app.yml:3:14: undefined value",
    );
    failed.annotations = (1..=120)
        .map(|line| Annotation {
            path: "stacks/app.yml".into(),
            start_line: line,
            end_line: line,
            start_column: Some(14),
            end_column: None,
            level: AnnotationLevel::Failure,
            message: format!("undefined value on line {line}"),
        })
        .collect();
    reporting.report(failed);
    let requests = fake.wait_for(WAIT, |r| r.len() == 3);
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert_eq!(
        lines(&requests),
        [
            "POST /repos/octo-org/infra/check-runs",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
        ]
    );
    let counts: Vec<usize> = requests
        .iter()
        .map(|r| {
            body(r)["output"]["annotations"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(counts, [50, 50, 20]);
    assert_eq!(body(&requests[0])["conclusion"], "failure");
    assert_eq!(
        body(&requests[2])["output"]["annotations"][19],
        json!({
            "path": "stacks/app.yml",
            "start_line": 120,
            "end_line": 120,
            "start_column": 14,
            "annotation_level": "failure",
            "message": "undefined value on line 120",
        })
    );
}

#[test]
fn github_answering_500_is_retried_with_backoff_then_delivered() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    for _ in 0..2 {
        fake.script(ScriptedAnswer {
            method: "POST",
            path: "/repos/octo-org/infra/check-runs".into(),
            status: 500,
            headers: Vec::new(),
            body: r#"{"message":"Server Error"}"#.into(),
        });
    }
    let reporting = Reporting::start(&fake, credentials, quick_retries());
    reporting.report(check(
        completed(Conclusion::Success),
        "Applied 0 changes to prod",
    ));
    let requests = fake.wait_for(WAIT, |r| r.len() == 3);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        fake.repository_requests().len(),
        3,
        "nothing after the delivery"
    );
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert!(
        requests
            .iter()
            .all(|r| r.line() == "POST /repos/octo-org/infra/check-runs")
    );
    assert!(
        requests.iter().all(|r| body(r) == body(&requests[0])),
        "the same body each time"
    );
    let gaps = [
        requests[1].at - requests[0].at,
        requests[2].at - requests[1].at,
    ];
    assert!(gaps[0] >= Duration::from_millis(300), "{gaps:?}");
    assert!(
        gaps[1] >= Duration::from_millis(600),
        "backoff doubles: {gaps:?}"
    );
    assert!(reporting.failures().is_empty());
}

#[test]
fn a_rate_limit_waits_for_the_reset_time_and_retry_after() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    let reset = Utc::now().timestamp() + 2;
    fake.script(ScriptedAnswer {
        method: "POST",
        path: "/repos/octo-org/infra/check-runs".into(),
        status: 403,
        headers: vec![
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
        ],
        body: r#"{"message":"API rate limit exceeded for installation ID 7890."}"#.into(),
    });
    fake.script(ScriptedAnswer {
        method: "PATCH",
        path: "/repos/octo-org/infra/check-runs/".into(),
        status: 429,
        headers: vec![("retry-after".into(), "1".into())],
        body: r#"{"message":"Too Many Requests"}"#.into(),
    });
    let fast = RetryPolicy {
        attempts: 4,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(10),
    };
    let reporting = Reporting::start(&fake, credentials, fast);
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(1) },
        "Applying",
    ));
    let requests = fake.wait_for(WAIT, |r| r.len() == 2);
    assert!(
        Utc::now().timestamp() >= reset,
        "the retry came after x-ratelimit-reset"
    );
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(1_000));
    reporting.report(check(
        completed(Conclusion::Success),
        "Applied 0 changes to prod",
    ));
    let requests = fake.wait_for(WAIT, |r| r.len() == 4);
    assert_eq!(
        lines(&requests),
        [
            "POST /repos/octo-org/infra/check-runs",
            "POST /repos/octo-org/infra/check-runs",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
            "PATCH /repos/octo-org/infra/check-runs/4000000001",
        ]
    );
    assert!(
        requests[3].at - requests[2].at >= Duration::from_millis(1_000),
        "Retry-After: 1 is honoured over a 10 ms backoff"
    );
    assert_eq!(body(&requests[3])["conclusion"], "success");
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert!(reporting.failures().is_empty());
}

#[test]
fn the_newest_state_wins_while_github_is_down_and_a_lost_report_is_handed_on() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    for _ in 0..3 {
        fake.script(ScriptedAnswer {
            method: "POST",
            path: "/repos/octo-org/infra/check-runs".into(),
            status: 502,
            headers: Vec::new(),
            body: r#"{"message":"Bad Gateway"}"#.into(),
        });
    }
    let policy = RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(400),
        max_delay: Duration::from_secs(1),
    };
    let reporting = Reporting::start(&fake, credentials, policy);
    // Another check (run 13) that GitHub never takes: given up after 3 attempts.
    let mut lost = check(CheckPhase::Queued, "Queued");
    lost.run_id = 13;
    reporting.report(lost);
    fake.wait_for(WAIT, |r| r.len() == 3);
    // Run 12: GitHub is up again; its states come faster than they can be sent.
    reporting.report(check(CheckPhase::Queued, "Queued"));
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(1) },
        "Applying",
    ));
    reporting.report(check(completed(Conclusion::Cancelled), "Cancelled"));
    let requests = fake.wait_for(WAIT, |r| {
        r.iter().any(|r| body(r)["conclusion"] == "cancelled")
    });
    std::thread::sleep(Duration::from_millis(800));
    let requests_after = fake.repository_requests();
    assert_eq!(
        requests_after.len(),
        requests.len(),
        "the final state is the last one sent"
    );
    let last = requests.last().expect("a request");
    assert_eq!(body(last)["status"], "completed");
    assert_eq!(body(last)["started_at"], "2026-11-22T06:30:01Z");
    let run_12: Vec<String> = requests[3..]
        .iter()
        .map(|r| format!("{} {}", r.line(), body(r)["status"]))
        .collect();
    assert!(run_12.len() <= 3, "{run_12:?}");
    assert_eq!(fake.problems(), Vec::<String>::new());
    let failures = reporting.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].run_id, 13);
    assert_eq!(failures[0].check, "shoal/deploy/prod");
    assert_eq!(
        failures[0].error,
        "POST /repos/octo-org/infra/check-runs: GitHub answered 502: Bad Gateway (after 3 attempts)"
    );
}

#[test]
fn a_token_reports_commit_statuses_instead_of_check_runs() {
    let fake = FakeGitHub::start(FakeAuth::Token("github_pat_11ABCDEFG0123".into()));
    let reporting = Reporting::start(
        &fake,
        Credentials::Token(SecretText::new("github_pat_11ABCDEFG0123")),
        quick_retries(),
    );
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(1) },
        "Applying to prod",
    ));
    fake.wait_for(WAIT, |r| r.len() == 1);
    let long = format!("Failed at step traefik: {}", "x".repeat(300));
    reporting.report(check(completed(Conclusion::Failure), &long));
    let requests = fake.wait_for(WAIT, |r| r.len() == 2);
    assert_eq!(fake.problems(), Vec::<String>::new());
    let path = format!("POST /repos/octo-org/infra/statuses/{SHA}");
    assert_eq!(lines(&requests), [path.clone(), path]);
    assert_eq!(
        requests[0].headers.get("authorization").map(String::as_str),
        Some("Bearer github_pat_11ABCDEFG0123")
    );
    assert_eq!(
        body(&requests[0]),
        json!({
            "state": "pending",
            "context": "shoal/deploy/prod",
            "description": "Applying to prod",
            "target_url": "https://shoal.example.org/api/v1/runs/12",
        })
    );
    let failed = body(&requests[1]);
    assert_eq!(failed["state"], "failure");
    assert_eq!(
        failed["description"],
        format!("Failed at step traefik: {}…", "x".repeat(112))
    );
}

#[test]
fn installation_tokens_are_renewed_before_they_expire_and_after_a_401() {
    let folder = tempfile::tempdir().expect("temp");
    let (fake, credentials) = app(folder.path());
    // Tokens that expire within five minutes are renewed before the next request.
    fake.set_token_lifetime(chrono::TimeDelta::minutes(4));
    let reporting = Reporting::start(&fake, credentials, quick_retries());
    reporting.report(check(CheckPhase::Queued, "Queued"));
    fake.wait_for(WAIT, |r| r.len() == 1);
    fake.set_token_lifetime(chrono::TimeDelta::hours(1));
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(1) },
        "Applying",
    ));
    fake.wait_for(WAIT, |r| r.len() == 2);
    reporting.report(check(
        CheckPhase::InProgress { started_at: at(2) },
        "Still applying",
    ));
    fake.wait_for(WAIT, |r| r.len() == 3);
    // GitHub refuses a token it issued (revoked): a new one is fetched and the request
    // sent again.
    fake.script(ScriptedAnswer {
        method: "PATCH",
        path: "/repos/octo-org/infra/check-runs/".into(),
        status: 401,
        headers: Vec::new(),
        body: r#"{"message":"Bad credentials"}"#.into(),
    });
    reporting.report(check(
        completed(Conclusion::Success),
        "Applied 0 changes to prod",
    ));
    fake.wait_for(WAIT, |r| r.len() == 5);
    let exchange = "POST /app/installations/7890/access_tokens";
    let patch = "PATCH /repos/octo-org/infra/check-runs/4000000001";
    assert_eq!(
        lines(&fake.requests()),
        [
            exchange,
            "POST /repos/octo-org/infra/check-runs",
            // The first token expires in four minutes: renewed.
            exchange,
            patch,
            // The second one expires in an hour: kept.
            patch,
            patch,
            exchange,
            patch,
        ]
    );
    let bearers: Vec<String> = fake
        .repository_requests()
        .iter()
        .map(|r| r.headers.get("authorization").cloned().unwrap_or_default())
        .collect();
    assert_ne!(bearers[0], bearers[1], "{bearers:?}");
    assert_eq!(bearers[1], bearers[2]);
    assert_eq!(bearers[2], bearers[3], "the token GitHub refused");
    assert_ne!(
        bearers[3], bearers[4],
        "the refused request is sent again with a new token"
    );
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert!(reporting.failures().is_empty());
}

#[test]
fn github_that_never_answers_is_given_up_after_the_timeout_of_each_attempt() {
    // Accepts connections and never answers.
    let silent = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    let port = silent.local_addr().expect("an address").port();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // What happened, in order: the test records that `report` returned, the reporter
    // that it gave up. The reporter waits for the test's word before it records, so that
    // its record says whether `report` had returned by then, on a machine however slow.
    let events = Arc::new(Mutex::new(Vec::new()));
    let (returned, returned_heard) = std::sync::mpsc::channel::<()>();
    let returned_heard = Mutex::new(returned_heard);
    let failures = Arc::new(Mutex::new(Vec::new()));
    let sink = failures.clone();
    let reporter_events = events.clone();
    let settings = GitHubSettings {
        api_url: format!("http://127.0.0.1:{port}"),
        repository: Repository::parse("octo-org/infra").expect("a repository"),
        credentials: Credentials::Token(SecretText::new("ghp_silent")),
        public_url: None,
        drift_conclusion: Conclusion::Failure,
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            attempts: 2,
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(100),
        },
    };
    let started = std::time::Instant::now();
    let (reporter, task) = {
        let _inside = runtime.enter();
        Reporter::start(
            settings,
            Arc::new(move |failure| {
                // Had `report` waited for GitHub, it would still be waiting: no word comes.
                let heard = returned_heard
                    .lock()
                    .expect("not poisoned")
                    .recv_timeout(Duration::from_secs(10));
                let mut events = reporter_events.lock().expect("not poisoned");
                if heard.is_err() {
                    events.push("given up before report returned");
                }
                events.push("given up");
                sink.lock().expect("not poisoned").push(failure);
            }),
        )
        .expect("starts")
    };
    reporter.report(check(completed(Conclusion::Success), "Applied"));
    events.lock().expect("not poisoned").push("report returned");
    returned.send(()).expect("the reporter's sink is alive");
    drop(reporter);
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await })
        .expect("the reporter stops once its last report is given up")
        .expect("no panic");
    // Reporting does not wait for GitHub: it returned before the report was given up.
    assert_eq!(
        *events.lock().expect("not poisoned"),
        ["report returned", "given up"]
    );
    let failures = failures.lock().expect("not poisoned").clone();
    assert_eq!(
        failures,
        [ReportFailure {
            run_id: 12,
            check: "shoal/deploy/prod".into(),
            error: format!(
                "POST /repos/octo-org/infra/statuses/{SHA}: GitHub did not answer POST \
                 /repos/octo-org/infra/statuses/{SHA} within 300ms (after 2 attempts)"
            ),
        }]
    );
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "two timeouts and a wait"
    );
    drop(silent);
}

#[test]
fn a_plan_comment_is_found_by_its_marker_and_edited_in_place() {
    let fake = FakeGitHub::start(FakeAuth::Token("ghp_comments".into()));
    fake.open_pull_request(7, SHA);
    let reporting = Reporting::start(
        &fake,
        Credentials::Token(SecretText::new("ghp_comments")),
        quick_retries(),
    );
    let comment = |run_id, body: &str| PlanComment {
        run_id,
        workflow: "deploy".into(),
        head_sha: SHA.into(),
        body: format!("{}\n{body}", comment_marker("deploy")),
    };
    reporting
        .reporter
        .as_ref()
        .expect("running")
        .comment(comment(1, "first plan"));
    fake.wait_for(WAIT, |r| r.len() == 3);
    reporting
        .reporter
        .as_ref()
        .expect("running")
        .comment(comment(2, "second plan"));
    let requests = fake.wait_for(WAIT, |r| r.len() == 5);
    assert_eq!(
        lines(&requests),
        [
            format!("GET /repos/octo-org/infra/commits/{SHA}/pulls"),
            "GET /repos/octo-org/infra/issues/7/comments?per_page=100&page=1".to_owned(),
            "POST /repos/octo-org/infra/issues/7/comments".to_owned(),
            format!("GET /repos/octo-org/infra/commits/{SHA}/pulls"),
            "PATCH /repos/octo-org/infra/issues/comments/900001".to_owned(),
        ]
    );
    assert_eq!(
        body(&requests[4]),
        json!({ "body": "<!-- shoal:plan-comment workflow=deploy -->\nsecond plan" })
    );
    assert_eq!(fake.comments(7).len(), 1);
    // Another daemon (a restart) finds the comment by its marker.
    drop(reporting);
    let again = Reporting::start(
        &fake,
        Credentials::Token(SecretText::new("ghp_comments")),
        quick_retries(),
    );
    again
        .reporter
        .as_ref()
        .expect("running")
        .comment(comment(3, "third plan"));
    let requests = fake.wait_for(WAIT, |r| r.len() == 8);
    assert_eq!(
        lines(&requests[5..]),
        [
            format!("GET /repos/octo-org/infra/commits/{SHA}/pulls"),
            "GET /repos/octo-org/infra/issues/7/comments?per_page=100&page=1".to_owned(),
            "PATCH /repos/octo-org/infra/issues/comments/900001".to_owned(),
        ]
    );
    assert_eq!(
        fake.comments(7),
        [(
            900_001,
            "<!-- shoal:plan-comment workflow=deploy -->\nthird plan".to_owned()
        )]
    );
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert!(again.failures().is_empty());
}

// ---- Through `shoal serve`: real runs on the private swarm, reported to the stand-in. ----

mod through_serve {
    use std::ffi::OsString;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use hmac::{Hmac, Mac as _};
    use serde_json::{Value, json};

    use crate::support::fake_github::{AppKeyPair, FakeAuth, FakeGitHub, ScriptedAnswer};
    use crate::support::serve_daemon::ServeDaemon;
    use crate::support::{PrivateSwarm, free_tcp_port, git, write_file};
    use crate::test_repo::{Run, shoal};

    const WAIT: Duration = Duration::from_secs(120);
    const PUBLIC_URL: &str = "https://shoal.example.org";

    /// A config repo deploying one busybox service from `stacks/app.yml`, with the workflow
    /// `deploy` triggered by `on` and with the `extra` keys; its stack name.
    fn config_repo(swarm: &PrivateSwarm, folder: &Path, on: &str, extra: &str) -> String {
        let image = swarm.image("shoal-test/busybox:github");
        let stack = swarm.unique_name("gh");
        let write = |path: &str, text: &str| write_file(folder, path, text);
        write(
            "shoal.yml",
            &format!(
                "environments: {{ local: {{ vars: {{ image: \"{image}\", replicas: 1 }} }} }}\n"
            ),
        );
        write(
            "stacks/app.yml",
            "version: \"3.8\"\nservices:\n  web:\n    image: \"{{ vars.image }}\"\n    deploy: { replicas: {{ vars.replicas }} }\n",
        );
        write(
            "workflows/deploy.yml",
            &format!(
                "on:\n{on}{extra}steps:\n  - stack: {{ name: {stack}, compose: stacks/app.yml }}\n"
            ),
        );
        git(folder, &["init", "-q", "-b", "main"]);
        git(folder, &["add", "-A"]);
        git(folder, &["commit", "-q", "-m", "deploy web"]);
        stack
    }

    fn head(folder: &Path) -> String {
        git(folder, &["rev-parse", "HEAD"]).trim().to_owned()
    }

    /// A GitHub App, the stand-in that knows its key, and the options that name both.
    fn app(folder: &Path) -> (FakeGitHub, Vec<OsString>) {
        let key = AppKeyPair::generate(folder);
        let key_file = folder.join("app.pem");
        std::fs::write(&key_file, &key.private_key_pem).expect("key file");
        let fake = FakeGitHub::start(FakeAuth::App {
            app_id: 4242,
            public_key_der: key.public_key_der,
        });
        let args = [
            "--github-app-id",
            "4242",
            "--github-installation-id",
            "99",
            "--github-repo",
            "octo-org/infra",
            "--github-retry-delay",
            "200ms",
            "--public-url",
            PUBLIC_URL,
            "--github-api-url",
            &fake.url(),
            "--github-private-key",
        ]
        .into_iter()
        .map(OsString::from)
        .chain([key_file.into_os_string()])
        .collect();
        (fake, args)
    }

    /// The check bodies sent for run `id` (those that name it in `external_id`).
    fn bodies_of_run(fake: &FakeGitHub, id: i64) -> Vec<(String, Value)> {
        fake.repository_requests()
            .into_iter()
            .filter_map(|request| {
                let body = request.body.clone()?;
                (body["external_id"].as_str() == Some(id.to_string().as_str()))
                    .then(|| (request.line(), body))
            })
            .collect()
    }

    /// Waits for the completed check of run `id`; every body sent for it, in order.
    fn wait_for_completed(fake: &FakeGitHub, id: i64) -> Vec<(String, Value)> {
        let deadline = Instant::now() + WAIT;
        loop {
            let bodies = bodies_of_run(fake, id);
            if bodies.iter().any(|(_, body)| body["status"] == "completed") {
                return bodies;
            }
            assert!(
                Instant::now() < deadline,
                "no completed check for run {id}: {:?}",
                fake.repository_requests()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The body with its times checked and set aside and the step durations blanked, so
    /// that the rest compares exactly.
    fn settled(body: &Value) -> Value {
        let mut body = body.clone();
        for key in ["started_at", "completed_at"] {
            if let Some(time) = body.get(key) {
                let text = time.as_str().unwrap_or_default();
                assert!(
                    chrono::DateTime::parse_from_rfc3339(text).is_ok(),
                    "{key} {time}"
                );
                body[key] = json!("<time>");
            }
        }
        if let Some(summary) = body["output"]["summary"].as_str() {
            let blanked: Vec<String> = summary
                .lines()
                .map(|line| match line.rsplit_once(" | ") {
                    Some((row, last))
                        if line.starts_with("| ")
                            && last.ends_with(" s |")
                            && !line.starts_with("| Step") =>
                    {
                        format!("{row} | <duration> |")
                    }
                    _ => line.to_owned(),
                })
                .collect();
            body["output"]["summary"] = json!(format!("{}\n", blanked.join("\n")));
        }
        body
    }

    /// The run as `shoal runs show --output json` has it.
    fn shown(state: &Path, id: i64) -> Value {
        let run = Run::from(
            shoal()
                .args([
                    "runs",
                    "show",
                    &id.to_string(),
                    "--output",
                    "json",
                    "--state",
                ])
                .arg(state)
                .output()
                .expect("runs show"),
        );
        serde_json::from_str(&run.stdout).unwrap_or(Value::Null)
    }

    /// The lines of the plan, as the run logged them before its first step.
    fn logged_plan(state: &Path, id: i64) -> String {
        let logs = shown(state, id)["logs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let lines: Vec<&str> = logs
            .iter()
            .filter_map(Value::as_str)
            .take_while(|line| !line.starts_with("==> "))
            .collect();
        lines.join("\n")
    }

    /// The sequence each check goes through: a create, then updates of the check run it
    /// created, never going back (queued, in progress, completed; a state may be skipped
    /// when a newer one replaced it before it was sent), the completed state last.
    fn assert_lifecycle(bodies: &[(String, Value)]) {
        let rank = |body: &Value| match body["status"].as_str() {
            Some("queued") => 0,
            Some("in_progress") => 1,
            Some("completed") => 2,
            _ => panic!("a status GitHub does not know: {body}"),
        };
        let (first_line, _) = &bodies[0];
        assert_eq!(first_line, "POST /repos/octo-org/infra/check-runs");
        let (last_line, last) = bodies.last().expect("a body");
        assert_eq!(last["status"], "completed", "{last}");
        for (line, _) in &bodies[1..] {
            assert!(
                line.starts_with("PATCH /repos/octo-org/infra/check-runs/"),
                "{line}"
            );
            assert_eq!(line, last_line, "updates go to the check run created");
        }
        let ranks: Vec<u8> = bodies.iter().map(|(_, body)| rank(body)).collect();
        assert!(ranks.windows(2).all(|pair| pair[0] <= pair[1]), "{ranks:?}");
    }

    #[test]
    fn serve_reports_an_apply_after_github_answered_500_and_a_broken_template_with_annotations() {
        let swarm = PrivateSwarm::shared();
        let source = tempfile::tempdir().expect("temp");
        let stack = config_repo(swarm, source.path(), "  push: { branches: [main] }\n", "");
        let first = head(source.path());
        let state = tempfile::tempdir().expect("temp");
        let (fake, args) = app(state.path());
        fake.script(ScriptedAnswer {
            method: "POST",
            path: "/repos/octo-org/infra/check-runs".into(),
            status: 500,
            headers: Vec::new(),
            body: r#"{"message":"Server Error"}"#.into(),
        });
        let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);

        let run = daemon.wait_for_commit(&first);
        assert_eq!(run["status"], "success", "{run}");
        let id = run["id"].as_i64().expect("an id");
        let bodies = wait_for_completed(&fake, id);
        let requests = fake.repository_requests();
        assert_eq!(requests[0].line(), "POST /repos/octo-org/infra/check-runs");
        assert_eq!(
            requests[1].line(),
            "POST /repos/octo-org/infra/check-runs",
            "the create GitHub answered 500 to is sent again, with the newest state"
        );
        assert_lifecycle(&bodies[1..]);
        assert_eq!(
            settled(&bodies[0].1),
            json!({
                "name": "shoal/deploy/local",
                "head_sha": first,
                "external_id": id.to_string(),
                "details_url": format!("{PUBLIC_URL}/api/v1/runs/{id}"),
                "status": "queued",
                "output": { "title": "Queued", "summary": "No step has run yet.\n" },
            })
        );
        let plan = logged_plan(daemon.state.as_path(), id);
        assert!(plan.contains(&format!("{stack}_web")), "{plan}");
        let (_, completed) = bodies.last().expect("completed");
        assert_eq!(
            settled(completed),
            json!({
                "name": "shoal/deploy/local",
                "external_id": id.to_string(),
                "details_url": format!("{PUBLIC_URL}/api/v1/runs/{id}"),
                "status": "completed",
                "started_at": "<time>",
                "completed_at": "<time>",
                "conclusion": "success",
                "output": {
                    "title": "Applied 2 changes to local",
                    "summary": format!(
                        "| Step | Result | Duration |\n| --- | --- | --- |\n\
                         | plan | success | <duration> |\n\
                         | stack {stack} | success | <duration> |\n\
                         \n<details><summary>Plan for local</summary>\n\n```diff\n{plan}\n```\n\n</details>\n"
                    ),
                },
            })
        );

        // A template that reads an undefined value: the run fails before touching the
        // swarm, and the check points at the line.
        write_file(
            source.path(),
            "stacks/app.yml",
            "version: \"3.8\"\nservices:\n  web:\n    image: \"{{ vars.imagee }}\"\n    deploy: { replicas: 1 }\n",
        );
        git(source.path(), &["commit", "-q", "-am", "typo"]);
        let second = head(source.path());
        let run = daemon.wait_for_commit(&second);
        assert_eq!(run["status"], "failure", "{run}");
        let id = run["id"].as_i64().expect("an id");
        let bodies = wait_for_completed(&fake, id);
        assert_lifecycle(&bodies);
        let (_, failed) = bodies.last().expect("completed");
        let failed = settled(failed);
        assert_eq!(failed["conclusion"], "failure");
        let title = failed["output"]["title"].as_str().unwrap_or_default();
        assert!(
            title.starts_with("Failed at step plan: rendering failed: stacks/app.yml:4:"),
            "{title}"
        );
        let annotations = failed["output"]["annotations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(annotations.len(), 1, "{failed}");
        assert_eq!(annotations[0]["path"], "stacks/app.yml");
        assert_eq!(annotations[0]["start_line"], 4);
        assert_eq!(annotations[0]["end_line"], 4);
        assert_eq!(annotations[0]["annotation_level"], "failure");
        let message = annotations[0]["message"].as_str().unwrap_or_default();
        assert!(
            title.contains(message.lines().next().unwrap_or("?")),
            "{message} / {title}"
        );
        assert_eq!(
            failed["output"]["summary"],
            "| Step | Result | Duration |\n| --- | --- | --- |\n| plan | failure | <duration> |\n"
        );
        assert_eq!(fake.problems(), Vec::<String>::new());
    }

    #[test]
    fn serve_reports_a_pull_request_plan_as_statuses_and_one_comment_edited_on_each_push() {
        let swarm = PrivateSwarm::shared();
        let source = tempfile::tempdir().expect("temp");
        config_repo(
            swarm,
            source.path(),
            "  pull_request: { branches: [main] }\n",
            "report: { pull_request_comment: true }\n",
        );
        git(source.path(), &["checkout", "-q", "-b", "more-replicas"]);
        let replicas = |count: u32| {
            write_file(
                source.path(),
                "stacks/app.yml",
                &format!(
                    "version: \"3.8\"\nservices:\n  web:\n    image: \"{{{{ vars.image }}}}\"\n    deploy: {{ replicas: {count} }}\n"
                ),
            );
            git(source.path(), &["commit", "-q", "-am", "more replicas"]);
            head(source.path())
        };
        let first_head = replicas(2);

        let state = tempfile::tempdir().expect("temp");
        let token = "github_pat_11AAAA0000testtoken";
        let fake = FakeGitHub::start(FakeAuth::Token(token.into()));
        let token_file = state.path().join("github-token");
        std::fs::write(&token_file, format!("{token}\n")).expect("token");
        let secret_file = state.path().join("webhook-secret");
        std::fs::write(&secret_file, "hook-secret\n").expect("secret");
        let args: Vec<OsString> = vec![
            "--github-token-file".into(),
            token_file.into_os_string(),
            "--github-api-url".into(),
            fake.url().into(),
            "--github-repo".into(),
            "octo-org/infra".into(),
            "--webhook-secret-file".into(),
            secret_file.into_os_string(),
        ];
        let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);
        let pull_request_event = |action: &str, head: &str| {
            fake.open_pull_request(7, head);
            let body = json!({
                "action": action,
                "number": 7,
                "pull_request": { "base": { "ref": "main" }, "head": { "sha": head } },
                "sender": { "login": "octocat" },
            })
            .to_string();
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"hook-secret").expect("key");
            mac.update(body.as_bytes());
            let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
            let (status, answer) = daemon.post(
                "/hooks/github",
                &[
                    ("X-GitHub-Event", "pull_request".into()),
                    ("X-GitHub-Delivery", format!("pr-7-{head}")),
                    ("X-Hub-Signature-256", signature),
                ],
                &body,
            );
            assert_eq!(status, 202, "{answer}");
            let run = daemon.wait_for_commit(head);
            assert_eq!(
                (run["status"].as_str(), run["mode"].as_str()),
                (Some("success"), Some("plan")),
                "{run}"
            );
            run["id"].as_i64().expect("an id")
        };

        let first_run = pull_request_event("opened", &first_head);
        let requests = fake.wait_for(WAIT, |requests| {
            requests
                .iter()
                .any(|r| r.method == "POST" && r.path.ends_with("/issues/7/comments"))
        });
        let statuses: Vec<_> = requests
            .iter()
            .filter(|r| r.path.contains("/statuses/"))
            .collect();
        let path = format!("POST /repos/octo-org/infra/statuses/{first_head}");
        assert!(statuses.iter().all(|r| r.line() == path), "{statuses:?}");
        assert!(requests.iter().all(|r| {
            r.headers.get("authorization").map(String::as_str) == Some(&format!("Bearer {token}"))
        }));
        let bodies: Vec<Value> = statuses
            .iter()
            .map(|r| r.body.clone().unwrap_or_default())
            .collect();
        let (last, pending) = bodies.split_last().expect("a status");
        assert!(!pending.is_empty());
        for body in pending {
            assert_eq!(body["state"], "pending", "{body}");
            assert_eq!(body["context"], "shoal/deploy/local");
        }
        // Nothing runs on main: the pull request's plan creates everything.
        assert_eq!(
            last,
            &json!({
                "state": "success",
                "context": "shoal/deploy/local",
                "description": "Plan: 2 to create",
            })
        );
        let comment = |head: &str, plan: &str| {
            format!(
                "<!-- shoal:plan-comment workflow=deploy -->\n### shoal plan of `deploy` at {}\n\
                 \n**local**: Plan: 2 to create\n\n```diff\n{plan}\n```\n",
                &head[..7]
            )
        };
        let first_plan = logged_plan(daemon.state.as_path(), first_run);
        assert_eq!(
            fake.comments(7),
            [(900_001, comment(&first_head, &first_plan))]
        );

        // A new push to the pull request: the same comment, edited.
        let second_head = replicas(3);
        let second_run = pull_request_event("synchronize", &second_head);
        let requests = fake.wait_for(WAIT, |requests| {
            requests
                .iter()
                .any(|r| r.method == "PATCH" && r.path.ends_with("/issues/comments/900001"))
        });
        let second_plan = logged_plan(daemon.state.as_path(), second_run);
        assert_eq!(
            fake.comments(7),
            [(900_001, comment(&second_head, &second_plan))]
        );
        let comment_requests: Vec<String> = requests
            .iter()
            .filter(|r| !r.path.contains("/statuses/"))
            .map(|r| r.line())
            .collect();
        assert_eq!(
            comment_requests,
            [
                format!("GET /repos/octo-org/infra/commits/{first_head}/pulls"),
                "GET /repos/octo-org/infra/issues/7/comments?per_page=100&page=1".to_owned(),
                "POST /repos/octo-org/infra/issues/7/comments".to_owned(),
                format!("GET /repos/octo-org/infra/commits/{second_head}/pulls"),
                "PATCH /repos/octo-org/infra/issues/comments/900001".to_owned(),
            ]
        );
        assert_eq!(fake.problems(), Vec::<String>::new());
    }

    #[test]
    fn serve_fails_the_check_of_a_scheduled_drift_check_that_finds_drift() {
        let swarm = PrivateSwarm::shared();
        let source = tempfile::tempdir().expect("temp");
        let stack = config_repo(
            swarm,
            source.path(),
            "  push: { branches: [main] }\n  schedule:\n    - cron: \"* * * * *\"\n",
            "",
        );
        let commit = head(source.path());
        let state = tempfile::tempdir().expect("temp");
        let (fake, args) = app(state.path());
        let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);
        let applied = daemon.wait_for_run(|run| run["commit"] == commit && run["event"] == "push");
        assert_eq!(applied["status"], "success", "{applied}");
        swarm.wait_for_running_tasks(&format!("{stack}_web"), 1, Duration::from_secs(60));
        swarm.run_docker(&["service", "scale", "--detach", &format!("{stack}_web=2")]);

        // The schedule is checked every 20 s and falls due every minute.
        let drift =
            daemon.wait_for_run(|run| run["event"] == "schedule" && run["status"] == "failure");
        assert_eq!(drift["mode"], "drift_check");
        let id = drift["id"].as_i64().expect("an id");
        let bodies = wait_for_completed(&fake, id);
        assert_lifecycle(&bodies);
        let (_, completed) = bodies.last().expect("completed");
        let completed = settled(completed);
        assert_eq!(completed["conclusion"], "failure");
        assert_eq!(completed["output"]["title"], "Drift in local: 1 to update");
        let plan = logged_plan(daemon.state.as_path(), id);
        assert!(plan.contains("Mode.Replicated.Replicas: 2 -> 1"), "{plan}");
        assert_eq!(
            completed["output"]["summary"],
            format!(
                "| Step | Result | Duration |\n| --- | --- | --- |\n| plan | success | <duration> |\n\
                 \n<details><summary>Plan for local</summary>\n\n```diff\n{plan}\n```\n\n</details>\n"
            )
        );
        assert_eq!(fake.problems(), Vec::<String>::new());
    }

    #[test]
    fn serve_reports_a_cancelled_run_and_shows_a_report_github_never_took() {
        let swarm = PrivateSwarm::shared();
        let network = swarm.unique_name("gh-held");
        let silent = free_tcp_port();
        let source = tempfile::tempdir().expect("temp");
        write_file(source.path(), "shoal.yml", "environments: { local: {} }\n");
        write_file(
            source.path(),
            "workflows/hold.yml",
            &format!(
                "on:\n  workflow_dispatch: {{}}\nsteps:\n  - network: {{ name: {network} }}\n  \
                 - id: held\n    wait: {{ url: \"http://127.0.0.1:{silent}/\", timeout: 10m }}\n"
            ),
        );
        git(source.path(), &["init", "-q", "-b", "main"]);
        git(source.path(), &["add", "-A"]);
        git(source.path(), &["commit", "-q", "-m", "hold"]);
        let state = tempfile::tempdir().expect("temp");
        let (fake, mut args) = app(state.path());
        // One attempt only: the create of the queued check is given up at once.
        fake.script(ScriptedAnswer {
            method: "POST",
            path: "/repos/octo-org/infra/check-runs".into(),
            status: 422,
            headers: Vec::new(),
            body: r#"{"message":"Validation Failed"}"#.into(),
        });
        let token_file = state.path().join("api-token");
        std::fs::write(&token_file, "api-token\n").expect("token");
        args.extend([
            "--github-attempts".into(),
            "1".into(),
            "--api-token-file".into(),
            token_file.into_os_string(),
        ]);
        let daemon = ServeDaemon::start(&state.path().join("state"), source.path(), swarm, &args);
        // The first fetch runs in the background: until it is done, main is not known.
        let deadline = Instant::now() + Duration::from_secs(30);
        let (status, answer) = loop {
            let (status, answer) = daemon.post(
                "/api/v1/dispatch",
                &[("Authorization", "Bearer api-token".into())],
                r#"{"workflow":"hold","environments":["local"]}"#,
            );
            if !(status == 422 && answer.contains("branch `main` not found"))
                || Instant::now() > deadline
            {
                break (status, answer);
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(status, 202, "{answer}");
        let id = serde_json::from_str::<Value>(&answer).expect("json")["runs"][0]
            .as_i64()
            .expect("a run");
        let deadline = Instant::now() + WAIT;
        while !shown(daemon.state.as_path(), id)["logs"]
            .as_array()
            .is_some_and(|logs| logs.iter().any(|line| line == "==> held"))
        {
            assert!(
                Instant::now() < deadline,
                "the run never reached its wait step"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let (status, answer) = daemon.post(
            &format!("/api/v1/runs/{id}/cancel"),
            &[("Authorization", "Bearer api-token".into())],
            "",
        );
        assert_eq!(status, 202, "{answer}");
        let ended = daemon.wait_for_run(|run| run["id"] == id);
        assert_eq!(ended["status"], "cancelled", "{ended}");

        let bodies = wait_for_completed(&fake, id);
        // The queued create was refused (422) and given up; the next state created it.
        assert_eq!(bodies[0].1["status"], "queued");
        assert_eq!(bodies[1].0, "POST /repos/octo-org/infra/check-runs");
        assert_lifecycle(&bodies[1..]);
        let (_, cancelled) = bodies.last().expect("completed");
        let cancelled = settled(cancelled);
        assert_eq!(cancelled["conclusion"], "cancelled");
        let title = cancelled["output"]["title"].as_str().unwrap_or_default();
        assert!(title.starts_with("Cancelled: "), "{title}");
        let summary = cancelled["output"]["summary"].as_str().unwrap_or_default();
        assert!(
            summary.contains("| held | cancelled | <duration> |")
                && summary.contains(&format!("| network {network} | success | <duration> |")),
            "{summary}"
        );
        assert_eq!(fake.problems(), Vec::<String>::new());

        let failures = shown(daemon.state.as_path(), id)["report_failures"].clone();
        assert_eq!(failures.as_array().map(Vec::len), Some(1), "{failures}");
        assert_eq!(failures[0]["check"], "shoal/hold/local");
        assert_eq!(
            failures[0]["error"],
            "POST /repos/octo-org/infra/check-runs: GitHub answered 422: Validation Failed"
        );
        let text = Run::from(
            shoal()
                .args(["runs", "show", &id.to_string(), "--state"])
                .arg(daemon.state.as_path())
                .output()
                .expect("runs show"),
        );
        assert!(
            text.stdout.contains(
                "shoal/hold/local: POST /repos/octo-org/infra/check-runs: GitHub answered 422: Validation Failed"
            ),
            "{}",
            text.stdout
        );
    }

    /// `shoal serve` run by hand, its standard error in a file; killed when dropped.
    struct LoggingDaemon(std::process::Child);

    impl Drop for LoggingDaemon {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn tokens_and_private_keys_never_reach_a_log_or_an_error() {
        let state = tempfile::tempdir().expect("temp");
        let source = tempfile::tempdir().expect("temp");
        write_file(source.path(), "shoal.yml", "environments: { local: {} }\n");
        write_file(
            source.path(),
            "workflows/net.yml",
            "on:\n  push: { branches: [main] }\nsteps:\n  - network: { name: never-made }\n",
        );
        git(source.path(), &["init", "-q", "-b", "main"]);
        git(source.path(), &["add", "-A"]);
        git(source.path(), &["commit", "-q", "-m", "a network"]);

        // A private key file that is no key: refused at start, without quoting it.
        let key_file = state.path().join("app.pem");
        std::fs::write(
            &key_file,
            "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END RSA PRIVATE KEY-----\n",
        )
        .expect("key");
        let refused = Run::from(
            shoal()
                .args([
                    "serve",
                    "--github-app-id",
                    "1",
                    "--github-installation-id",
                    "2",
                ])
                .args(["--github-repo", "octo-org/infra", "--listen"])
                .arg(format!("127.0.0.1:{}", free_tcp_port()))
                .arg("--github-private-key")
                .arg(&key_file)
                .arg("--repo")
                .arg(source.path())
                .arg("--state")
                .arg(state.path().join("refused"))
                .output()
                .expect("runs"),
        );
        assert_ne!(refused.code, 0);
        assert!(
            refused.stderr.contains("read the GitHub App private key"),
            "{}",
            refused.stderr
        );
        assert!(!refused.stderr.contains("c2VjcmV0"), "{}", refused.stderr);

        // A token GitHub refuses, with debug logs: the failure is logged, never the token.
        let token = "github_pat_11SECRETSECRETSECRET";
        let fake = FakeGitHub::start(FakeAuth::Token("another".into()));
        for _ in 0..3 {
            fake.script(ScriptedAnswer {
                method: "POST",
                path: "/repos/octo-org/infra/statuses/".into(),
                status: 401,
                headers: Vec::new(),
                body: r#"{"message":"Bad credentials"}"#.into(),
            });
        }
        let log_file = state.path().join("serve.log");
        let _daemon = LoggingDaemon(
            shoal()
                .args([
                    "serve",
                    "--github-repo",
                    "octo-org/infra",
                    "--poll-interval",
                    "1s",
                ])
                .args([
                    "--docker-host",
                    "unix:///nonexistent/docker.sock",
                    "--listen",
                ])
                .arg(format!("127.0.0.1:{}", free_tcp_port()))
                .args(["--github-api-url", &fake.url(), "--repo"])
                .arg(source.path())
                .arg("--state")
                .arg(state.path().join("state"))
                .env("SHOAL_GITHUB_TOKEN", token)
                .env("RUST_LOG", "shoal=debug")
                .stdout(std::process::Stdio::null())
                .stderr(std::fs::File::create(&log_file).expect("log file"))
                .spawn()
                .expect("shoal serve starts"),
        );
        let deadline = Instant::now() + WAIT;
        let log = loop {
            let log = std::fs::read_to_string(&log_file).unwrap_or_default();
            if log.contains("report to GitHub failed") && log.contains("run finished") {
                break log;
            }
            assert!(Instant::now() < deadline, "no failed report logged:\n{log}");
            std::thread::sleep(Duration::from_millis(200));
        };
        assert!(
            log.contains("GitHub answered 401: Bad credentials"),
            "{log}"
        );
        assert!(!log.contains("SECRETSECRET"), "{log}");
        assert!(fake.requests().iter().all(|request| {
            request.headers.get("authorization") == Some(&format!("Bearer {token}"))
        }));
    }
}
