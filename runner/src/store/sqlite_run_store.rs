//! The run store on SQLite: one thread owns the connection and runs the calls in the
//! order they were made; callers await the answers, so the dispatcher's loop never waits
//! on the disk.

use std::path::Path;
use std::sync::mpsc;

use tokio::sync::oneshot;

use super::{RunRecord, RunStatus, RunStore, StepRecord, Store, StoreError, StoreFuture};
use crate::trigger::RunRequest;

type Call = Box<dyn FnOnce(&Store) + Send>;

pub struct SqliteRunStore {
    calls: mpsc::Sender<Call>,
}

impl SqliteRunStore {
    /// Opens (and migrates) the store in `folder` and starts its thread.
    pub fn open(folder: &Path) -> Result<SqliteRunStore, StoreError> {
        Ok(SqliteRunStore::start(Store::open(folder)?))
    }

    /// Hands `store` to a thread of its own, which ends when this value is dropped.
    pub fn start(store: Store) -> SqliteRunStore {
        let (calls, receiver) = mpsc::channel::<Call>();
        std::thread::Builder::new()
            .name("shoal-store".to_owned())
            .spawn(move || {
                for call in receiver {
                    call(&store);
                }
            })
            .map_or_else(
                |error| tracing::error!(%error, "cannot start the store's thread"),
                |_| (),
            );
        SqliteRunStore { calls }
    }

    fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'static, T> {
        let (answer, answered) = oneshot::channel();
        let sent = self.calls.send(Box::new(move |store| {
            let _ = answer.send(work(store));
        }));
        Box::pin(async move {
            sent.map_err(|_| StoreError::Closed)?;
            answered.await.map_err(|_| StoreError::Closed)?
        })
    }
}

impl RunStore for SqliteRunStore {
    fn create_run<'a>(&'a self, request: &'a RunRequest, now: &'a str) -> StoreFuture<'a, i64> {
        let (request, now) = (request.clone(), now.to_owned());
        self.call(move |store| store.create_run(&request, &now))
    }

    fn start_run<'a>(&'a self, id: i64, now: &'a str) -> StoreFuture<'a, ()> {
        let now = now.to_owned();
        self.call(move |store| store.start_run(id, &now))
    }

    fn finish_run<'a>(
        &'a self,
        id: i64,
        status: RunStatus,
        summary: &'a str,
        now: &'a str,
    ) -> StoreFuture<'a, ()> {
        let (summary, now) = (summary.to_owned(), now.to_owned());
        self.call(move |store| store.finish_run(id, status, &summary, &now))
    }

    fn record_step<'a>(
        &'a self,
        run: i64,
        position: i64,
        step: &'a StepRecord,
    ) -> StoreFuture<'a, ()> {
        let step = step.clone();
        self.call(move |store| store.record_step(run, position, &step))
    }

    fn append_log<'a>(&'a self, run: i64, line: &'a str, now: &'a str) -> StoreFuture<'a, ()> {
        let (line, now) = (line.to_owned(), now.to_owned());
        self.call(move |store| store.append_log(run, &line, &now))
    }

    fn run(&self, id: i64) -> StoreFuture<'_, Option<RunRecord>> {
        self.call(move |store| store.run(id))
    }

    fn steps(&self, run: i64) -> StoreFuture<'_, Vec<StepRecord>> {
        self.call(move |store| store.steps(run))
    }

    fn queued_runs(&self) -> StoreFuture<'_, Vec<(i64, RunRequest)>> {
        self.call(Store::queued_runs)
    }

    fn apply_runs<'a>(&'a self, workflow: &'a str) -> StoreFuture<'a, Vec<RunRecord>> {
        let workflow = workflow.to_owned();
        self.call(move |store| store.apply_runs(&workflow))
    }

    fn latest_run_commit<'a>(&'a self, event: &'a str) -> StoreFuture<'a, Option<String>> {
        let event = event.to_owned();
        self.call(move |store| store.latest_run_commit(&event))
    }

    fn processed_commit<'a>(&'a self, branch: &'a str) -> StoreFuture<'a, Option<String>> {
        let branch = branch.to_owned();
        self.call(move |store| store.processed_commit(&branch))
    }

    fn set_processed_commit<'a>(&'a self, branch: &'a str, commit: &'a str) -> StoreFuture<'a, ()> {
        let (branch, commit) = (branch.to_owned(), commit.to_owned());
        self.call(move |store| store.set_processed_commit(&branch, &commit))
    }

    fn first_delivery<'a>(&'a self, id: &'a str, now: &'a str) -> StoreFuture<'a, bool> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.call(move |store| store.first_delivery(&id, &now))
    }

    fn first_registry_event<'a>(&'a self, id: &'a str, now: &'a str) -> StoreFuture<'a, bool> {
        let (id, now) = (id.to_owned(), now.to_owned());
        self.call(move |store| store.first_registry_event(&id, &now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trigger::RunMode;

    #[tokio::test]
    async fn calls_run_in_order_on_the_store_thread() {
        let folder = tempfile::tempdir().expect("temp");
        let store = SqliteRunStore::open(folder.path()).expect("opens");
        let request = RunRequest {
            workflow: "deploy".into(),
            environments: vec!["prod".into()],
            mode: RunMode::Apply,
            commit: "c1".into(),
            event: "push",
            actor: "ada".into(),
            inputs: serde_json::Map::new(),
            image: None,
            rollback_from: None,
        };
        let id = store.create_run(&request, "t0").await.expect("created");
        store.append_log(id, "one", "t1").await.expect("log");
        store.append_log(id, "two", "t2").await.expect("log");
        store
            .finish_run(id, RunStatus::Success, "done", "t3")
            .await
            .expect("finished");
        let run = store.run(id).await.expect("read").expect("there");
        assert_eq!(
            (run.status, run.summary.as_str()),
            (RunStatus::Success, "done")
        );
        assert_eq!(
            store.latest_run_commit("push").await.expect("read"),
            Some("c1".into())
        );
        assert_eq!(
            store.latest_run_commit("schedule").await.expect("read"),
            None
        );
        assert!(store.first_delivery("d", "t").await.expect("first"));
        assert!(!store.first_delivery("d", "t").await.expect("again"));
    }
}
