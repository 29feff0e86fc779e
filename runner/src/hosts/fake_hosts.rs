//! In-memory hosts behind the [`HostConnector`] port, for unit tests of planning and
//! applying `ssh` steps: files with mode and owner, commands whose exit a test sets, a
//! command that locks shoal out, and armed lock-out guards a test can let run out. Every
//! write and command is recorded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    CommandExit, FileWrite, HostCommand, HostConnector, HostError, HostFuture, HostSession,
    HostTarget, LiveFile, LockoutGuard, OutputSink, OutputStream, PREVIOUS_SUFFIX,
};

/// One fake host; tests read and set it through [`FakeHosts::host`].
#[derive(Debug, Default)]
pub struct FakeHost {
    /// Path → (content, mode, owner, group).
    pub files: BTreeMap<String, (Vec<u8>, u32, String, String)>,
    /// False: connecting fails as a dropped SSH port would.
    pub unreachable: bool,
    /// By command: its exit code and stderr lines; exit 0 and no output when not named.
    pub exits: BTreeMap<String, (i32, Vec<String>)>,
    /// Commands after which the host drops shoal's connections (a firewall rule).
    pub locks_out: Vec<String>,
    /// Commands that never end.
    pub hangs: Vec<String>,
    /// Armed guards by id.
    pub guards: BTreeMap<String, LockoutGuard>,
    /// The host stays unreachable after its guards ran out (a guard that cannot help).
    pub guards_do_not_help: bool,
    /// When each armed guard runs out: a login after that finds it run out.
    guards_due: BTreeMap<String, tokio::time::Instant>,
    /// Everything done, in order: `write /etc/exports`, `run exportfs -ra`,
    /// `arm guard-1`, `disarm guard-1`, `restore /etc/exports`.
    pub log: Vec<String>,
    /// The environment each command was given, by command.
    pub env_seen: BTreeMap<String, BTreeMap<String, String>>,
    next_guard: usize,
}

impl FakeHost {
    /// The content of `path`, as text.
    pub fn text(&self, path: &str) -> Option<String> {
        self.files
            .get(path)
            .map(|(content, ..)| String::from_utf8_lossy(content).into_owned())
    }

    /// What the log says was written or run (no reads).
    pub fn writes_and_runs(&self) -> Vec<String> {
        self.log.clone()
    }

    /// Lets every armed guard run out: the previous files come back and `on_change`
    /// runs again; the host is reachable again. A login after a guard's delay does the
    /// same, as the host's timer would.
    pub fn expire_guards(&mut self) {
        self.guards_due.clear();
        for (id, guard) in std::mem::take(&mut self.guards) {
            self.log.push(format!("expire {id}"));
            for file in &guard.files {
                let previous = format!("{}{PREVIOUS_SUFFIX}", file.dest);
                match self.files.remove(&previous) {
                    Some(kept) if file.had_previous => {
                        self.files.insert(file.dest.clone(), kept);
                    }
                    _ => {
                        self.files.remove(&file.dest);
                    }
                }
                self.log.push(format!("restore {}", file.dest));
            }
            for command in &guard.on_change {
                self.log.push(format!("run {command}"));
            }
            self.unreachable = self.guards_do_not_help;
        }
    }

    /// Lets the guards whose time has come run out, as the host's timers would.
    fn expire_due_guards(&mut self) {
        let now = tokio::time::Instant::now();
        if self.guards_due.values().any(|due| *due <= now) {
            self.expire_guards();
        }
    }
}

/// The in-memory hosts, by address; cloning shares them.
#[derive(Debug, Clone, Default)]
pub struct FakeHosts {
    hosts: Arc<Mutex<BTreeMap<String, FakeHost>>>,
}

impl FakeHosts {
    /// Hosts with these addresses, empty.
    pub fn with(addresses: &[&str]) -> FakeHosts {
        let fake = FakeHosts::default();
        for address in addresses {
            fake.lock()
                .insert((*address).to_owned(), FakeHost::default());
        }
        fake
    }

