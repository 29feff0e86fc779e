//! Runs' logs followed live by any number of browsers at the cost of one: for each run
//! being followed, one thread reads the store's new lines (through [`LogSource`]) and
//! broadcasts each batch to every follower, so 50 followers cost one read per update, not
//! 50. A follower first reads the lines written before it came, a page at a time (a 1 MB
//! log is never held whole), then takes the batches that follow its last line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, broadcast, mpsc};

use super::SharedReader;
use crate::store::{RunStatus, StoreError};

/// How many lines one read of the store takes at most.
pub const LOG_PAGE: usize = 200;

/// How often a followed run's new lines are looked for.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);

/// How many lines wait for a slow follower at most: what one follower may hold.
const FOLLOWER_BACKLOG: usize = 128;

/// How many batches a slow follower may be behind before it reads the store itself.
const BACKLOG: usize = 64;

/// Where logs are read from: the store, or a counting fake in tests.
pub trait LogSource: Send + Sync + 'static {
    /// Whether the run is queued or running (`None`: no such run).
    fn is_live(&self, run: i64) -> Result<Option<bool>, StoreError>;
    /// At most `limit` lines of `run` after line number `after`, with their numbers.
    fn lines_after(
        &self,
        run: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError>;
    /// The number of the run's last line (0 when it has none).
    fn last_line(&self, run: i64) -> Result<i64, StoreError>;
}

/// The store through the console's shared reader connection.
pub struct StoreLogSource(pub Arc<SharedReader>);

impl LogSource for StoreLogSource {
    fn is_live(&self, run: i64) -> Result<Option<bool>, StoreError> {
        self.0.read(|store| {
            Ok(store
                .run(run)?
                .map(|run| matches!(run.status, RunStatus::Queued | RunStatus::Running)))
        })
    }

    fn lines_after(
        &self,
        run: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        self.0.read(|store| store.logs_page(run, after, limit))
    }

    fn last_line(&self, run: i64) -> Result<i64, StoreError> {
        self.0.read(|store| store.last_log_line(run))
    }
}

/// New lines of a run, shared by its followers.
#[derive(Debug)]
pub struct LogBatch {
    pub lines: Vec<(i64, String)>,
    /// The run has ended: no line comes after these.
    pub ended: bool,
}

/// What a follower is sent.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    Line(i64, String),
    /// The run has ended (or its log cannot be read any more).
    End,
}

/// The runs being followed, each by one reading thread.
pub struct LiveLogs {
    source: Arc<dyn LogSource>,
    /// Followers catching up read one page at a time, one follower after another: the
    /// store has one reader connection, and 50 followers arriving together need not 50
    /// threads waiting for it.
    catching_up: Arc<Semaphore>,
    followed: Arc<Mutex<HashMap<i64, broadcast::Sender<Arc<LogBatch>>>>>,
    interval: Duration,
}

impl LiveLogs {
    pub fn new(source: Arc<dyn LogSource>) -> LiveLogs {
        LiveLogs {
            source,
            catching_up: Arc::new(Semaphore::new(1)),
            followed: Arc::default(),
            interval: FOLLOW_INTERVAL,
        }
    }

    /// Looks for new lines every `interval` (tests go faster).
    pub fn with_interval(self, interval: Duration) -> LiveLogs {
        LiveLogs { interval, ..self }
    }

