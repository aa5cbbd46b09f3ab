//! Retrying forge calls on rate limits and server errors, within a policy and a deadline.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{ForgeError, Logger, RetryPolicy, Sleeper};

/// Why one attempt failed, and whether it is worth another.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Rate limited; `wait` is what the forge asked for, `reset_at` the Unix reset time.
    RateLimited {
        wait: Option<Duration>,
        reset_at: Option<u64>,
    },
    /// A GitHub secondary rate limit (403 or 429 whose message says so). `wait` is
    /// what the forge asked for (`retry-after`, or the reset when
    /// `x-ratelimit-remaining` is 0); without it the [`Retrier`] waits its
    /// `secondary_wait`, doubled on each further one.
    SecondaryRateLimited {
        wait: Option<Duration>,
        reset_at: Option<u64>,
        message: String,
    },
    /// A 5xx answer.
    Server { status: u16, message: String },
    /// No answer at all.
    Transport { message: String },
    /// Not worth retrying.
    Fatal(ForgeError),
}

/// Runs attempts according to a [`RetryPolicy`], sleeping with a [`Sleeper`].
#[derive(Clone)]
pub(crate) struct Retrier {
    pub(crate) policy: RetryPolicy,
    pub(crate) sleeper: Sleeper,
    pub(crate) api_base: String,
    /// No retry is started that would wait past this instant.
    pub(crate) deadline: Option<Instant>,
    /// The first wait after a secondary rate limit that named no time (GitHub: "at
    /// least one minute"); doubled for each further one in the same call.
    pub(crate) secondary_wait: Duration,
    /// Where waits for secondary rate limits are announced.
    pub(crate) log: Logger,
}

impl Retrier {
    /// Calls `attempt` until it succeeds, fails fatally or the policy is exhausted.
    pub(crate) fn run<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, ForgeError> {
        let max = self.policy.max_attempts.max(1);
        let mut n = 1;
        let mut secondary = 0u32;
        loop {
            let failure = match attempt() {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(failure) => failure,
            };
            let backoff = self.backoff(n);
            let out_of_time = |wait: Duration| {
                self.deadline
                    .is_some_and(|d| Instant::now().checked_add(wait).is_none_or(|t| t >= d))
            };
            let wait = match failure {
                Failure::RateLimited { wait, reset_at } => {
                    let wait = wait.unwrap_or(backoff);
                    if n >= max || wait > self.policy.max_wait || out_of_time(wait) {
                        return Err(ForgeError::RateLimited {
                            api_base: self.api_base.clone(),
                            reset: describe_reset(wait, reset_at, n, self.policy.max_wait),
                            reset_at,
                        });
                    }
                    wait
                }
                Failure::SecondaryRateLimited {
                    wait,
                    reset_at,
                    message,
                } => {
                    secondary += 1;
                    let named = wait.is_some();
                    let wait = wait.unwrap_or_else(|| {
                        self.secondary_wait
                            .saturating_mul(1 << secondary.saturating_sub(1).min(16))
                    });
                    if n >= max || out_of_time(wait) {
                        let why = if n >= max {
                            format!("still limited after {n} attempt(s)")
                        } else {
                            format!(
                                "waiting another {}s would pass the run's deadline",
                                wait.as_secs()
                            )
                        };
                        return Err(ForgeError::RateLimited {
                            api_base: self.api_base.clone(),
                            reset: format!("secondary rate limit ({message}); {why}"),
                            reset_at,
                        });
                    }
                    (self.log)(&format!(
                        "secondary rate limit at {}: waiting {}s{} before attempt {} ({message})",
                        self.api_base,
                        wait.as_secs_f64(),
                        if named { " as the forge asked" } else { "" },
                        n + 1
                    ));
                    wait
                }
                Failure::Server { status, message } => {
                    if n >= max || out_of_time(backoff) {
                        return Err(ForgeError::Server {
                            api_base: self.api_base.clone(),
                            status,
                            attempts: n,
                            message,
                        });
                    }
                    backoff
                }
                Failure::Transport { message } => {
                    if n >= max || out_of_time(backoff) {
                        return Err(ForgeError::Transport {
                            api_base: self.api_base.clone(),
                            attempts: n,
                            message,
                        });
                    }
                    backoff
                }
                Failure::Fatal(e) => return Err(e),
            };
            (self.sleeper)(wait);
            n += 1;
        }
    }

    /// 1 s, 2 s, 4 s, … capped by `max_wait`.
    fn backoff(&self, attempt: u32) -> Duration {
        let secs = 1u64 << attempt.saturating_sub(1).min(16);
        Duration::from_secs(secs).min(self.policy.max_wait)
    }
}

