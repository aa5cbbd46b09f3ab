//! The one retry loop every way of landing a change runs: an attempt either finishes
//! or lost a race (or the connection) and is tried again on the new tip, with
//! jittered exponential backoff, until the time budget of [`RetryPolicy`] is spent.
//!
//! It lives here, below both `git` and `forge`, so that neither has to reach up into
//! `land` for it; `land` re-exports it.

use std::time::{Duration, Instant};

use super::{Backoff, RetryPolicy};

/// How one attempt ended, short of an error.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Finished: landed, nothing to change, or a dry run.
    Done(T),
    /// Lost a race or the connection: try again on the new tip. The text says why.
    Retry(String),
}

/// One way of landing a change, attempt by attempt.
pub trait Attempts {
    /// What a finished run reports.
    type Output;
    /// What can go wrong.
    type Error;
    /// Runs attempt number `attempt` (1 for the first).
    ///
    /// # Errors
    ///
    /// Anything that another attempt would not fix (a rejected token, a hook that
    /// refuses the push, a timeout, an edit that fails).
    fn attempt(
        &mut self,
        attempt: u32,
        log: &mut dyn FnMut(&str),
    ) -> Result<Attempt<Self::Output>, Self::Error>;
    /// The error for a retry budget spent after `attempts` attempts in `elapsed`,
    /// `last` being the last reason to retry.
    fn gave_up(&self, attempts: u32, elapsed: Duration, last: String) -> Self::Error;
}

/// Runs `attempts` until one finishes, retrying lost races and dropped connections
/// within `policy` and before `deadline`.
///
/// # Errors
///
/// The first error an attempt returns, or [`Attempts::gave_up`] when the budget is
/// spent.
pub fn with_retries<A: Attempts>(
    attempts: &mut A,
    policy: &RetryPolicy,
    deadline: Option<Instant>,
    log: &mut dyn FnMut(&str),
) -> Result<A::Output, A::Error> {
    let mut backoff = Backoff::start(policy, deadline);
    loop {
        let attempt = backoff.attempt();
        let reason = match attempts.attempt(attempt, log)? {
            Attempt::Done(output) => return Ok(output),
            Attempt::Retry(reason) => reason,
        };
        match backoff.next_delay() {
            Some(delay) => {
                log(&format!(
                    "attempt {attempt}: {reason}; trying again on the new tip in {} ms ({} s of the {} s retry budget used)",
                    delay.as_millis(),
                    backoff.elapsed().as_secs(),
                    policy.retry_for.as_secs()
                ));
                std::thread::sleep(delay);
            }
            None => return Err(attempts.gave_up(attempt, backoff.elapsed(), reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loses `losses` races, then lands.
    struct Racy {
        losses: u32,
    }

    impl Attempts for Racy {
        type Output = u32;
        type Error = String;
        fn attempt(
            &mut self,
            attempt: u32,
            _: &mut dyn FnMut(&str),
        ) -> Result<Attempt<u32>, String> {
            if attempt <= self.losses {
                Ok(Attempt::Retry("the branch moved".into()))
            } else {
                Ok(Attempt::Done(attempt))
            }
        }
        fn gave_up(&self, attempts: u32, _: Duration, last: String) -> String {
            format!("gave up after {attempts}: {last}")
        }
    }

    fn quick(max_attempts: Option<u32>) -> RetryPolicy {
        RetryPolicy {
            retry_for: Duration::from_secs(60),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_attempts,
        }
    }

    #[test]
    fn lost_races_are_retried_until_one_lands() {
        let mut lines = Vec::new();
        let out = with_retries(&mut Racy { losses: 3 }, &quick(None), None, &mut |l| {
            lines.push(l.to_string())
        });
        assert_eq!(out, Ok(4));
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("attempt 1: the branch moved; trying again"));
    }

    #[test]
    fn a_spent_budget_is_the_landers_own_error() {
        let out = with_retries(&mut Racy { losses: 9 }, &quick(Some(3)), None, &mut |_| {});
        assert_eq!(out, Err("gave up after 3: the branch moved".to_string()));
    }
}
