//! Holding a push at a chosen step, for tests that must act (e.g. `kill -9` the client)
//! while the push is exactly there — no sleeps, no luck.
//!
//! A [`Hold`] is a directory of marker files shared by the test and the server-side step
//! that waits: the step creates `held` and waits until `release` appears; if `reject`
//! exists by then, it refuses; when it has decided it creates `done`. Every waiting
//! step gives up on its own after [`HOLD_LIMIT`] (then it refuses), so a failed test
//! never leaves a server hanging.
//!
//! Steps that can be held:
//! - the receive-pack ref advertisement of a [`super::git_server::SmartHttpServer`]
//!   (`GET …/info/refs?service=git-receive-pack`, the first request of every push over
//!   smart HTTP, before the client has sent any object):
//!   `SmartHttpServer::hold_next_push_advertisement`;
//! - a `pre-receive` hook of a [`super::git_server::BareRepo`]: the whole pack has
//!   arrived and sits in the quarantine, no ref has moved yet ([`Hold::install_pre_receive`]).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a held step waits for [`Hold::release`] before it refuses on its own.
pub const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// The marker files of one hold (see the module docs).
pub struct Hold {
    dir: TempDir,
}

impl Default for Hold {
    fn default() -> Self {
        Self::new()
    }
}

impl Hold {
    pub fn new() -> Hold {
        Hold {
            dir: tempfile::Builder::new()
                .prefix("tagbump-hold-")
                .tempdir()
                .expect("hold dir"),
        }
    }

    fn marker(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// True once the held step has been reached.
    pub fn is_held(&self) -> bool {
        self.marker("held").exists()
    }

    /// True once the held step has decided (released, rejected, or gave up).
    pub fn is_done(&self) -> bool {
        self.marker("done").exists()
    }

    /// Waits until the step is reached; panics after `limit`, or early if `gave_up`
    /// says the run ended without reaching it.
    pub fn wait_held(&self, limit: Duration, mut gave_up: impl FnMut() -> bool) {
        let start = Instant::now();
        while !self.is_held() {
            assert!(!gave_up(), "the run ended before it reached the held step");
            assert!(
                start.elapsed() < limit,
                "the held step was not reached within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Lets the held step go on (and succeed).
    pub fn release(&self) {
        std::fs::write(self.marker("release"), "").expect("release marker");
    }

    /// Lets the held step go on and refuse.
    pub fn reject(&self) {
        std::fs::write(self.marker("reject"), "").expect("reject marker");
        self.release();
    }

    /// For a server thread: marks the step as reached and waits for the test's verdict;
    /// returns `true` if released, `false` if rejected or never released in time.
    pub fn wait_here(&self) -> bool {
        let _ = std::fs::write(self.marker("held"), "");
        let start = Instant::now();
        let released = loop {
            if self.marker("release").exists() {
                break !self.marker("reject").exists();
            }
            if start.elapsed() > HOLD_LIMIT {
                break false;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let _ = std::fs::write(self.marker("done"), "");
        released
    }

    /// Installs a `pre-receive` hook in the bare repository at `repo` (its git dir)
    /// that waits on this hold: it runs once the whole pack has been received (into
    /// git's quarantine) and before any ref is updated; released, the push completes;
    /// rejected (or never released within [`HOLD_LIMIT`]), the push is refused and the
    /// quarantined objects are dropped.
    pub fn install_pre_receive(&self, repo: &Path) {
        let hook = repo.join("hooks").join("pre-receive");
        std::fs::create_dir_all(hook.parent().expect("hooks dir")).expect("mkdir hooks");
        let dir = self.dir.path().display().to_string();
        assert!(!dir.contains('\''), "hold dir without quotes");
        let rounds = HOLD_LIMIT.as_millis() / 50;
        std::fs::write(
            &hook,
            format!(
                "#!/bin/sh\n\
                 d='{dir}'\n\
                 cat >/dev/null\n\
                 : > \"$d/held\"\n\
                 i=0\n\
                 while [ ! -e \"$d/release\" ]; do\n\
                 \x20 i=$((i+1))\n\
                 \x20 if [ \"$i\" -gt {rounds} ]; then echo 'push held and never released' >&2; : > \"$d/done\"; exit 1; fi\n\
                 \x20 sleep 0.05\n\
                 done\n\
                 if [ -e \"$d/reject\" ]; then echo 'push held, then rejected' >&2; : > \"$d/done\"; exit 1; fi\n\
                 : > \"$d/done\"\n\
                 exit 0\n"
            ),
        )
        .expect("write hook");
        use std::os::unix::fs::PermissionsExt;
        let mut perms = std::fs::metadata(&hook).expect("metadata").permissions();
        perms.set_mode(0o755);
        std::fs::set_permissions(&hook, perms).expect("chmod");
    }
}
