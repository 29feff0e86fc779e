//! The filters shoal adds to minijinja's: `to_yaml`, `to_json`, `b64encode`, `b64decode`
//! and `sha256`, for writing config files from variables.

use base64::Engine as _;
use minijinja::{Error, ErrorKind, Value};
use sha2::Digest as _;

pub fn register(environment: &mut minijinja::Environment<'static>) {
    environment.add_filter("to_yaml", to_yaml);
    environment.add_filter("to_json", to_json);
    environment.add_filter("b64encode", b64encode);
    environment.add_filter("b64decode", b64decode);
    environment.add_filter("sha256", sha256);
    environment.add_function("fail", fail);
}

/// `{{ fail("message") }}`: stops the render with the template's own error message,
/// for checks such as `{% if vars.tls_mode not in ["self-signed", "letsencrypt"] %}`.
fn fail(message: String) -> Result<String, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

fn to_json_value(value: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|error| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("cannot convert value: {error}"),
        )
    })
}

/// `{{ vars.labels | to_yaml }}`: block-style YAML, without a trailing newline.
fn to_yaml(value: &Value) -> Result<String, Error> {
    let mut out = String::new();
    write_yaml(&to_json_value(value)?, 0, &mut out);
    Ok(out.trim_end_matches('\n').to_owned())
}

/// `{{ value | to_json }}`, or `{{ value | to_json(2) }}` to pretty-print.
fn to_json(value: &Value, indent: Option<usize>) -> Result<String, Error> {
    let json = to_json_value(value)?;
    let result = match indent {
        Some(_) => serde_json::to_string_pretty(&json),
        None => serde_json::to_string(&json),
    };
    result.map_err(|error| Error::new(ErrorKind::InvalidOperation, error.to_string()))
}

fn b64encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn b64decode(text: &str) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|error| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("invalid base64: {error}"),
            )
        })?;
    String::from_utf8(bytes).map_err(|_| {
        Error::new(
            ErrorKind::InvalidOperation,
            "decoded base64 is not UTF-8 text",
        )
    })
}

fn sha256(text: &str) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn write_yaml(value: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&yaml_scalar(key));
                out.push(':');
                write_nested(item, indent, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                write_nested(item, indent, out);
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&inline_yaml(other));
            out.push('\n');
        }
    }
}

fn write_nested(value: &serde_json::Value, indent: usize, out: &mut String) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_yaml(value, indent + 2, out);
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml(value, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline_yaml(other));
            out.push('\n');
        }
    }
}

fn inline_yaml(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "null".to_owned(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => yaml_scalar(s),
        serde_json::Value::Array(_) => "[]".to_owned(),
        serde_json::Value::Object(_) => "{}".to_owned(),
    }
}

/// A string as a YAML scalar: plain when that reads back as the same string, else quoted.
fn yaml_scalar(text: &str) -> String {
    let scalar = crate::yaml::Scalar {
        text: text.to_owned(),
        plain: true,
    };
    let plain_is_string = matches!(scalar.resolve(), crate::yaml::Resolved::String(_));
    let safe = plain_is_string
        && !text.is_empty()
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !text.ends_with(' ')
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains('\n')
        && !text.chars().any(char::is_control);
    if safe {
        text.to_owned()
    } else {
        serde_json::Value::String(text.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_round_trips_tricky_strings() {
        let value = Value::from(minijinja::value::Serde(serde_json::json!({
            "a": "true", "b": 1, "c": ["x: y", "plain"], "d": {}, "e": ""
        })));
        assert_eq!(
            to_yaml(&value).expect("yaml"),
            "a: \"true\"\nb: 1\nc:\n  - \"x: y\"\n  - plain\nd: {}\ne: \"\""
        );
        assert_eq!(
            sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(b64encode("hi"), "aGk=");
    }
}
