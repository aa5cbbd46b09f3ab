//! A stopped run stops everything it started: after SIGTERM / SIGINT (a cancelled CI
//! job) tagbump kills its git children and removes its temporary clone; after `kill -9`,
//! which nothing can catch, git dies with it (parent-death signal), so no push keeps
//! running and lands after the job was reported failed. Either way the remote holds
//! nothing new or the complete commit: the kill -9 test holds the push at a known step
//! on the server (`support::push_hold`) and kills while it is held, so each outcome is
//! produced on purpose, not by timing.

use crate::support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::cli::{finished, home, tagbump};
use support::forge_server::SilentServer;
use support::git_server::{self, BareRepo, SmartHttpServer};
use support::push_hold::Hold;

const TOKEN: &str = "tok-signals-3b7e";

/// Pids of the live (not zombie) processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| stat_of(*p).is_some_and(|(state, ppid)| ppid == pid && state != 'Z'))
        .collect()
}

/// `(state, ppid)` from `/proc/<pid>/stat`; `None` once the process is gone.
fn stat_of(pid: u32) -> Option<(char, u32)> {
    stat_fields(pid).map(|(state, ppid, _)| (state, ppid))
}

/// `(state, ppid, pgrp)` from `/proc/<pid>/stat`.
fn stat_fields(pid: u32) -> Option<(char, u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid pgrp …": comm may contain spaces, so split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, ppid, pgrp))
}

/// Live processes of the process group `pgid` (git runs each child in its own group,
/// led by the child: git and every helper it started).
fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| stat_fields(*p).is_some_and(|(state, _, g)| g == pgid && state != 'Z'))
        .collect()
}

fn alive(pid: u32) -> bool {
    stat_of(pid).is_some_and(|(state, _)| state != 'Z')
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// tagbump cloning from a server that never answers: it sits in `git clone`.
fn stuck_in_clone(home: &Path, tmp: &Path, silent: &SilentServer) -> (Child, u32) {
    let accepted_before = silent.accepted();
    let port = silent
        .host()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let child = tagbump(home)
        .args(["set", "values.yaml", "image.tag=v2", "--repo"])
        .arg(format!("git://127.0.0.1:{port}/config.git"))
        .env("TMPDIR", tmp)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tagbump starts");
    let mut git = 0;
    wait_for("tagbump to start git", Duration::from_secs(20), || {
        git = children_of(child.id()).into_iter().next().unwrap_or(0);
        git != 0 && silent.accepted() > accepted_before
    });
    (child, git)
}

#[test]
fn sigterm_kills_git_and_removes_the_temporary_clone() {
    git_server::init();
    let silent = SilentServer::start();
    let home = home();
    let tmp = tempfile::tempdir().expect("tmp");
    for sig in ["-TERM", "-INT"] {
        let (mut child, git) = stuck_in_clone(home.path(), tmp.path(), &silent);
        assert!(
            std::fs::read_dir(tmp.path())
                .expect("tmp")
                .flatten()
                .any(|e| e
                    .file_name()
                    .to_string_lossy()
                    .starts_with("tagbump-clone-")),
            "the temporary clone exists while tagbump runs"
        );
        signal(&child, sig);
        let status = child.wait().expect("tagbump exits");
        let expected = if sig == "-TERM" { 143 } else { 130 };
        assert_eq!(status.code(), Some(expected), "{sig}");
        wait_for("git to die", Duration::from_secs(5), || !alive(git));
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("tmp")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert!(left.is_empty(), "{sig}: left behind {left:?}");
    }
}

#[test]
fn kill_9_takes_git_down_with_tagbump() {
    git_server::init();
    let silent = SilentServer::start();
    let home = home();
    let tmp = tempfile::tempdir().expect("tmp");
    let (mut child, git) = stuck_in_clone(home.path(), tmp.path(), &silent);
    signal(&child, "-KILL");
    child.wait().expect("reaped");
    wait_for(
        "git and its group to die with tagbump (parent-death signal)",
        Duration::from_secs(5),
        || !alive(git) && group_members(git).is_empty(),
    );
}

/// Where the push of a run is held while tagbump is killed, and what the server does
/// once it is let go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeldAt {
    /// At the receive-pack ref advertisement, the first request of the push: no object
    /// has been sent yet. Released after the kill, the server answers a dead client.
    Advertisement,
    /// In the `pre-receive` hook: the whole pack has arrived, no ref has moved. Rejected
    /// after the kill.
    PreReceiveRejected,
    /// In the `pre-receive` hook, then accepted after the kill: the push completes on the
    /// server although the client is gone.
    PreReceiveAccepted,
}

/// What the remote holds after a killed run.
#[derive(Debug, PartialEq, Eq)]
enum Landed {
    Nothing,
    CompleteCommit,
}

