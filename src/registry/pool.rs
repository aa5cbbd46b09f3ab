//! The bounded pool every request to one registry goes through: at most `limit`
//! requests in flight (manifests, config blobs, referrers, tokens alike), and a
//! pause of the whole pool for a host that answered `429 Too Many Requests` with a
//! `Retry-After`, so that the other requests wait with it instead of hammering on.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where the registry client's log lines go (rate-limit pauses, a rate limit running
/// low); the CLI prints them on stderr.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

/// Requests in flight at once by default.
pub const DEFAULT_CONCURRENCY: usize = 8;
/// The most requests in flight the client allows.
pub const MAX_CONCURRENCY: usize = 16;

pub(crate) struct Pool {
    limit: usize,
    state: Mutex<State>,
    changed: Condvar,
    log: Logger,
}

#[derive(Default)]
struct State {
    in_flight: usize,
    #[cfg_attr(not(test), allow(dead_code))]
    peak: usize,
    /// Hosts paused by a `429`, until when.
    paused: HashMap<String, Instant>,
    #[cfg_attr(not(any(test, feature = "test-seams")), allow(dead_code))]
    pauses: u32,
}

/// A place in the pool; given back when dropped.
pub(crate) struct Permit<'a> {
    pool: &'a Pool,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        state.in_flight -= 1;
        drop(state);
        self.pool.changed.notify_all();
    }
}

impl Pool {
    /// A pool of `limit` places (clamped to 1 ..= [`MAX_CONCURRENCY`]).
    pub(crate) fn new(limit: usize, log: Logger) -> Pool {
        Pool {
            limit: limit.clamp(1, MAX_CONCURRENCY),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            log,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The most requests that were in flight at once (for tests).
    #[cfg(test)]
    pub(crate) fn peak(&self) -> usize {
        self.lock().peak
    }

    /// Pauses the pool started so far (for tests).
    #[cfg_attr(not(any(test, feature = "test-seams")), allow(dead_code))]
    pub(crate) fn pauses(&self) -> u32 {
        self.lock().pauses
    }

    pub(crate) fn log(&self, line: &str) {
        (self.log)(line);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters only: keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a place for a request to `host`, and for a pause of `host` to end.
    /// `Err(until)`: the pause lasts past `deadline`.
    pub(crate) fn acquire(&self, host: &str, deadline: Instant) -> Result<Permit<'_>, Instant> {
        let mut state = self.lock();
        loop {
            let now = Instant::now();
            if let Some(&until) = state.paused.get(host).filter(|u| **u > now) {
                if until >= deadline {
                    return Err(until);
                }
                state = self
                    .changed
                    .wait_timeout(state, until - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            if state.in_flight < self.limit {
                state.in_flight += 1;
                state.peak = state.peak.max(state.in_flight);
                return Ok(Permit { pool: self });
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// `host` answered `429` asking to wait `wait`: pauses every request to it. A
    /// new pause is logged once; a `429` during a pause only extends it.
    pub(crate) fn pause(&self, host: &str, wait: Duration) {
        let now = Instant::now();
        let until = now + wait;
        let mut state = self.lock();
        let ongoing = state.paused.get(host).is_some_and(|u| *u > now);
        let entry = state.paused.entry(host.to_string()).or_insert(until);
        *entry = (*entry).max(until);
        if !ongoing {
            state.pauses += 1;
        }
        drop(state);
        if !ongoing {
            self.log(&format!(
                "registry {host}: rate limited (429 Too Many Requests); pausing all requests to it for {}s as Retry-After asks",
                wait.as_secs_f32()
            ));
        }
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn at_most_limit_in_flight_and_a_pause_logged_once() {
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = lines.clone();
        let pool = Pool::new(
            3,
            Arc::new(move |l| sink.lock().unwrap().push(l.to_string())),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let busy = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    let _p = pool.acquire("r.example", deadline).expect("permit");
                    assert!(busy.fetch_add(1, Ordering::SeqCst) < 3);
                    std::thread::sleep(Duration::from_millis(5));
                    busy.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        assert_eq!(pool.peak(), 3);
        pool.pause("r.example", Duration::from_millis(50));
        pool.pause("r.example", Duration::from_millis(60));
        let started = Instant::now();
        drop(
            pool.acquire("r.example", deadline)
                .expect("after the pause"),
        );
        assert!(started.elapsed() >= Duration::from_millis(40));
        drop(pool.acquire("other.example", deadline).expect("not paused"));
        assert_eq!(lines.lock().unwrap().len(), 1);
        assert_eq!(pool.pauses(), 1);
        pool.pause("r.example", Duration::from_secs(60));
        assert!(pool
            .acquire("r.example", Instant::now() + Duration::from_secs(1))
            .is_err());
    }
}
