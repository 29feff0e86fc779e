//! The connections to one Docker daemon, kept alive and reused: a request waits for an
//! idle connection of the pool or opens a new one through the [`EngineConnector`], so a
//! run pays for a connection (and, over TLS, for a handshake) once per concurrent
//! request, not once per request. Clones share the pool.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::EngineConnector;
use super::engine_connector::EngineStream;
use super::tls_connector::tls_error;

type BoxError = Box<dyn StdError + Send + Sync>;
type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

#[derive(Clone)]
pub struct EngineConnections {
    connector: EngineConnector,
    client: Client<PoolConnector, RequestBody>,
}

impl std::fmt::Debug for EngineConnections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConnections")
            .field("connector", &self.connector)
            .finish_non_exhaustive()
    }
}

impl EngineConnections {
    pub fn new(connector: EngineConnector) -> EngineConnections {
        let client = Client::builder(TokioExecutor::new()).build(PoolConnector {
            connector: connector.clone(),
        });
        EngineConnections { connector, client }
    }

    /// Sends one HTTP/1.1 request and returns the answer, whose body is read from the
    /// connection as the caller reads it; the connection goes back to the pool once it is
    /// read. The request's URI may be absolute (bollard makes them so): only its path and
    /// query are used. A failure is a sentence that says what to fix.
    pub async fn send<B>(
        &self,
        request: hyper::Request<B>,
    ) -> Result<hyper::Response<Incoming>, String>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // A connection whose answer the caller has just read goes back to the pool when
        // hyper's task for it next runs. Without letting it run first, a request sent right
        // after the last one finds no idle connection and starts opening another, which
        // is kept even when the first comes back in time (over TLS, a full handshake on
        // the run's busy worker thread): an unchanged `shoal apply` of the benchmark's
        // stack opened 2 connections instead of 1 (`strace -f -e trace=connect`).
        tokio::task::yield_now().await;
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", hyper::http::uri::PathAndQuery::as_str);
        // The pool is keyed by the URI's authority: one daemon, one key.
        parts.uri = format!("http://docker{path}")
            .parse()
            .map_err(|error: hyper::http::uri::InvalidUri| error.to_string())?;
        parts
            .headers
            .entry(hyper::header::HOST)
            .or_insert(hyper::header::HeaderValue::from_static("docker"));
        // Over SSH, a read is sent again, once, when the pooled connection it went out on
        // failed (the SSH connection under it dropped; the next is made anew): reads
        // change nothing. So is an update that carries the version it was read at
        // (`POST /services/ID/update?version=N`, and nodes, configs, secrets and the swarm
        // alike): if the first one landed, the daemon refuses the second as out of
        // sequence, and the applier reads again. Its body is kept to send it again. A
        // connection that could not be opened at all is not tried again.
        let replayable = self.connector.retries_reads()
            && (parts.method == hyper::Method::GET || is_versioned_update(&parts));
        let (body, replay) = if replayable {
            let kept = body
                .collect()
                .await
                .map_err(|error| format!("reading the request's body failed: {}", error.into()))?
                .to_bytes();
            let mut again = hyper::Request::new(full_body(kept.clone()));
            *again.method_mut() = parts.method.clone();
            *again.uri_mut() = parts.uri.clone();
            *again.headers_mut() = parts.headers.clone();
            (full_body(kept), Some(again))
        } else {
            (body.map_err(Into::into).boxed_unsync(), None)
        };
        match self
            .client
            .request(hyper::Request::from_parts(parts, body))
            .await
        {
            Ok(response) => Ok(response),
            Err(error) => match replay {
                Some(again) if !error.is_connect() => {
                    tracing::warn!(
                        "a request to the Docker daemon failed ({}); sending it again",
                        self.describe(&error)
                    );
                    self.client
                        .request(again)
                        .await
                        .map_err(|error| self.describe(&error))
                }
                _ => Err(self.describe(&error)),
            },
        }
    }

    /// A pool of its own to the same daemon, for a sequence of calls sent beside another
    /// so that neither waits for the other's connection. Its first connection is opened
    /// when it is first used; over TLS it resumes the session of one made before (the
    /// connector keeps the daemon's session tickets), which spares the daemon the
    /// signature of a full handshake.
    pub fn beside(&self) -> EngineConnections {
        EngineConnections::new(self.connector.clone())
    }

    /// Whether the daemon is spoken to over TLS.
    pub fn is_tls(&self) -> bool {
        self.connector.is_tls()
    }

    /// The failure in one sentence: the connector's own message when connecting failed,
    /// a TLS failure explained, else the chain of causes.
    fn describe(&self, error: &(dyn StdError + 'static)) -> String {
        let mut causes = Vec::new();
        let mut cause = Some(error);
        while let Some(current) = cause {
            if let Some(failure) = current.downcast_ref::<ConnectFailure>() {
                return failure.0.clone();
            }
            if let Some(io) = current.downcast_ref::<std::io::Error>()
                && let Some(tls) = tls_error(io)
            {
                return self.connector.explain_tls(tls);
            }
            if let Some(tls) = current.downcast_ref::<rustls::Error>() {
                return self.connector.explain_tls(tls);
            }
            causes.push(current.to_string());
            cause = current.source();
        }
        causes.join(": ")
    }
}

