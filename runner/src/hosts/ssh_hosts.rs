//! The port over SSH: [`SshHosts`] logs in with [`crate::ssh::SshSession`] and does each
//! operation as one of the shell scripts of [`super::remote_script`] over an exec
//! channel, content on stdin.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use super::remote_script::{
    ARM_GUARD, DISARM_GUARD, READ_FILE, READ_FILES, WRITE_FILE, WRITE_FILES, command_line,
    guard_lines, guard_script, script_line,
};
use super::{
    CommandExit, DIFF_LIMIT, FileWrite, FileWritten, HostCommand, HostConnector, HostError,
    HostFuture, HostSession, HostTarget, LiveFile, LockoutGuard, OutputSink, OutputStream,
    PREVIOUS_SUFFIX, STDERR_TAIL_LINES, Survey, WriteReport, sha256_hex,
};
use crate::model::Environment;
use crate::ssh::{SshSession, SshSettings, SshTarget, with_environment};

/// How long one of shoal's own scripts (read, write, guard) may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Logs in to hosts over SSH with one environment's settings. A login is kept for the
/// connector's life and shared by the sessions to the same host: an apply works over the
/// login its plan made (each login costs the host an sshd and a key exchange).
pub struct SshHosts {
    settings: SshSettings,
    /// The logins made, by `user@address:port`.
    logins: Mutex<HashMap<String, SshSession>>,
}

impl SshHosts {
    pub fn new(settings: SshSettings) -> SshHosts {
        SshHosts {
            settings,
            logins: Mutex::new(HashMap::new()),
        }
    }

    /// The settings of `environment`'s `ssh` block: `identity` (relative to `base`, `~/`
    /// the home folder; the ssh-agent without one), `known_hosts` (`accept-new`, or a
    /// file; `~/.ssh/known_hosts` by default) and `connect_timeout`.
    pub fn for_environment(environment: &Environment, base: &Path) -> SshHosts {
        SshHosts::new(SshHosts::settings_for(environment, base))
    }

    /// The login settings of `environment`'s `ssh` block (see
    /// [`SshHosts::for_environment`]); an ssh:// Docker host uses them too.
    pub fn settings_for(environment: &Environment, base: &Path) -> SshSettings {
        let ssh = environment.ssh.clone().unwrap_or_default();
        let default_known_hosts =
            SshSettings::user_known_hosts().unwrap_or_else(|| PathBuf::from(".ssh/known_hosts"));
        let (known_hosts, accept_new) = match ssh.known_hosts.as_deref() {
            None => (default_known_hosts, false),
            Some("accept-new") => (default_known_hosts, true),
            Some(path) => (resolve(path, base), false),
        };
        let mut settings = SshSettings::new(known_hosts);
        settings.accept_new = accept_new;
        settings.identity = ssh.identity.as_deref().map(|path| resolve(path, base));
        if let Some(timeout) = ssh
            .connect_timeout
            .as_ref()
            .and_then(|text| humantime::parse_duration(&text.value).ok())
        {
            settings.connect_timeout = timeout;
        }
        settings
    }
}

fn resolve(path: &str, base: &Path) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map_or_else(
            || PathBuf::from(path),
            |home| PathBuf::from(home).join(rest),
        ),
        None => base.join(path),
    }
}

impl SshHosts {
    async fn log_in(&self, target: &HostTarget) -> Result<SshSession, HostError> {
        let ssh_target = SshTarget::new(&target.user, &target.address, target.port);
        SshSession::connect(&ssh_target, &self.settings)
            .await
            .map_err(|error| HostError::Connect {
                login: target.login(),
                message: error.to_string(),
            })
    }

    fn kept_logins(&self) -> std::sync::MutexGuard<'_, HashMap<String, SshSession>> {
        self.logins
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn login_key(target: &HostTarget) -> String {
    format!("{}@{}:{}", target.user, target.address, target.port)
}

fn host_session(session: SshSession, target: &HostTarget) -> Box<dyn HostSession> {
    Box::new(SshHostSession {
        session,
        login: target.login(),
    })
}

impl HostConnector for SshHosts {
    fn connect<'a>(&'a self, target: &'a HostTarget) -> HostFuture<'a, Box<dyn HostSession>> {
        Box::pin(async move {
            let key = login_key(target);
            let kept = self.kept_logins().get(&key).cloned();
            if let Some(session) = kept.filter(|session| !session.is_closed()) {
                return Ok(host_session(session, target));
            }
            let session = self.log_in(target).await?;
            self.kept_logins().insert(key, session.clone());
            Ok(host_session(session, target))
        })
    }

