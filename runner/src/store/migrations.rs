//! The store's schema as numbered migrations. SQLite's `user_version` holds the number of
//! the last one applied; opening a store applies the ones after it, each in a transaction
//! with the new number, so a crash leaves the database at one version or the next. A
//! database whose version is newer than the last migration here is refused: an older
//! shoal must not write to what a newer one made.
//!
//! To change the schema, append a migration; never edit one that has shipped.

use rusqlite::{Connection, Transaction, params};

use super::StoreError;

/// One step of the schema, applied once.
struct Migration {
    /// What it does, for errors.
    purpose: &'static str,
    apply: fn(&Transaction<'_>) -> rusqlite::Result<()>,
}

/// In order: migration `n` (from 1) is `MIGRATIONS[n - 1]`.
const MIGRATIONS: &[Migration] = &[
    Migration {
        purpose: "create the tables",
        apply: create_tables,
    },
    Migration {
        purpose: "index runs by status and by event and commit",
        apply: index_runs,
    },
    Migration {
        purpose: "record the commit a rollback run rolls back from",
        apply: add_rollback_from,
    },
    Migration {
        purpose: "remember what notifications announced of each workflow and environment",
        apply: create_notify_conditions,
    },
];

/// The schema version this shoal writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations the database at `path` has not had yet.
pub(super) fn migrate(connection: &mut Connection, path: &str) -> Result<(), StoreError> {
    let error = |source: rusqlite::Error| StoreError::Database {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let found: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(error)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            path: path.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let failed = |source: rusqlite::Error| StoreError::Database {
            path: path.to_owned(),
            source: format!(
                "migration {version} ({}) failed: {source}",
                migration.purpose
            )
            .into(),
        };
        let transaction = connection.transaction().map_err(error)?;
        (migration.apply)(&transaction).map_err(failed)?;
        // `user_version` is part of the transaction: the number moves with the change.
        transaction
            .pragma_update(None, "user_version", version)
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
    }
    Ok(())
}

/// The tables as stores had them before migrations were numbered (version 0). A store
/// made by such a version already has them, maybe without the columns added since:
/// those are added.
fn create_tables(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    transaction.execute_batch(TABLES)?;
    for (column, definition) in [
        ("inputs", "inputs TEXT NOT NULL DEFAULT '{}'"),
        ("image", "image TEXT"),
    ] {
        let present: bool = transaction.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('runs') WHERE name = ?1",
            params![column],
            |row| row.get(0),
        )?;
        if !present {
            transaction.execute_batch(&format!("ALTER TABLE runs ADD COLUMN {definition}"))?;
        }
    }
    Ok(())
}

/// The dispatcher looks runs up by status (queued ones, on start) and by event and
/// commit (was this push recorded?).
fn index_runs(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    transaction.execute_batch(
        "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
         CREATE INDEX IF NOT EXISTS runs_by_event_and_commit ON runs (event, commit_sha);",
    )
}

/// A `rollback` run applies an earlier commit; this is the commit it rolled back from.
/// Other runs leave it empty. Runs of a workflow are found by workflow and mode when a
/// rollback looks for the last one that succeeded.
fn add_rollback_from(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    transaction.execute_batch(
        "ALTER TABLE runs ADD COLUMN rollback_from TEXT;
         CREATE INDEX IF NOT EXISTS runs_by_workflow_and_mode ON runs (workflow, mode);",
    )
}

/// Notifications announce a failure once, then its recovery: what was last announced of
/// each workflow in each environment outlives a restart.
fn create_notify_conditions(transaction: &Transaction<'_>) -> rusqlite::Result<()> {
    transaction.execute_batch(
        "CREATE TABLE IF NOT EXISTS notify_conditions (
            workflow TEXT NOT NULL,
            environment TEXT NOT NULL,
            condition TEXT NOT NULL,
            run_id INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (workflow, environment)
        );",
    )
}

const TABLES: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow TEXT NOT NULL,
    environments TEXT NOT NULL,
    mode TEXT NOT NULL,
    event TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    summary TEXT NOT NULL DEFAULT '',
    inputs TEXT NOT NULL DEFAULT '{}',
    image TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    position INTEGER NOT NULL,
    environment TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    changes INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (run_id, position)
);
CREATE TABLE IF NOT EXISTS logs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    line_number INTEGER NOT NULL,
    at TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (run_id, line_number)
);
CREATE TABLE IF NOT EXISTS processed_commits (
    branch TEXT PRIMARY KEY,
    commit_sha TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS report_failures (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    check_name TEXT NOT NULL,
    error TEXT NOT NULL,
    at TEXT NOT NULL
);
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RunStatus, Store};

    /// A store as the first shoal made it: no `inputs` or `image` column, no version.
    const OLDEST_STORE: &str = "
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            workflow TEXT NOT NULL,
            environments TEXT NOT NULL,
            mode TEXT NOT NULL,
            event TEXT NOT NULL,
            commit_sha TEXT NOT NULL,
            actor TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            started_at TEXT,
            finished_at TEXT,
            summary TEXT NOT NULL DEFAULT ''
        );
        INSERT INTO runs (workflow, environments, mode, event, commit_sha, actor, status, created_at)
        VALUES ('deploy', '[\"prod\"]', 'apply', 'push', 'c0ffee', 'ada', 'queued', 't0');
    ";

    #[test]
    fn a_store_made_before_migrations_is_brought_to_the_newest_version_and_keeps_its_runs() {
        let folder = tempfile::tempdir().expect("temp");
        Connection::open(folder.path().join("shoal.db"))
            .and_then(|old| old.execute_batch(OLDEST_STORE))
            .expect("an old store");
        let store = Store::open(folder.path()).expect("migrates");
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        let queued = store.queued_runs().expect("queued");
        assert_eq!(queued.len(), 1, "{queued:?}");
        assert_eq!(queued[0].1.commit, "c0ffee");
        assert!(queued[0].1.inputs.is_empty(), "the added column's default");
        let run = store.run(queued[0].0).expect("read").expect("there");
        assert_eq!(
            (run.workflow.as_str(), run.status),
            ("deploy", RunStatus::Queued)
        );
        drop(store);
        // Opening again applies nothing more and loses nothing.
        let store = Store::open(folder.path()).expect("opens again");
        assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
        assert_eq!(store.queued_runs().expect("queued").len(), 1);
    }

    #[test]
    fn a_store_from_a_newer_shoal_is_refused_and_left_as_it_is() {
        let folder = tempfile::tempdir().expect("temp");
        let path = folder.path().join("shoal.db");
        Connection::open(&path)
            .and_then(|newer| newer.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("a newer store");
        let Err(error) = Store::open(folder.path()) else {
            panic!("a newer store opened");
        };
        assert_eq!(
            error.to_string(),
            format!(
                "state database {} has schema version {}, and this shoal knows versions up to {SCHEMA_VERSION}: it was written by a newer shoal",
                path.display(),
                SCHEMA_VERSION + 1
            )
        );
    }
}
