//! End-to-end specification of write-backs over SSH: the real `tagbump` binary pushes to
//! a bare repository served by a private `sshd` on 127.0.0.1, with generated host and
//! client keys, and host key verification left on (a `known_hosts` file holding exactly
//! the temporary host key).
//!
//! Needs `sshd` (Debian: `openssh-server`; `.ci/run` installs it when missing), run as
//! root. Without it every test here fails under `TAGBUMP_REQUIRE_TOOLS=1` (`.ci/run`,
//! CI); elsewhere it is skipped and the skip reported (`support/tools.rs`).

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::tools;

const API_VALUES: &str = "apps/api/values.yaml";
const WEB_VALUES: &str = "apps/web/values.yaml";

const API_SEED: &str = "image:\n  repository: ghcr.io/acme/api\n  tag: v1 # tagbump writes here\n";
const WEB_SEED: &str = "image:\n  repository: ghcr.io/acme/web\n  tag: v1\n";

// ---------------------------------------------------------------- helpers

/// Runs a command to completion; panics with its output if it fails.
fn check(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({})\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `git` isolated from the machine's and the user's configuration.
fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    cmd
}

fn find_sshd() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("sshd"))
            .find(|p| p.is_file())
    });
    on_path
        .or_else(|| Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.is_file()))
        // sshd re-executes itself and insists on an absolute path.
        .and_then(|p| std::fs::canonicalize(p).ok())
}

fn whoami() -> String {
    check(&mut Command::new("whoami")).trim().to_string()
}

/// Generates an ed25519 key pair without passphrase at `path` (+ `.pub`).
fn keygen(path: &Path) {
    check(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "tagbump-test", "-f"])
            .arg(path),
    );
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

// ---------------------------------------------------------------- sshd

/// A private `sshd` on 127.0.0.1, running in the foreground as a child process, with
/// all of its state in a temporary directory. Killed on drop.
struct SshServer {
    dir: TempDir,
    child: Child,
    port: u16,
    user: String,
}

impl SshServer {
    /// Starts the server, or returns `None` (after printing why) when this machine
    /// cannot run one: no `sshd` installed, or not root and `sshd` refuses to start.
    fn start() -> Option<SshServer> {
        let Some(sshd) = find_sshd() else {
            tools::missing(
                "sshd",
                "not on PATH nor in /usr/sbin (install openssh-server; .ci/run does)",
            );
            return None;
        };
        let user = whoami();
        let is_root = user == "root";
        if is_root {
            // The privilege-separation directory; packaged sshd expects it to exist.
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let host_key = dir.path().join("host_ed25519");
        keygen(&host_key);
        let client_key = dir.path().join("client_ed25519");
        keygen(&client_key);
        let wrong_key = dir.path().join("wrong_ed25519");
        keygen(&wrong_key);
        std::fs::write(
            dir.path().join("authorized_keys"),
            read(&dir.path().join("client_ed25519.pub")),
        )
        .expect("authorized_keys");

        let mut last_error = String::new();
        // A port found free may be taken before sshd binds it: try a few.
        for _ in 0..5 {
            let port = free_port();
            let config = dir.path().join("sshd_config");
            std::fs::write(&config, sshd_config(dir.path(), port, &user)).expect("sshd_config");
            let log = std::fs::File::create(dir.path().join("sshd.log")).expect("sshd.log");
            let mut child = Command::new(&sshd)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", sshd.display()));
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(status)) = child.try_wait() {
                    last_error = format!(
                        "sshd exited ({status}):\n{}",
                        read(&dir.path().join("sshd.log"))
                    );
                    break;
                }
                if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
                    let mut known_hosts = format!("[127.0.0.1]:{port} ");
                    known_hosts.push_str(&read(&dir.path().join("host_ed25519.pub")));
                    std::fs::write(dir.path().join("known_hosts"), known_hosts)
                        .expect("known_hosts");
                    return Some(SshServer {
                        dir,
                        child,
                        port,
                        user,
                    });
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_error = format!(
                        "sshd did not accept connections:\n{}",
                        read(&dir.path().join("sshd.log"))
                    );
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        if is_root {
            panic!("cannot start a private sshd as root: {last_error}");
        }
        tools::missing(
            "sshd run as root",
            &format!(
                "cannot start a private sshd as '{user}' (run as root to test SSH): {last_error}"
            ),
        );
        None
    }

    /// `ssh://user@127.0.0.1:PORT/abs/path`.
    fn url(&self, repo: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }

    /// The key in `authorized_keys`.
    fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_ed25519")
    }

