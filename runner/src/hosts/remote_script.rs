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
