//! `env_file` contents, read as docker reads them (`kvfile.Parse`): one `NAME=value` per
//! line, taken as is (no quotes are removed, nothing is interpolated); blank lines and
//! lines starting with `#` are skipped; a line with a name only takes the variable's value,
//! or is dropped when the variable is not set.

/// The `NAME=value` entries of an env file, in order; `lookup` gives variables' values.
pub fn parse_env_file(
    content: &[u8],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(content).map_err(|error| {
        let line = content[..error.valid_up_to()]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count()
            + 1;
        format!("invalid UTF-8 on line {line}")
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (line, None),
        };
        if name.is_empty() {
            return Err(format!("no variable name on line `{line}`"));
        }
        if name.contains([' ', '\t']) {
            return Err(format!("variable `{name}` contains whitespace"));
        }
        match value {
            Some(value) => entries.push((name.to_owned(), value.to_owned())),
            None => {
                if let Some(value) = lookup(name) {
                    entries.push((name.to_owned(), value));
                }
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lines_as_docker_does() {
        let content = "\u{feff}# comment\n\nA=1\n  B=\"quoted\" \nFROM_ENV\nMISSING\nC=x=y\r\n";
        let lookup = |name: &str| (name == "FROM_ENV").then(|| "env".to_owned());
        let entries = parse_env_file(content.as_bytes(), &lookup).expect("parses");
        let expected = [
            ("A", "1"),
            ("B", "\"quoted\" "),
            ("FROM_ENV", "env"),
            ("C", "x=y"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(entries, expected);
    }

    #[test]
    fn rejects_names_with_spaces() {
        let lookup = |_: &str| None;
        assert!(parse_env_file(b"MY VAR=1\n", &lookup).is_err());
        assert!(parse_env_file(b"=1\n", &lookup).is_err());
    }
}
