//! How long to keep trying when another writer landed first, and how long any one
//! step may wait on the network: the budget every way of landing a change shares.
//!
//! Many pipelines bump the same config branch at the same moment; a lost race is the
//! normal case. So the budget is *time*, not a count: [`RetryPolicy::retry_for`]
//! (default 3 minutes) of jittered exponential backoff, capped per delay, inside the
//! run's overall [`Timeouts::overall`] deadline (default 10 minutes). A count
//! ([`RetryPolicy::max_attempts`]) can be added on top, for tests and for users who
//! want to fail fast. [`with_retries`] is the loop that spends the budget, attempt by
//! attempt ([`Attempts`]), for git and the forge APIs alike.
//!
//! ```
//! use std::time::Duration;
//! use tagbump::retry::{Backoff, RetryPolicy};
//!
//! let policy = RetryPolicy::default();
//! assert_eq!(policy.retry_for, Duration::from_secs(180));
//! let mut backoff = Backoff::start(&policy, None);
//! let delay = backoff.next_delay().expect("the first retry is always within budget");
//! assert!(delay <= policy.max_delay);
//! ```

mod attempts;

use std::time::{Duration, Instant};

pub use attempts::{with_retries, Attempt, Attempts};

/// How patiently to retry when the branch moved under us, or when the connection
/// dropped before anything was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Keep retrying for this long after the first attempt started.
    pub retry_for: Duration,
    /// Upper bound of the first delay; doubled after each attempt.
    pub base_delay: Duration,
    /// Upper bound of any single delay.
    pub max_delay: Duration,
    /// Optional cap on attempts (including the first); `None`: only time limits.
    pub max_attempts: Option<u32>,
}

impl Default for RetryPolicy {
    /// Retry for 3 minutes; delays drawn uniformly from `[0, min(8 s, 250 ms × 2ⁿ)]`
    /// ("full jitter"), no attempt cap.
    fn default() -> Self {
        RetryPolicy {
            retry_for: Duration::from_secs(180),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_attempts: None,
        }
    }
}

/// The retry clock of one run: counts attempts and says how long to wait before the
/// next one, or that the budget is spent.
#[derive(Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    started: Instant,
    deadline: Option<Instant>,
    attempt: u32,
}

impl Backoff {
    /// Starts the clock now. `deadline` is the run's overall deadline, if any: no retry
    /// is scheduled past it.
    pub fn start(policy: &RetryPolicy, deadline: Option<Instant>) -> Backoff {
        Backoff {
            policy: policy.clone(),
            started: Instant::now(),
            deadline,
            attempt: 1,
        }
    }

    /// The attempt now running (1 for the first).
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Time since the first attempt started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The delay before the next attempt, and counts that attempt; `None` when the
    /// next attempt would start after the retry budget or the deadline, or would
    /// exceed [`RetryPolicy::max_attempts`].
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempt >= max)
        {
            return None;
        }
        let delay = self.draw();
        let resume = Instant::now() + delay;
        if resume > self.started + self.policy.retry_for {
            return None;
        }
        if self.deadline.is_some_and(|d| resume >= d) {
            return None;
        }
        self.attempt += 1;
        Some(delay)
    }

    /// "Full jitter": uniform in `[0, min(max_delay, base × 2^(attempt-1))]`, which
    /// spreads concurrent writers best (AWS Architecture Blog, "Exponential Backoff
    /// and Jitter"). At least 10 ms, so a retry never spins.
    fn draw(&self) -> Duration {
        let exp = self.attempt.saturating_sub(1).min(20);
        let cap = self
            .policy
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.policy.max_delay);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX).max(10);
        Duration::from_millis(fastrand::u64(10..=cap_ms))
    }
}

/// Network time limits of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// The whole run, retries included.
    pub overall: Duration,
    /// A network step (clone, fetch, push, API request) that receives nothing for
    /// this long is abandoned. Also the connect timeout.
    pub idle: Duration,
}

impl Default for Timeouts {
    /// 10 minutes overall; 60 s without a byte from the server.
    fn default() -> Self {
        Timeouts {
            overall: Duration::from_secs(600),
            idle: Duration::from_secs(60),
        }
    }
}

impl Timeouts {
    /// The overall deadline of a run starting now.
    pub fn deadline_from_now(&self) -> Instant {
        Instant::now() + self.overall
    }
}

/// A duration [`parse_duration`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: use e.g. 90s, 500ms, 3m, 1h or 1m30s")]
pub struct DurationError {
    /// The text as given.
    pub text: String,
}

/// Parses a duration as users write it on a command line: `90` or `90s` (seconds),
/// `500ms`, `3m`, `1h`, or a sum such as `1m30s`.
///
/// # Errors
///
/// [`DurationError`], whose message names the accepted forms.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError {
        text: text.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<u64>().map(Duration::from_secs).map_err(|_| bad());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(part);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(retry_for_ms: u64, max_attempts: Option<u32>) -> RetryPolicy {
        RetryPolicy {
            retry_for: Duration::from_millis(retry_for_ms),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(400),
            max_attempts,
        }
    }

    #[test]
    fn delays_grow_exponentially_up_to_the_cap() {
        let mut b = Backoff::start(&policy(3_600_000, None), None);
        let caps = [100, 200, 400, 400, 400];
        for cap in caps {
            let d = b.next_delay().expect("within budget");
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(cap));
        }
        assert_eq!(b.attempt(), 6);
    }

    #[test]
    fn the_budget_is_time_not_a_count() {
        let mut b = Backoff::start(&policy(0, None), None);
        assert_eq!(b.next_delay(), None, "no time left: no retry");
        let mut b = Backoff::start(&policy(3_600_000, None), None);
        assert!((0..1000).all(|_| b.next_delay().is_some()));
    }

    #[test]
    fn an_attempt_cap_and_the_deadline_also_stop_retries() {
        let mut b = Backoff::start(&policy(3_600_000, Some(3)), None);
        assert!(b.next_delay().is_some());
        assert!(b.next_delay().is_some());
        assert_eq!(b.next_delay(), None);
        let mut b = Backoff::start(&policy(3_600_000, None), Some(Instant::now()));
        assert_eq!(b.next_delay(), None);
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = RetryPolicy::default();
        assert_eq!(p.retry_for, Duration::from_secs(180));
        assert_eq!(p.max_attempts, None);
        let t = Timeouts::default();
        assert_eq!(t.overall, Duration::from_secs(600));
        assert_eq!(t.idle, Duration::from_secs(60));
    }

    #[test]
    fn durations_are_read_as_users_write_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        for bad in ["", "s", "3 minutes", "1.5m", "-1s", "3d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