    /// A valid key the server does not accept.
    fn wrong_key(&self) -> PathBuf {
        self.dir.path().join("wrong_ed25519")
    }

    /// A `GIT_SSH_COMMAND` that ignores `~/.ssh` and the agent, verifies the host key
    /// against a file holding only the temporary host key, and never prompts.
    fn ssh_command(&self) -> String {
        let known_hosts = self.dir.path().join("known_hosts");
        format!(
            "ssh -F /dev/null -o UserKnownHostsFile={} -o GlobalKnownHostsFile=/dev/null \
             -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes",
            shell_quote(&known_hosts.to_string_lossy())
        )
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sshd_config(dir: &Path, port: u16, user: &str) -> String {
    let d = dir.display();
    let mut config = format!(
        "Port {port}\n\
         ListenAddress 127.0.0.1\n\
         HostKey {d}/host_ed25519\n\
         PidFile {d}/sshd.pid\n\
         AuthorizedKeysFile {d}/authorized_keys\n\
         AllowUsers {user}\n\
         StrictModes no\n\
         PermitRootLogin prohibit-password\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         UsePAM no\n\
         PrintMotd no\n\
         MaxStartups 50\n\
         AcceptEnv GIT_PROTOCOL\n"
    );
    // The server-side git (git-upload-pack / git-receive-pack) ignores the machine's
    // git configuration too, and is found where the tests found theirs.
    let mut env = String::from("GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1");
    if let Some(path) = std::env::var("PATH")
        .ok()
        .filter(|p| !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || c == '"'))
    {
        env.push_str(&format!(" PATH={path}"));
    }
    config.push_str(&format!("SetEnv {env}\n"));
    config
}

// ---------------------------------------------------------------- the config repository

/// A bare repository seeded with one commit holding two values files.
struct BareRepo {
    dir: TempDir,
}

impl BareRepo {
    fn new() -> BareRepo {
        let dir = tempfile::tempdir().expect("temp dir");
        let bare = dir.path().join("config.git");
        check(
            git(dir.path())
                .args(["init", "-q", "--bare", "-b", "main"])
                .arg(&bare),
        );
        let seed = dir.path().join("seed");
        check(git(dir.path()).args(["clone", "-q"]).arg(&bare).arg(&seed));
        for (file, content) in [(API_VALUES, API_SEED), (WEB_VALUES, WEB_SEED)] {
            let path = seed.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, content).expect("seed file");
        }
        check(git(&seed).args(["add", "-A"]));
        check(git(&seed).args([
            "-c",
            "user.name=seed",
            "-c",
            "user.email=seed@example.test",
            "commit",
            "-q",
            "-m",
            "seed",
        ]));
        check(git(&seed).args(["push", "-q", "origin", "HEAD:refs/heads/main"]));
        // Like any forge: partial clones are served (tagbump's blob-less clones).
        check(git(&bare).args(["config", "uploadpack.allowFilter", "true"]));
        BareRepo { dir }
    }

    /// Absolute path of the bare repository.
    fn path(&self) -> PathBuf {
        self.dir.path().join("config.git")
    }

    fn show(&self, file: &str) -> String {
        check(git(&self.path()).args(["show", &format!("main:{file}")]))
    }

    fn tip(&self) -> String {
        check(git(&self.path()).args(["rev-parse", "main"]))
            .trim()
            .to_string()
    }