    fn connect_fresh<'a>(&'a self, target: &'a HostTarget) -> HostFuture<'a, Box<dyn HostSession>> {
        Box::pin(async move {
            let session = self.log_in(target).await?;
            Ok(host_session(session, target))
        })
    }
}

struct SshHostSession {
    session: SshSession,
    login: String,
}

/// What a script printed, and how it ended.
struct ScriptOutput {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    code: i32,
}

impl SshHostSession {
    /// Runs one of shoal's scripts, bounded by [`SCRIPT_TIMEOUT`]; a non-zero exit is a
    /// [`HostError::Script`] naming `what`.
    async fn script(
        &self,
        what: &str,
        line: &str,
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, HostError> {
        let output = self
            .script_output(what, line, stdin, Some(SCRIPT_TIMEOUT))
            .await?;
        if output.code != 0 {
            return Err(HostError::Script {
                what: what.to_owned(),
                code: output.code,
                stderr: tail(&String::from_utf8_lossy(&output.stderr)),
            });
        }
        Ok(output.stdout)
    }

    /// Runs a script, bounded by `limit`, and tells what it printed and how it ended.
    async fn script_output(
        &self,
        what: &str,
        line: &str,
        stdin: Option<Vec<u8>>,
        limit: Option<Duration>,
    ) -> Result<ScriptOutput, HostError> {
        let mut output = ScriptOutput {
            stdout: Vec::new(),
            stderr: Vec::new(),
            code: -1,
        };
        let exec = self.session.exec(line, stdin, |stream, data| match stream {
            crate::ssh::OutputStream::Stdout => output.stdout.extend_from_slice(data),
            crate::ssh::OutputStream::Stderr => output.stderr.extend_from_slice(data),
        });
        let exit = match limit {
            Some(limit) => {
                tokio::time::timeout(limit, exec)
                    .await
                    .map_err(|_| HostError::Transport {
                        login: self.login.clone(),
                        message: format!(
                            "{what} did not end within {}",
                            humantime::format_duration(limit)
                        ),
                    })?
            }
            None => exec.await,
        }
        .map_err(|error| self.transport(error))?;
        output.code = exit_code(exit.code);
        Ok(output)
    }

    fn transport(&self, error: crate::ssh::SshError) -> HostError {
        HostError::Transport {
            login: self.login.clone(),
            message: error.to_string(),
        }
    }
}

impl HostSession for SshHostSession {
    fn read_file<'a>(
        &'a mut self,
        path: &'a str,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, Option<LiveFile>> {
        Box::pin(async move {
            let line = script_line(
                READ_FILE,
                &[path.to_owned(), DIFF_LIMIT.to_string()],
                become_user,
            );
            let output = self.script(&format!("reading {path}"), &line, None).await?;
            parse_read(&output)
        })
    }

    fn write_file<'a>(
        &'a mut self,
        file: &'a FileWrite,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()> {
        Box::pin(async move {
            let args = [
                file.dest.clone(),
                file.mode
                    .map(|mode| format!("{mode:o}"))
                    .unwrap_or_default(),
                file.owner.clone().unwrap_or_default(),
                file.group.clone().unwrap_or_default(),
                file.content.len().to_string(),
                sha256_hex(&file.content),
                if file.keep_previous { "1" } else { "0" }.to_owned(),
            ];
            let line = script_line(WRITE_FILE, &args, become_user);
            self.script(
                &format!("writing {}", file.dest),
                &line,
                Some(file.content.clone()),
            )
            .await?;
            Ok(())
        })
    }

