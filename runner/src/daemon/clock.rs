//! The daemon's clock, a port: what time the dispatcher stamps its records with and
//! compares its schedules against. Tests set the time instead of waiting for it.

use chrono::{DateTime, Utc};

/// The current time, as the dispatcher sees it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until a test moves it.
#[cfg(test)]
pub struct FakeClock(std::sync::Mutex<DateTime<Utc>>);

#[cfg(test)]
impl FakeClock {
    pub fn at(time: &str) -> FakeClock {
        FakeClock(std::sync::Mutex::new(
            DateTime::parse_from_rfc3339(time)
                .expect("an RFC 3339 time")
                .with_timezone(&Utc),
        ))
    }

    pub fn set(&self, time: &str) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            DateTime::parse_from_rfc3339(time)
                .expect("an RFC 3339 time")
                .with_timezone(&Utc);
    }
}

#[cfg(test)]
impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
