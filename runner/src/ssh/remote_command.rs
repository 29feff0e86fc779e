//! What a remote command's output is and how its command line is written. Commands are
//! shell strings run by the login user's shell (`$SHELL -c`, as OpenSSH's sshd runs
//! them). Environment values travel inside the command as `export NAME='value';`
//! rather than as SSH `env` requests, which sshd refuses unless `AcceptEnv` names the
//! variable; the command line is therefore as secret as its values, and shoal never
//! logs it. (It is visible to root on the host in the process list for as long as the
//! shell runs.)

use super::SshError;

/// Which stream of a remote command some output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// `text` quoted for a POSIX shell: in single quotes, each `'` written as `'\''`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `command`, preceded by exports of `environment`. Names must be shell names.
pub fn with_environment(
    command: &str,
    environment: &[(String, String)],
) -> Result<String, SshError> {
    let mut line = String::new();
    for (name, value) in environment {
        let valid = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '_');
        if !valid {
            return Err(SshError::EnvironmentName { name: name.clone() });
        }
        line.push_str(&format!("export {name}={}; ", shell_quote(value)));
    }
    line.push_str(command);
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("it's $HOME"), r"'it'\''s $HOME'");
        let line = with_environment(
            "echo \"$TOKEN\"",
            &[("TOKEN".to_owned(), "a'b c".to_owned())],
        )
        .expect("valid");
        assert_eq!(line, r#"export TOKEN='a'\''b c'; echo "$TOKEN""#);
        let error = with_environment("true", &[("A-B".to_owned(), String::new())])
            .expect_err("not a shell name");
        assert_eq!(
            error.to_string(),
            "the environment variable name `A-B` is not a valid shell name"
        );
    }
}
