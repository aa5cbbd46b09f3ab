//! A stopped run stops everything it started: after SIGTERM / SIGINT (a cancelled CI
//! job) tagbump kills its git children and removes its temporary clone; after `kill -9`,
//! which nothing can catch, git dies with it (parent-death signal), so no push keeps
//! running and lands after the job was reported failed. Either way the remote holds
//! nothing new or the complete commit.

use crate::support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cli::{home, tagbump};
use support::forge_server::SilentServer;
use support::git_server::{self, BareRepo, SmartHttpServer};

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

#[test]
fn after_kill_9_at_any_moment_the_remote_holds_nothing_new_or_the_complete_commit() {
    let repo = BareRepo::new_with(&[("values.yaml", "image:\n  tag: v0\n")], "main");
    let server = SmartHttpServer::start(repo.root(), TOKEN);
    let url = server.url(repo.name());
    let home = home();
    for (n, delay_ms) in [20u64, 40, 60, 80, 100, 130, 170, 220]
        .into_iter()
        .enumerate()
    {
        let before = repo.tip("main");
        let value = format!("v{}", n + 1);
        let mut child = tagbump(home.path())
            .args([
                "set",
                "values.yaml",
                &format!("image.tag={value}"),
                "--repo",
                &url,
            ])
            .env("TAGBUMP_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tagbump starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let groups = children_of(child.id());
        let _ = child.kill();
        child.wait().expect("reaped");
        for pgid in groups {
            wait_for(
                "git and every helper of its group to die with tagbump",
                Duration::from_secs(5),
                || group_members(pgid).is_empty(),
            );
        }
        // The server may still be applying a push whose bytes all arrived before the
        // kill; then it is complete. Nothing of this run is left to push later.
        std::thread::sleep(Duration::from_millis(500));
        let after_kill = repo.tip("main");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(
            repo.tip("main"),
            after_kill,
            "run {n}: something landed after tagbump and its children were gone"
        );
        if after_kill != before {
            assert_eq!(
                repo.read_file("main", "values.yaml").as_deref(),
                Some(&*format!("image:\n  tag: {value}\n")),
                "run {n}: a landed commit is complete"
            );
        }
        git_server::git(repo.path(), &["fsck", "--no-progress"]);
    }
}
