//! Splits a `command:` or `entrypoint:` string into words the way docker does (Go's
//! `google/shlex`): spaces separate words, `'…'` quotes literally, `"…"` quotes with `\`
//! escapes, `\` escapes outside quotes, and a `#` that starts a word starts a comment
//! running to the end of the line. No variables, globs or operators.

/// The words of `text`, or why it cannot be split (an unclosed quote or a trailing `\`).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Start,
        Word,
        Escape,
        QuotedEscape,
        DoubleQuoted,
        SingleQuoted,
        Comment,
    }
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Start;
    for c in text.chars() {
        state = match state {
            State::Start => {
                if is_space(c) {
                    State::Start
                } else {
                    match c {
                        '"' => State::DoubleQuoted,
                        '\'' => State::SingleQuoted,
                        '\\' => State::Escape,
                        '#' => State::Comment,
                        _ => {
                            word.push(c);
                            State::Word
                        }
                    }
                }
            }
            State::Word => {
                if is_space(c) {
                    words.push(std::mem::take(&mut word));
                    State::Start
                } else {
                    match c {
                        '"' => State::DoubleQuoted,
                        '\'' => State::SingleQuoted,
                        '\\' => State::Escape,
                        _ => {
                            word.push(c);
                            State::Word
                        }
                    }
                }
            }
            State::Escape => {
                word.push(c);
                State::Word
            }
            State::QuotedEscape => {
                word.push(c);
                State::DoubleQuoted
            }
            State::DoubleQuoted => match c {
                '"' => State::Word,
                '\\' => State::QuotedEscape,
                _ => {
                    word.push(c);
                    State::DoubleQuoted
                }
            },
            State::SingleQuoted => match c {
                '\'' => State::Word,
                _ => {
                    word.push(c);
                    State::SingleQuoted
                }
            },
            State::Comment => {
                if c == '\n' {
                    State::Start
                } else {
                    State::Comment
                }
            }
        };
    }
    match state {
        State::Start | State::Comment => {}
        State::Word => words.push(word),
        State::Escape | State::QuotedEscape => {
            return Err("the command ends with an escape character `\\`".to_owned());
        }
        State::DoubleQuoted | State::SingleQuoted => {
            return Err("the command has a quote that is not closed".to_owned());
        }
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(
            split_words(text),
            Ok(expected.iter().map(|w| w.to_string()).collect()),
            "{text}"
        );
    }

    #[test]
    fn splits_like_go_shlex() {
        check("server /data", &["server", "/data"]);
        check("  a   b  ", &["a", "b"]);
        check(
            r#"sh -c "echo \"hi\" $HOME""#,
            &["sh", "-c", r#"echo "hi" $HOME"#],
        );
        check("echo 'a  b' c", &["echo", "a  b", "c"]);
        check(r"a\ b", &["a b"]);
        check(r#"x "" y"#, &["x", "", "y"]);
        check("run # a comment\nnext", &["run", "next"]);
        check("a#b", &["a#b"]);
        check(
            "-- /app/job.py --api-url http://api:8200",
            &["--", "/app/job.py", "--api-url", "http://api:8200"],
        );
        check("", &[]);
    }

    #[test]
    fn rejects_unclosed_quotes() {
        assert!(split_words("echo 'oops").is_err());
        assert!(split_words("echo \"oops").is_err());
        assert!(split_words("echo oops\\").is_err());
    }
}