    fn commit_count(&self) -> usize {
        check(git(&self.path()).args(["rev-list", "--count", "main"]))
            .trim()
            .parse()
            .expect("a count")
    }

    fn merge_count(&self) -> usize {
        check(git(&self.path()).args(["rev-list", "--merges", "--count", "main"]))
            .trim()
            .parse()
            .expect("a count")
    }

    fn subjects(&self) -> Vec<String> {
        check(git(&self.path()).args(["log", "--format=%s", "main"]))
            .lines()
            .map(str::to_string)
            .collect()
    }
}

// ---------------------------------------------------------------- tagbump

/// A `tagbump` command with a clean environment: `PATH`, a throw-away `HOME`, git
/// isolated from the machine's configuration, no SSH agent.
fn tagbump(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tagbump"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

fn finished(out: Output) -> Run {
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn run(cmd: &mut Command) -> Run {
    finished(cmd.output().expect("tagbump runs"))
}

/// `tagbump set FILE KEY=VALUE --repo URL --output json` over SSH.
fn set_over_ssh(
    home: &Path,
    server: &SshServer,
    url: &str,
    file: &str,
    assignment: &str,
) -> Command {
    let mut cmd = tagbump(home);
    cmd.args(["set", file, assignment, "--repo", url, "--output", "json"])
        .env("GIT_SSH_COMMAND", server.ssh_command());
    cmd
}

/// What most tests start from: a private sshd, a seeded bare repository it serves, a
/// throw-away `HOME`, and the repository's `ssh://` URL. `None` (a reported skip, or a
/// panic under `TAGBUMP_REQUIRE_TOOLS=1`) without sshd.
fn setup() -> Option<(SshServer, BareRepo, TempDir, String)> {
    let server = SshServer::start()?;
    let repo = BareRepo::new();
    let home = tempfile::tempdir().expect("home");
    let url = server.url(&repo.path());
    Some((server, repo, home, url))
}

// ---------------------------------------------------------------- specification

#[test]
fn a_key_given_with_ssh_key_pushes_the_commit_over_ssh() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };

    let out = run(
        set_over_ssh(home.path(), &server, &url, API_VALUES, "image.tag=v2")
            .arg("--ssh-key")
            .arg(server.client_key()),
    );

    out.assert_code(0);
    let report = out.json();
    assert_eq!(report["changed"], true);
    assert_eq!(report["repo"].as_str(), Some(url.as_str()));
    assert_eq!(report["commit"].as_str(), Some(repo.tip().as_str()));
    assert_eq!(repo.commit_count(), 2, "one commit on top of the seed");
    assert_eq!(
        repo.show(API_VALUES),
        API_SEED.replace("tag: v1 #", "tag: v2 #"),
        "only the value changed, the comment is kept"
    );
    assert_eq!(repo.show(WEB_VALUES), WEB_SEED, "other files untouched");
    assert!(
        out.stderr.contains("blob-less"),
        "the partial clone and its lazy blob fetch both authenticated over SSH: {}",
        out.stderr
    );
}

#[test]
fn a_relative_ssh_key_path_is_relative_to_the_working_directory() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };

    // git and ssh run inside a temporary clone; the key is where the user said it is.
    let out = run(
        set_over_ssh(home.path(), &server, &url, API_VALUES, "image.tag=v2")
            .current_dir(server.dir.path())
            .args(["--ssh-key", "client_ed25519"]),
    );

    out.assert_code(0);
    assert_eq!(repo.commit_count(), 2);
    assert!(repo.show(API_VALUES).contains("tag: v2"));
}

