//! A webhook receiver on 127.0.0.1 for notification tests: a real HTTP/1.1 server that
//! records every request (path without its query, headers, body), answers `GET /health` with a status the
//! test sets, and answers each POST path with scripted statuses first (a receiver that
//! fails at first), then 200.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    /// What it was answered.
    pub status: u16,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer the next POSTs of a path with.
    script: HashMap<String, VecDeque<u16>>,
}

pub struct WebhookReceiver {
    pub port: u16,
    state: Arc<Mutex<ReceiverState>>,
    health: Arc<AtomicU16>,
    stop: Arc<AtomicBool>,
}

impl WebhookReceiver {
    pub fn start() -> WebhookReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let health = Arc::new(AtomicU16::new(200));
        let stop = Arc::new(AtomicBool::new(false));
        let (serving, answering, stopping) = (state.clone(), health.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stopping.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = answer(stream, &serving, &answering);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        WebhookReceiver {
            port,
            state,
            health,
            stop,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What `GET /health` answers from now on.
    pub fn set_health(&self, status: u16) {
        self.health.store(status, Ordering::SeqCst);
    }

    /// The next POSTs to `path` are answered `statuses`, in order.
    pub fn fail_first(&self, path: &str, statuses: &[u16]) {
        let mut state = self.state.lock().expect("state");
        state
            .script
            .insert(path.to_owned(), statuses.iter().copied().collect());
    }

    /// The POSTs received at `path` so far.
    pub fn posts(&self, path: &str) -> Vec<Received> {
        let state = self.state.lock().expect("state");
        state
            .received
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// Waits until `path` has received `count` POSTs, whatever they were answered.
    pub fn wait_for_posts(&self, path: &str, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let posts = self.posts(path);
            if posts.len() >= count {
                return posts;
            }
            assert!(Instant::now() < deadline, "{path} received {posts:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until `path` has received `count` POSTs answered 200; returns them all.
    pub fn wait_for_delivered(&self, path: &str, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let posts = self.posts(path);
            if posts.iter().filter(|r| r.status == 200).count() >= count {
                return posts;
            }
            assert!(
                Instant::now() < deadline,
                "{path} received {} requests, not {count} delivered: {posts:?}",
                posts.len()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn answer(
    stream: TcpStream,
    state: &Mutex<ReceiverState>,
    health: &AtomicU16,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    // Recorded without its query: a URL's token is no part of where it goes.
    let target = parts.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let mut headers = BTreeMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_lowercase(), value.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let status = if method == "GET" {
        health.load(Ordering::SeqCst)
    } else {
        let mut state = state.lock().expect("state");
        let status = state
            .script
            .get_mut(&path)
            .and_then(VecDeque::pop_front)
            .unwrap_or(200);
        state.received.push(Received {
            path,
            headers,
            body,
            status,
        });
        status
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
    )?;
    stream.flush()
}
