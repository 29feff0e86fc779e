//! A TCP relay on loopback to an upstream address, whose connections a test can cut: a
//! network that drops a connection, without touching the upstream server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A TCP relay on loopback to `upstream`, whose connections a test can cut.
pub struct TcpRelay {
    pub port: u16,
    /// How many connections it accepted.
    pub accepted: Arc<AtomicUsize>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl TcpRelay {
    pub async fn start(upstream: String) -> TcpRelay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let port = listener.local_addr().expect("address").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let links = Arc::new(Mutex::new(Vec::new()));
        let (counted, held) = (accepted.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                held.lock().expect("links").push(link);
            }
        });
        TcpRelay {
            port,
            accepted,
            links,
        }
    }

    /// Ends every connection: both sockets close, as when a network drops them.
    pub fn cut(&self) {
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }
}
