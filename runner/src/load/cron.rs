//! Checks a five-field cron expression field by field, so that an error names the field
//! and the value that is wrong rather than the parser's internals.

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day-of-month", 1, 31),
    ("month", 1, 12),
    ("day-of-week", 0, 7),
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// `Ok` when `expression` is a valid five-field cron expression, else what is wrong.
pub fn check_cron(expression: &str) -> Result<(), String> {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
            fields.len()
        ));
    }
    for (field, (name, low, high)) in fields.iter().zip(FIELDS) {
        for part in field.split(',') {
            check_part(part, name, low, high)?;
        }
    }
    // The field checks above accept what croner accepts; croner has the last word.
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(expression)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

fn check_part(part: &str, name: &str, low: u32, high: u32) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(step) if step > 0 => {}
            _ => return Err(format!("{name} step `{step}` must be a positive number")),
        }
    }
    if range == "*" {
        return Ok(());
    }
    let bounds: Vec<&str> = range.splitn(2, '-').collect();
    let mut values = Vec::new();
    for bound in &bounds {
        values.push(value(bound, name, low, high)?);
    }
    if let [start, end] = values[..]
        && start > end
    {
        return Err(format!("{name} range `{range}` goes backwards"));
    }
    Ok(())
}

fn value(text: &str, name: &str, low: u32, high: u32) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    let named = match name {
        "month" => MONTHS
            .iter()
            .position(|m| *m == lower)
            .map(|i| i as u32 + 1),
        "day-of-week" => DAYS.iter().position(|d| *d == lower).map(|i| i as u32),
        _ => None,
    };
    if let Some(number) = named {
        return Ok(number);
    }
    let number = text
        .parse::<u32>()
        .map_err(|_| format!("{name} `{text}` is not a number"))?;
    if number < low || number > high {
        return Err(format!("{name} `{number}` is out of range {low}-{high}"));
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::check_cron;

    #[test]
    fn names_the_wrong_field() {
        assert_eq!(check_cron("*/15 * * * *"), Ok(()));
        assert_eq!(check_cron("0 9 * jan-mar mon-fri"), Ok(()));
        assert_eq!(
            check_cron("0 25 * * *"),
            Err("hour `25` is out of range 0-23".to_owned())
        );
        assert_eq!(
            check_cron("*/0 * * * *"),
            Err("minute step `0` must be a positive number".to_owned())
        );
        assert_eq!(
            check_cron("0 0 * * 5-1"),
            Err("day-of-week range `5-1` goes backwards".to_owned())
        );
    }
}