    fn run<'a>(
        &'a mut self,
        command: &'a HostCommand,
        become_user: Option<&'a str>,
        output: &'a mut (dyn OutputSink + Send),
    ) -> HostFuture<'a, CommandExit> {
        Box::pin(async move {
            let environment: Vec<(String, String)> = command
                .env
                .iter()
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            let line = with_environment(&command.run, &environment)
                .map_err(|error| HostError::Protocol(error.to_string()))?;
            let line = command_line(&line, become_user);
            let mut lines = LineSplitter {
                sink: output,
                stdout: Vec::new(),
                stderr: Vec::new(),
                stderr_tail: Vec::new(),
            };
            let exit = self
                .session
                .exec(&line, None, |stream, data| lines.push(stream, data))
                .await
                .map_err(|error| self.transport(error))?;
            lines.finish();
            Ok(CommandExit {
                code: exit_code(exit.code),
                stderr_tail: lines.stderr_tail,
            })
        })
    }

    /// One exec: [`READ_FILES`], then the guards on the same command line (run by the
    /// login shell as [`HostSession::run`] runs them). Bounded by [`SCRIPT_TIMEOUT`]
    /// when there are no guards; a guard, like any command, is not.
    fn survey<'a>(
        &'a mut self,
        paths: &'a [String],
        guards: &'a [HostCommand],
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, Survey> {
        Box::pin(async move {
            if paths.is_empty() && guards.is_empty() {
                return Ok(Survey::default());
            }
            let mut args = vec![DIFF_LIMIT.to_string()];
            args.extend(paths.iter().cloned());
            let mut line = script_line(READ_FILES, &args, become_user);
            line.push_str(" || exit $?\n");
            let mut guard_runs = Vec::new();
            for guard in guards {
                let environment: Vec<(String, String)> = guard
                    .env
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                guard_runs.push(
                    with_environment(&guard.run, &environment)
                        .map_err(|error| HostError::Protocol(error.to_string()))?,
                );
            }
            line.push_str(&guard_lines(&guard_runs, become_user));
            let limit = guards.is_empty().then_some(SCRIPT_TIMEOUT);
            let output = self
                .script_output("reading files", &line, None, limit)
                .await?;
            let mut survey = Survey::default();
            let text = String::from_utf8_lossy(&output.stdout);
            for record in text.lines() {
                if survey.files.len() < paths.len() {
                    survey.files.push(parse_file_line(record)?);
                } else {
                    let code = record
                        .strip_prefix("guard ")
                        .and_then(|code| code.parse::<i32>().ok())
                        .ok_or_else(|| {
                            HostError::Protocol(format!("a guard printed `{record}`"))
                        })?;
                    survey.guards.push(code == 0);
                }
            }
            if output.code != 0 {
                let path = paths
                    .get(survey.files.len())
                    .map_or("files", String::as_str);
                return Err(HostError::Script {
                    what: format!("reading {path}"),
                    code: output.code,
                    stderr: tail(&String::from_utf8_lossy(&output.stderr)),
                });
            }
            if survey.files.len() != paths.len() || survey.guards.len() != guards.len() {
                return Err(HostError::Protocol(format!(
                    "reading {} files and {} guards printed {} and {} answers",
                    paths.len(),
                    guards.len(),
                    survey.files.len(),
                    survey.guards.len()
                )));
            }
            Ok(survey)
        })
    }

    /// One exec: [`WRITE_FILES`], the contents one after the other on stdin.
    fn write_files<'a>(
        &'a mut self,
        files: &'a [FileWrite],
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, WriteReport> {
        Box::pin(async move {
            let mut args = Vec::new();
            let mut contents = Vec::new();
            for file in files {
                args.extend([
                    file.dest.clone(),
                    file.mode
                        .map(|mode| format!("{mode:o}"))
                        .unwrap_or_default(),
                    file.owner.clone().unwrap_or_default(),
                    file.group.clone().unwrap_or_default(),
                    file.content.len().to_string(),
                    sha256_hex(&file.content),
                    if file.keep_previous { "1" } else { "0" }.to_owned(),
                ]);
                contents.extend_from_slice(&file.content);
            }
            let line = script_line(WRITE_FILES, &args, become_user);
            let output = self
                .script_output("writing files", &line, Some(contents), Some(SCRIPT_TIMEOUT))
                .await?;
            let mut report = WriteReport::default();
            for record in String::from_utf8_lossy(&output.stdout).lines() {
                report.files.push(match record {
                    "unchanged" => FileWritten::Unchanged,
                    "wrote new" => FileWritten::Written {
                        had_previous: false,
                    },
                    "wrote existing" => FileWritten::Written { had_previous: true },
                    other => {
                        return Err(HostError::Protocol(format!(
                            "writing files printed `{other}`"
                        )));
                    }
                });
            }
            if output.code != 0 {
                let dest = files
                    .get(report.files.len())
                    .map_or("files", |file| file.dest.as_str());
                report.failure = Some(HostError::Script {
                    what: format!("writing {dest}"),
                    code: output.code,
                    stderr: tail(&String::from_utf8_lossy(&output.stderr)),
                });
            } else if report.files.len() != files.len() {
                return Err(HostError::Protocol(format!(
                    "writing {} files printed {} answers",
                    files.len(),
                    report.files.len()
                )));
            }
            Ok(report)
        })
    }

    fn arm_guard<'a>(
        &'a mut self,
        guard: &'a LockoutGuard,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, String> {
        Box::pin(async move {
            let line = script_line(ARM_GUARD, &[], become_user);
            let output = self
                .script(
                    "arming the lock-out guard",
                    &line,
                    Some(guard_script(guard).into_bytes()),
                )
                .await?;
            let id = String::from_utf8_lossy(&output).trim().to_owned();
            if id.split(' ').count() != 2 {
                return Err(HostError::Protocol(format!(
                    "arming the guard printed `{id}`, not a process and a script"
                )));
            }
            Ok(id)
        })
    }

    fn disarm_guard<'a>(
        &'a mut self,
        id: &'a str,
        guard: &'a LockoutGuard,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()> {
        Box::pin(async move {
            let mut args: Vec<String> = id.split(' ').map(str::to_owned).collect();
            args.extend(
                guard
                    .files
                    .iter()
                    .map(|file| format!("{}{PREVIOUS_SUFFIX}", file.dest)),
            );
            let line = script_line(DISARM_GUARD, &args, become_user);
            self.script("disarming the lock-out guard", &line, None)
                .await?;
            Ok(())
        })
    }
}

