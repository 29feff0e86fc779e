//! When schedules fall due: the next time a five-field cron expression matches, in UTC.

use chrono::{DateTime, Utc};

/// The first time strictly after `after` that `cron` matches; `None` for an expression the
/// loader would have refused.
pub fn next_due(cron: &str, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let schedule = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Disallowed)
        .year(croner::parser::Year::Disallowed)
        .build()
        .parse(cron)
        .ok()?;
    schedule.find_next_occurrence(&after, false).ok()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn finds_the_next_match_after_a_time() {
        let at = |h, m| {
            Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0)
                .single()
                .expect("valid time")
        };
        assert_eq!(next_due("17 * * * *", at(4, 17)), Some(at(5, 17)));
        assert_eq!(next_due("*/15 * * * *", at(4, 1)), Some(at(4, 15)));
        assert_eq!(next_due("not cron", at(4, 1)), None);
    }
}
