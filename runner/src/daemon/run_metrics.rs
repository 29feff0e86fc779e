//! Prometheus metrics of the runs, kept from the run notices: runs by workflow,
//! environment and result; how long environments took; when each environment was last
//! applied successfully; whether the last drift check of each environment found drift;
//! when each certificate of the `certs` steps expires, as the last plan found it.
//! Counters start at zero when the daemon starts, as Prometheus expects of counters.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::broadcast;

use super::RunNotice;
use crate::store::{RunRecord, RunStatus};

/// Upper bounds of the duration histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The metrics, shared between the task that keeps them and the HTTP handler.
#[derive(Debug, Default, Clone)]
pub struct RunMetrics(Arc<Mutex<MetricsState>>);

#[derive(Debug, Default)]
struct MetricsState {
    /// (workflow, environment, result) → runs.
    runs: BTreeMap<(String, String, String), u64>,
    /// (workflow, environment) → environment durations.
    durations: BTreeMap<(String, String), Histogram>,
    /// environment → Unix time of its last successful apply.
    last_applied: BTreeMap<String, f64>,
    /// (workflow, environment) → 1 when its last drift check found drift.
    drift: BTreeMap<(String, String), u8>,
    /// (environment, certificate, host) → Unix time it expires.
    certificate_expiry: BTreeMap<(String, String, String), i64>,
    started: HashMap<(i64, String), Instant>,
    running: u64,
}

impl RunMetrics {
    /// Keeps the metrics from `notices` until the channel closes.
    pub fn follow(
        &self,
        mut notices: broadcast::Receiver<RunNotice>,
    ) -> tokio::task::JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            loop {
                match notices.recv().await {
                    Ok(notice) => metrics.record(&notice),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "metrics fell behind the run notices");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    }

    pub fn record(&self, notice: &RunNotice) {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match notice {
            RunNotice::Queued { .. } => {}
            RunNotice::EnvironmentStarted { run, environment } => {
                state.running += 1;
                state
                    .started
                    .insert((run.id, environment.clone()), Instant::now());
            }
            RunNotice::EnvironmentFinished { run, outcome, .. } => {
                let key = (run.workflow.clone(), outcome.environment.clone());
                if let Some(started) = state.started.remove(&(run.id, outcome.environment.clone()))
                {
                    state.running = state.running.saturating_sub(1);
                    state
                        .durations
                        .entry(key.clone())
                        .or_default()
                        .observe(started.elapsed().as_secs_f64());
                }
                *state
                    .runs
                    .entry((
                        key.0.clone(),
                        key.1.clone(),
                        outcome.status.as_str().to_owned(),
                    ))
                    .or_default() += 1;
                // A successful apply put the certificates it issued in place; any other run
                // left the ones it found.
                let applied = run.mode == "apply" && outcome.status == RunStatus::Success;
                for certificate in &outcome.certificates {
                    let key = (
                        outcome.environment.clone(),
                        certificate.certificate.clone(),
                        certificate.host.clone(),
                    );
                    match certificate.not_after(applied) {
                        Some(at) => {
                            state.certificate_expiry.insert(key, at);
                        }
                        None => {
                            state.certificate_expiry.remove(&key);
                        }
                    }
                }
                match run.mode.as_str() {
                    "apply" if outcome.status == RunStatus::Success => {
                        state
                            .last_applied
                            .insert(outcome.environment.clone(), unix_now());
                    }
                    "drift_check" => {
                        state.drift.insert(key, u8::from(outcome.drift));
                    }
                    _ => {}
                }
            }
            RunNotice::Finished { run } => state.count_unstarted(run),
        }
    }

