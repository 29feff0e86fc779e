//! The runner's durable state: an embedded SQLite database in the state folder, in WAL
//! mode, holding runs, their steps and logs, the last processed commit of each branch and
//! the webhook deliveries and registry events already seen. After a crash, runs left
//! running (and their running steps) are marked interrupted when the store is opened
//! again; runs left queued stay queued, for the daemon to start again: a push that was
//! waiting is not lost. Its schema is built by numbered migrations
//! ([`super::migrations`]); the number of the last one applied is SQLite's `user_version`.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension as _, params};

use super::migrations::migrate;
use super::{ReportFailureRecord, RunRecord, RunStatus, StepRecord};
use crate::trigger::{RunMode, RunRequest};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("state database {path}: {source}")]
    Database {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "state database {path} has schema version {found}, and this shoal knows versions up to {known}: it was written by a newer shoal"
    )]
    NewerSchema {
        path: String,
        found: i64,
        known: i64,
    },
    /// The thread that owns the database has stopped (the process is ending).
    #[error("the state database is closed")]
    Closed,
}

pub struct Store {
    pub(super) connection: Connection,
    path: String,
}

impl Store {
    /// Opens (or creates) `shoal.db` in `folder`, brings its schema to the newest version,
    /// and marks the runs a previous process left unfinished as interrupted.
    pub fn open(folder: &Path) -> Result<Store, StoreError> {
        let mut store = Store::connect(folder)?;
        // WAL: readers (the API) never wait for the writer (the dispatcher), and a commit
        // survives a crash of the process.
        for (pragma, value) in [
            ("journal_mode", "WAL"),
            ("synchronous", "NORMAL"),
            ("foreign_keys", "ON"),
        ] {
            store
                .connection
                .pragma_update(None, pragma, value)
                .map_err(|e| store.error(e))?;
        }
        migrate(&mut store.connection, &store.path)?;
        store.mark_interrupted()?;
        Ok(store)
    }

    /// A second connection beside the dispatcher's, for reading (the HTTP API) and for
    /// recording failed GitHub reports: WAL lets it read while the dispatcher writes. It
    /// changes nothing on open.
    pub fn open_reader(folder: &Path) -> Result<Store, StoreError> {
        Store::connect(folder)
    }

    fn connect(folder: &Path) -> Result<Store, StoreError> {
        let path = folder.join("shoal.db");
        let error = |source: rusqlite::Error| StoreError::Database {
            path: path.display().to_string(),
            source: Box::new(source),
        };
        let connection = Connection::open(&path).map_err(error)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(error)?;
        Ok(Store {
            connection,
            path: path.display().to_string(),
        })
    }

