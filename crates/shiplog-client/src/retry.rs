//! When a call is tried again, and how long to wait in between.
//!
//! A call is retried when it could not be delivered or answered (connect
//! errors, resets, timeouts) and when the server, or a proxy in front of it,
//! answers 502, 503 or 504; never on any other answer. Write calls carry one
//! `Idempotency-Key` for all their attempts, so a retry of a write whose
//! answer was lost is answered by the server without recording it again.

use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;

/// How long one call may keep trying, and the waits between attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Total time a call may take, attempts and waits together. Zero means
    /// a single attempt.
    pub budget: Duration,
    /// The wait after the first failed attempt; it doubles each time.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            budget: Duration::from_secs(10),
            first_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

/// The shortest time an attempt is given, even when the budget is nearly
/// spent: a call always gets one real try.
pub(crate) const MIN_ATTEMPT: Duration = Duration::from_secs(1);

impl Retry {
    /// One attempt, no retries.
    pub fn none() -> Retry {
        Retry {
            budget: Duration::ZERO,
            ..Retry::default()
        }
    }

    /// A budget of `budget`, with the default waits.
    pub fn within(budget: Duration) -> Retry {
        Retry {
            budget,
            ..Retry::default()
        }
    }

    /// The wait before attempt `failed + 1`, after `failed` failures:
    /// exponential, capped, with jitter so that many jobs retrying at once
    /// spread out; at least what the server asked for in `Retry-After`.
    pub(crate) fn delay(&self, failed: u32, retry_after: Option<Duration>) -> Duration {
        let doubled = self
            .first_delay
            .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1)));
        let capped = doubled.min(self.max_delay);
        let jittered = capped.mul_f64(rand::rng().random_range(0.5..=1.0));
        jittered.max(retry_after.unwrap_or_default().min(self.max_delay))
    }
}

/// Whether an answer with this status is worth trying again.
pub(crate) fn retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// A fresh key for one write call: 128 random bits, in the header's
/// alphabet.
pub(crate) fn idempotency_key() -> String {
    let bits: u128 = rand::rng().random();
    format!("shiplog-{bits:032x}")
}

/// `Retry-After` in seconds, as shiplog sends it.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_with_jitter() {
        let retry = Retry::default();
        for _ in 0..50 {
            let first = retry.delay(1, None);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(200));
            let third = retry.delay(3, None);
            assert!(third >= Duration::from_millis(400) && third <= Duration::from_millis(800));
            let late = retry.delay(30, None);
            assert!(late >= Duration::from_secs(1) && late <= Duration::from_secs(2));
        }
    }

    #[test]
    fn a_retry_after_is_waited_for_up_to_the_cap() {
        let retry = Retry::default();
        assert!(retry.delay(1, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
        assert!(retry.delay(1, Some(Duration::from_secs(60))) <= Duration::from_secs(2));
    }

    #[test]
    fn only_gateway_and_unavailable_answers_are_retried() {
        for status in [502, 503, 504] {
            assert!(retryable(StatusCode::from_u16(status).unwrap()));
        }
        for status in [200, 400, 401, 404, 409, 413, 500] {
            assert!(!retryable(StatusCode::from_u16(status).unwrap()));
        }
    }

    #[test]
    fn keys_are_fresh_and_valid_header_values() {
        let (a, b) = (idempotency_key(), idempotency_key());
        assert_ne!(a, b);
        assert!(a.len() <= 255 && a.bytes().all(|b| b.is_ascii_graphic()));
    }
}
