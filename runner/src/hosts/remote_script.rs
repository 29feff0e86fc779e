//! The shell scripts the SSH implementation of the port runs on a host, one exec channel
//! each. A script is sent as one single-quoted argument of `sh -c`, and everything that
//! varies (paths, modes, names, sizes) as positional arguments after it, each quoted with
//! [`shell_quote`]: nothing a workflow writes is ever spliced into a script's text. With
//! `become`, the same line runs under `sudo -n -u USER --`, which fails at once rather
//! than ask for a password.
//!
//! Commands of the step itself (`run`, `unless`, `on_change`) are shell strings: without
//! `become` the login shell runs them as the exec request's command line (as `ssh host
//! 'command'` does); with `become`, `sh -c` under sudo runs them. Their `env` values are
//! exported in front of them, quoted, and the line is never logged.

use crate::ssh::shell_quote;

/// Reads a file: a first line `absent`, or `present SIZE MODE OWNER GROUP SHA256`,
/// then the content when it is at most `$2` bytes.
pub const READ_FILE: &str = r#"p=$1
if [ ! -e "$p" ]; then echo absent; exit 0; fi
[ -f "$p" ] || { echo "$p is not a regular file" >&2; exit 2; }
info=$(stat -c '%s %a %U %G' -- "$p") || exit 1
sum=$(sha256sum -- "$p") || exit 1
echo "present $info ${sum%% *}"
size=${info%% *}
if [ "$size" -le "$2" ]; then cat -- "$p"; fi
"#;