/// Files that git leaves only while it writes: lock files, the receive quarantine,
/// temporary packs and indexes.
fn half_written(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if name.ends_with(".lock")
                || name.starts_with("tmp_")
                || name.starts_with("incoming-")
                || name.contains("tmp_objdir")
            {
                found.push(path.display().to_string());
            }
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            }
        }
    }
    found
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `kill -9` while the push is held at a known step (no sleeps): held before any
/// object was sent, or held in `pre-receive` and then rejected, the remote is unchanged;
/// held in `pre-receive` and then accepted, the push completes on the server after the
/// client died — with the complete commit, nothing half-written — and the next run
/// sees it (nothing to do). Nothing lands after tagbump and its git children are gone
/// and the server has finished.
#[test]
fn after_kill_9_while_the_push_is_held_the_remote_holds_nothing_new_or_the_complete_commit() {
    let repo = BareRepo::new_with(&[("values.yaml", "image:\n  tag: v0\n")], "main");
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    let tmp = tempfile::tempdir().expect("TMPDIR of the runs");
    let work = tempfile::tempdir().expect("working directory of the runs");
    let hook = repo.path().join("hooks").join("pre-receive");
    let limit = Duration::from_secs(60);
    let mut seen = Vec::new();
    let cases = [
        HeldAt::Advertisement,
        HeldAt::PreReceiveRejected,
        HeldAt::PreReceiveAccepted,
    ];
    for (n, held_at) in cases.into_iter().enumerate() {
        let before = repo.tip("main").expect("tip");
        let value = format!("v{}", n + 1);
        let expected = format!("image:\n  tag: {value}\n");
        let bump = || {
            let mut cmd = tagbump(home.path());
            cmd.args([
                "set",
                "values.yaml",
                &format!("image.tag={value}"),
                "--repo",
                &url,
                "--output",
                "json",
            ])
            .env("TAGBUMP_TOKEN", TOKEN)
            .env("TMPDIR", tmp.path())
            .current_dir(work.path());
            cmd
        };

        let hold = Arc::new(Hold::new());
        match held_at {
            HeldAt::Advertisement => server.hold_next_push_advertisement(&hold),
            HeldAt::PreReceiveRejected | HeldAt::PreReceiveAccepted => {
                hold.install_pre_receive(repo.path())
            }
        }
        let mut child = bump()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tagbump starts");
        hold.wait_held(limit, || child.try_wait().ok().flatten().is_some());
        let groups = children_of(child.id());
        assert!(
            !groups.is_empty(),
            "{held_at:?}: git runs while the push is held"
        );
        child.kill().expect("kill -9");
        child.wait().expect("reaped");
        for pgid in groups {
            wait_for(
                "git and every helper of its group to die with tagbump",
                Duration::from_secs(5),
                || group_members(pgid).is_empty(),
            );
        }
        assert!(
            !hold.is_done(),
            "{held_at:?}: still held when the client is gone"
        );

        // The client is gone; now the server goes on.
        match held_at {
            HeldAt::Advertisement | HeldAt::PreReceiveAccepted => hold.release(),
            HeldAt::PreReceiveRejected => hold.reject(),
        }
        wait_for("the held step to go on", limit, || hold.is_done());
        wait_for("the server to finish every request", limit, || {
            server.in_flight() == 0
        });
        let landed = if held_at == HeldAt::PreReceiveAccepted {
            wait_for("the accepted push to move the ref", limit, || {
                repo.tip("main").as_deref() != Some(before.as_str())
            });
            Landed::CompleteCommit
        } else {
            Landed::Nothing
        };
        let after_kill = repo.tip("main").expect("tip");
        match landed {
            Landed::Nothing => assert_eq!(after_kill, before, "{held_at:?}: nothing landed"),
            Landed::CompleteCommit => {
                assert_eq!(
                    repo.read_file("main", "values.yaml").as_deref(),
                    Some(expected.as_str()),
                    "{held_at:?}: the landed commit is complete"
                );
                assert_eq!(
                    git_server::git(repo.path(), &["rev-parse", "main^"]).trim(),
                    before,
                    "{held_at:?}: one commit on top of the old tip"
                );
                assert_eq!(repo.changed_in_tip("main"), ["values.yaml"]);
            }
        }
        git_server::git(repo.path(), &["fsck", "--no-progress", "--strict"]);
        assert_eq!(
            half_written(repo.path()),
            Vec::<String>::new(),
            "{held_at:?}: lock or temporary files left in the config repository"
        );
        assert_eq!(
            names_in(work.path()),
            Vec::<String>::new(),
            "{held_at:?}: files left in the working directory"
        );
        // `kill -9` cannot be caught: the killed run's temporary clone stays in TMPDIR
        // (and nothing else does).
        let tmp_after_kill = names_in(tmp.path());
        assert_eq!(
            tmp_after_kill.len(),
            n + 1,
            "{held_at:?}: one clone per killed run: {tmp_after_kill:?}"
        );
        assert!(tmp_after_kill
            .iter()
            .all(|e| e.starts_with("tagbump-clone-")));
        seen.push(landed);

        // The next run (no hold any more) sees what the remote holds.
        let _ = std::fs::remove_file(&hook);
        let next = finished(bump().output().expect("the next run"));
        next.assert_code(0);
        match seen.last() {
            Some(Landed::CompleteCommit) => {
                assert_eq!(next.json()["changed"], false, "{held_at:?}: already landed");
                assert_eq!(repo.tip("main").as_deref(), Some(after_kill.as_str()));
            }
            _ => {
                assert_eq!(next.json()["changed"], true, "{held_at:?}: lands now");
                assert_eq!(
                    repo.read_file("main", "values.yaml").as_deref(),
                    Some(expected.as_str())
                );
                assert_eq!(
                    git_server::git(repo.path(), &["rev-parse", "main^"]).trim(),
                    before
                );
            }
        }
        assert_eq!(half_written(repo.path()), Vec::<String>::new());
        assert_eq!(names_in(work.path()), Vec::<String>::new());
        assert_eq!(
            names_in(tmp.path()),
            tmp_after_kill,
            "the next run removes its own clone"
        );
    }
    assert!(
        seen.contains(&Landed::Nothing),
        "outcome 'nothing new' seen"
    );
    assert!(
        seen.contains(&Landed::CompleteCommit),
        "outcome 'complete commit' seen"
    );
}
