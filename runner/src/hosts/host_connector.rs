//! The port itself: a connector opens sessions to hosts, and a session reads files,
//! writes them atomically, runs commands and arms the lock-out guard. The methods return
//! boxed futures so that the applier holds one `dyn HostConnector`, real or fake.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use super::{HostError, HostTarget, LiveFile, LockoutGuard};

/// How many of the last stderr lines a failed command's error quotes.
pub const STDERR_TAIL_LINES: usize = 5;

pub type HostFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, HostError>> + Send + 'a>>;

/// Opens sessions. Every connection has a timeout (the environment's `connect_timeout`).
pub trait HostConnector: Send + Sync {
    /// A session to `target`; it may share a login this connector already made (a plan's
    /// login is used again by the apply that follows it).
    fn connect<'a>(&'a self, target: &'a HostTarget) -> HostFuture<'a, Box<dyn HostSession>>;

    /// A session over a new login, never one made before: the proof that the host still
    /// lets shoal in (the lock-out guard).
    fn connect_fresh<'a>(&'a self, target: &'a HostTarget) -> HostFuture<'a, Box<dyn HostSession>> {
        self.connect(target)
    }
}

/// One login to one host. `become` is the user commands and file operations run as
/// (`sudo -n -u USER`), or the login user when `None`.
pub trait HostSession: Send {
    /// The file at `path`, or `None` when there is none.
    fn read_file<'a>(
        &'a mut self,
        path: &'a str,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, Option<LiveFile>>;

    /// Writes `file` atomically: a temporary file beside the destination, its mode, owner
    /// and group set, its size and hash checked, renamed into place.
    fn write_file<'a>(
        &'a mut self,
        file: &'a FileWrite,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()>;

    /// Runs a shell command with the login shell, its output sent line by line to
    /// `output`. A non-zero exit is a [`CommandExit`], not an error.
    fn run<'a>(
        &'a mut self,
        command: &'a HostCommand,
        become_user: Option<&'a str>,
        output: &'a mut (dyn OutputSink + Send),
    ) -> HostFuture<'a, CommandExit>;

    /// Reads the files at `paths` and runs the `guards` (their output dropped): what the
    /// plan of a host needs, in one go where the session can (one exec over SSH). The
    /// first file that cannot be read is the error; guards run only once every file was
    /// read.
    fn survey<'a>(
        &'a mut self,
        paths: &'a [String],
        guards: &'a [HostCommand],
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, Survey> {
        Box::pin(async move {
            let mut survey = Survey::default();
            for path in paths {
                survey.files.push(self.read_file(path, become_user).await?);
            }
            for guard in guards {
                let mut quiet = ();
                let exit = self.run(guard, become_user, &mut quiet).await?;
                survey.guards.push(exit.success());
            }
            Ok(survey)
        })
    }

    /// Writes each of `files` that the host does not already hold as wanted (content,
    /// and the mode, owner and group given), each as [`HostSession::write_file`] does, in
    /// one go where the session can. Stops at the first file that fails: the report
    /// says what was done before it.
    fn write_files<'a>(
        &'a mut self,
        files: &'a [FileWrite],
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, WriteReport> {
        Box::pin(async move {
            let mut report = WriteReport::default();
            for file in files {
                let live = match self.read_file(&file.dest, become_user).await {
                    Ok(live) => live,
                    Err(error) => {
                        report.failure = Some(error);
                        break;
                    }
                };
                if live.as_ref().is_some_and(|live| file.is_held_by(live)) {
                    report.files.push(FileWritten::Unchanged);
                    continue;
                }
                if let Err(error) = self.write_file(file, become_user).await {
                    report.failure = Some(error);
                    break;
                }
                report.files.push(FileWritten::Written {
                    had_previous: live.is_some(),
                });
            }
            Ok(report)
        })
    }

    /// Arms `guard` on the host; returns its id, for [`HostSession::disarm_guard`].
    fn arm_guard<'a>(
        &'a mut self,
        guard: &'a LockoutGuard,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, String>;

    /// Stops the guard `id` and removes the previous files it kept.
    fn disarm_guard<'a>(
        &'a mut self,
        id: &'a str,
        guard: &'a LockoutGuard,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()>;
}

/// A file to write.
#[derive(Clone, PartialEq, Eq)]
pub struct FileWrite {
    pub dest: String,
    pub content: Vec<u8>,
    /// Permission bits; the umask's when `None` for a new file, kept for an existing one.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Keep the previous content beside the destination ([`super::PREVIOUS_SUFFIX`]) for
    /// the lock-out guard.
    pub keep_previous: bool,
}

impl FileWrite {
    /// Whether `live` already is this file: its content, and the mode, owner and group
    /// where they are given.
    pub fn is_held_by(&self, live: &LiveFile) -> bool {
        live.size == self.content.len() as u64
            && live.sha256 == super::sha256_hex(&self.content)
            && self.mode.is_none_or(|mode| mode == live.mode)
            && self.owner.as_ref().is_none_or(|owner| *owner == live.owner)
            && self.group.as_ref().is_none_or(|group| *group == live.group)
    }
}

/// What a host holds for a plan: each file asked for (`None`: there is none) and whether
/// each guard exited 0.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Survey {
    pub files: Vec<Option<LiveFile>>,
    pub guards: Vec<bool>,
}

/// What [`HostSession::write_files`] did: one entry per file, in order, up to the one
/// that failed (`failure`).
#[derive(Debug, Default)]
pub struct WriteReport {
    pub files: Vec<FileWritten>,
    pub failure: Option<HostError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileWritten {
    /// The host already held the file as wanted: not written.
    Unchanged,
    /// Written; `had_previous`: a file was there before (and kept, when asked).
    Written { had_previous: bool },
}

impl std::fmt::Debug for FileWrite {
    /// Without the content, which may come from a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileWrite")
            .field("dest", &self.dest)
            .field("size", &self.content.len())
            .field("mode", &self.mode)
            .field("owner", &self.owner)
            .field("group", &self.group)
            .field("keep_previous", &self.keep_previous)
            .finish()
    }
}

/// A command to run: a shell string, and environment variables passed to it without
/// appearing in the command line or any log.
#[derive(Clone, PartialEq, Eq)]
pub struct HostCommand {
    pub run: String,
    pub env: BTreeMap<String, String>,
}

impl HostCommand {
    pub fn new(run: &str) -> HostCommand {
        HostCommand {
            run: run.to_owned(),
            env: BTreeMap::new(),
        }
    }
}

impl std::fmt::Debug for HostCommand {
    /// The names of the environment variables, not their values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostCommand")
            .field("run", &self.run)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandExit {
    /// The exit code; -1 when the command was killed by a signal.
    pub code: i32,
    /// Its last [`STDERR_TAIL_LINES`] lines of stderr.
    pub stderr_tail: Vec<String>,
}

impl CommandExit {
    pub fn success(&self) -> bool {
        self.code == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// Where a command's output goes, line by line, as it comes.
pub trait OutputSink {
    fn line(&mut self, stream: OutputStream, line: &str);
}

/// Output nobody reads (the `unless` guards of a plan).
impl OutputSink for () {
    fn line(&mut self, _stream: OutputStream, _line: &str) {}
}