#[test]
fn a_key_given_only_in_git_ssh_command_is_used() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };
    let ssh_command = format!(
        "{} -i {}",
        server.ssh_command(),
        shell_quote(&server.client_key().to_string_lossy())
    );

    let out = run(
        set_over_ssh(home.path(), &server, &url, API_VALUES, "image.tag=v2")
            .env("GIT_SSH_COMMAND", ssh_command),
    );

    out.assert_code(0);
    assert_eq!(out.json()["commit"].as_str(), Some(repo.tip().as_str()));
    assert_eq!(repo.commit_count(), 2);
    assert!(repo.show(API_VALUES).contains("tag: v2"));
}

#[test]
fn scp_like_urls_work_with_the_port_from_git_ssh_command() {
    let Some((server, repo, home, _)) = setup() else {
        return;
    };
    // `user@host:path` has no room for a port: it comes from the ssh command.
    let url = format!("{}@127.0.0.1:{}", server.user, repo.path().display());
    let ssh_command = format!("{} -p {}", server.ssh_command(), server.port);

    let out = run(
        set_over_ssh(home.path(), &server, &url, WEB_VALUES, "image.tag=v3")
            .env("GIT_SSH_COMMAND", ssh_command)
            .arg("--ssh-key")
            .arg(server.client_key()),
    );

    out.assert_code(0);
    assert_eq!(repo.commit_count(), 2);
    assert!(repo.show(WEB_VALUES).contains("tag: v3"));
}

/// Issue 19, item 8: the scp form without a user (`host:path`, here `127.0.0.1:/abs/path`,
/// the user and port from the ssh command) is SSH to the CLI too, so `--ssh-key` is
/// used: the ssh command alone offers no key (`IdentitiesOnly=yes`, no agent).
#[test]
fn scp_form_without_a_user_uses_the_ssh_key() {
    let Some((server, repo, home, _)) = setup() else {
        return;
    };
    let url = format!("127.0.0.1:{}", repo.path().display());
    let ssh_command = format!(
        "{} -p {} -l {}",
        server.ssh_command(),
        server.port,
        server.user
    );

    let out = run(
        set_over_ssh(home.path(), &server, &url, WEB_VALUES, "image.tag=v4")
            .env("GIT_SSH_COMMAND", ssh_command)
            .arg("--ssh-key")
            .arg(server.client_key()),
    );

    out.assert_code(0);
    assert_eq!(out.json()["commit"].as_str(), Some(repo.tip().as_str()));
    assert_eq!(repo.commit_count(), 2);
    assert!(repo.show(WEB_VALUES).contains("tag: v4"));
}

#[test]
fn a_key_the_server_refuses_is_an_authentication_error_and_changes_nothing() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };
    let tip = repo.tip();

    let out = run(
        set_over_ssh(home.path(), &server, &url, API_VALUES, "image.tag=v2")
            .arg("--ssh-key")
            .arg(server.wrong_key()),
    );

    out.assert_code(1);
    assert!(
        out.stderr.to_lowercase().contains("authentication"),
        "the error says what failed: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&url),
        "the error names the repository: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("Permission denied (publickey)"),
        "the error keeps ssh's reason: {}",
        out.stderr
    );
    assert_eq!(repo.tip(), tip, "remote unchanged");
    assert_eq!(repo.commit_count(), 1);
}

#[test]
fn an_unknown_host_key_is_refused_not_accepted() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };
    let tip = repo.tip();
    let empty_known_hosts = home.path().join("empty_known_hosts");
    std::fs::write(&empty_known_hosts, "").expect("known_hosts");
    let ssh_command = server.ssh_command().replace(
        &shell_quote(&server.dir.path().join("known_hosts").to_string_lossy()),
        &shell_quote(&empty_known_hosts.to_string_lossy()),
    );

    let out = run(
        set_over_ssh(home.path(), &server, &url, API_VALUES, "image.tag=v2")
            .env("GIT_SSH_COMMAND", ssh_command)
            .arg("--ssh-key")
            .arg(server.client_key()),
    );

    out.assert_code(1);
    assert!(
        out.stderr.contains("Host key verification failed"),
        "ssh's reason reaches the user: {}",
        out.stderr
    );
    assert_eq!(read(&empty_known_hosts), "", "the host key was not learned");
    assert_eq!(repo.tip(), tip, "remote unchanged");
}

