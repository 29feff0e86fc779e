//! When a report that GitHub did not take is tried again: exponential backoff, or as long
//! as GitHub says (`Retry-After`; `x-ratelimit-reset` when `x-ratelimit-remaining` is 0),
//! and which answers are final. Pure: the time is given.

use std::time::Duration;

use super::client::ApiAnswer;

/// A rate limit reset further away than this is waited for only this long.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);
/// GitHub asks to wait at least a minute after a secondary rate limit that names no time.
const SECONDARY_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// How a failed delivery is tried again: `attempts` in all, waiting `first_delay`, then
/// twice as long each time up to `max_delay`, unless GitHub says how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(300),
        }
    }
}

/// What to do after an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    RetryIn(Duration),
    /// 401: the installation token may have been revoked or expired early.
    RenewTokenAndRetry,
    /// An answer that trying again will not change (404, 422, a 403 that is no rate
    /// limit).
    GiveUp(String),
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// Judges `answer` to the request's retry number `retry` (0 for the first try);
    /// `now` is in seconds since the epoch, for `x-ratelimit-reset`.
    pub fn judge(&self, answer: &ApiAnswer, retry: u32, now: i64) -> Verdict {
        if answer.is_success() {
            return Verdict::Delivered;
        }
        let next = retry + 1;
        let rate_limited = matches!(answer.status, 403 | 429);
        if rate_limited {
            if let Some(seconds) = answer.retry_after {
                return Verdict::RetryIn(Duration::from_secs(seconds).min(LONGEST_WAIT));
            }
            if answer.rate_limit_remaining == Some(0)
                && let Some(reset) = answer.rate_limit_reset
            {
                let seconds = u64::try_from(reset - now).unwrap_or(0) + 1;
                return Verdict::RetryIn(Duration::from_secs(seconds).min(LONGEST_WAIT));
            }
            if answer.status == 429 || answer.message().to_lowercase().contains("rate limit") {
                return Verdict::RetryIn(self.backoff(next).max(SECONDARY_RATE_LIMIT_WAIT));
            }
        }
        match answer.status {
            401 => Verdict::RenewTokenAndRetry,
            500.. => Verdict::RetryIn(self.backoff(next)),
            status => Verdict::GiveUp(format!("GitHub answered {status}: {}", answer.message())),
        }
    }
}

#[cfg(test)]
mod tests {
    use hyper::body::Bytes;

    use super::*;

    fn answer(status: u16) -> ApiAnswer {
        ApiAnswer {
            status,
            retry_after: None,
            rate_limit_remaining: None,
            rate_limit_reset: None,
            body: Bytes::from_static(br#"{"message":"Not Found"}"#),
        }
    }

    const POLICY: RetryPolicy = RetryPolicy {
        attempts: 5,
        first_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(10),
    };

    #[test]
    fn backoff_doubles_up_to_the_longest_delay() {
        let delays: Vec<u64> = (1..=6).map(|n| POLICY.backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10, 10]);
        assert_eq!(POLICY.backoff(200), Duration::from_secs(10));
    }

    #[test]
    fn github_says_how_long_to_wait_on_a_rate_limit() {
        let mut limited = answer(403);
        limited.rate_limit_remaining = Some(0);
        limited.rate_limit_reset = Some(1_000_030);
        assert_eq!(
            POLICY.judge(&limited, 0, 1_000_000),
            Verdict::RetryIn(Duration::from_secs(31))
        );
        limited.rate_limit_reset = Some(999_000);
        assert_eq!(
            POLICY.judge(&limited, 0, 1_000_000),
            Verdict::RetryIn(Duration::from_secs(1)),
            "a reset in the past: at once"
        );
        let mut too_many = answer(429);
        too_many.retry_after = Some(7);
        assert_eq!(
            POLICY.judge(&too_many, 3, 0),
            Verdict::RetryIn(Duration::from_secs(7))
        );
        too_many.retry_after = None;
        assert_eq!(
            POLICY.judge(&too_many, 0, 0),
            Verdict::RetryIn(Duration::from_secs(60))
        );
        let mut secondary = answer(403);
        secondary.body = Bytes::from_static(
            br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#,
        );
        assert_eq!(
            POLICY.judge(&secondary, 0, 0),
            Verdict::RetryIn(Duration::from_secs(60))
        );
    }

    #[test]
    fn server_errors_are_retried_and_client_errors_are_final() {
        assert_eq!(POLICY.judge(&answer(201), 0, 0), Verdict::Delivered);
        assert_eq!(
            POLICY.judge(&answer(502), 1, 0),
            Verdict::RetryIn(Duration::from_secs(2))
        );
        assert_eq!(
            POLICY.judge(&answer(401), 0, 0),
            Verdict::RenewTokenAndRetry
        );
        assert_eq!(
            POLICY.judge(&answer(404), 0, 0),
            Verdict::GiveUp("GitHub answered 404: Not Found".into())
        );
        let mut forbidden = answer(403);
        forbidden.body =
            Bytes::from_static(br#"{"message":"Resource not accessible by integration"}"#);
        assert_eq!(
            POLICY.judge(&forbidden, 0, 0),
            Verdict::GiveUp("GitHub answered 403: Resource not accessible by integration".into())
        );
    }
}
