//! Running one `git` child under a watchdog, so that nothing hangs a pipeline.
//!
//! - **Idle timeout.** Network steps run with `--progress`, so git reports on stderr
//!   while bytes move; a child that prints nothing for [`Limits::idle`] (a server that
//!   accepted the connection and went silent, a SYN that is never answered) is killed.
//! - **Deadline.** No child outlives the run's overall deadline.
//! - **Its own process group.** git spawns helpers (`git-remote-http`, `ssh`,
//!   `pack-objects`, `index-pack`); a timeout kills the whole group, not just `git`.
//!   Since a process group no longer receives the terminal's Ctrl-C, every live group
//!   is registered here and [`terminate_all`] kills them: [`cleanup`](super::cleanup) calls it
//!   from the binary's SIGINT/SIGTERM handler.
//! - **Dies with us.** Where util-linux's `setpriv` is installed (Debian, Ubuntu,
//!   Alpine's `util-linux-misc`, and the tagbump image), the group is led by a small
//!   `sh` guard started through `setpriv --pdeathsig TERM`: even a `kill -9` of tagbump,
//!   which no handler sees, makes the guard kill the whole group — git and the helper
//!   that holds the connection — instead of leaving a push running that lands later.

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Time limits for one child.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Kill the child after this long without a byte on stdout or stderr.
    pub idle: Duration,
    /// Kill the child at this instant.
    pub deadline: Option<Instant>,
}

/// What a finished child left behind.
#[derive(Debug)]
pub(crate) struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Why a child was killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Killed {
    /// Silent for [`Limits::idle`].
    Idle(Duration),
    /// The overall deadline passed.
    Deadline,
}

/// A child that finished, or was killed by the watchdog (with what it printed so far).
pub(crate) enum Outcome {
    Finished(Finished),
    Killed { why: Killed, stderr: Vec<u8> },
}

/// Process groups of the children now running, and whether [`terminate_all`] has run
/// (the process is being stopped: no new child may outlive the cleanup).
static LIVE_GROUPS: Mutex<(Vec<u32>, bool)> = Mutex::new((Vec::new(), false));

/// Registers a new child's group. Returns `false` once the process is being stopped:
/// the caller kills the child it just started. The check and the registration hold
/// one lock, so a child is either killed by [`terminate_all`] or refused here, never
/// left running (a retry after the signal would otherwise clone into the directory
/// the handler has just removed).
fn register(pid: u32) -> bool {
    match LIVE_GROUPS.lock() {
        Ok(live) if live.1 => false,
        Ok(mut live) => {
            live.0.push(pid);
            true
        }
        Err(_) => true,
    }
}

/// Whether [`terminate_all`] has run in this process.
pub(crate) fn stopping() -> bool {
    LIVE_GROUPS.lock().map(|live| live.1).unwrap_or(false)
}

