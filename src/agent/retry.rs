//! When to try again: exponential backoff with jitter, and `Retry-After`.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::AgentError;
use crate::config::AgentSpec;

/// The first backoff; each retry doubles it.
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// The longest backoff, so a run never looks dead for minutes between attempts.
pub const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// The longest `Retry-After` honoured; a provider asking for more is treated as down (the
/// attempt fails at once, saying how long it asked, and the fallbacks are tried), since
/// waiting that long would only hide it from the user.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How many retries, and how long to wait before each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
    pub max_retry_after: Duration,
}

impl RetryPolicy {
    /// The agent's `retries` with the standard backoff.
    pub fn for_agent(spec: &AgentSpec) -> RetryPolicy {
        RetryPolicy {
            retries: spec.retries(),
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }

    /// The pause before retry number `attempt` (1 for the first).
    ///
    /// The server's `Retry-After`, when given, is honoured as is (up to `max_retry_after`).
    /// Otherwise the backoff `base · 2^(attempt-1)`, capped, is "equal-jittered": half of it
    /// fixed, half random, so that runs failing together do not retry together.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_retry_after);
        }
        let doubling = 2u32.saturating_pow(attempt.saturating_sub(1));
        let backoff = self.base.saturating_mul(doubling).min(self.cap);
        let half = backoff / 2;
        half + half.mul_f64(random_fraction())
    }
}

/// A number in `[0, 1)`, random enough to spread retries (std's hasher keys are seeded
/// randomly per process and differ per instance).
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// A `Retry-After` header: how long it asks to wait, and its text as the provider wrote it
/// (only ever delay seconds or an HTTP date, the forms that parse), for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryAfter {
    pub wait: Duration,
    pub header: String,
}

impl RetryAfter {
    /// The header's `value` as of `now`; `None` when it is neither form.
    pub fn parse(value: &str, now: SystemTime) -> Option<RetryAfter> {
        Some(RetryAfter {
            wait: parse_retry_after(value, now)?,
            header: value.trim().to_owned(),
        })
    }
}

/// `error`, or, when it is a status whose `Retry-After` asks for more than `cap`,
/// [`AgentError::WaitTooLong`]: not retried (a provider asking that much is down for now), and
/// saying how long the provider asked.
pub(crate) fn beyond_cap(error: AgentError, cap: Duration) -> AgentError {
    match error {
        AgentError::Http {
            status,
            retry_after: Some(retry_after),
            message,
        } if retry_after.wait > cap => AgentError::WaitTooLong {
            status,
            retry_after,
            cap,
            message,
        },
        other => other,
    }
}

/// `27 h 46 min`, `5 min 30 s`, `90 s`: a long wait, as a person would say it.
pub(crate) fn long_wait(wait: Duration) -> String {
    let total = wait.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60);
    match (hours, minutes, seconds) {
        _ if total < 120 => format!("{total} s"),
        (0, minutes, 0) => format!("{minutes} min"),
        (0, minutes, seconds) => format!("{minutes} min {seconds} s"),
        (hours, 0, _) => format!("{hours} h"),
        (hours, minutes, _) => format!("{hours} h {minutes} min"),
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (IMF-fixdate, as RFC 9110 requires
/// senders to write it), as the time from `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = UNIX_EPOCH + Duration::from_secs(parse_http_date(value)?);
    Some(at.duration_since(now).unwrap_or_default())
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` as seconds since the Unix epoch.
fn parse_http_date(value: &str) -> Option<u64> {
    let (_weekday, rest) = value.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let day: u64 = day.parse().ok()?;
    let year: u64 = year.parse().ok()?;
    let clock: Vec<u64> = time
        .split(':')
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [hour, minute, second] = clock.as_slice() else {
        return None;
    };
    if year < 1970 || !(1..=31).contains(&day) || *hour > 23 || *minute > 59 || *second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// algorithm, for years from 1970).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 5,
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let policy = policy();
        for _ in 0..50 {
            let first = policy.delay(1, None);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let third = policy.delay(3, None);
            assert!(third >= Duration::from_secs(1) && third <= Duration::from_secs(2));
            let late = policy.delay(30, None);
            assert!(late >= Duration::from_secs(15) && late <= BACKOFF_CAP);
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_its_cap() {
        let policy = policy();
        let after = Some(Duration::from_secs(7));
        assert_eq!(policy.delay(1, after), Duration::from_secs(7));
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(3600))),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn a_wait_past_the_cap_fails_at_once_saying_how_long() {
        let asked = |seconds: u64| AgentError::Http {
            status: 429,
            retry_after: Some(RetryAfter {
                wait: Duration::from_secs(seconds),
                header: seconds.to_string(),
            }),
            message: "slow down".into(),
        };
        let capped = beyond_cap(asked(100_000), MAX_RETRY_AFTER);
        assert_eq!(
            capped.to_string(),
            "HTTP 429 Too Many Requests: the provider asked to wait 27 h 46 min (Retry-After: 100000), longer than baton waits (60 s) (slow down)"
        );
        assert!(!capped.is_retryable() && capped.calls_for_fallback());
        assert_eq!(capped.status(), Some(429));
        let patient = beyond_cap(asked(60), MAX_RETRY_AFTER);
        assert!(patient.is_retryable(), "at the cap, waited out");
        let date = "Fri, 01 Jan 2100 00:00:00 GMT";
        let now = UNIX_EPOCH + Duration::from_secs(4_102_444_800 - 7_200);
        let by_date = AgentError::Http {
            status: 503,
            retry_after: RetryAfter::parse(date, now),
            message: String::new(),
        };
        assert_eq!(
            beyond_cap(by_date, MAX_RETRY_AFTER).to_string(),
            format!("HTTP 503 Service Unavailable: the provider asked to wait 2 h (Retry-After: {date}), longer than baton waits (60 s)")
        );
        assert_eq!(long_wait(Duration::from_secs(90)), "90 s");
        assert_eq!(long_wait(Duration::from_secs(330)), "5 min 30 s");
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's own example.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(
                "Sun, 06 Nov 1994 08:49:37 GMT",
                now + Duration::from_secs(60)
            ),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn leap_days_count() {
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Thu, 29 Feb 2024 12:00:00 GMT"),
            Some(1_709_208_000)
        );
    }
}