    pub(super) fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            source: Box::new(source),
        }
    }

    /// The number of the last migration applied to the database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    pub fn journal_mode(&self) -> Result<String, StoreError> {
        self.connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    /// Records a new run as queued; returns its ID.
    pub fn create_run(&self, request: &RunRequest, now: &str) -> Result<i64, StoreError> {
        let mode = match request.mode {
            RunMode::Apply => "apply",
            RunMode::Plan => "plan",
            RunMode::DriftCheck => "drift_check",
        };
        self.connection
            .execute(
                "INSERT INTO runs (workflow, environments, mode, event, commit_sha, actor, status, created_at, inputs, image, rollback_from)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?10)",
                params![
                    request.workflow,
                    serde_json::to_string(&request.environments).unwrap_or_default(),
                    mode,
                    request.event,
                    request.commit,
                    request.actor,
                    now,
                    serde_json::Value::Object(request.inputs.clone()).to_string(),
                    request
                        .image
                        .as_ref()
                        .and_then(|image| serde_json::to_string(image).ok()),
                    request.rollback_from
                ],
            )
            .map_err(|e| self.error(e))?;
        Ok(self.connection.last_insert_rowid())
    }

    pub fn start_run(&self, id: i64, now: &str) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE runs SET status = 'running', started_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        summary: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE runs SET status = ?2, summary = ?3, finished_at = ?4 WHERE id = ?1",
                params![id, status.as_str(), summary, now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    pub fn record_step(
        &self,
        run: i64,
        position: i64,
        step: &StepRecord,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT OR REPLACE INTO steps (run_id, position, environment, name, status, started_at, finished_at, changes, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    run,
                    position,
                    step.environment,
                    step.name,
                    step.status.as_str(),
                    step.started_at,
                    step.finished_at,
                    step.changes,
                    step.error
                ],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Appends a log line; lines must already be redacted.
    pub fn append_log(&self, run: i64, line: &str, now: &str) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO logs (run_id, line_number, at, line)
                 VALUES (?1, (SELECT COALESCE(MAX(line_number), 0) + 1 FROM logs WHERE run_id = ?1), ?2, ?3)",
                params![run, now, line],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// The newest runs first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, workflow, environments, mode, event, commit_sha, actor, status, created_at, started_at, finished_at, summary, rollback_from
                 FROM runs ORDER BY id DESC LIMIT ?1",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(
                params![i64::try_from(limit).unwrap_or(i64::MAX)],
                run_from_row,
            )
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    pub fn run(&self, id: i64) -> Result<Option<RunRecord>, StoreError> {
        self.connection
            .query_row(
                "SELECT id, workflow, environments, mode, event, commit_sha, actor, status, created_at, started_at, finished_at, summary, rollback_from
                 FROM runs WHERE id = ?1",
                params![id],
                run_from_row,
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    pub fn steps(&self, run: i64) -> Result<Vec<StepRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT environment, name, status, started_at, finished_at, changes, error
                 FROM steps WHERE run_id = ?1 ORDER BY position",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![run], |row| {
                Ok(StepRecord {
                    environment: row.get(0)?,
                    name: row.get(1)?,
                    status: RunStatus::parse(&row.get::<_, String>(2)?)
                        .unwrap_or(RunStatus::Interrupted),
                    started_at: row.get(3)?,
                    finished_at: row.get(4)?,
                    changes: row.get(5)?,
                    error: row.get(6)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    pub fn logs(&self, run: i64) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT line FROM logs WHERE run_id = ?1 ORDER BY line_number")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![run], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Records a report to GitHub about `run` that failed after its retries.
    pub fn record_report_failure(
        &self,
        run: i64,
        check: &str,
        error: &str,
        now: &str,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO report_failures (run_id, check_name, error, at) VALUES (?1, ?2, ?3, ?4)",
                params![run, check, error, now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// The reports to GitHub about `run` that failed, oldest first.
    pub fn report_failures(&self, run: i64) -> Result<Vec<ReportFailureRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT check_name, error, at FROM report_failures WHERE run_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![run], |row| {
                Ok(ReportFailureRecord {
                    check: row.get(0)?,
                    error: row.get(1)?,
                    at: row.get(2)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// What notifications last announced of `workflow`, by environment: `healthy`,
    /// `failing` or `drifted`.
    pub fn notify_conditions(&self, workflow: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT environment, condition FROM notify_conditions WHERE workflow = ?1")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![workflow], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Remembers what run `run` left `workflow` in, in `environment`, for notifications.
    pub fn set_notify_condition(
        &self,
        workflow: &str,
        environment: &str,
        condition: &str,
        run: i64,
        now: &str,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO notify_conditions (workflow, environment, condition, run_id, at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (workflow, environment)
                 DO UPDATE SET condition = ?3, run_id = ?4, at = ?5",
                params![workflow, environment, condition, run, now],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Whether runs were recorded for `commit` by `event`.
    pub fn has_runs(&self, commit: &str, event: &str) -> Result<bool, StoreError> {
        self.connection
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE commit_sha = ?1 AND event = ?2)",
                params![commit, event],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// The commit of the newest run `event` recorded, if any.
    pub fn latest_run_commit(&self, event: &str) -> Result<Option<String>, StoreError> {
        self.connection
            .query_row(
                "SELECT commit_sha FROM runs WHERE event = ?1 ORDER BY id DESC LIMIT 1",
                params![event],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// The log lines of `run` after line number `after`, with their numbers.
    pub fn logs_after(&self, run: i64, after: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT line_number, line FROM logs WHERE run_id = ?1 AND line_number > ?2
                 ORDER BY line_number",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![run, after], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The last commit of `branch` whose push was processed, so that none is missed or
    /// processed twice across restarts.
    pub fn processed_commit(&self, branch: &str) -> Result<Option<String>, StoreError> {
        self.connection
            .query_row(
                "SELECT commit_sha FROM processed_commits WHERE branch = ?1",
                params![branch],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    pub fn set_processed_commit(&self, branch: &str, commit: &str) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO processed_commits (branch, commit_sha) VALUES (?1, ?2)
                 ON CONFLICT(branch) DO UPDATE SET commit_sha = excluded.commit_sha",
                params![branch, commit],
            )
            .map(|_| ())
            .map_err(|e| self.error(e))
    }

    /// Records a webhook delivery ID; false when it was seen before (a redelivery).
    pub fn first_delivery(&self, id: &str, now: &str) -> Result<bool, StoreError> {
        let inserted = self
            .connection
            .execute(
                "INSERT OR IGNORE INTO deliveries (id, received_at) VALUES (?1, ?2)",
                params![id, now],
            )
            .map_err(|e| self.error(e))?;
        Ok(inserted == 1)
    }

    /// Records a registry notification's event ID; false when it was seen before (the
    /// registry retried). Kept beside webhook deliveries, in a namespace of its own.
    pub fn first_registry_event(&self, id: &str, now: &str) -> Result<bool, StoreError> {
        self.first_delivery(&format!("registry:{id}"), now)
    }

    /// The runs left queued, oldest first, as the requests that made them.
    pub fn queued_runs(&self) -> Result<Vec<(i64, RunRequest)>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, workflow, environments, mode, event, commit_sha, actor, inputs, image, rollback_from
                 FROM runs WHERE status = 'queued' ORDER BY id",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| {
                let mode = match row.get::<_, String>(3)?.as_str() {
                    "plan" => RunMode::Plan,
                    "drift_check" => RunMode::DriftCheck,
                    _ => RunMode::Apply,
                };
                let inputs: serde_json::Value =
                    serde_json::from_str(&row.get::<_, String>(7)?).unwrap_or_default();
                Ok((
                    row.get(0)?,
                    RunRequest {
                        workflow: row.get(1)?,
                        environments: serde_json::from_str(&row.get::<_, String>(2)?)
                            .unwrap_or_default(),
                        mode,
                        commit: row.get(5)?,
                        event: RunRequest::event_name(&row.get::<_, String>(4)?),
                        actor: row.get(6)?,
                        inputs: inputs.as_object().cloned().unwrap_or_default(),
                        image: row
                            .get::<_, Option<String>>(8)?
                            .and_then(|json| serde_json::from_str(&json).ok()),
                        rollback_from: row.get(9)?,
                    },
                ))
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The runs of `workflow` that applied (or tried to), newest first: where a rollback
    /// looks for the last one that succeeded.
    pub fn apply_runs(&self, workflow: &str) -> Result<Vec<RunRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, workflow, environments, mode, event, commit_sha, actor, status, created_at, started_at, finished_at, summary, rollback_from
                 FROM runs WHERE workflow = ?1 AND mode = 'apply' ORDER BY id DESC LIMIT 1000",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(params![workflow], run_from_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    fn mark_interrupted(&self) -> Result<(), StoreError> {
        self.connection
            .execute_batch(
                "UPDATE steps SET status = 'interrupted'
                 WHERE status = 'running' AND run_id IN (SELECT id FROM runs WHERE status = 'running');
                 UPDATE runs SET status = 'interrupted', summary = 'the runner stopped during this run'
                 WHERE status = 'running';",
            )
            .map_err(|e| self.error(e))
    }
}

pub(super) fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        id: row.get(0)?,
        workflow: row.get(1)?,
        environments: serde_json::from_str(&row.get::<_, String>(2)?).unwrap_or_default(),
        mode: row.get(3)?,
        event: row.get(4)?,
        commit: row.get(5)?,
        actor: row.get(6)?,
        status: RunStatus::parse(&row.get::<_, String>(7)?).unwrap_or(RunStatus::Interrupted),
        created_at: row.get(8)?,
        started_at: row.get(9)?,
        finished_at: row.get(10)?,
        summary: row.get(11)?,
        rollback_from: row.get(12)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RunRequest {
        RunRequest {
            workflow: "infra".into(),
            environments: vec!["staging".into(), "prod".into()],
            mode: RunMode::Apply,
            commit: "abc123".into(),
            event: "push",
            actor: "ada".into(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        }
    }

    #[test]
    fn runs_steps_and_logs_survive_a_restart_and_unfinished_runs_are_interrupted() {
        let folder = tempfile::tempdir().expect("temp");
        let (finished, unfinished, waiting) = {
            let store = Store::open(folder.path()).expect("opens");
            assert_eq!(store.journal_mode().expect("mode"), "wal");
            let finished = store
                .create_run(&request(), "2026-11-22T04:00:00Z")
                .expect("run");
            store
                .start_run(finished, "2026-11-22T04:00:01Z")
                .expect("start");
            let step = StepRecord {
                environment: "staging".into(),
                name: "traefik".into(),
                status: RunStatus::Success,
                started_at: "2026-11-22T04:00:01Z".into(),
                finished_at: Some("2026-11-22T04:00:03Z".into()),
                changes: 2,
                error: None,
            };
            store.record_step(finished, 0, &step).expect("step");
            store
                .append_log(
                    finished,
                    "created service traefik_traefik",
                    "2026-11-22T04:00:02Z",
                )
                .expect("log");
            store
                .append_log(
                    finished,
                    "traefik_traefik: converged",
                    "2026-11-22T04:00:03Z",
                )
                .expect("log");
            store
                .finish_run(
                    finished,
                    RunStatus::Success,
                    "Applied 2 changes to staging",
                    "2026-11-22T04:00:04Z",
                )
                .expect("finish");
            let unfinished = store
                .create_run(&request(), "2026-11-22T04:01:00Z")
                .expect("run");
            store
                .start_run(unfinished, "2026-11-22T04:01:01Z")
                .expect("start");
            let waiting = store
                .create_run(&request(), "2026-11-22T04:01:02Z")
                .expect("run");
            (finished, unfinished, waiting)
            // Dropped here without finishing the second run, as a killed process would.
        };
        let store = Store::open(folder.path()).expect("reopens");
        let runs = store.runs(10).expect("runs");
        assert_eq!(
            runs.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>(),
            [
                (waiting, RunStatus::Queued),
                (unfinished, RunStatus::Interrupted),
                (finished, RunStatus::Success)
            ]
        );
        assert_eq!(
            store.queued_runs().expect("queued"),
            [(waiting, request())],
            "a run that was waiting is kept, to be started again"
        );
        assert!(store.has_runs("abc123", "push").expect("query"));
        assert!(!store.has_runs("abc123", "schedule").expect("query"));
        assert_eq!(runs[2].environments, ["staging", "prod"]);
        assert_eq!(store.steps(finished).expect("steps")[0].changes, 2);
        assert_eq!(
            store.logs(finished).expect("logs"),
            [
                "created service traefik_traefik",
                "traefik_traefik: converged"
            ]
        );
        assert_eq!(
            store.run(finished).expect("run").map(|r| r.summary),
            Some("Applied 2 changes to staging".into())
        );
    }

    #[test]
    fn failed_reports_are_kept_per_run() {
        let folder = tempfile::tempdir().expect("temp");
        let run = {
            let store = Store::open(folder.path()).expect("opens");
            let run = store.create_run(&request(), "t0").expect("run");
            let writer = Store::open_reader(folder.path()).expect("a second connection");
            writer
                .record_report_failure(run, "shoal/infra/staging", "GitHub answered 502", "t1")
                .expect("recorded");
            writer
                .record_report_failure(run, "shoal/infra/prod", "GitHub answered 404", "t2")
                .expect("recorded");
            run
        };
        let store = Store::open(folder.path()).expect("reopens");
        assert_eq!(
            store.report_failures(run).expect("read"),
            [
                ReportFailureRecord {
                    check: "shoal/infra/staging".into(),
                    error: "GitHub answered 502".into(),
                    at: "t1".into()
                },
                ReportFailureRecord {
                    check: "shoal/infra/prod".into(),
                    error: "GitHub answered 404".into(),
                    at: "t2".into()
                },
            ]
        );
        assert_eq!(store.report_failures(run + 1).expect("read"), []);
    }

    #[test]
    fn what_notifications_announced_survives_a_restart_per_workflow_and_environment() {
        let folder = tempfile::tempdir().expect("temp");
        {
            let store = Store::open(folder.path()).expect("opens");
            let writer = Store::open_reader(folder.path()).expect("a second connection");
            writer
                .set_notify_condition("deploy", "prod", "failing", 1, "t1")
                .expect("written");
            writer
                .set_notify_condition("deploy", "staging", "failing", 1, "t1")
                .expect("written");
            writer
                .set_notify_condition("deploy", "staging", "healthy", 2, "t2")
                .expect("replaced");
            writer
                .set_notify_condition("drift", "prod", "drifted", 3, "t3")
                .expect("written");
            drop(store);
        }
        let store = Store::open(folder.path()).expect("reopens");
        let mut deploy = store.notify_conditions("deploy").expect("read");
        deploy.sort();
        assert_eq!(
            deploy,
            [
                ("prod".to_owned(), "failing".to_owned()),
                ("staging".to_owned(), "healthy".to_owned())
            ]
        );
        assert_eq!(
            store.notify_conditions("drift").expect("read"),
            [("prod".to_owned(), "drifted".to_owned())]
        );
        assert_eq!(store.notify_conditions("other").expect("read"), []);
    }

    #[test]
    fn deliveries_and_registry_events_are_seen_once_and_processed_commits_are_kept_per_branch() {
        let folder = tempfile::tempdir().expect("temp");
        let store = Store::open(folder.path()).expect("opens");
        assert!(store.first_delivery("d-1", "t").expect("insert"));
        assert!(!store.first_delivery("d-1", "t").expect("insert"));
        assert!(store.first_registry_event("d-1", "t").expect("insert"));
        assert!(!store.first_registry_event("d-1", "t").expect("insert"));
        assert_eq!(store.processed_commit("main").expect("read"), None);
        store.set_processed_commit("main", "a1").expect("write");
        store.set_processed_commit("main", "b2").expect("write");
        assert_eq!(
            store.processed_commit("main").expect("read"),
            Some("b2".into())
        );
    }
}
