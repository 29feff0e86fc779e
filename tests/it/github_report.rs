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
    ReportFailure, Reporter, Repository, RetryPolicy, SecretText, StepRow,
};

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
    let mut done = check(completed(Conclusion::Success), "Applied 1 changes to prod");
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
                "title": "Applied 1 changes to prod",
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
