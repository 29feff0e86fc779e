//! Helpers for the tests that drive real services: a private Docker swarm, git servers
//! over https and ssh, running a process with a time limit, a free port, and a plain
//! HTTP GET on loopback.

pub mod fake_github;
pub mod git_servers;
pub mod hostile_input;
pub mod lab;
pub mod nuvla_lab;
mod private_swarm;
pub mod registry;
pub mod serve_daemon;
pub mod tcp_relay;
pub mod test_pki;
pub mod webhook_receiver;

pub use private_swarm::PrivateSwarm;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Runs a command to its end, capturing its output, and panics if it does not finish
/// within `timeout` (after killing it), so that a hung `docker` fails the test instead of
/// hanging the whole run. Its exit status is the caller's to judge. Standard input is left
/// as the command has it.
pub fn run(command: &mut Command, timeout: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("failed to start {}: {error}", describe(command)));
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                // Killing may race with a natural exit; either way it is over.
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within {timeout:?}", describe(command));
            }
            Err(error) => panic!("failed to wait for {}: {error}", describe(command)),
        }
    };
    Output {
        status,
        stdout: stdout.join().expect("the stdout reader does not panic"),
        stderr: stderr.join().expect("the stderr reader does not panic"),
    }
}

/// Runs a command that must succeed, and returns its standard output; panics with the
/// command line and its standard error otherwise.
pub fn run_successfully(command: &mut Command, timeout: Duration) -> String {
    let output = run(command, timeout);
    if !output.status.success() {
        panic!(
            "{} failed ({}):\n{}{}",
            describe(command),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Writes a file under `root`, creating its folders.
pub fn write_file(root: &std::path::Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().expect("a parent folder")).expect("folders");
    std::fs::write(full, text).expect("write");
}

/// Runs Debian's git in `repo` as a fixed author, on a `main` branch; its standard output.
pub fn git(repo: &std::path::Path, args: &[&str]) -> String {
    run_successfully(
        Command::new("git")
            .args([
                "-c",
                "user.name=Ada",
                "-c",
                "user.email=ada@example.com",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(repo),
        Duration::from_secs(30),
    )
}

/// A TCP port that nothing listens on right now, on any address of the host, for a server
/// a test starts or a host-mode published port (which binds 0.0.0.0 in the private
/// engine's namespace, where no other test server listens).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|listener| listener.local_addr())
        .expect("the kernel hands out a free port")
        .port()
}

/// What an HTTP server answered.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// Sends `GET path` over HTTP/1.0 to 127.0.0.1:port and reads the whole answer; every
/// step is bounded by `timeout`.
pub fn http_get(port: u16, path: &str, timeout: Duration) -> std::io::Result<HttpResponse> {
    http_get_at(Ipv4Addr::LOCALHOST, port, path, timeout)
}

/// [`http_get`] with `Authorization: Bearer TOKEN` (the API's reads need a token).
pub fn http_get_with_token(
    port: u16,
    path: &str,
    token: &str,
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    http_get_with_headers(
        Ipv4Addr::LOCALHOST,
        port,
        path,
        &format!("Authorization: Bearer {token}\r\n"),
        timeout,
    )
}

/// [`http_get`] to `host`: loopback, an address of a private engine's namespace, or the
/// lab's host address (see `Lab::host_address`). Tests make requests to nothing else.
pub fn http_get_at(
    host: Ipv4Addr,
    port: u16,
    path: &str,
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    http_get_with_headers(host, port, path, "", timeout)
}

fn http_get_with_headers(
    host: Ipv4Addr,
    port: u16,
    path: &str,
    headers: &str,
    timeout: Duration,
) -> std::io::Result<HttpResponse> {
    let address = (host, port).into();
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n{headers}\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let malformed = || std::io::Error::new(std::io::ErrorKind::InvalidData, answer.clone());
    let (head, body) = answer.split_once("\r\n\r\n").ok_or_else(malformed)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(malformed)?;
    Ok(HttpResponse {
        status,
        body: body.to_owned(),
    })
}

fn read_in_background(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error only cuts the output short; the exit status still tells.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// The command line, for error messages.
fn describe(command: &Command) -> String {
    let mut words = vec![command.get_program().to_string_lossy().into_owned()];
    words.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    format!("`{}`", words.join(" "))
}