    /// Follows run `run` after line `after`: the lines written so far, read a page at a
    /// time, then, while the run is live, each new line as the shared reader finds it;
    /// `End` last. `None` when there is no such run.
    pub async fn follow(
        &self,
        run: i64,
        after: i64,
    ) -> Result<Option<mpsc::Receiver<LogEvent>>, StoreError> {
        let source = self.source.clone();
        let (live, written) =
            blocking(move || Ok((source.is_live(run)?, source.last_line(run)?))).await?;
        let Some(live) = live else {
            return Ok(None);
        };
        // Subscribed before the lines so far are read, to a reader that sends every line
        // after `written` (or, if it runs already, after a line read since it started,
        // before this subscription): every line is in the catch-up or in a batch.
        let batches = live.then(|| self.subscribe(run, written));
        let (sender, receiver) = mpsc::channel(FOLLOWER_BACKLOG);
        let source = self.source.clone();
        let turns = self.catching_up.clone();
        tokio::spawn(async move {
            let mut last = after;
            if !catch_up(&source, &turns, run, &mut last, &sender).await {
                return;
            }
            if let Some(mut batches) = batches {
                loop {
                    match batches.recv().await {
                        Ok(batch) => {
                            for (number, line) in &batch.lines {
                                if *number > last {
                                    last = *number;
                                    if sender
                                        .send(LogEvent::Line(*number, line.clone()))
                                        .await
                                        .is_err()
                                    {
                                        return;
                                    }
                                }
                            }
                            if batch.ended {
                                break;
                            }
                        }
                        // Too slow for the shared reader: read what was missed.
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if !catch_up(&source, &turns, run, &mut last, &sender).await {
                                return;
                            }
                        }
                        Err(broadcast::error::RecvError::Closed) => {
                            let _ = catch_up(&source, &turns, run, &mut last, &sender).await;
                            break;
                        }
                    }
                }
            }
            let _ = sender.send(LogEvent::End).await;
        });
        Ok(Some(receiver))
    }

    /// How many runs have a reading thread now.
    pub fn followed_runs(&self) -> usize {
        self.followed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// A receiver of the run's batches; starts its reading thread if it has none, from the
    /// lines after `written`.
    fn subscribe(&self, run: i64, written: i64) -> broadcast::Receiver<Arc<LogBatch>> {
        let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = followed.get(&run) {
            return sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(BACKLOG);
        followed.insert(run, sender.clone());
        let (source, all, interval) = (self.source.clone(), self.followed.clone(), self.interval);
        std::thread::spawn(move || {
            read_for_followers(source.as_ref(), run, written, &sender, &all, interval);
        });
        receiver
    }
}

/// The one reader of a followed run: the lines after `last` (read by its first follower
/// before it subscribed), one read of the store per interval, each batch sent to every
/// follower; ends when the run has ended or no one follows it any more.
fn read_for_followers(
    source: &dyn LogSource,
    run: i64,
    mut last: i64,
    sender: &broadcast::Sender<Arc<LogBatch>>,
    all: &Mutex<HashMap<i64, broadcast::Sender<Arc<LogBatch>>>>,
    interval: Duration,
) {
    loop {
        std::thread::sleep(interval);
        // Status before lines: lines written before the run ended are read before it stops.
        let live = source.is_live(run).ok().flatten().unwrap_or(false);
        let lines = source.lines_after(run, last, LOG_PAGE).unwrap_or_default();
        let full = lines.len() == LOG_PAGE;
        if let Some((number, _)) = lines.last() {
            last = *number;
        }
        let ended = !live && !full;
        if !lines.is_empty() || ended {
            let _ = sender.send(Arc::new(LogBatch { lines, ended }));
        }
        let mut followed = all.lock().unwrap_or_else(|p| p.into_inner());
        if ended || sender.receiver_count() == 0 {
            followed.remove(&run);
            return;
        }
    }
}

/// Sends the lines after `last`, a page at a time; false when the follower went away.
async fn catch_up(
    source: &Arc<dyn LogSource>,
    turns: &Semaphore,
    run: i64,
    last: &mut i64,
    sender: &mpsc::Sender<LogEvent>,
) -> bool {
    loop {
        let (reader, after) = (source.clone(), *last);
        let read = async {
            let _turn = turns.acquire().await;
            blocking(move || reader.lines_after(run, after, LOG_PAGE)).await
        };
        let Ok(page) = read.await else {
            // The follower is told the log ends here; it stops either way.
            let _ = sender.send(LogEvent::End).await;
            return false;
        };
        let full = page.len() == LOG_PAGE;
        for (number, line) in page {
            *last = number;
            if sender.send(LogEvent::Line(number, line)).await.is_err() {
                return false;
            }
        }
        if !full {
            return true;
        }
    }
}

async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or(Err(StoreError::Closed))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;

    /// A log in memory that counts the reads of new lines.
    #[derive(Default)]
    struct CountingSource {
        lines: Mutex<Vec<String>>,
        live: AtomicBool,
        reads: AtomicUsize,
    }

    impl CountingSource {
        fn write(&self, line: &str) {
            self.lines.lock().expect("lines").push(line.to_owned());
        }
    }

    impl LogSource for CountingSource {
        fn is_live(&self, _run: i64) -> Result<Option<bool>, StoreError> {
            Ok(Some(self.live.load(Ordering::SeqCst)))
        }

        fn lines_after(
            &self,
            _run: i64,
            after: i64,
            limit: usize,
        ) -> Result<Vec<(i64, String)>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let lines = self.lines.lock().expect("lines");
            Ok(lines
                .iter()
                .enumerate()
                .map(|(index, line)| (index as i64 + 1, line.clone()))
                .filter(|(number, _)| *number > after)
                .take(limit)
                .collect())
        }

        fn last_line(&self, _run: i64) -> Result<i64, StoreError> {
            Ok(self.lines.lock().expect("lines").len() as i64)
        }
    }

    async fn next_lines(receiver: &mut mpsc::Receiver<LogEvent>, count: usize) -> Vec<LogEvent> {
        let mut events = Vec::new();
        while events.len() < count {
            let event = tokio::time::timeout(Duration::from_secs(10), receiver.recv())
                .await
                .expect("an event in time")
                .expect("open");
            events.push(event);
        }
        events
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_followers_cost_one_read_of_the_store_per_update() {
        let source = Arc::new(CountingSource::default());
        source.live.store(true, Ordering::SeqCst);
        source.write("first");
        let logs = LiveLogs::new(source.clone()).with_interval(Duration::from_millis(50));
        let mut followers = Vec::new();
        for _ in 0..50 {
            let mut follower = logs.follow(1, 0).await.expect("reads").expect("a run");
            assert_eq!(
                next_lines(&mut follower, 1).await,
                [LogEvent::Line(1, "first".to_owned())]
            );
            followers.push(follower);
        }
        assert_eq!(logs.followed_runs(), 1, "one reader for the run");
        // Each follower read the lines so far once, on arrival.
        let before = source.reads.load(Ordering::SeqCst);
        let started = std::time::Instant::now();
        for update in 0..5 {
            source.write(&format!("line {update}"));
            for follower in &mut followers {
                assert_eq!(
                    next_lines(follower, 1).await,
                    [LogEvent::Line(update + 2, format!("line {update}"))]
                );
            }
        }
        let reads = source.reads.load(Ordering::SeqCst) - before;
        // One read per interval of the shared reader, however many follow: never 50 per
        // update.
        let intervals = started.elapsed().as_millis() / 50 + 1;
        assert!(
            reads as u128 <= intervals,
            "{reads} reads in {intervals} intervals for 5 updates and 50 followers"
        );
        assert!(reads < 50, "{reads} reads");
        source.live.store(false, Ordering::SeqCst);
        for follower in &mut followers {
            assert_eq!(next_lines(follower, 1).await, [LogEvent::End]);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_long_log_is_read_a_page_at_a_time_and_an_ended_run_ends_the_follow() {
        let source = Arc::new(CountingSource::default());
        let total = 3 * LOG_PAGE + 10;
        for number in 0..total {
            source.write(&format!("line {number}"));
        }
        let logs = LiveLogs::new(source.clone());
        let mut follower = logs.follow(1, 0).await.expect("reads").expect("a run");
        let events = next_lines(&mut follower, total + 1).await;
        assert_eq!(events.last(), Some(&LogEvent::End));
        assert_eq!(
            events[total - 1],
            LogEvent::Line(total as i64, format!("line {}", total - 1))
        );
        assert_eq!(source.reads.load(Ordering::SeqCst), 4, "four pages");
        assert_eq!(logs.followed_runs(), 0, "no reader for an ended run");
        // From a line on (a browser reconnecting with Last-Event-ID).
        let mut resumed = logs
            .follow(1, total as i64 - 2)
            .await
            .expect("reads")
            .expect("a run");
        assert_eq!(
            next_lines(&mut resumed, 3).await,
            [
                LogEvent::Line(total as i64 - 1, format!("line {}", total - 2)),
                LogEvent::Line(total as i64, format!("line {}", total - 1)),
                LogEvent::End,
            ]
        );
    }
}