#[test]
fn a_push_that_loses_the_race_is_redone_on_the_new_tip() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };

    // A competing commit, ready to be pushed by another "pipeline".
    let rival = home.path().join("rival");
    check(
        git(home.path())
            .args(["clone", "-q"])
            .arg(repo.path())
            .arg(&rival),
    );
    std::fs::write(rival.join(WEB_VALUES), WEB_SEED.replace("v1", "v9")).expect("edit");
    check(git(&rival).args([
        "-c",
        "user.name=rival",
        "-c",
        "user.email=rival@example.test",
        "commit",
        "-q",
        "-am",
        "rival",
    ]));
    // An ssh wrapper that, right before tagbump's first push reaches the server (after
    // its clone), lands the rival commit: the first push must lose the race.
    let wrapper = home.path().join("racing-ssh");
    let marker = home.path().join("raced");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             case \"$*\" in\n\
             *git-receive-pack*)\n\
               if [ ! -e {marker} ]; then\n\
                 : > {marker}\n\
                 git --git-dir={rival_git} push -q origin HEAD:refs/heads/main >&2 || exit 99\n\
               fi ;;\n\
             esac\n\
             exec {ssh} \"$@\"\n",
            marker = shell_quote(&marker.to_string_lossy()),
            rival_git = shell_quote(&rival.join(".git").to_string_lossy()),
            ssh = server.ssh_command(),
        ),
    )
    .expect("wrapper");
    check(Command::new("chmod").arg("755").arg(&wrapper));

    let out = run(tagbump(home.path())
        .args(["set", API_VALUES, "image.tag=v2", "--repo", &url])
        .args(["--output", "json", "--retries", "3"])
        .arg("--ssh-key")
        .arg(server.client_key())
        .env("GIT_SSH_COMMAND", shell_quote(&wrapper.to_string_lossy())));

    out.assert_code(0);
    assert!(marker.exists(), "the rival commit was pushed mid-run");
    let report = out.json();
    assert_eq!(
        report["attempts"], 2,
        "one lost race, one retry: {}",
        out.stderr
    );
    assert_eq!(report["commit"].as_str(), Some(repo.tip().as_str()));
    assert_eq!(repo.subjects().len(), 3, "seed, rival, ours");
    assert_eq!(repo.subjects()[1], "rival", "ours is on top of the rival");
    assert_eq!(repo.merge_count(), 0, "linear history");
    assert!(repo.show(API_VALUES).contains("tag: v2"), "our edit landed");
    assert!(
        repo.show(WEB_VALUES).contains("tag: v9"),
        "the rival's edit survived"
    );
}

#[test]
fn concurrent_runs_over_ssh_both_land_with_linear_history() {
    let Some((server, repo, home, url)) = setup() else {
        return;
    };

    let spawn = |file: &str, assignment: &str| {
        set_over_ssh(home.path(), &server, &url, file, assignment)
            .arg("--ssh-key")
            .arg(server.client_key())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tagbump starts")
    };
    let api = spawn(API_VALUES, "image.tag=v2");
    let web = spawn(WEB_VALUES, "image.tag=v3");
    let api = finished(api.wait_with_output().expect("api run"));
    let web = finished(web.wait_with_output().expect("web run"));

    api.assert_code(0);
    web.assert_code(0);
    assert_eq!(repo.commit_count(), 3, "both commits landed");
    assert_eq!(
        repo.merge_count(),
        0,
        "linear history, nothing force-pushed"
    );
    assert!(repo.show(API_VALUES).contains("tag: v2"));
    assert!(repo.show(WEB_VALUES).contains("tag: v3"));
    let tip = repo.tip();
    assert!(
        [api.json(), web.json()]
            .iter()
            .any(|r| r["commit"].as_str() == Some(tip.as_str())),
        "the tip is one of the two reported commits"
    );
}