/// The exit code a command ended with; -1 for a signal or no status.
fn exit_code(code: Option<u32>) -> i32 {
    code.and_then(|code| i32::try_from(code).ok()).unwrap_or(-1)
}

/// The last [`STDERR_TAIL_LINES`] non-empty lines of `text`.
fn tail(text: &str) -> Vec<String> {
    let lines: Vec<String> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].to_vec()
}

/// Parses [`READ_FILE`]'s output.
fn parse_read(output: &[u8]) -> Result<Option<LiveFile>, HostError> {
    let (header, content) = match output.iter().position(|byte| *byte == b'\n') {
        Some(end) => (&output[..end], &output[end + 1..]),
        None => (output, &[][..]),
    };
    let header = String::from_utf8_lossy(header);
    let fields: Vec<&str> = header.split(' ').collect();
    let bad = || HostError::Protocol(format!("reading a file printed `{header}`"));
    match fields.as_slice() {
        ["absent"] => Ok(None),
        ["present", size, mode, owner, group, sum] => {
            let size: u64 = size.parse().map_err(|_| bad())?;
            let mode = u32::from_str_radix(mode, 8).map_err(|_| bad())?;
            let content =
                (size <= DIFF_LIMIT && content.len() as u64 == size).then(|| content.to_vec());
            Ok(Some(LiveFile {
                size,
                sha256: (*sum).to_owned(),
                mode,
                owner: (*owner).to_owned(),
                group: (*group).to_owned(),
                content,
            }))
        }
        _ => Err(bad()),
    }
}

