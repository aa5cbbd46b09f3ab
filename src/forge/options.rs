//! How hard and how long forge calls may try: retry policy, timeouts, deadline.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How hard to try when the forge rate-limits or fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per API call, including the first one (0 is treated as 1).
    pub max_attempts: u32,
    /// Longest single wait. A rate limit that resets later than this is
    /// reported as [`ForgeError::RateLimited`](super::ForgeError::RateLimited) instead of waited for.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, at most 60 s of waiting before each retry.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_wait: Duration::from_secs(60),
        }
    }
}

/// The function used to wait between attempts. [`connect`](super::connect) uses
/// [`std::thread::sleep`]; tests pass one that records the requested waits.
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// Where log lines (warnings) go; the CLI prints them on stderr.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// How long any forge request may take.
///
/// A request that exceeds [`Timeouts::connect`] or [`Timeouts::read`] fails with
/// [`ForgeError::Timeout`](super::ForgeError::Timeout) and is not retried; with the defaults, a server that
/// accepts the connection and never answers ends the call after about 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait to establish the TCP (and TLS) connection. Default: 10 s.
    pub connect: Duration,
    /// Longest wait for the answer to one request once connected (GitHub: for any
    /// single read of the response, and for the whole exchange at most `connect +
    /// read`; GitLab: for the whole response). Default: 30 s.
    pub read: Duration,
    /// Overall deadline (e.g. from the CLI's run timeout): no retry is started
    /// that would wait past it, and each request is cut short at it. Default: none.
    pub deadline: Option<Instant>,
}

impl Timeouts {
    /// The default connect timeout: 10 s.
    pub const DEFAULT_CONNECT: Duration = Duration::from_secs(10);
    /// The default read timeout: 30 s.
    pub const DEFAULT_READ: Duration = Duration::from_secs(30);

    /// Time left before [`Timeouts::deadline`], if there is one.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// The longest one whole request may take: `connect + read`, cut to the deadline
    /// (at least 1 ms, so that a passed deadline fails the request at once).
    pub(crate) fn per_request(&self) -> Duration {
        let full = self.connect.saturating_add(self.read);
        self.remaining()
            .map_or(full, |left| full.min(left))
            .max(Duration::from_millis(1))
    }
}

impl Default for Timeouts {
    /// Connect 10 s, read 30 s, no deadline.
    fn default() -> Self {
        Timeouts {
            connect: Self::DEFAULT_CONNECT,
            read: Self::DEFAULT_READ,
            deadline: None,
        }
    }
}

/// Everything [`connect_with`](super::connect_with) needs besides the forge, the API URL and the token.
#[derive(Clone)]
pub struct ConnectOptions {
    /// Retries on rate limits, server errors and refused connections.
    pub retry: RetryPolicy,
    /// Connect / read timeouts and the overall deadline.
    pub timeouts: Timeouts,
    /// Waits between attempts ([`std::thread::sleep`] by default).
    pub sleeper: Sleeper,
    /// Receives warnings, e.g. about a token sent over plain `http://`, and waits
    /// for secondary rate limits (discarded by default).
    pub log: Logger,
    /// The first wait after a GitHub secondary rate limit that names no time
    /// (`retry-after`): GitHub asks for at least one minute, then exponentially longer
    /// waits. Default: 60 s. All such waits stay within [`Timeouts::deadline`] and
    /// [`RetryPolicy::max_attempts`], not [`RetryPolicy::max_wait`].
    pub secondary_rate_limit_wait: Duration,
    /// The token is a GitLab CI/CD job token (`CI_JOB_TOKEN`): GitLab reads it from
    /// the `JOB-TOKEN` header, not `PRIVATE-TOKEN` ("GitLab CI/CD job token" in GitLab's
    /// docs), and it cannot read `/user`, so [`connect`](super::connect) does not check
    /// it there. It cannot create, edit or merge merge requests either. Default: false.
    pub gitlab_job_token: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            sleeper: Arc::new(std::thread::sleep),
            log: Arc::new(|_| {}),
            secondary_rate_limit_wait: Self::SECONDARY_RATE_LIMIT_WAIT,
            gitlab_job_token: false,
        }
    }
}

impl ConnectOptions {
    /// The default [`ConnectOptions::secondary_rate_limit_wait`]: one minute.
    pub const SECONDARY_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("secondary_rate_limit_wait", &self.secondary_rate_limit_wait)
            .field("gitlab_job_token", &self.gitlab_job_token)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_timeouts_are_the_documented_ones() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Duration::from_secs(10));
        assert_eq!(t.read, Duration::from_secs(30));
        assert_eq!(t.deadline, None);
        assert_eq!(t.per_request(), Duration::from_secs(40));
        let o = ConnectOptions::default();
        assert_eq!(o.timeouts, t);
        assert_eq!(o.retry, RetryPolicy::default());
    }
}