fn unregister(pid: u32) {
    if let Ok(mut live) = LIVE_GROUPS.lock() {
        live.0.retain(|p| *p != pid);
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // The group may already be gone; nothing to do then.
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Windows has no process groups to signal: `taskkill /T` ends the child's process tree.
#[cfg(not(unix))]
fn kill_group(pid: u32) {
    let _ = Command::new("taskkill")
        .args(["/F", "/T", "/PID", &pid.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Kills every git child (and its helpers) that is still running. For signal
/// handlers: a run that is being stopped must not leave a push behind that lands later.
/// From then on no new git child runs in this process.
pub fn terminate_all() {
    let groups = LIVE_GROUPS
        .lock()
        .map(|mut live| {
            live.1 = true;
            live.0.clone()
        })
        .unwrap_or_default();
    for pid in &groups {
        kill_group(*pid);
    }
    // SIGKILL is delivered asynchronously: a helper still on a CPU may create one more
    // file in the clone. Wait (bounded) until the groups are gone, so that whoever
    // removes the clone next removes it for good.
    let deadline = Instant::now() + GROUP_EXIT_WAIT;
    while groups.iter().any(|pid| group_alive(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How long [`terminate_all`] waits for the killed groups to be gone.
const GROUP_EXIT_WAIT: Duration = Duration::from_secs(2);

/// Whether a process of the group still exists (a zombie counts until it is reaped).
#[cfg(unix)]
fn group_alive(pid: u32) -> bool {
    i32::try_from(pid)
        .is_ok_and(|pid| nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

/// `taskkill /T` waits for the tree to end.
#[cfg(not(unix))]
fn group_alive(_pid: u32) -> bool {
    false
}

fn stopped() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Interrupted,
        "tagbump is being stopped by a signal: no new git command is started",
    )
}

/// How long to wait for the pipes to close after the child exited.
const PIPE_GRACE: Duration = Duration::from_secs(2);

enum Event {
    Activity,
    Exited(std::io::Result<ExitStatus>),
}

/// `setpriv`, if it is installed and knows `--pdeathsig` (Linux only).
#[cfg(unix)]
fn setpriv() -> Option<&'static std::path::Path> {
    static SETPRIV: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    SETPRIV
        .get_or_init(|| {
            let path = std::env::var_os("PATH")?;
            let found = std::env::split_paths(&path)
                .map(|dir| dir.join("setpriv"))
                .find(|p| p.is_file())?;
            let help = Command::new(&found)
                .arg("--help")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            String::from_utf8_lossy(&help.stdout)
                .contains("--pdeathsig")
                .then_some(found)
        })
        .as_deref()
}

/// Run by `setpriv --pdeathsig TERM` as the leader of the child's process group: starts
/// the command, and when tagbump dies (SIGTERM from the parent-death signal) kills the
/// whole group — git *and* its helpers (`git-remote-http` would otherwise finish a
/// push it already holds).
#[cfg(unix)]
const GROUP_GUARD: &str = "trap 'kill -KILL 0' TERM; \"$0\" \"$@\" & wait \"$!\"";

/// `cmd`, started under [`GROUP_GUARD`] through `setpriv --pdeathsig TERM` where
/// available (see the module docs); `cmd` itself otherwise.
#[cfg(not(unix))]
fn dying_with_parent(cmd: Command) -> Command {
    cmd
}

#[cfg(unix)]
fn dying_with_parent(cmd: Command) -> Command {
    let Some(setpriv) = setpriv() else {
        return cmd;
    };
    let mut wrapped = Command::new(setpriv);
    wrapped
        .args(["--pdeathsig", "TERM", "--", "sh", "-c", GROUP_GUARD])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    wrapped
}

/// Spawns `cmd` (stdin closed, stdout and stderr captured) in its own process group,
/// bound to die with this process where possible, and waits for it under `limits`.
pub(crate) fn run(cmd: Command, limits: Limits) -> std::io::Result<Outcome> {
    let mut cmd = dying_with_parent(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    if stopping() {
        return Err(stopped());
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    if !register(pid) {
        kill_group(pid);
        let _ = child.wait();
        return Err(stopped());
    }
    let (tx, rx) = mpsc::channel::<Event>();
    // Readers append to shared buffers, so that what was read is available even if a
    // helper that escaped the process group (an ssh ControlPersist master) keeps a
    // pipe open after git exited.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let reader = |stream: Option<Box<dyn Read + Send>>| {
        let collected = Arc::new(Mutex::new(Vec::new()));
        let (tx, done_tx, sink) = (tx.clone(), done_tx.clone(), Arc::clone(&collected));
        std::thread::spawn(move || {
            if let Some(mut stream) = stream {
                let mut buf = [0u8; 8192];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    if let Ok(mut sink) = sink.lock() {
                        sink.extend_from_slice(&buf[..n]);
                    }
                    let _ = tx.send(Event::Activity);
                }
            }
            let _ = done_tx.send(());
        });
        collected
    };
    let out_buf = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err_buf = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(Event::Exited(status));
    });

    let mut last_activity = Instant::now();
    let outcome = loop {
        let now = Instant::now();
        let idle_left = limits.idle.saturating_sub(now - last_activity);
        let deadline_left = limits
            .deadline
            .map_or(Duration::MAX, |d| d.saturating_duration_since(now));
        match rx.recv_timeout(idle_left.min(deadline_left)) {
            Ok(Event::Activity) => last_activity = Instant::now(),
            Ok(Event::Exited(status)) => break Ok(status),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let why = if deadline_left <= idle_left {
                    Killed::Deadline
                } else {
                    Killed::Idle(limits.idle)
                };
                break Err(why);
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(Killed::Deadline);
            }
        }
    };
    if outcome.is_err() {
        kill_group(pid);
    }
    // The waiter reaps the child (killed or not); then the pipes close. Helpers that
    // inherited the pipes were killed with the group.
    let _ = waiter.join();
    unregister(pid);
    // Both pipes normally close with the child; wait a little for the last bytes, never
    // for a pipe somebody else holds.
    let grace = Instant::now() + PIPE_GRACE;
    for _ in 0..2 {
        if done_rx
            .recv_timeout(grace.saturating_duration_since(Instant::now()))
            .is_err()
        {
            break;
        }
    }
    let take = |buf: &Arc<Mutex<Vec<u8>>>| buf.lock().map(|b| b.clone()).unwrap_or_default();
    let (stdout, stderr) = (take(&out_buf), take(&err_buf));
    match outcome {
        Ok(status) => Ok(Outcome::Finished(Finished {
            status: status?,
            stdout,
            stderr,
        })),
        Err(why) => Ok(Outcome::Killed { why, stderr }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(idle_ms: u64) -> Limits {
        Limits {
            idle: Duration::from_millis(idle_ms),
            deadline: None,
        }
    }

    #[test]
    fn a_finished_child_reports_its_output() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        match run(cmd, limits(10_000)).expect("spawn") {
            Outcome::Finished(f) => {
                assert_eq!(f.status.code(), Some(3));
                assert_eq!(f.stdout, b"out\n");
                assert_eq!(f.stderr, b"err\n");
            }
            Outcome::Killed { .. } => panic!("killed"),
        }
    }

    #[test]
    fn a_silent_child_and_its_children_are_killed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = dir.path().join("grandchild-survived");
        let mut cmd = Command::new("sh");
        // The grandchild would write the marker after 2 s unless killed with the group.
        cmd.arg("-c").arg(format!(
            "(sleep 2; touch '{}') & echo started >&2; sleep 30",
            marker.display()
        ));
        match run(cmd, limits(300)).expect("spawn") {
            Outcome::Killed { why, stderr } => {
                assert_eq!(why, Killed::Idle(Duration::from_millis(300)));
                assert_eq!(stderr, b"started\n");
            }
            Outcome::Finished(_) => panic!("not killed"),
        }
        std::thread::sleep(Duration::from_millis(2500));
        assert!(!marker.exists(), "the grandchild outlived the timeout");
    }

    #[test]
    fn output_keeps_a_child_alive_until_the_deadline() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "while :; do echo tick >&2; sleep 0.05; done"]);
        let l = Limits {
            idle: Duration::from_millis(500),
            deadline: Some(Instant::now() + Duration::from_millis(400)),
        };
        match run(cmd, l).expect("spawn") {
            Outcome::Killed { why, .. } => assert_eq!(why, Killed::Deadline),
            Outcome::Finished(_) => panic!("not killed"),
        }
    }

    #[test]
    fn a_helper_that_keeps_the_pipe_open_does_not_hold_up_the_result() {
        // Like an ssh ControlPersist master: it leaves the process group and keeps
        // git's stderr open long after git exited.
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(format!(
            "setsid sleep 300 & echo $! > '{}'; echo done",
            pidfile.display()
        ));
        let outcome = run(cmd, limits(60_000)).expect("spawn");
        if let Ok(pid) = std::fs::read_to_string(&pidfile) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        match outcome {
            Outcome::Finished(f) => {
                assert!(f.status.success());
                assert_eq!(f.stdout, b"done\n");
            }
            Outcome::Killed { .. } => panic!("killed"),
        }
    }
}
