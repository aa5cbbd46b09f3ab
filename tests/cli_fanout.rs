//! Fan-out: `tagbump image … --repo URL1 --repo URL2 …` lands the change in each config
//! repository on its own, a bounded number at once, against real git servers on
//! 127.0.0.1 (`git daemon`, smart HTTP, `file://`). Expected bytes are written by hand.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::support;
use support::cli::{finished, home, run, tagbump, Run};
use support::git_server::{BareRepo, GitDaemon, SmartHttpServer};
use support::push_hold::Hold;

/// The token the smart HTTP server accepts.
const TOKEN: &str = "tok-fanout-5d2e";
const FILE: &str = "apps/api/values.yaml";

/// The values file of the repository `who`, with `tag` (each repository's own first
/// line, so that every repository gets a commit of its own).
fn values(who: &str, tag: &str) -> String {
    format!("# {who}\nimage:\n  repository: ghcr.io/acme/api\n  tag: \"{tag}\" # set by CI\n")
}

fn repo(who: &str, tag: &str) -> BareRepo {
    BareRepo::new_with(&[(FILE, &values(who, tag))], "main")
}

/// `tagbump image ghcr.io/acme/api:1.5.0 --output json --repo …` with `extra`.
fn fan_out(urls: &[String], extra: &[&str]) -> Run {
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.args(["image", "ghcr.io/acme/api:1.5.0", "--output", "json"]);
    for url in urls {
        cmd.arg("--repo").arg(url);
    }
    cmd.args(extra).env("TAGBUMP_TOKEN", TOKEN);
    run(&mut cmd)
}