    /// The metrics in Prometheus' text exposition format.
    pub fn render(&self) -> String {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        out.push_str("# HELP shoal_runs_total Runs of a workflow on an environment, by result.\n");
        out.push_str("# TYPE shoal_runs_total counter\n");
        for ((workflow, environment, result), count) in &state.runs {
            let _ = writeln!(
                out,
                "shoal_runs_total{{workflow=\"{}\",environment=\"{}\",result=\"{}\"}} {count}",
                label(workflow),
                label(environment),
                label(result)
            );
        }
        out.push_str("# HELP shoal_run_duration_seconds How long a run took on one environment.\n");
        out.push_str("# TYPE shoal_run_duration_seconds histogram\n");
        for ((workflow, environment), histogram) in &state.durations {
            let labels = format!(
                "workflow=\"{}\",environment=\"{}\"",
                label(workflow),
                label(environment)
            );
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "shoal_run_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "shoal_run_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "shoal_run_duration_seconds_sum{{{labels}}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "shoal_run_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }
        out.push_str("# HELP shoal_last_successful_apply_timestamp_seconds When an environment was last applied successfully (Unix time).\n");
        out.push_str("# TYPE shoal_last_successful_apply_timestamp_seconds gauge\n");
        for (environment, at) in &state.last_applied {
            let _ = writeln!(
                out,
                "shoal_last_successful_apply_timestamp_seconds{{environment=\"{}\"}} {at}",
                label(environment)
            );
        }
        out.push_str("# HELP shoal_drift Whether the last drift check of a workflow on an environment found the swarm differs from git (1) or not (0).\n");
        out.push_str("# TYPE shoal_drift gauge\n");
        for ((workflow, environment), drift) in &state.drift {
            let _ = writeln!(
                out,
                "shoal_drift{{workflow=\"{}\",environment=\"{}\"}} {drift}",
                label(workflow),
                label(environment)
            );
        }
        out.push_str("# HELP shoal_certificate_expiry_timestamp_seconds When a certificate of a certs step expires (Unix time), as the last plan found it; host is empty for one in Swarm secrets.\n");
        out.push_str("# TYPE shoal_certificate_expiry_timestamp_seconds gauge\n");
        for ((environment, certificate, host), at) in &state.certificate_expiry {
            let _ = writeln!(
                out,
                "shoal_certificate_expiry_timestamp_seconds{{environment=\"{}\",certificate=\"{}\",host=\"{}\"}} {at}",
                label(environment),
                label(certificate),
                label(host)
            );
        }
        out.push_str("# HELP shoal_runs_running Environments being run right now.\n");
        out.push_str("# TYPE shoal_runs_running gauge\n");
        let _ = writeln!(out, "shoal_runs_running {}", state.running);
        out
    }
}

impl MetricsState {
    /// A run that ended before starting (skipped, superseded, cancelled while queued)
    /// counts once for each of its environments.
    fn count_unstarted(&mut self, run: &RunRecord) {
        if run.started_at.is_some() {
            return;
        }
        for environment in &run.environments {
            *self
                .runs
                .entry((
                    run.workflow.clone(),
                    environment.clone(),
                    run.status.as_str().to_owned(),
                ))
                .or_default() += 1;
        }
    }
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.counts[bucket] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs_f64())
        .unwrap_or_default()
}