/// Parses a line of [`READ_FILES`]'s output.
fn parse_file_line(line: &str) -> Result<Option<LiveFile>, HostError> {
    use base64::Engine as _;
    let fields: Vec<&str> = line.split(' ').collect();
    let bad = || HostError::Protocol(format!("reading a file printed `{line}`"));
    match fields.as_slice() {
        ["absent"] => Ok(None),
        ["present", size, mode, owner, group, sum, content] => {
            let size: u64 = size.parse().map_err(|_| bad())?;
            let mode = u32::from_str_radix(mode, 8).map_err(|_| bad())?;
            let content = match content.strip_prefix(':') {
                Some(encoded) => Some(
                    base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .map_err(|_| bad())?,
                ),
                None if *content == "-" => None,
                None => return Err(bad()),
            };
            // A file that changed while it was read is compared by hash and size only.
            let content = content.filter(|content| content.len() as u64 == size);
            Ok(Some(LiveFile {
                size,
                sha256: (*sum).to_owned(),
                mode,
                owner: (*owner).to_owned(),
                group: (*group).to_owned(),
                content,
            }))
        }
        _ => Err(bad()),
    }
}

/// Splits a command's output into lines for the sink, keeping the last stderr lines.
struct LineSplitter<'a> {
    sink: &'a mut (dyn OutputSink + Send),
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    stderr_tail: Vec<String>,
}

impl LineSplitter<'_> {
    fn push(&mut self, stream: crate::ssh::OutputStream, data: &[u8]) {
        let (buffer, stream) = match stream {
            crate::ssh::OutputStream::Stdout => (&mut self.stdout, OutputStream::Stdout),
            crate::ssh::OutputStream::Stderr => (&mut self.stderr, OutputStream::Stderr),
        };
        buffer.extend_from_slice(data);
        while let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            Self::emit(self.sink, &mut self.stderr_tail, stream, text);
        }
    }

    fn finish(&mut self) {
        for stream in [OutputStream::Stdout, OutputStream::Stderr] {
            let buffer = match stream {
                OutputStream::Stdout => std::mem::take(&mut self.stdout),
                OutputStream::Stderr => std::mem::take(&mut self.stderr),
            };
            if !buffer.is_empty() {
                let text = String::from_utf8_lossy(&buffer).into_owned();
                Self::emit(self.sink, &mut self.stderr_tail, stream, text);
            }
        }
    }

    fn emit(
        sink: &mut (dyn OutputSink + Send),
        stderr_tail: &mut Vec<String>,
        stream: OutputStream,
        text: String,
    ) {
        sink.line(stream, &text);
        if stream == OutputStream::Stderr && !text.trim().is_empty() {
            stderr_tail.push(text);
            if stderr_tail.len() > STDERR_TAIL_LINES {
                stderr_tail.remove(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_read_script_prints() {
        assert_eq!(parse_read(b"absent\n").expect("parses"), None);
        let file = parse_read(b"present 6 644 root staff abc123\nhello\n")
            .expect("parses")
            .expect("present");
        assert_eq!(
            (
                file.size,
                file.mode,
                file.owner.as_str(),
                file.group.as_str()
            ),
            (6, 0o644, "root", "staff")
        );
        assert_eq!(file.content.as_deref(), Some(&b"hello\n"[..]));
        let absent = parse_file_line("absent").expect("parses");
        assert_eq!(absent, None);
        let small = parse_file_line("present 6 644 root staff abc123 :aGVsbG8K")
            .expect("parses")
            .expect("present");
        assert_eq!(small.content.as_deref(), Some(&b"hello\n"[..]));
        let large = parse_file_line("present 300000 600 root root abc123 -")
            .expect("parses")
            .expect("present");
        assert_eq!(
            (large.size, large.mode, large.content),
            (300_000, 0o600, None)
        );
        let changed_while_read = parse_file_line("present 9 644 root root abc123 :aGVsbG8K")
            .expect("parses")
            .expect("present");
        assert_eq!(changed_while_read.content, None);
        assert_eq!(
            parse_file_line("present 6 644 root staff abc123")
                .expect_err("no content field")
                .to_string(),
            "unexpected answer from the host: reading a file printed `present 6 644 root staff abc123`"
        );
        assert_eq!(
            parse_read(b"what\n").expect_err("unexpected").to_string(),
            "unexpected answer from the host: reading a file printed `what`"
        );
    }
}