/// Writes stdin to `$1` atomically: a temporary file beside it, its size (`$5`) and
/// sha256 (`$6`) checked, mode (`$2`), owner (`$3`) and group (`$4`) set (an existing
/// file's kept where not given), the previous file copied to `$1.shoal-previous` when
/// `$7` is 1, then renamed into place.
pub const WRITE_FILE: &str = r#"set -e
dest=$1 mode=$2 owner=$3 group=$4 size=$5 sum=$6 keep=$7
dir=$(dirname -- "$dest")
base=$(basename -- "$dest")
tmp=$(mktemp "$dir/.$base.shoal-XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
got=$(stat -c %s -- "$tmp")
[ "$got" = "$size" ] || { echo "uploaded $got bytes, expected $size" >&2; exit 3; }
got=$(sha256sum -- "$tmp")
[ "${got%% *}" = "$sum" ] || { echo "uploaded file has sha256 ${got%% *}, expected $sum" >&2; exit 3; }
if [ -e "$dest" ]; then
  [ -n "$mode" ] || mode=$(stat -c %a -- "$dest")
  [ -n "$owner" ] || owner=$(stat -c %U -- "$dest")
  [ -n "$group" ] || group=$(stat -c %G -- "$dest")
  if [ "$keep" = 1 ]; then cp -p -- "$dest" "$dest.shoal-previous"; fi
else
  [ -n "$mode" ] || mode=$(printf '%o' $(( 0666 & ~0$(umask) )))
fi
chmod "$mode" "$tmp"
if [ -n "$owner" ]; then chown "$owner" "$tmp"; fi
if [ -n "$group" ]; then chgrp "$group" "$tmp"; fi
mv -f -- "$tmp" "$dest"
trap - EXIT
"#;

/// Reads the files `$2`… in order, one line each: `absent`, or `present SIZE MODE OWNER
/// GROUP SHA256 CONTENT`, where CONTENT is `:` and the content in base64 when it is at
/// most `$1` bytes, `-` otherwise. The first that is not a regular file or cannot be
/// read ends the script (its line not printed).
pub const READ_FILES: &str = r#"limit=$1
shift
for p in "$@"; do
  if [ ! -e "$p" ]; then echo absent; continue; fi
  [ -f "$p" ] || { echo "$p is not a regular file" >&2; exit 2; }
  info=$(stat -c '%s %a %U %G' -- "$p") || exit 1
  sum=$(sha256sum -- "$p") || exit 1
  content=-
  if [ "${info%% *}" -le "$limit" ]; then content=:$(base64 -w0 -- "$p") || exit 1; fi
  echo "present $info ${sum%% *} $content"
done
"#;

/// Writes files atomically, as [`WRITE_FILE`] does each, their contents one after the
/// other on stdin; seven arguments per file: destination, mode, owner, group (empty: an
/// existing file's kept), size, sha256, keep (1: the previous file copied to
/// `DEST.shoal-previous`). A file the host already holds as wanted (content, and mode,
/// owner and group where given) is left alone. Prints one line per file: `unchanged`,
/// `wrote new` or `wrote existing`; the first failure ends the script.
pub const WRITE_FILES: &str = r#"set -e
bundle=$(mktemp "${TMPDIR:-/tmp}/shoal-upload-XXXXXX")
tmp=
trap 'rm -f -- "$bundle" ${tmp:+"$tmp"}' EXIT
cat > "$bundle"
offset=0
while [ $# -ge 7 ]; do
  dest=$1 mode=$2 owner=$3 group=$4 size=$5 sum=$6 keep=$7
  shift 7
  start=$((offset + 1))
  offset=$((offset + size))
  existing=new
  if [ -e "$dest" ]; then
    [ -f "$dest" ] || { echo "$dest is not a regular file" >&2; exit 2; }
    existing=existing
    info=$(stat -c '%s %a %U %G' -- "$dest")
    now_size=${info%% *} info=${info#* }
    now_mode=${info%% *} info=${info#* }
    now_owner=${info%% *} now_group=${info#* }
    if [ "$now_size" = "$size" ] && [ "${mode:-$now_mode}" = "$now_mode" ] \
      && [ "${owner:-$now_owner}" = "$now_owner" ] && [ "${group:-$now_group}" = "$now_group" ]; then
      now_sum=$(sha256sum -- "$dest")
      if [ "${now_sum%% *}" = "$sum" ]; then echo unchanged; continue; fi
    fi
  fi
  dir=$(dirname -- "$dest")
  base=$(basename -- "$dest")
  tmp=$(mktemp "$dir/.$base.shoal-XXXXXX")
  tail -c +"$start" -- "$bundle" | head -c "$size" > "$tmp"
  got=$(stat -c %s -- "$tmp")
  [ "$got" = "$size" ] || { echo "uploaded $got bytes, expected $size" >&2; exit 3; }
  got=$(sha256sum -- "$tmp")
  [ "${got%% *}" = "$sum" ] || { echo "uploaded file has sha256 ${got%% *}, expected $sum" >&2; exit 3; }
  if [ "$existing" = existing ]; then
    [ -n "$mode" ] || mode=$now_mode
    [ -n "$owner" ] || owner=$now_owner
    [ -n "$group" ] || group=$now_group
    if [ "$keep" = 1 ]; then cp -p -- "$dest" "$dest.shoal-previous"; fi
  else
    [ -n "$mode" ] || mode=$(printf '%o' $(( 0666 & ~0$(umask) )))
  fi
  chmod "$mode" "$tmp"
  if [ -n "$owner" ]; then chown "$owner" "$tmp"; fi
  if [ -n "$group" ]; then chgrp "$group" "$tmp"; fi
  mv -f -- "$tmp" "$dest"
  tmp=
  echo "wrote $existing"
done
"#;

/// Starts the guard script given on stdin in the background, detached from the channel;
/// prints `PID SCRIPT`.
pub const ARM_GUARD: &str = r#"set -e
script=$(mktemp "${TMPDIR:-/tmp}/shoal-guard-XXXXXX")
cat > "$script"
nohup sh "$script" </dev/null >/dev/null 2>&1 &
echo "$! $script"
"#;

/// Stops the guard `$1` (its PID) whose script is `$2`, if it still runs that script,
/// and removes the script and the previous files (`$3`…).
pub const DISARM_GUARD: &str = r#"pid=$1 script=$2
shift 2
if grep -qF -- "$script" "/proc/$pid/cmdline" 2>/dev/null; then kill "$pid"; fi
rm -f -- "$script"
for previous in "$@"; do rm -f -- "$previous"; done
"#;

/// The command line that runs `script` with `args`, as the login user or, with
/// `become_user`, through sudo.
pub fn script_line(script: &str, args: &[String], become_user: Option<&str>) -> String {
    let mut line = String::new();
    if let Some(user) = become_user {
        line.push_str(&format!("sudo -n -u {} -- ", shell_quote(user)));
    }
    line.push_str("sh -c ");
    line.push_str(&shell_quote(script));
    line.push_str(" sh");
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    line
}

/// Lines that run each of `guards` (shell strings, `export`s in front) as
/// [`command_line`] runs a command, each in a subshell with its input and output on
/// `/dev/null`, and print `guard CODE` after each.
pub fn guard_lines(guards: &[String], become_user: Option<&str>) -> String {
    let mut lines = String::new();
    for guard in guards {
        lines.push_str(&format!(
            "(\n{}\n) </dev/null >/dev/null 2>&1; echo \"guard $?\"\n",
            command_line(guard, become_user)
        ));
    }
    lines
}

/// The command line of a step's command (`export`s already in front of it).
pub fn command_line(command: &str, become_user: Option<&str>) -> String {
    match become_user {
        Some(user) => format!(
            "sudo -n -u {} -- sh -c {}",
            shell_quote(user),
            shell_quote(command)
        ),
        None => command.to_owned(),
    }
}

/// The script a guard runs: wait, restore the files, run `on_change` again, remove
/// itself.
pub fn guard_script(guard: &super::LockoutGuard) -> String {
    let mut script = format!("sleep {}\n", guard.delay.as_secs().max(1));
    for file in &guard.files {
        let dest = shell_quote(&file.dest);
        if file.had_previous {
            let previous = shell_quote(&format!("{}{}", file.dest, super::PREVIOUS_SUFFIX));
            script.push_str(&format!("mv -f -- {previous} {dest}\n"));
        } else {
            script.push_str(&format!("rm -f -- {dest}\n"));
        }
    }
    for command in &guard.on_change {
        script.push_str(&format!("sh -c {}\n", shell_quote(command)));
    }
    script.push_str("rm -f -- \"$0\"\n");
    script
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::hosts::{GuardedFile, LockoutGuard};

    #[test]
    fn arguments_are_quoted_and_never_part_of_the_script() {
        assert_eq!(
            script_line("echo \"$1\"", &["it's; rm -rf /".to_owned()], Some("root")),
            r#"sudo -n -u 'root' -- sh -c 'echo "$1"' sh 'it'\''s; rm -rf /'"#
        );
        assert_eq!(
            command_line("exportfs -ra && echo 'ok'", Some("root")),
            r#"sudo -n -u 'root' -- sh -c 'exportfs -ra && echo '\''ok'\'''"#
        );
        assert_eq!(command_line("exportfs -ra", None), "exportfs -ra");
    }

    /// Runs `script` with `sh` on this machine, `args` after it, `stdin` as its input.
    fn run_here(script: &str, args: &[String], stdin: &[u8]) -> (String, i32) {
        use std::io::Write as _;
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("sh runs");
        child
            .stdin
            .take()
            .expect("piped")
            .write_all(stdin)
            .expect("writes");
        let output = child.wait_with_output().expect("ends");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            output.status.code().unwrap_or(-1),
        )
    }

    #[test]
    fn files_are_written_in_one_go_and_those_already_right_are_left_alone() {
        let folder = tempfile::tempdir().expect("temp");
        let path = |name: &str| folder.path().join(name).display().to_string();
        std::fs::write(path("same"), "same\n").expect("writes");
        std::fs::write(path("old"), "old\n").expect("writes");
        let file = |name: &str, content: &str, keep: &str| {
            vec![
                path(name),
                "640".to_owned(),
                String::new(),
                String::new(),
                content.len().to_string(),
                crate::hosts::sha256_hex(content.as_bytes()),
                keep.to_owned(),
            ]
        };
        let mut args = file("same", "same\n", "0");
        args.extend(file("old", "new content\n", "1"));
        args.extend(file("fresh", "", "0"));
        // `same` already holds its content and the mode wanted: it is left alone.
        std::fs::set_permissions(
            path("same"),
            std::os::unix::fs::PermissionsExt::from_mode(0o640),
        )
        .expect("chmod");
        let (printed, code) = run_here(WRITE_FILES, &args, b"same\nnew content\n");
        assert_eq!(
            (printed.as_str(), code),
            ("unchanged\nwrote existing\nwrote new\n", 0)
        );
        assert_eq!(
            std::fs::read_to_string(path("old")).expect("reads"),
            "new content\n"
        );
        assert_eq!(
            std::fs::read_to_string(path("old.shoal-previous")).expect("reads"),
            "old\n"
        );
        assert_eq!(std::fs::read_to_string(path("fresh")).expect("reads"), "");

        let mut wrong = file("other", "twelve bytes", "0");
        wrong[5] = crate::hosts::sha256_hex(b"something else");
        let (printed, code) = run_here(WRITE_FILES, &wrong, b"twelve bytes");
        assert_eq!((printed.as_str(), code), ("", 3));
        assert!(!std::path::Path::new(&path("other")).exists());
    }

    #[test]
    fn files_are_read_in_one_go() {
        let folder = tempfile::tempdir().expect("temp");
        let file = folder.path().join("file").display().to_string();
        std::fs::write(&file, "hello\n").expect("writes");
        let missing = folder.path().join("missing").display().to_string();
        let (printed, code) = run_here(
            READ_FILES,
            &["1024".to_owned(), file.clone(), missing, file.clone()],
            b"",
        );
        assert_eq!(code, 0);
        let lines: Vec<&str> = printed.lines().collect();
        assert_eq!(lines.len(), 3, "{printed}");
        assert!(
            lines[0].starts_with("present 6 ") && lines[0].ends_with(" :aGVsbG8K"),
            "{printed}"
        );
        assert_eq!(lines[1], "absent");
        let (_, code) = run_here(
            READ_FILES,
            &["1024".to_owned(), folder.path().display().to_string()],
            b"",
        );
        assert_eq!(code, 2);
    }

    #[test]
    fn a_guard_restores_each_file_then_runs_on_change_again() {
        let guard = LockoutGuard {
            delay: Duration::from_secs(60),
            files: vec![
                GuardedFile {
                    dest: "/etc/rules".to_owned(),
                    had_previous: true,
                },
                GuardedFile {
                    dest: "/etc/new one".to_owned(),
                    had_previous: false,
                },
            ],
            on_change: vec!["iptables-restore < /etc/rules".to_owned()],
        };
        assert_eq!(
            guard_script(&guard),
            "sleep 60
mv -f -- '/etc/rules.shoal-previous' '/etc/rules'
rm -f -- '/etc/new one'
sh -c 'iptables-restore < /etc/rules'
rm -f -- \"$0\"
"
        );
    }
}
