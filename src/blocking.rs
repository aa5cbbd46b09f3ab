//! How the blocking clients stay usable from async code.
//!
//! tagbump's network clients (GitHub through octocrab, GitLab and the registry through
//! `reqwest::blocking`, the GitHub App token exchange) are **blocking**: a call returns
//! when the answer is there. They never start, block on or drop a tokio runtime on a
//! thread that is already inside one. When a call is made from inside a runtime (a
//! `#[tokio::main]` program, a task), the blocking part runs on a short-lived thread
//! of its own and the caller waits for it; outside a runtime it runs where it is
//! called. Nothing panics with "Cannot start a runtime from within a runtime".
//!
//! From async code the calls still block the calling worker thread while they wait,
//! as any blocking call does: wrap them in `tokio::task::spawn_blocking` to keep the
//! executor free.

/// Whether this thread is inside a tokio runtime (where blocking on another runtime
/// would panic).
pub(crate) fn in_runtime() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Runs `work` outside any tokio runtime: on this thread when it is not in one,
/// else on a thread of its own, waiting for it. A panic in `work` is passed on.
pub(crate) fn outside_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    if !in_runtime() {
        return work();
    }
    std::thread::scope(|s| match s.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_runs_outside_a_runtime_even_when_called_from_one() {
        assert!(!outside_runtime(in_runtime));
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            assert!(in_runtime());
            assert!(!outside_runtime(in_runtime));
        });
    }
}
