//! The SSH transport (`shoal::ssh`) against the lab's real OpenSSH sshd: commands with
//! their exit codes, output and input, many channels at once on one connection, host
//! keys (unknown, changed, trusted on first use), logins refused, connections that time
//! out, and Unix sockets forwarded through sshd.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use shoal::ssh::{OutputStream, RemoteExit, SshError, SshSession, SshSettings, SshTarget};

use crate::support::lab::Lab;
use crate::support::run_successfully;
use crate::support::tcp_relay::TcpRelay;

fn settings(lab: &Lab) -> SshSettings {
    SshSettings {
        identity: Some(lab.key.clone()),
        ..SshSettings::new(lab.known_hosts.clone())
    }
}

fn root_of(lab: &Lab, node: usize) -> SshTarget {
    SshTarget::new("root", &lab.nodes[node - 1], 22)
}

async fn connect(lab: &Lab, node: usize) -> SshSession {
    SshSession::connect(&root_of(lab, node), &settings(lab))
        .await
        .expect("connects to the lab node")
}

/// What a command printed on each stream, and how it ended.
struct Ran {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    exit: RemoteExit,
}

async fn exec(session: &SshSession, command: &str, stdin: Option<Vec<u8>>) -> Ran {
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let exit = session
        .exec(command, stdin, |stream, bytes| match stream {
            OutputStream::Stdout => stdout.extend_from_slice(bytes),
            OutputStream::Stderr => stderr.extend_from_slice(bytes),
        })
        .await
        .expect("the command runs");
    Ran {
        stdout,
        stderr,
        exit,
    }
}

/// `ssh-keygen -l`'s fingerprint of the key on the first line of `file` that names
/// `host`: the oracle the messages are checked against.
fn fingerprint_in(file: &Path, host: &str) -> String {
    let listing = run_successfully(
        Command::new("ssh-keygen")
            .args(["-l", "-F", host, "-f"])
            .arg(file),
        Duration::from_secs(10),
    );
    listing
        .lines()
        .find(|line| !line.starts_with('#'))
        .and_then(|line| line.split_whitespace().nth(2))
        .unwrap_or_else(|| panic!("no key for {host} in {}", file.display()))
        .to_owned()
}

fn key_line_for(known_hosts: &Path, host: &str) -> String {
    std::fs::read_to_string(known_hosts)
        .expect("reads known_hosts")
        .lines()
        .find(|line| line.split_whitespace().next() == Some(host))
        .unwrap_or_else(|| panic!("no line for {host}"))
        .to_owned()
}

#[tokio::test]
async fn commands_report_their_output_and_how_they_ended() {
    let lab = Lab::start(1);
    let session = connect(&lab, 1).await;
    let ran = exec(&session, "hostname; echo oops >&2; exit 3", None).await;
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "node1\n");
    assert_eq!(String::from_utf8_lossy(&ran.stderr), "oops\n");
    assert_eq!(ran.exit.code, Some(3));
    assert_eq!(ran.exit.to_string(), "exit code 3");

    let killed = exec(&session, "kill -TERM $$", None).await;
    assert_eq!(killed.exit.code, None);
    assert_eq!(killed.exit.to_string(), "killed by signal TERM");

    // Input is written, then closed: `wc` sees its end.
    let input: Vec<u8> = (0..3_000_000_u32).map(|i| (i % 251) as u8).collect();
    let counted = exec(&session, "wc -c", Some(input.clone())).await;
    assert!(counted.exit.success());
    assert_eq!(String::from_utf8_lossy(&counted.stdout).trim(), "3000000");
    let summed = exec(&session, "sha256sum", Some(input.clone())).await;
    use sha2::Digest as _;
    assert_eq!(
        String::from_utf8_lossy(&summed.stdout),
        format!("{}  -\n", hex::encode(sha2::Sha256::digest(&input)))
    );
}

