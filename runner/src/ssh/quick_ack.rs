//! The TCP stream under an SSH connection, acknowledging what it receives at once.
//!
//! OpenSSH's sshd leaves Nagle's algorithm on for sessions without a terminal: a small
//! packet it sends (the confirmation of a forwarded socket's channel, the last piece of an
//! answer) waits until the client has acknowledged the packets before it. Linux delays an
//! acknowledgement by up to 40 ms while it expects to send data it could ride on, and a
//! client that is waiting for the server sends none: each such exchange stalls 40 ms. On
//! the benchmark's ssh:// endpoint that was a third of a whole `shoal apply` (96 ms with
//! the stall, 64 ms without). `TCP_QUICKACK` asks Linux to acknowledge at once; it is not
//! a lasting setting (the stack may go back to delaying), so it is set again after every
//! read. Elsewhere than Linux the stream is read as it is.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub struct QuickAckStream {
    stream: TcpStream,
}

impl QuickAckStream {
    pub fn new(stream: TcpStream) -> QuickAckStream {
        let stream = QuickAckStream { stream };
        stream.acknowledge_at_once();
        stream
    }

    /// Failing to set it only costs time: the error is not worth a log line.
    fn acknowledge_at_once(&self) {
        #[cfg(target_os = "linux")]
        let _ = socket2::SockRef::from(&self.stream).set_tcp_quickack(true);
    }
}

impl AsyncRead for QuickAckStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buffer.filled().len();
        let poll = Pin::new(&mut self.stream).poll_read(context, buffer);
        if matches!(poll, Poll::Ready(Ok(()))) && buffer.filled().len() > before {
            self.acknowledge_at_once();
        }
        poll
    }
}

impl AsyncWrite for QuickAckStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(context, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::QuickAckStream;

    /// The flag is on after a read: Linux reports it through `getsockopt`, and turns it
    /// off by itself once it acknowledges in its usual way, so reading it back right after
    /// the read is what can be checked.
    #[tokio::test]
    async fn the_stream_reads_and_writes_and_acknowledges_at_once() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the test socket works");
        let address = listener.local_addr().expect("the test socket works");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("the test socket works");
            socket
                .write_all(b"SSH-2.0-test\r\n")
                .await
                .expect("the test socket works");
            let mut answer = [0; 5];
            socket
                .read_exact(&mut answer)
                .await
                .expect("the test socket works");
            answer
        });
        let mut stream = QuickAckStream::new(
            tokio::net::TcpStream::connect(address)
                .await
                .expect("the test socket works"),
        );
        let mut banner = [0; 14];
        stream
            .read_exact(&mut banner)
            .await
            .expect("the test socket works");
        assert_eq!(&banner, b"SSH-2.0-test\r\n");
        assert!(
            socket2::SockRef::from(&stream.stream)
                .tcp_quickack()
                .expect("the test socket works"),
            "TCP_QUICKACK is set after a read"
        );
        stream
            .write_all(b"hello")
            .await
            .expect("the test socket works");
        assert_eq!(&server.await.expect("the test socket works"), b"hello");
    }
}