/// Opens the pool's connections through the [`EngineConnector`].
#[derive(Clone)]
struct PoolConnector {
    connector: EngineConnector,
}

impl tower_service::Service<hyper::Uri> for PoolConnector {
    type Response = PooledStream;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<PooledStream, ConnectFailure>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let connector = self.connector.clone();
        Box::pin(async move {
            connector
                .connect()
                .await
                .map(|stream| PooledStream(TokioIo::new(stream)))
                .map_err(ConnectFailure)
        })
    }
}

/// Why a connection could not be opened, as the connector said it.
#[derive(Debug)]
struct ConnectFailure(String);

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for ConnectFailure {}

/// A connection of the pool.
struct PooledStream(TokioIo<Pin<Box<dyn EngineStream>>>);

impl Connection for PooledStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for PooledStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(context, buffer)
    }
}

impl hyper::rt::Write for PooledStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(context, buffer)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(context)
    }
}

/// Whether `parts` is an update that names the version it was read at, which the daemon
/// refuses as out of sequence when it was applied already.
fn is_versioned_update(parts: &hyper::http::request::Parts) -> bool {
    parts.method == hyper::Method::POST
        && parts.uri.path().ends_with("/update")
        && parts
            .uri
            .query()
            .is_some_and(|query| query.split('&').any(|pair| pair.starts_with("version=")))
}

/// A body of bytes already read, as the client sends it.
fn full_body(bytes: Bytes) -> RequestBody {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::DockerEndpoint;

    /// A daemon on a unix socket that answers `/_ping` with `OK` and its API version, and
    /// every other request with an empty JSON list; it counts the connections it accepted.
    async fn counting_daemon(
        socket: &std::path::Path,
    ) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let listener = tokio::net::UnixListener::bind(socket).expect("binds the socket");
        let accepted = std::sync::Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let answer =
                    hyper::service::service_fn(|request: hyper::Request<Incoming>| async move {
                        let ping = request.uri().path() == "/_ping";
                        // As dockerd sends a list: chunked, the last chunk written after the
                        // data, once the handler returns.
                        let frames = futures_util::stream::unfold(0, move |sent| async move {
                            match sent {
                                0 => Some((
                                    Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(
                                        Bytes::from_static(if ping { b"OK" } else { b"[]" }),
                                    )),
                                    1,
                                )),
                                _ => {
                                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                                    None
                                }
                            }
                        });
                        hyper::Response::builder()
                            .header("Api-Version", "1.41")
                            .header("Content-Type", "application/json")
                            .body(http_body_util::StreamBody::new(frames))
                    });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), answer),
                );
            }
        });
        accepted
    }

    /// Calls made one after the other, each answer read before the next call, as a run's
    /// reads and writes are (here the networks, configs and secrets listed through
    /// bollard): one connection carries them all (over TLS, one handshake), not a new one
    /// whenever the last has not gone back to the pool yet. As in `plan` and `apply`, a
    /// spawned task makes the calls, on the runtime's one worker thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn calls_one_after_the_other_reuse_one_connection() {
        let folder = tempfile::tempdir().expect("a folder");
        let socket = folder.path().join("docker.sock");
        let accepted = counting_daemon(&socket).await;
        let host = format!("unix://{}", socket.display());
        let reads = tokio::spawn(async move {
            let client = crate::docker::DockerClient::connect(
                &DockerEndpoint::plain(&host),
                std::time::Duration::from_secs(5),
            )
            .await
            .expect("connects");
            for _ in 0..20 {
                let live = client
                    .live_state_of(crate::swarm::ServiceScope::Stacks(Default::default()))
                    .await
                    .expect("reads");
                assert!(live.networks.is_empty() && live.objects.is_empty());
            }
        });
        reads.await.expect("the reads end");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    fn parts(method: hyper::Method, uri: &str) -> hyper::http::request::Parts {
        let mut request = hyper::Request::new(());
        *request.method_mut() = method;
        *request.uri_mut() = uri.parse().expect("a URI");
        request.into_parts().0
    }

    #[test]
    fn only_updates_that_name_their_version_are_sent_again_as_writes() {
        use hyper::Method;
        let replayed = |method: Method, uri: &str| is_versioned_update(&parts(method, uri));
        assert!(replayed(
            Method::POST,
            "http://docker/v1.41/services/abc/update?version=12"
        ));
        assert!(replayed(
            Method::POST,
            "http://docker/v1.41/nodes/n1/update?version=3"
        ));
        assert!(replayed(
            Method::POST,
            "http://docker/v1.41/swarm/update?rotateWorkerToken=false&version=7"
        ));
        assert!(!replayed(
            Method::POST,
            "http://docker/v1.41/services/create"
        ));
        assert!(!replayed(
            Method::POST,
            "http://docker/v1.41/services/abc/update"
        ));
        assert!(!replayed(
            Method::POST,
            "http://docker/v1.41/services/abc/update?registryAuthFrom=spec"
        ));
        assert!(!replayed(
            Method::DELETE,
            "http://docker/v1.41/services/abc?version=12"
        ));
    }
}
