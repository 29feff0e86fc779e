//! Quantities written as text in compose files, parsed with the rules of the Go functions
//! docker uses: durations (`time.ParseDuration`), memory sizes (`units.RAMInBytes`) and
//! CPU counts (`opts.ParseCPUs`).

/// A Go duration such as `1m30s`, `1.5s`, `300ms`, `-2h` or `0`, in nanoseconds.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid duration `{text}`");
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    const LIMIT: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let integer_length = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for digit in rest[..integer_length].bytes() {
            whole = whole
                .checked_mul(10)
                .and_then(|value| value.checked_add(u64::from(digit - b'0')))
                .filter(|value| *value <= LIMIT)
                .ok_or_else(invalid)?;
        }
        rest = &rest[integer_length..];
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut fraction_length = 0;
        if let Some(after_point) = rest.strip_prefix('.') {
            rest = after_point;
            fraction_length = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflowed = false;
            for digit in rest[..fraction_length].bytes() {
                if overflowed || fraction > (LIMIT - 1) / 10 {
                    overflowed = true;
                    continue;
                }
                let next = fraction * 10 + u64::from(digit - b'0');
                if next > LIMIT {
                    overflowed = true;
                    continue;
                }
                fraction = next;
                scale *= 10.0;
            }
            rest = &rest[fraction_length..];
        }
        if integer_length == 0 && fraction_length == 0 {
            return Err(invalid());
        }
        let unit_length = rest
            .bytes()
            .take_while(|byte| *byte != b'.' && !byte.is_ascii_digit())
            .count();
        if unit_length == 0 {
            return Err(format!("missing unit in duration `{text}`"));
        }
        let unit: u64 = match &rest[..unit_length] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            unit => {
                return Err(format!(
                    "unknown unit `{unit}` in duration `{text}`; use ns, us, ms, s, m or h"
                ));
            }
        };
        rest = &rest[unit_length..];
        if whole > LIMIT / unit {
            return Err(invalid());
        }
        let mut value = whole * unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(value)
            .filter(|total| *total <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if negative {
        Ok((total as i128).wrapping_neg() as i64)
    } else if total > LIMIT - 1 {
        Err(invalid())
    } else {
        Ok(total as i64)
    }
}

/// A memory size such as `512M`, `1.5g`, `64MiB`, `128mb` or `1024` (bytes); units are
/// binary (k = 1024) and case-insensitive, the `b` is optional.
pub fn parse_ram_bytes(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size `{text}`");
    let separator = text
        .rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')
        .ok_or_else(invalid)?;
    let (number, suffix) = if text.as_bytes()[separator] == b' ' {
        (&text[..separator], &text[separator + 1..])
    } else {
        (&text[..=separator], &text[separator + 1..])
    };
    let size: f64 = number.parse().map_err(|_| invalid())?;
    if size < 0.0
        || !number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-' | 'e' | 'E'))
    {
        return Err(invalid());
    }
    if suffix.is_empty() {
        return Ok(size as i64);
    }
    let bad_suffix =
        || format!("invalid size `{text}`: unknown unit `{suffix}`; use b, k, m, g, t or p");
    if suffix.len() > 3 {
        return Err(bad_suffix());
    }
    let lower = suffix.to_ascii_lowercase();
    if lower == "b" {
        return Ok(size as i64);
    }
    let multiplier: f64 = match lower.as_bytes()[0] {
        b'k' => 1024.0,
        b'm' => 1024.0 * 1024.0,
        b'g' => 1024.0 * 1024.0 * 1024.0,
        b't' => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        b'p' => 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad_suffix()),
    };
    let tail_ok = match lower.len() {
        1 => true,
        2 => &lower[1..] == "b",
        _ => &lower[1..] == "ib",
    };
    if !tail_ok {
        return Err(bad_suffix());
    }
    Ok((size * multiplier) as i64)
}

/// A CPU count such as `0.5`, `2` or `1/4`, in billionths of a CPU; more than nine
/// decimals is "too precise", as for docker.
pub fn parse_nano_cpus(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid CPU count `{text}`: expected a number such as `0.5`");
    let too_precise = || format!("invalid CPU count `{text}`: more precise than a billionth");
    let nano: i128 = if let Some((numerator, denominator)) = text.split_once('/') {
        let numerator: i128 = parse_integer(numerator).ok_or_else(invalid)?;
        let denominator: i128 = parse_integer(denominator).ok_or_else(invalid)?;
        if denominator == 0 {
            return Err(invalid());
        }
        let scaled = numerator.checked_mul(1_000_000_000).ok_or_else(invalid)?;
        if scaled % denominator != 0 {
            return Err(too_precise());
        }
        scaled / denominator
    } else {
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(index) => (
                &text[..index],
                parse_integer(&text[index + 1..]).ok_or_else(invalid)?,
            ),
            None => (text, 0),
        };
        let (negative, unsigned) = match mantissa.as_bytes().first() {
            Some(b'-') => (true, &mantissa[1..]),
            Some(b'+') => (false, &mantissa[1..]),
            _ => (false, mantissa),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_ok = |part: &str| part.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits_ok(whole) || !digits_ok(fraction) {
            return Err(invalid());
        }
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        let mut value: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| invalid())?
        };
        let shift = 9 + exponent - fraction.len() as i128;
        if shift >= 0 {
            for _ in 0..shift {
                value = value.checked_mul(10).ok_or_else(invalid)?;
            }
        } else {
            for _ in 0..(-shift) {
                if value % 10 != 0 {
                    return Err(too_precise());
                }
                value /= 10;
            }
        }
        if negative { -value } else { value }
    };
    i64::try_from(nano).map_err(|_| invalid())
}

fn parse_integer(text: &str) -> Option<i128> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("0", 0),
            ("5s", 5_000_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5s", 1_500_000_000),
            ("300ms", 300_000_000),
            ("10us", 10_000),
            ("1h", 3_600_000_000_000),
            ("-2s", -2_000_000_000),
            ("1.s", 1_000_000_000),
            (".5m", 30_000_000_000),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_duration(text), Ok(expected), "{text}");
        }
        for text in ["", "5", "1x", ".s", "s", "1m 30s"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn parses_memory_sizes() {
        let cases = [
            ("512M", 512 * 1024 * 1024),
            ("64m", 64 * 1024 * 1024),
            ("1.5g", 1536 * 1024 * 1024),
            ("1GiB", 1024 * 1024 * 1024),
            ("128mb", 128 * 1024 * 1024),
            ("1024", 1024),
            ("10b", 10),
            ("2 k", 2048),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_ram_bytes(text), Ok(expected), "{text}");
        }
        for text in ["", "M", "12x", "1kib2", "-1m", "1mbb"] {
            assert!(parse_ram_bytes(text).is_err(), "{text}");
        }
    }

    #[test]
    fn parses_cpu_counts() {
        let cases = [
            ("0.5", 500_000_000),
            ("2", 2_000_000_000),
            ("0.001", 1_000_000),
            ("1/4", 250_000_000),
            ("1e-3", 1_000_000),
            (".25", 250_000_000),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_nano_cpus(text), Ok(expected), "{text}");
        }
        for text in ["", "abc", "0.0000000001", "1/3", "."] {
            assert!(parse_nano_cpus(text).is_err(), "{text}");
        }
    }
}