    /// The host at `address`, to read or change.
    pub fn host<T>(&self, address: &str, inspect: impl FnOnce(&mut FakeHost) -> T) -> T {
        let mut hosts = self.lock();
        let host = hosts.entry(address.to_owned()).or_default();
        inspect(host)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, FakeHost>> {
        self.hosts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl HostConnector for FakeHosts {
    fn connect<'a>(&'a self, target: &'a HostTarget) -> HostFuture<'a, Box<dyn HostSession>> {
        Box::pin(async move {
            let mut hosts = self.lock();
            if let Some(host) = hosts.get_mut(&target.address) {
                host.expire_due_guards();
            }
            match hosts.get(&target.address) {
                Some(host) if !host.unreachable => Ok(Box::new(FakeSession {
                    hosts: self.clone(),
                    address: target.address.clone(),
                    user: target.user.clone(),
                }) as Box<dyn HostSession>),
                Some(_) => Err(HostError::Connect {
                    login: target.login(),
                    message: "timed out".to_owned(),
                }),
                None => Err(HostError::Connect {
                    login: target.login(),
                    message: "no route to host".to_owned(),
                }),
            }
        })
    }
}

struct FakeSession {
    hosts: FakeHosts,
    address: String,
    user: String,
}

impl FakeSession {
    fn with_host<T>(&self, act: impl FnOnce(&mut FakeHost) -> T) -> Result<T, HostError> {
        let mut hosts = self.hosts.lock();
        match hosts.get_mut(&self.address) {
            Some(host) if !host.unreachable => Ok(act(host)),
            _ => Err(HostError::Transport {
                login: format!("{}@{}", self.user, self.address),
                message: "connection reset".to_owned(),
            }),
        }
    }
}

impl HostSession for FakeSession {
    fn read_file<'a>(
        &'a mut self,
        path: &'a str,
        _become_user: Option<&'a str>,
    ) -> HostFuture<'a, Option<LiveFile>> {
        Box::pin(async move {
            self.with_host(|host| {
                host.files
                    .get(path)
                    .map(|(content, mode, owner, group)| LiveFile::of(content, *mode, owner, group))
            })
        })
    }

    fn write_file<'a>(
        &'a mut self,
        file: &'a FileWrite,
        become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()> {
        Box::pin(async move {
            let writer = become_user.unwrap_or(&self.user).to_owned();
            self.with_host(|host| {
                let previous = host.files.get(&file.dest).cloned();
                if file.keep_previous
                    && let Some(previous) = &previous
                {
                    host.files
                        .insert(format!("{}{PREVIOUS_SUFFIX}", file.dest), previous.clone());
                }
                let (_, old_mode, old_owner, old_group) =
                    previous.unwrap_or((Vec::new(), 0o644, writer.clone(), writer.clone()));
                host.files.insert(
                    file.dest.clone(),
                    (
                        file.content.clone(),
                        file.mode.unwrap_or(old_mode),
                        file.owner.clone().unwrap_or(old_owner),
                        file.group.clone().unwrap_or(old_group),
                    ),
                );
                host.log.push(format!("write {}", file.dest));
            })
        })
    }

    fn run<'a>(
        &'a mut self,
        command: &'a HostCommand,
        _become_user: Option<&'a str>,
        output: &'a mut (dyn OutputSink + Send),
    ) -> HostFuture<'a, CommandExit> {
        Box::pin(async move {
            let hangs = self.with_host(|host| host.hangs.contains(&command.run))?;
            if hangs {
                std::future::pending::<()>().await;
            }
            let (code, stderr) = self.with_host(|host| {
                host.log.push(format!("run {}", command.run));
                host.env_seen
                    .insert(command.run.clone(), command.env.clone());
                if host.locks_out.contains(&command.run) {
                    host.unreachable = true;
                }
                host.exits
                    .get(&command.run)
                    .cloned()
                    .unwrap_or((0, Vec::new()))
            })?;
            for line in &stderr {
                output.line(OutputStream::Stderr, line);
            }
            Ok(CommandExit {
                code,
                stderr_tail: stderr,
            })
        })
    }

    fn arm_guard<'a>(
        &'a mut self,
        guard: &'a LockoutGuard,
        _become_user: Option<&'a str>,
    ) -> HostFuture<'a, String> {
        Box::pin(async move {
            self.with_host(|host| {
                host.next_guard += 1;
                let id = format!("guard-{}", host.next_guard);
                host.log.push(format!("arm {id}"));
                host.guards.insert(id.clone(), guard.clone());
                host.guards_due
                    .insert(id.clone(), tokio::time::Instant::now() + guard.delay);
                id
            })
        })
    }

    fn disarm_guard<'a>(
        &'a mut self,
        id: &'a str,
        guard: &'a LockoutGuard,
        _become_user: Option<&'a str>,
    ) -> HostFuture<'a, ()> {
        Box::pin(async move {
            self.with_host(|host| {
                host.guards.remove(id);
                host.guards_due.remove(id);
                for file in &guard.files {
                    host.files
                        .remove(&format!("{}{PREVIOUS_SUFFIX}", file.dest));
                }
                host.log.push(format!("disarm {id}"));
            })
        })
    }
}
