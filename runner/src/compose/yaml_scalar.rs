//! How docker reads a YAML scalar. `docker stack deploy` decodes compose files with Go's
//! `yaml.v3` into untyped values, and its rules differ from the YAML 1.2 core schema that
//! [`crate::yaml`] follows: `0644` is the octal number 420, `1_000` is 1000, `08` is the
//! float 8. Numbers that end up in string fields are printed the way Go's `fmt` prints
//! them (`1e+06`, not `1000000`). This module holds both rules.

/// What a plain (unquoted) scalar is to Go's `yaml.v3`.
#[derive(Debug, Clone, PartialEq)]
pub enum GoScalar {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    /// Anything else, including timestamps (which docker would turn into a Go `time.Time`;
    /// shoal keeps them as the text written).
    String,
}

/// Resolves a plain scalar the way `yaml.v3`'s `resolve` does.
pub fn resolve_plain(text: &str) -> GoScalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return GoScalar::Null,
        "true" | "True" | "TRUE" => return GoScalar::Bool(true),
        "false" | "False" | "FALSE" => return GoScalar::Bool(false),
        ".nan" | ".NaN" | ".NAN" => return GoScalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return GoScalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return GoScalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let Some(first) = text.chars().next() else {
        return GoScalar::Null;
    };
    if first == '.' {
        return match parse_go_float(text) {
            Some(value) => GoScalar::Float(value),
            None => GoScalar::String,
        };
    }
    if !(first.is_ascii_digit() || first == '+' || first == '-') {
        return GoScalar::String;
    }
    let plain: String = text.chars().filter(|c| *c != '_').collect();
    if let Some(value) = parse_go_int(&plain) {
        return value;
    }
    if is_yaml_style_float(&plain)
        && let Some(value) = parse_go_float(&plain)
    {
        return GoScalar::Float(value);
    }
    GoScalar::String
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint`: a sign, then a `0x`,
/// `0o`, `0b` or `0` (octal) prefix or plain decimal digits.
fn parse_go_int(text: &str) -> Option<GoScalar> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 {
            Some(GoScalar::Int(-(magnitude as i64)))
        } else if magnitude == i64::MAX as u64 + 1 {
            Some(GoScalar::Int(i64::MIN))
        } else {
            None
        }
    } else if magnitude <= i64::MAX as u64 {
        Some(GoScalar::Int(magnitude as i64))
    } else {
        Some(GoScalar::Unsigned(magnitude))
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn is_yaml_style_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    if matches!(bytes.first(), Some(b'-' | b'+')) {
        index += 1;
    }
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count()
    };
    if bytes.get(index) == Some(&b'.') {
        let count = digits(index + 1);
        if count == 0 {
            return false;
        }
        index += 1 + count;
    } else {
        let count = digits(index);
        if count == 0 {
            return false;
        }
        index += count;
        if bytes.get(index) == Some(&b'.') {
            index += 1 + digits(index + 1);
        }
    }
    if matches!(bytes.get(index), Some(b'e' | b'E')) {
        index += 1;
        if matches!(bytes.get(index), Some(b'-' | b'+')) {
            index += 1;
        }
        let count = digits(index);
        if count == 0 {
            return false;
        }
        index += count;
    }
    index == bytes.len()
}

/// Decimal floats as Go's `strconv.ParseFloat` reads them (the forms a compose file uses).
fn parse_go_float(text: &str) -> Option<f64> {
    let valid = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !valid {
        return None;
    }
    text.parse().ok()
}

/// A float as Go's `fmt.Sprint` prints it: the shortest digits that read back the same,
/// in exponent form (`1e+06`, `1e-05`) below 1e-4 and from one million on.
pub fn format_go_float(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Go's shortest formatting.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    // Go: %e when the exponent is below -4 or at least the precision (6 for shortest).
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let fraction = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{first}{fraction}e{exponent_sign}{:02}",
            exponent.unsigned_abs()
        );
    }
    let point = exponent + 1;
    if point <= 0 {
        let zeros = "0".repeat(point.unsigned_abs() as usize);
        return format!("{sign}0.{zeros}{digits}");
    }
    let point = point as usize;
    if digits.len() <= point {
        format!("{sign}{digits}{}", "0".repeat(point - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..point], &digits[point..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: GoScalar) {
        assert_eq!(resolve_plain(text), expected, "{text}");
    }

    #[test]
    fn resolves_plain_scalars_like_go_yaml_v3() {
        check("0644", GoScalar::Int(420));
        check("0o17", GoScalar::Int(15));
        check("0x1F", GoScalar::Int(31));
        check("0b101", GoScalar::Int(5));
        check("1_000", GoScalar::Int(1000));
        check("-12", GoScalar::Int(-12));
        check("+7", GoScalar::Int(7));
        check("08", GoScalar::Float(8.0));
        check("1.5", GoScalar::Float(1.5));
        check(".5", GoScalar::Float(0.5));
        check("1e3", GoScalar::Float(1000.0));
        check("18446744073709551615", GoScalar::Unsigned(u64::MAX));
        check("yes", GoScalar::String);
        check("on", GoScalar::String);
        check("True", GoScalar::Bool(true));
        check("~", GoScalar::Null);
        check("12:30", GoScalar::String);
        check("1.2.3", GoScalar::String);
        check("-", GoScalar::String);
        check(".", GoScalar::String);
    }

    #[test]
    fn formats_floats_like_go_fmt() {
        let cases = [
            (1.5, "1.5"),
            (8.0, "8"),
            (100.0, "100"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.25, "-2.25"),
            (1e21, "1e+21"),
            (0.1, "0.1"),
            (f64::INFINITY, "+Inf"),
        ];
        for (value, expected) in cases {
            assert_eq!(format_go_float(value), expected, "{value}");
        }
    }
}