/// A label value escaped as the exposition format requires.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::EnvironmentOutcome;
    use crate::steps::certs::CertificateExpiry;

    fn run(id: i64, mode: &str, status: RunStatus, started: bool) -> RunRecord {
        RunRecord {
            id,
            workflow: "infra".into(),
            environments: vec!["prod".into()],
            mode: mode.into(),
            event: "push".into(),
            commit: "c0ffee".into(),
            actor: "ana".into(),
            status,
            created_at: "2026-11-22T06:00:00Z".into(),
            started_at: started.then(|| "2026-11-22T06:00:01Z".into()),
            finished_at: None,
            summary: String::new(),
            rollback_from: None,
        }
    }

    fn finished(id: i64, mode: &str, status: RunStatus, summary: &str) -> Vec<RunNotice> {
        finished_with(id, mode, status, summary, Vec::new())
    }

    fn finished_with(
        id: i64,
        mode: &str,
        status: RunStatus,
        summary: &str,
        certificates: Vec<CertificateExpiry>,
    ) -> Vec<RunNotice> {
        let record = run(id, mode, status, true);
        vec![
            RunNotice::EnvironmentStarted {
                run: record.clone(),
                environment: "prod".into(),
            },
            RunNotice::EnvironmentFinished {
                run: record.clone(),
                outcome: EnvironmentOutcome {
                    environment: "prod".into(),
                    status,
                    summary: summary.into(),
                    changes: 0,
                    plan: String::new(),
                    diagnostics: Vec::new(),
                    drift: summary.starts_with("drift:"),
                    timed_out: false,
                    certificates,
                },
                steps: Vec::new(),
            },
            RunNotice::Finished { run: record },
        ]
    }

    #[test]
    fn runs_results_durations_and_drift_are_counted() {
        let metrics = RunMetrics::default();
        let notices = [
            finished(1, "apply", RunStatus::Success, "Applied 2 changes to prod"),
            finished(2, "drift_check", RunStatus::Failure, "drift: 1 to update"),
            finished(3, "apply", RunStatus::Failure, "boom"),
            vec![RunNotice::Finished {
                run: run(4, "apply", RunStatus::Skipped, false),
            }],
        ];
        for notice in notices.iter().flatten() {
            metrics.record(notice);
        }
        let text = metrics.render();
        for expected in [
            "shoal_runs_total{workflow=\"infra\",environment=\"prod\",result=\"success\"} 1",
            "shoal_runs_total{workflow=\"infra\",environment=\"prod\",result=\"failure\"} 2",
            "shoal_runs_total{workflow=\"infra\",environment=\"prod\",result=\"skipped\"} 1",
            "shoal_run_duration_seconds_bucket{workflow=\"infra\",environment=\"prod\",le=\"1\"} 3",
            "shoal_run_duration_seconds_count{workflow=\"infra\",environment=\"prod\"} 3",
            "shoal_drift{workflow=\"infra\",environment=\"prod\"} 1",
            "shoal_runs_running 0",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        assert!(
            text.contains("shoal_last_successful_apply_timestamp_seconds{environment=\"prod\"} 1")
        );
    }

    fn expiry(host: &str, live: Option<i64>, issued: Option<i64>) -> CertificateExpiry {
        CertificateExpiry {
            certificate: "dockerd".into(),
            host: host.into(),
            live_not_after: live,
            issued_not_after: issued,
        }
    }

    #[test]
    fn certificate_expiries_follow_what_the_last_run_left_in_place() {
        let metrics = RunMetrics::default();
        let line = |host: &str, at: i64| {
            format!(
                "shoal_certificate_expiry_timestamp_seconds{{environment=\"prod\",certificate=\"dockerd\",host=\"{host}\"}} {at}"
            )
        };
        // A drift check finds node1's certificate and node2's due for renewal: the
        // renewal it plans is not in place.
        for notice in finished_with(
            1,
            "drift_check",
            RunStatus::Failure,
            "drift: 1 host to change",
            vec![
                expiry("node1", Some(1_900_000_000), None),
                expiry("node2", Some(1_800_000_000), Some(1_831_536_000)),
            ],
        ) {
            metrics.record(&notice);
        }
        let text = metrics.render();
        assert!(text.contains(&line("node1", 1_900_000_000)), "{text}");
        assert!(text.contains(&line("node2", 1_800_000_000)), "{text}");
        // A failed apply left node2's as it was; a successful one renewed it.
        for (id, status) in [(2, RunStatus::Failure), (3, RunStatus::Success)] {
            for notice in finished_with(
                id,
                "apply",
                status,
                "",
                vec![expiry("node2", Some(1_800_000_000), Some(1_831_536_000))],
            ) {
                metrics.record(&notice);
            }
            let expected = if status == RunStatus::Success {
                1_831_536_000
            } else {
                1_800_000_000
            };
            let text = metrics.render();
            assert!(text.contains(&line("node2", expected)), "{text}");
            assert!(text.contains(&line("node1", 1_900_000_000)), "{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
