//! The history as the console reads it: runs filtered and paged, the newest finished run
//! of each workflow, environments and mode, and a run's log a page at a time.

use rusqlite::params;

use super::store::run_from_row;
use super::{RunRecord, Store, StoreError};

/// Which runs to list: every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub workflow: Option<String>,
    /// Runs whose environments include this one.
    pub environment: Option<String>,
    pub event: Option<String>,
    /// A run status (`success`, `failure`, ...).
    pub result: Option<String>,
}

const RUN_COLUMNS: &str = "id, workflow, environments, mode, event, commit_sha, actor, status, created_at, started_at, finished_at, summary, rollback_from";

impl Store {
    /// The runs `filter` matches, newest first: at most `limit`, skipping `offset`.
    pub fn runs_filtered(
        &self,
        filter: &RunFilter,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<RunRecord>, StoreError> {
        // Environments are kept as a JSON list: a quoted name matches one of its items.
        let environment = filter
            .environment
            .as_ref()
            .map(|name| format!("%{}%", serde_json::Value::String(name.clone())));
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs
                 WHERE (?1 IS NULL OR workflow = ?1)
                   AND (?2 IS NULL OR environments LIKE ?2)
                   AND (?3 IS NULL OR event = ?3)
                   AND (?4 IS NULL OR status = ?4)
                 ORDER BY id DESC LIMIT ?5 OFFSET ?6"
            ))
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(
                params![
                    filter.workflow,
                    environment,
                    filter.event,
                    filter.result,
                    i64::try_from(limit).unwrap_or(i64::MAX),
                    i64::try_from(offset).unwrap_or(i64::MAX),
                ],
                run_from_row,
            )
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The newest finished run of each workflow, list of environments and mode (`apply`,
    /// `drift_check`, ...), in one pass over the history.
    pub fn latest_finished_runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let mut statement = self
            .connection
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE id IN (
                     SELECT MAX(id) FROM runs WHERE status NOT IN ('queued', 'running')
                     GROUP BY workflow, environments, mode)
                 ORDER BY id DESC"
            ))
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], run_from_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// At most `limit` log lines of `run` after line number `after`, with their numbers.
    pub fn logs_page(
        &self,
        run: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT line_number, line FROM logs WHERE run_id = ?1 AND line_number > ?2
                 ORDER BY line_number LIMIT ?3",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(
                params![run, after, i64::try_from(limit).unwrap_or(i64::MAX)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// The number of `run`'s last log line, 0 when it has none.
    pub fn last_log_line(&self, run: i64) -> Result<i64, StoreError> {
        self.connection
            .query_row(
                "SELECT COALESCE(MAX(line_number), 0) FROM logs WHERE run_id = ?1",
                params![run],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::{RunMode, RunRequest};

    fn request(
        workflow: &str,
        environments: &[&str],
        mode: RunMode,
        event: &'static str,
    ) -> RunRequest {
        RunRequest {
            workflow: workflow.into(),
            environments: environments.iter().map(|e| (*e).to_owned()).collect(),
            mode,
            event,
            commit: "c0ffee".into(),
            actor: "ana".into(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        }
    }

    #[test]
    fn runs_are_filtered_paged_and_the_latest_of_each_kind_found() {
        let folder = tempfile::tempdir().expect("temp");
        let store = Store::open(folder.path()).expect("opens");
        let web = store
            .create_run(&request("web", &["prod"], RunMode::Apply, "push"), "t1")
            .expect("run");
        store
            .finish_run(web, crate::store::RunStatus::Success, "ok", "t2")
            .expect("finish");
        let drift = store
            .create_run(
                &request("web", &["prod"], RunMode::DriftCheck, "schedule"),
                "t3",
            )
            .expect("run");
        store
            .finish_run(
                drift,
                crate::store::RunStatus::Failure,
                "drift: 1 to update",
                "t4",
            )
            .expect("finish");
        let both = store
            .create_run(
                &request(
                    "db",
                    &["prod", "staging"],
                    RunMode::Apply,
                    "workflow_dispatch",
                ),
                "t5",
            )
            .expect("run");
        let ids = |filter: RunFilter, limit, offset| -> Vec<i64> {
            store
                .runs_filtered(&filter, limit, offset)
                .expect("reads")
                .iter()
                .map(|run| run.id)
                .collect()
        };
        assert_eq!(ids(RunFilter::default(), 10, 0), [both, drift, web]);
        assert_eq!(ids(RunFilter::default(), 1, 1), [drift]);
        let staging = RunFilter {
            environment: Some("staging".into()),
            ..RunFilter::default()
        };
        assert_eq!(ids(staging, 10, 0), [both]);
        let failed_web = RunFilter {
            workflow: Some("web".into()),
            result: Some("failure".into()),
            ..RunFilter::default()
        };
        assert_eq!(ids(failed_web, 10, 0), [drift]);
        let dispatched = RunFilter {
            event: Some("workflow_dispatch".into()),
            ..RunFilter::default()
        };
        assert_eq!(ids(dispatched, 10, 0), [both]);
        // The running one is not finished.
        let latest: Vec<(i64, String)> = store
            .latest_finished_runs()
            .expect("reads")
            .into_iter()
            .map(|run| (run.id, run.mode))
            .collect();
        assert_eq!(
            latest,
            [(drift, "drift_check".to_owned()), (web, "apply".to_owned())]
        );

        for line in ["a", "b", "c"] {
            store.append_log(web, line, "t").expect("log");
        }
        assert_eq!(store.last_log_line(web).expect("reads"), 3);
        assert_eq!(store.last_log_line(drift).expect("reads"), 0);
        assert_eq!(
            store.logs_page(web, 1, 1).expect("reads"),
            [(2, "b".to_owned())]
        );
    }
}