fn describe_reset(
    wait: Duration,
    reset_at: Option<u64>,
    attempts: u32,
    max_wait: Duration,
) -> String {
    let when = match reset_at {
        Some(t) => format!(
            "the limit resets at unix time {t} (in about {}s)",
            wait.as_secs()
        ),
        None => format!("the forge asked to retry after {}s", wait.as_secs()),
    };
    if wait > max_wait {
        format!(
            "{when}, longer than the allowed wait of {}s",
            max_wait.as_secs()
        )
    } else {
        format!("{when}; still limited after {attempts} attempt(s)")
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long to wait for a reset at Unix time `reset_at` (at least one second).
pub(crate) fn wait_until(reset_at: u64) -> Duration {
    Duration::from_secs(reset_at.saturating_sub(now_unix()).max(1))
}

#[cfg(test)]
mod tests {
    use super::super::Timeouts;
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn retrier_gives_up_on_rate_limits_longer_than_max_wait_without_sleeping() {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: None,
            secondary_wait: Duration::from_secs(60),
            log: Arc::new(|_| {}),
        };
        let err = r
            .run::<()>(|| {
                Err(Failure::RateLimited {
                    wait: Some(Duration::from_secs(3600)),
                    reset_at: Some(42),
                })
            })
            .unwrap_err();
        assert!(matches!(
            err,
            ForgeError::RateLimited {
                reset_at: Some(42),
                ..
            }
        ));
        assert!(slept.lock().unwrap().is_empty());
    }

    #[test]
    fn retrier_backs_off_exponentially_on_server_errors() {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy {
                max_attempts: 4,
                max_wait: Duration::from_secs(3),
            },
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: None,
            secondary_wait: Duration::from_secs(60),
            log: Arc::new(|_| {}),
        };
        let mut calls = 0;
        let err = r
            .run::<()>(|| {
                calls += 1;
                Err(Failure::Server {
                    status: 503,
                    message: "busy".into(),
                })
            })
            .unwrap_err();
        assert_eq!(calls, 4);
        assert!(matches!(
            err,
            ForgeError::Server {
                status: 503,
                attempts: 4,
                ..
            }
        ));
        let secs: Vec<u64> = slept.lock().unwrap().iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [1, 2, 3]);
    }

    #[test]
    fn a_passed_deadline_cuts_requests_short_and_stops_retries() {
        let t = Timeouts {
            deadline: Some(Instant::now()),
            ..Timeouts::default()
        };
        assert_eq!(t.per_request(), Duration::from_millis(1));
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d)),
            api_base: "https://api.example".into(),
            deadline: Some(Instant::now() + Duration::from_millis(500)),
            secondary_wait: Duration::from_secs(60),
            log: Arc::new(|_| {}),
        };
        let mut calls = 0;
        let err = r
            .run::<()>(|| {
                calls += 1;
                Err(Failure::Server {
                    status: 502,
                    message: "busy".into(),
                })
            })
            .unwrap_err();
        assert_eq!(calls, 1, "the 1 s backoff would pass the deadline");
        assert!(matches!(err, ForgeError::Server { attempts: 1, .. }));
        assert!(slept.lock().unwrap().is_empty());
    }

    /// GitHub, "Rate limits for the REST API" › "Exceeding the rate limit": without
    /// `retry-after`, wait at least a minute, then exponentially longer; with it,
    /// exactly what it says.
    #[test]
    fn secondary_rate_limits_wait_a_minute_then_double_or_as_asked() {
        let slept = Arc::new(Mutex::new(Vec::new()));
        let log = slept.clone();
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let logged = lines.clone();
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(move |d| log.lock().unwrap().push(d.as_secs())),
            api_base: "https://api.example".into(),
            deadline: None,
            secondary_wait: Duration::from_secs(60),
            log: Arc::new(move |l| logged.lock().unwrap().push(l.to_string())),
        };
        let mut calls = 0;
        let answers = [None, None, Some(Duration::from_secs(7))];
        let value = r
            .run(|| {
                calls += 1;
                match answers.get(calls - 1) {
                    Some(wait) => Err(Failure::SecondaryRateLimited {
                        wait: *wait,
                        reset_at: None,
                        message: "You have exceeded a secondary rate limit".into(),
                    }),
                    None => Ok(calls),
                }
            })
            .unwrap();
        assert_eq!(value, 4);
        assert_eq!(*slept.lock().unwrap(), [60, 120, 7]);
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].starts_with(
                "secondary rate limit at https://api.example: waiting 60s before attempt 2"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[2].contains("waiting 7s as the forge asked"),
            "{}",
            lines[2]
        );
    }

    #[test]
    fn a_secondary_rate_limit_wait_past_the_deadline_is_an_error_naming_it() {
        let r = Retrier {
            policy: RetryPolicy::default(),
            sleeper: Arc::new(|_| panic!("no wait may start")),
            api_base: "https://api.example".into(),
            deadline: Some(Instant::now() + Duration::from_secs(30)),
            secondary_wait: Duration::from_secs(60),
            log: Arc::new(|_| {}),
        };
        let err = r
            .run::<()>(|| {
                Err(Failure::SecondaryRateLimited {
                    wait: None,
                    reset_at: None,
                    message: "You have exceeded a secondary rate limit".into(),
                })
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rate limited by https://api.example: secondary rate limit (You have exceeded a secondary rate limit); waiting another 60s would pass the run's deadline"
        );
    }
}
