//! The plan of an `ssh` step on one host: files to create or change (with a diff, or
//! `(sensitive)`), mode and owner changes, commands that would run, and the `on_change`
//! commands that would follow. Pure: made from what the host was found to hold.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::{RenderedHost, RenderedHostFile, command_key, file_key, unified_diff};
use crate::hosts::{DIFF_LIMIT, LiveFile, sha256_hex};
use crate::plan::Concealment;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostPlan {
    /// The host's name.
    pub host: String,
    pub login: String,
    pub files: Vec<FilePlan>,
    pub commands: Vec<CommandPlan>,
    /// The `on_change` commands that would follow: a file changes.
    pub on_change: Vec<String>,
    /// The host was not read: a pull request's plan does not log in to hosts.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub not_read: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilePlan {
    pub dest: String,
    pub action: FileAction,
    /// The unified diff of the content, when it changes and may be shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Why the content's diff is not shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concealed: Option<Concealment>,
    /// Mode, owner and group changes: `mode 0600 -> 0644`.
    pub attributes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    Create,
    Update,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandPlan {
    /// The command, or `(sensitive)`.
    pub run: String,
    /// False when its `unless` guard exited 0.
    pub runs: bool,
}

/// What a host was found to hold: each file of the step (in order) and whether each
/// command's `unless` guard exited 0 (`None`: it has none).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostReading {
    pub files: Vec<Option<LiveFile>>,
    pub guards: Vec<Option<bool>>,
}

impl HostPlan {
    /// The plan of a host that a pull request's plan does not read.
    pub fn not_read(host: &RenderedHost) -> HostPlan {
        HostPlan {
            host: host.target.name.clone(),
            login: host.target.login(),
            files: Vec::new(),
            commands: Vec::new(),
            on_change: Vec::new(),
            not_read: true,
        }
    }

    pub fn has_changes(&self) -> bool {
        self.files
            .iter()
            .any(|file| file.action != FileAction::Unchanged)
            || self.commands.iter().any(|command| command.runs)
    }

    /// Whether a file changes, so that `on_change` follows.
    pub fn changes_files(&self) -> bool {
        self.files
            .iter()
            .any(|file| file.action != FileAction::Unchanged)
    }

    /// The host's plan as lines of text, indented for a plan's step.
    pub fn write_text(&self, out: &mut String) {
        if self.not_read {
            let _ = writeln!(
                out,
                "    ? host {}: not read (a pull request's plan does not log in to hosts)",
                self.host
            );
            return;
        }
        if !self.has_changes() {
            let _ = writeln!(out, "    = host {}: unchanged", self.host);
            return;
        }
        let _ = writeln!(out, "    ~ host {}", self.host);
        for file in &self.files {
            let (mark, verb) = match file.action {
                FileAction::Create => ('+', "create"),
                FileAction::Update => ('~', "update"),
                FileAction::Unchanged => continue,
            };
            let _ = writeln!(out, "      {mark} {verb} file {}", file.dest);
            for attribute in &file.attributes {
                let _ = writeln!(out, "          {attribute}");
            }
            if let Some(concealment) = file.concealed {
                let _ = writeln!(out, "          content: {}", concealment.text());
            }
            if let Some(diff) = &file.diff {
                for line in diff.lines() {
                    let _ = writeln!(out, "          {line}");
                }
            }
        }
        for command in self.commands.iter().filter(|command| command.runs) {
            let _ = writeln!(out, "      > run {}", command.run);
        }
        for command in &self.on_change {
            let _ = writeln!(out, "      > on change: {command}");
        }
    }
}

/// Plans `host` from what it holds. Anything whose key is in `sensitive` is shown as
/// `concealment`, never its value, old or new.
pub fn plan_host(
    host: &RenderedHost,
    reading: &HostReading,
    sensitive: &BTreeSet<String>,
    concealment: Concealment,
) -> HostPlan {
    let login = host.target.login();
    let files: Vec<FilePlan> = host
        .files
        .iter()
        .zip(&reading.files)
        .map(|(file, live)| {
            let hidden = sensitive
                .contains(&file_key(&login, &file.dest))
                .then_some(concealment);
            plan_file(file, live.as_ref(), hidden)
        })
        .collect();
    let commands = host
        .commands
        .iter()
        .zip(&reading.guards)
        .enumerate()
        .map(|(index, (command, done))| CommandPlan {
            run: shown_command(&command.run, &login, "commands", index, sensitive),
            runs: *done != Some(true),
        })
        .collect();
    let changes_files = files
        .iter()
        .any(|file| file.action != FileAction::Unchanged);
    let on_change = if changes_files {
        host.on_change
            .iter()
            .enumerate()
            .map(|(index, run)| shown_command(run, &login, "on_change", index, sensitive))
            .collect()
    } else {
        Vec::new()
    };
    HostPlan {
        host: host.target.name.clone(),
        login,
        files,
        commands,
        on_change,
        not_read: false,
    }
}

fn shown_command(
    run: &str,
    login: &str,
    list: &str,
    index: usize,
    sensitive: &BTreeSet<String>,
) -> String {
    if sensitive.contains(&command_key(login, list, index)) {
        Concealment::Sensitive.text().to_owned()
    } else {
        run.to_owned()
    }
}

fn plan_file(
    file: &RenderedHostFile,
    live: Option<&LiveFile>,
    concealed: Option<Concealment>,
) -> FilePlan {
    let content = file.content.as_bytes();
    let Some(live) = live else {
        let mut attributes = Vec::new();
        if let Some(mode) = file.mode {
            attributes.push(format!("mode {mode:04o}"));
        }
        for (what, name) in [("owner", &file.owner), ("group", &file.group)] {
            if let Some(name) = name {
                attributes.push(format!("{what} {name}"));
            }
        }
        return FilePlan {
            dest: file.dest.clone(),
            action: FileAction::Create,
            diff: concealed.is_none().then(|| unified_diff("", &file.content)),
            concealed,
            attributes,
        };
    };
    let content_changes = live.size != content.len() as u64 || live.sha256 != sha256_hex(content);
    let mut attributes = Vec::new();
    if let Some(mode) = file.mode
        && mode != live.mode
    {
        attributes.push(format!("mode {:04o} -> {mode:04o}", live.mode));
    }
    for (what, desired, current) in [
        ("owner", &file.owner, &live.owner),
        ("group", &file.group, &live.group),
    ] {
        if let Some(desired) = desired
            && desired != current
        {
            attributes.push(format!("{what} {current} -> {desired}"));
        }
    }
    let action = if content_changes || !attributes.is_empty() {
        FileAction::Update
    } else {
        FileAction::Unchanged
    };
    let (diff, concealed) = match (content_changes, concealed) {
        (false, _) => (None, None),
        (true, Some(concealment)) => (None, Some(concealment)),
        (true, None) => (Some(content_diff(live, &file.content)), None),
    };
    FilePlan {
        dest: file.dest.clone(),
        action,
        diff,
        concealed,
        attributes,
    }
}

/// The diff of a file's content; only sizes when the host's file was too large to read
/// or is not text.
fn content_diff(live: &LiveFile, desired: &str) -> String {
    match live
        .content
        .as_deref()
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
    {
        Some(before) => unified_diff(before, desired),
        None => format!(
            "(not compared line by line: the host's file is {} bytes{}; {} bytes wanted)\n",
            live.size,
            if live.size > DIFF_LIMIT {
                ""
            } else {
                " and not text"
            },
            desired.len()
        ),
    }
}