/// The `targets` of the JSON report, one per `--repo` in the order given.
fn targets(run: &Run, urls: &[String]) -> Vec<Value> {
    let json = run.json();
    let targets = json["targets"].as_array().expect("targets").clone();
    let repos: Vec<&str> = targets
        .iter()
        .map(|t| t["repo"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(repos, urls, "targets in the order given, URLs as given");
    targets
}

/// `target` landed its own commit: the repository's new tip, with the new tag.
fn assert_landed(target: &Value, bare: &BareRepo, who: &str) {
    let tip = bare.tip("main").expect("main");
    assert_eq!(
        target["commit"],
        tip.as_str(),
        "the full SHA of {who}'s commit"
    );
    assert_eq!(tip.len(), 40);
    assert_eq!(
        (&target["changed"], &target["pushed"], &target["error"]),
        (&Value::Bool(true), &Value::Bool(true), &Value::Null),
        "{target}"
    );
    assert_eq!(target["branch"], "main");
    assert_eq!(bare.read_file("main", FILE), Some(values(who, "1.5.0")));
    assert_eq!(bare.commit_count("main"), 2);
}

/// `target` failed with `kind` and `bare` (if any) is as it was.
fn assert_failed(target: &Value, kind: &str, bare: Option<(&BareRepo, &str)>) {
    assert_eq!(target["error"]["kind"], kind, "{target}");
    assert!(target["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert_eq!(
        (&target["pushed"], &target["changed"], &target["commit"]),
        (&Value::Bool(false), &Value::Bool(false), &Value::Null),
        "{target}"
    );
    if let Some((bare, who)) = bare {
        assert_eq!(bare.commit_count("main"), 1, "nothing landed in {who}");
        assert_eq!(bare.read_file("main", FILE), Some(values(who, "1.4.2")));
    }
}

#[test]
fn every_repository_lands_its_own_commit_over_each_transport() {
    let (a, b, c, d) = (
        repo("a", "1.4.2"),
        repo("b", "1.4.2"),
        repo("c", "1.4.2"),
        repo("d", "1.5.0"),
    );
    let daemon = GitDaemon::start(a.root());
    let http = SmartHttpServer::start(b.root(), TOKEN);
    let urls = vec![
        daemon.url(a.name()),
        http.url(b.name()),
        c.file_url(),
        d.file_url(),
    ];
    let outputs = tempfile::NamedTempFile::new().expect("outputs file");
    let out_path = outputs.path().display().to_string();
    let run = fan_out(&urls, &["--outputs-file", &out_path]);
    run.assert_code(0);
    let t = targets(&run, &urls);
    assert_landed(&t[0], &a, "a");
    assert_landed(&t[1], &b, "b");
    assert_landed(&t[2], &c, "c");
    // Already at 1.5.0: nothing to change, no commit, still a success.
    assert_eq!(
        (
            &t[3]["changed"],
            &t[3]["pushed"],
            &t[3]["commit"],
            &t[3]["error"]
        ),
        (
            &Value::Bool(false),
            &Value::Bool(false),
            &Value::Null,
            &Value::Null
        )
    );
    assert_eq!(d.commit_count("main"), 1);
    let written = std::fs::read_to_string(outputs.path()).expect("outputs");
    for line in [
        "targets=4",
        "targets-changed=3",
        "targets-failed=0",
        "changed=true",
        "pushed=true",
    ] {
        assert!(written.lines().any(|l| l == line), "{line} in {written}");
    }
}

#[test]
fn a_repository_that_refuses_the_push_fails_alone_with_exit_code_5() {
    let (a, b, c) = (repo("a", "1.4.2"), repo("b", "1.4.2"), repo("c", "1.4.2"));
    b.reject_pushes_with("protected branch: main");
    let urls = vec![a.file_url(), b.file_url(), c.file_url()];
    let run = fan_out(&urls, &[]);
    run.assert_code(5);
    let t = targets(&run, &urls);
    assert_landed(&t[0], &a, "a");
    assert_failed(&t[1], "rejected", Some((&b, "b")));
    assert!(
        t[1]["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("protected branch: main")),
        "the server's reason: {}",
        t[1]["error"]
    );
    assert_landed(&t[2], &c, "c");
    assert!(
        run.stderr.contains(&format!("error: [{}] ", b.file_url())),
        "{}",
        run.stderr
    );
}

#[test]
fn when_no_repository_lands_the_exit_code_is_1() {
    let gone = tempfile::tempdir().expect("tempdir");
    let urls: Vec<String> = ["one.git", "two.git"]
        .iter()
        .map(|n| format!("file://{}", gone.path().join(n).display()))
        .collect();
    let run = fan_out(&urls, &[]);
    run.assert_code(1);
    for t in targets(&run, &urls) {
        assert_failed(&t, "git-not-found", None);
    }
}

/// A `pre-receive` hook shared by every repository: it records how many pushes are
/// inside a hook at once (started minus ended, in `log`), and holds its push until
/// `jobs` pushes are in their hooks (or every one of `total` has started; it gives up
/// after 60 s, so that a run that is not concurrent fails the assertion, not hangs).
fn install_rendezvous_hook(bare: &BareRepo, who: &str, log: &Path, jobs: usize, total: usize) {
    let hook = bare.path().join("hooks").join("pre-receive");
    let script = format!(
        r#"#!/bin/sh
d='{log}'
count() {{ ls "$d" | grep -c "^$1-" ; }}
touch "$d/start-{who}"
i=0
while :; do
  active=$(( $(count start) - $(count end) ))
  echo "$active" >> "$d/seen-{who}"
  [ "$active" -ge {jobs} ] && break
  [ "$(count start)" -ge {total} ] && break
  i=$((i + 1)); [ "$i" -ge 1200 ] && break
  sleep 0.05
done
touch "$d/end-{who}"
"#,
        log = log.display()
    );
    std::fs::write(&hook, script).expect("hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn pushes_overlap_on_the_server_at_most_four_at_once() {
    const TOTAL: usize = 6;
    let root = tempfile::tempdir().expect("server root");
    let log = tempfile::tempdir().expect("hook log");
    let names: Vec<String> = (0..TOTAL).map(|i| format!("r{i}")).collect();
    let repos: Vec<BareRepo> = names.iter().map(|n| repo(n, "1.4.2")).collect();
    for (bare, name) in repos.iter().zip(&names) {
        install_rendezvous_hook(bare, name, log.path(), 4, TOTAL);
        std::os::unix::fs::symlink(bare.path(), root.path().join(format!("{name}.git")))
            .expect("serve the repository");
    }
    let http = SmartHttpServer::start(root.path(), TOKEN);
    let urls: Vec<String> = names
        .iter()
        .map(|n| http.url(&format!("{n}.git")))
        .collect();
    let run = fan_out(&urls, &[]);
    run.assert_code(0);
    let t = targets(&run, &urls);
    for ((target, bare), name) in t.iter().zip(&repos).zip(&names) {
        assert_landed(target, bare, name);
    }
    // What the server saw: pushes inside their hooks at the same time.
    let seen: Vec<usize> = names
        .iter()
        .flat_map(|n| {
            std::fs::read_to_string(log.path().join(format!("seen-{n}")))
                .expect("every push ran the hook")
                .lines()
                .map(|l| l.trim().parse::<usize>().expect("a count"))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        seen.iter().max(),
        Some(&4),
        "four pushes at once on the server, never more (default --jobs 4): {seen:?}"
    );
}

/// The repositories as one TAGBUMP_REPO value, one URL per line (how a CI input or a
/// Tekton param passes a list): each is a target, the URL as written on its line.
#[test]
fn one_url_per_line_in_tagbump_repo_is_a_repository_each() {
    let (a, b) = (repo("a", "1.4.2"), repo("b", "1.4.2"));
    let urls = vec![a.file_url(), b.file_url()];
    let home = home();
    let mut cmd = tagbump(home.path());
    cmd.args(["image", "ghcr.io/acme/api:1.5.0", "--output", "json"])
        .env("TAGBUMP_REPO", format!("{}\n   {}  \n\n", urls[0], urls[1]));
    let out = run(&mut cmd);
    out.assert_code(0);
    let t = targets(&out, &urls);
    assert_landed(&t[0], &a, "a");
    assert_landed(&t[1], &b, "b");

    // A value with no URL at all is refused, never read as "no --repo" (which would
    // edit the working directory).
    let work = tempfile::tempdir().expect("working directory");
    std::fs::write(work.path().join("values.yaml"), values("w", "1.4.2")).expect("values");
    let mut cmd = tagbump(home.path());
    cmd.current_dir(work.path())
        .args(["image", "ghcr.io/acme/api:1.5.0", "--repo", " \n"]);
    let out = run(&mut cmd);
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(work.path().join("values.yaml")).expect("values"),
        values("w", "1.4.2"),
        "the working directory is not edited"
    );
}

/// Each repository retries on its own: both pushes wait at the server at once; while
/// they wait, someone else pushes to a's branch. a's push is refused (its base is gone),
/// so a re-applies the change on its new tip and lands at the second attempt; b lands
/// at its first, and neither waits for or undoes the other.
#[test]
fn a_lost_race_in_one_repository_is_retried_there_alone() {
    let (a, b) = (repo("a", "1.4.2"), repo("b", "1.4.2"));
    let (http_a, http_b) = (
        SmartHttpServer::start(a.root(), TOKEN),
        SmartHttpServer::start(b.root(), TOKEN),
    );
    let (hold_a, hold_b) = (Arc::new(Hold::new()), Arc::new(Hold::new()));
    http_a.hold_next_push_advertisement(&hold_a);
    http_b.hold_next_push_advertisement(&hold_b);
    let urls = vec![http_a.url(a.name()), http_b.url(b.name())];
    let home = home();
    let child = tagbump(home.path())
        .args([
            "image",
            "ghcr.io/acme/api:1.5.0",
            "--output",
            "json",
            "--via",
            "git",
        ])
        .args(["--repo", &urls[0], "--repo", &urls[1]])
        .env("TAGBUMP_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tagbump starts");
    hold_a.wait_held(Duration::from_secs(60), || false);
    hold_b.wait_held(Duration::from_secs(60), || false);
    a.commit_files("main", &[("README.md", "# a\n")], "someone else");
    hold_a.release();
    hold_b.release();
    let out = finished(child.wait_with_output().expect("tagbump ends"));
    out.assert_code(0);
    let t = targets(&out, &urls);
    assert_eq!(
        (&t[0]["attempts"], &t[1]["attempts"]),
        (&Value::from(2), &Value::from(1)),
        "{}",
        out.stderr
    );
    assert_eq!(
        a.log("main", "%s")[1..],
        ["someone else".to_string(), "seed".to_string()],
        "a's commit on top of the other push"
    );
    assert!(a.is_linear("main"));
    assert_eq!(a.read_file("main", "README.md").as_deref(), Some("# a\n"));
    assert_eq!(a.read_file("main", FILE), Some(values("a", "1.5.0")));
    assert_eq!(a.tip("main").as_deref(), t[0]["commit"].as_str());
    assert_landed(&t[1], &b, "b");
}