#[tokio::test]
async fn megabytes_on_both_streams_of_several_commands_at_once_do_not_stall_the_connection() {
    let lab = Lab::start(1);
    let session = connect(&lab, 1).await;
    // Both streams written at once, 6 MB each, by three commands on one connection.
    let command = "(head -c 6000000 /dev/zero | tr '\\0' e >&2) & head -c 6000000 /dev/zero | tr '\\0' o; wait";
    let runs = futures_util::future::join_all((0..3).map(|_| exec(&session, command, None))).await;
    for ran in runs {
        assert!(ran.exit.success(), "{}", ran.exit);
        assert_eq!(ran.stdout.len(), 6_000_000);
        assert!(ran.stdout.iter().all(|byte| *byte == b'o'));
        assert_eq!(ran.stderr.len(), 6_000_000);
        assert!(ran.stderr.iter().all(|byte| *byte == b'e'));
    }
    // The connection still carries commands.
    assert_eq!(exec(&session, "echo still", None).await.stdout, b"still\n");
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_naming_its_fingerprint_and_accept_new_records_it() {
    let lab = Lab::start(1);
    let folder = tempfile::tempdir().expect("temp");
    let known_hosts = folder.path().join("ssh/known_hosts");
    let address = &lab.nodes[0];
    let fingerprint = fingerprint_in(&lab.known_hosts, address);

    let unknown = SshSettings {
        identity: Some(lab.key.clone()),
        ..SshSettings::new(known_hosts.clone())
    };
    let error = SshSession::connect(&root_of(&lab, 1), &unknown)
        .await
        .err()
        .expect("an unknown key is refused");
    assert_eq!(
        error.to_string(),
        format!(
            "the host key of {address} (ssh-ed25519 {fingerprint}) is not in {}; check its fingerprint with the host's owner, then add it there",
            known_hosts.display()
        )
    );
    assert!(
        !known_hosts.exists(),
        "nothing is written without accept_new"
    );

    let accept_new = SshSettings {
        accept_new: true,
        ..unknown.clone()
    };
    let session = SshSession::connect(&root_of(&lab, 1), &accept_new)
        .await
        .expect("trusted on first use");
    assert_eq!(exec(&session, "hostname", None).await.stdout, b"node1\n");
    assert_eq!(
        key_line_for(&known_hosts, address),
        key_line_for(&lab.known_hosts, address)
    );
    // Recorded: the next connection needs no trust on first use.
    SshSession::connect(&root_of(&lab, 1), &unknown)
        .await
        .expect("the recorded key is accepted");
}

#[tokio::test]
async fn a_changed_host_key_is_refused_even_with_accept_new() {
    let lab = Lab::start(2);
    let folder = tempfile::tempdir().expect("temp");
    let known_hosts = folder.path().join("known_hosts");
    // Node 2's key recorded for node 1's address: node 1 seems to have changed its key.
    let node2 = key_line_for(&lab.known_hosts, &lab.nodes[1]);
    let forged = node2.replacen(&lab.nodes[1], &lab.nodes[0], 1);
    std::fs::write(&known_hosts, format!("{forged}\n")).expect("writes");
    let settings = SshSettings {
        identity: Some(lab.key.clone()),
        accept_new: true,
        ..SshSettings::new(known_hosts.clone())
    };
    let error = SshSession::connect(&root_of(&lab, 1), &settings)
        .await
        .err()
        .expect("a changed key is refused");
    assert_eq!(
        error.to_string(),
        format!(
            "the host key of {} has changed: it offered ssh-ed25519 {}, which is not the key recorded in {} line 1; refused (the connection may be intercepted, or the host's key was replaced)",
            lab.nodes[0],
            fingerprint_in(&lab.known_hosts, &lab.nodes[0]),
            known_hosts.display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(&known_hosts).expect("reads"),
        format!("{forged}\n"),
        "known_hosts is left as it was"
    );
}

#[tokio::test]
async fn a_key_the_host_does_not_know_is_refused_naming_the_key_and_the_agent_is_used_without_identity()
 {
    let lab = Lab::start(1);
    let folder = tempfile::tempdir().expect("temp");
    let stranger = folder.path().join("stranger");
    run_successfully(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&stranger),
        Duration::from_secs(10),
    );
    let stranger_fingerprint = public_fingerprint(&stranger.with_extension("pub"));
    let refused = SshSettings {
        identity: Some(stranger.clone()),
        ..settings(&lab)
    };
    let target = root_of(&lab, 1);
    let error = SshSession::connect(&target, &refused)
        .await
        .err()
        .expect("the stranger's key is refused");
    assert_eq!(
        error.to_string(),
        format!(
            "root@{}:22 refused the login: tried the key {} (ssh-ed25519 {stranger_fingerprint}); add the public key to ~root/.ssh/authorized_keys there, or set the identity that is",
            lab.nodes[0],
            stranger.display()
        )
    );

    // Without an identity, the agent's keys are offered: the stranger's, then the lab's.
    let agent = Agent::start(folder.path());
    agent.add(&stranger);
    let through_agent = SshSettings {
        identity: None,
        agent_socket: Some(agent.socket.clone()),
        ..settings(&lab)
    };
    let error = SshSession::connect(&target, &through_agent)
        .await
        .err()
        .expect("the agent holds only the stranger's key");
    assert_eq!(
        error.to_string(),
        format!(
            "root@{}:22 refused the login: tried the ssh-agent's keys ssh-ed25519 {stranger_fingerprint}; add the public key to ~root/.ssh/authorized_keys there, or set the identity that is",
            lab.nodes[0]
        )
    );
    agent.add(&lab.key);
    let session = SshSession::connect(&target, &through_agent)
        .await
        .expect("the agent's second key logs in");
    assert_eq!(exec(&session, "whoami", None).await.stdout, b"root\n");

    let no_agent = SshSettings {
        agent_socket: None,
        ..through_agent
    };
    let error = SshSession::connect(&target, &no_agent)
        .await
        .err()
        .expect("no way to log in");
    assert_eq!(
        error.to_string(),
        "no identity is set and the ssh-agent cannot be used: SSH_AUTH_SOCK is not set (set the identity, or start ssh-agent with a key and set SSH_AUTH_SOCK)"
    );
}

fn public_fingerprint(public_key: &Path) -> String {
    let listing = run_successfully(
        Command::new("ssh-keygen").arg("-lf").arg(public_key),
        Duration::from_secs(10),
    );
    listing
        .split_whitespace()
        .nth(1)
        .expect("a fingerprint")
        .to_owned()
}

/// An ssh-agent of the test's own, killed on drop.
struct Agent {
    socket: PathBuf,
    pid: String,
}

impl Agent {
    fn start(folder: &Path) -> Agent {
        let socket = folder.join("agent.sock");
        let output = run_successfully(
            Command::new("ssh-agent").arg("-s").arg("-a").arg(&socket),
            Duration::from_secs(10),
        );
        let pid = output
            .split(';')
            .find_map(|part| part.trim().strip_prefix("SSH_AGENT_PID="))
            .expect("ssh-agent prints its pid")
            .to_owned();
        Agent { socket, pid }
    }

    fn add(&self, key: &Path) {
        run_successfully(
            Command::new("ssh-add")
                .arg(key)
                .env("SSH_AUTH_SOCK", &self.socket),
            Duration::from_secs(10),
        );
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}

#[tokio::test]
async fn a_closed_port_is_refused_and_a_silent_host_times_out() {
    let lab = Lab::start(1);
    let address = lab.nodes[0].clone();
    let closed = SshTarget::new("root", &address, 2222);
    let error = SshSession::connect(&closed, &settings(&lab))
        .await
        .err()
        .expect("nothing listens on 2222");
    assert_eq!(
        error.to_string(),
        format!("cannot connect to {address}:2222: Connection refused (os error 111)")
    );

    let drop_ssh = [
        "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "DROP",
    ];
    assert!(lab.in_node(1, &drop_ssh).status.success());
    let impatient = SshSettings {
        connect_timeout: Duration::from_secs(2),
        ..settings(&lab)
    };
    let error = SshSession::connect(&root_of(&lab, 1), &impatient)
        .await
        .err()
        .expect("the packets are dropped");
    assert!(matches!(error, SshError::ConnectTimeout { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "connecting to {address}:22 timed out after 2s: the host does not answer on that port (is it up, is sshd listening there, does a firewall drop the packets?)"
        )
    );
}

#[tokio::test]
async fn a_unix_socket_on_the_host_is_reached_through_sshd() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let lab = Lab::start(1);
    // A path-named Unix socket is the same file in every network namespace: the node's
    // sshd reaches this test's listener.
    let folder = tempfile::tempdir().expect("temp");
    let path = folder.path().join("echo.sock");
    let listener = tokio::net::UnixListener::bind(&path).expect("binds");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0_u8; 65536];
                while let Ok(read) = stream.read(&mut buffer).await {
                    if read == 0 {
                        break;
                    }
                    let upper = buffer[..read].to_ascii_uppercase();
                    if stream.write_all(&upper).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let session = connect(&lab, 1).await;
    let path_text = path.to_str().expect("utf-8");
    let (mut first, mut second) = (
        session.open_unix_socket(path_text).await.expect("opens"),
        session.open_unix_socket(path_text).await.expect("opens"),
    );
    first.write_all(b"hello ").await.expect("writes");
    second.write_all(b"world").await.expect("writes");
    let mut answer = [0_u8; 5];
    second.read_exact(&mut answer).await.expect("reads");
    assert_eq!(&answer, b"WORLD");
    let mut answer = [0_u8; 6];
    first.read_exact(&mut answer).await.expect("reads");
    assert_eq!(&answer, b"HELLO ");

    let missing = session
        .open_unix_socket("/nonexistent/docker.sock")
        .await
        .err()
        .expect("no such socket");
    assert_eq!(
        missing.to_string(),
        format!(
            "root@{}:22 refused opening the Unix socket /nonexistent/docker.sock: the server could not connect to it",
            lab.nodes[0]
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_connection_drops_fails_saying_so() {
    let lab = Lab::start(1);
    let relay = TcpRelay::start(format!("{}:22", lab.nodes[0])).await;
    let folder = tempfile::tempdir().expect("temp");
    let known_hosts = folder.path().join("known_hosts");
    let line = key_line_for(&lab.known_hosts, &lab.nodes[0]).replacen(
        &lab.nodes[0],
        &format!("[127.0.0.1]:{}", relay.port),
        1,
    );
    std::fs::write(&known_hosts, format!("{line}\n")).expect("writes");
    let target = SshTarget::new("root", "127.0.0.1", relay.port);
    let session = SshSession::connect(
        &target,
        &SshSettings {
            identity: Some(lab.key.clone()),
            ..SshSettings::new(known_hosts)
        },
    )
    .await
    .expect("connects through the relay");
    let (started, mut told) = tokio::sync::mpsc::unbounded_channel();
    let running = tokio::spawn({
        let session = session.clone();
        async move {
            session
                .exec("echo started; sleep 60", None, move |_, _| {
                    let _ = started.send(());
                })
                .await
        }
    });
    told.recv().await.expect("the command started");
    relay.cut();
    let error = running
        .await
        .expect("the task ends")
        .expect_err("the connection dropped");
    assert_eq!(
        error.to_string(),
        format!(
            "running a command on root@127.0.0.1:{} failed: the connection has closed",
            relay.port
        )
    );
    assert!(session.is_closed());
}

#[tokio::test]
async fn a_command_past_the_callers_timeout_leaves_the_connection_usable_and_values_travel_in_the_command()
 {
    let lab = Lab::start(1);
    let session = connect(&lab, 1).await;
    // Output keeps coming on the abandoned channel: nobody reads it any more, and the
    // connection must not wait for a reader.
    let bounded = tokio::time::timeout(
        Duration::from_secs(2),
        session.exec("yes | head -c 50000000; sleep 30", None, |_, _| {}),
    )
    .await;
    assert!(bounded.is_err(), "the command outlives the timeout");
    assert_eq!(exec(&session, "echo after", None).await.stdout, b"after\n");

    let line = shoal::ssh::with_environment(
        "printf '%s|%s' \"$TOKEN\" \"$OTHER\"",
        &[
            ("TOKEN".to_owned(), "it's $HOME; `id`".to_owned()),
            ("OTHER".to_owned(), "two\nlines".to_owned()),
        ],
    )
    .expect("valid names");
    let printed = exec(&session, &line, None).await;
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        "it's $HOME; `id`|two\nlines"
    );
}
