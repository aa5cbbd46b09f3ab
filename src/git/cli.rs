//! Running the `git` binary for every step that talks to a remote (clone, fetch, push,
//! ls-remote, the lazy blob fetch of a sparse checkout) and the few local steps gix
//! cannot do, without ever exposing a credential and without ever hanging.
//!
//! Credentials reach the child only through its environment:
//!
//! - `-c credential.helper=` first empties the helper list inherited from any config,
//!   then `-c credential.helper=!f() { … }; f` installs a shell helper that prints
//!   `username=$TAGBUMP_GIT_USERNAME` and `password=$TAGBUMP_GIT_PASSWORD` — and only
//!   when git asks for the protocol and host (with port) the user named
//!   (`$TAGBUMP_GIT_PROTOCOL`, `$TAGBUMP_GIT_HOST`). A redirect to another host gets
//!   nothing. The helper text in `argv` contains the variable *names* only; the values
//!   are set on this one child process with [`Command::env`], so they never show up in
//!   `ps`, in `.git/config`, in the remote URL, or in any log line.
//! - `http.followRedirects=initial` (git's default, pinned against user config): only
//!   the first request of a fetch or push may be redirected, and curl never resends
//!   credentials to another host.
//! - `GIT_ALLOW_PROTOCOL=https:http:ssh:git:file`: no `ext::` or other
//!   command-running transport, whatever the URL or a `.gitmodules` says.
//! - Prompts are disabled (`GIT_TERMINAL_PROMPT=0`, empty `GIT_ASKPASS` / `core.askPass`,
//!   `ssh -o BatchMode=yes`): a wrong token fails fast instead of hanging a deploy.
//! - Time limits: every child runs under the watchdog of `child.rs` (idle timeout,
//!   overall deadline, whole process group killed); HTTP transfers also carry curl's
//!   low-speed limit and SSH a connect timeout and keep-alives with the same idle time.
//! - `LC_ALL=C` keeps git's messages in English, which the error classification reads.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::child::{self, Killed, Limits};
use super::redact::Redactor;
use super::{Auth, GitError, TimeLimit};
use crate::url::RemoteUrl;

mod push;
mod stderr;
pub(crate) use self::push::{push, Lease, PushRequest, PushStatus};
pub(crate) use self::stderr::classify_failure;
use self::stderr::{last_meaningful_lines, without_progress};

const USERNAME_VAR: &str = "TAGBUMP_GIT_USERNAME";
const PASSWORD_VAR: &str = "TAGBUMP_GIT_PASSWORD";
const PROTOCOL_VAR: &str = "TAGBUMP_GIT_PROTOCOL";
const HOST_VAR: &str = "TAGBUMP_GIT_HOST";
/// Reads git's credential request (`key=value` lines) and answers only for the
/// configured protocol and host.
const HELPER: &str = "!f() { test \"$1\" = get || exit 0; p=; h=; while IFS= read -r l; do case \"$l\" in protocol=*) p=\"${l#protocol=}\";; host=*) h=\"${l#host=}\";; esac; done; test \"$p\" = \"$TAGBUMP_GIT_PROTOCOL\" && test \"$h\" = \"$TAGBUMP_GIT_HOST\" || exit 0; printf 'username=%s\\npassword=%s\\n' \"$TAGBUMP_GIT_USERNAME\" \"$TAGBUMP_GIT_PASSWORD\"; }; f";

/// The transports git may use (`GIT_ALLOW_PROTOCOL`).
pub(crate) const ALLOWED_PROTOCOLS: &str = "https:http:ssh:git:file";

/// The outcome of one `git` invocation, with stdout and stderr already redacted.
#[derive(Debug)]
pub(crate) struct GitOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl GitOutput {
    /// The output of a successful run; a failed one becomes [`GitError::Git`] naming
    /// `operation`, with git's last meaningful stderr lines.
    pub(crate) fn checked(self, operation: &str) -> Result<GitOutput, GitError> {
        if self.success {
            Ok(self)
        } else {
            Err(GitError::Git {
                operation: operation.to_string(),
                detail: last_meaningful_lines(&self.stderr),
            })
        }
    }
}

/// Protocol and host (with port, as written in the URL) that credentials belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CredentialScope {
    /// `https` or `http`.
    pub protocol: String,
    /// `host` or `host:port`, lower-case.
    pub host: String,
}

impl CredentialScope {
    /// The scope of an `http(s)://` URL; `None` for other transports.
    pub(crate) fn of(url: &RemoteUrl) -> Option<CredentialScope> {
        if !url.transport().is_http() {
            return None;
        }
        Some(CredentialScope {
            protocol: url.transport().as_str().to_string(),
            host: url.host_port()?,
        })
    }

    /// [`CredentialScope::of`] a URL given as text; `None` if it does not parse.
    pub(crate) fn of_url(url: &str) -> Option<CredentialScope> {
        CredentialScope::of(&RemoteUrl::parse(url).ok()?)
    }
}

/// How to run `git` for one remote.
pub(crate) struct GitRunner<'a> {
    /// Credentials to hand to git. `None` keeps whatever the repository's own
    /// configuration provides (local mode with [`Auth::Anonymous`]).
    pub auth: Option<&'a Auth>,
    /// Where a token may be sent; without a scope a token is never handed out.
    pub scope: Option<&'a CredentialScope>,
    /// Custom CA bundle (`http.sslCAInfo`).
    pub ca_bundle: Option<&'a Path>,
    /// Scrubs secrets from everything we read back.
    pub redactor: &'a Redactor,
    /// Idle timeout and deadline of each child.
    pub limits: Limits,
    /// The remote, credential-free, for timeout messages.
    pub display_url: &'a str,
}

impl GitRunner<'_> {
    fn command(&self, dir: &Path) -> Command {
        let mut cmd = Command::new("git");
        let idle_secs = self.limits.idle.as_secs().max(1);
        cmd.current_dir(dir)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS)
            .env_remove("SSH_ASKPASS")
            .env_remove(USERNAME_VAR)
            .env_remove(PASSWORD_VAR)
            .env_remove(PROTOCOL_VAR)
            .env_remove(HOST_VAR);
        // No prompts; redirects only on the first request; a stalled HTTP transfer
        // (< 1 byte/s for the idle time) fails instead of hanging a deploy.
        cmd.args(["-c", "core.askPass=", "-c", "http.followRedirects=initial"])
            .args(["-c", "http.lowSpeedLimit=1", "-c"])
            .arg(format!("http.lowSpeedTime={idle_secs}"));
        if let Some(ca) = self.ca_bundle {
            cmd.arg("-c")
                .arg(format!("http.sslCAInfo={}", ca.display()));
        }
        match self.auth {
            None => {}
            Some(Auth::Anonymous) => {
                cmd.args(["-c", "credential.helper="]);
            }
            Some(Auth::Token { username, token }) => {
                cmd.args(["-c", "credential.helper="]);
                if let Some(scope) = self.scope {
                    cmd.arg("-c")
                        .arg(format!("credential.helper={HELPER}"))
                        .env(USERNAME_VAR, username)
                        .env(PASSWORD_VAR, token.expose())
                        .env(PROTOCOL_VAR, &scope.protocol)
                        .env(HOST_VAR, &scope.host);
                }
            }
            Some(Auth::Ssh { key_file }) => {
                cmd.args(["-c", "credential.helper="]);
                cmd.env(
                    "GIT_SSH_COMMAND",
                    ssh_command(key_file.as_deref(), self.limits.idle),
                );
            }
        }
        cmd
    }

    /// Runs `git <args>` in `dir` and returns its redacted output, with progress lines
    /// removed from stderr. Fails if git could not be started, or with
    /// [`GitError::Timeout`] when the watchdog killed it; a non-zero exit is reported in
    /// [`GitOutput::success`].
    pub(crate) fn run<I, S>(&self, dir: &Path, args: I) -> Result<GitOutput, GitError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<std::ffi::OsString> =
            args.into_iter().map(|a| a.as_ref().to_owned()).collect();
        let operation = args
            .iter()
            .map(|a| a.to_string_lossy())
            .find(|a| !a.starts_with('-'))
            .map_or_else(|| "git".to_string(), |a| a.into_owned());
        let mut cmd = self.command(dir);
        cmd.args(&args);
        let outcome = child::run(cmd, self.limits).map_err(|source| GitError::Io {
            context: "running the git binary (is git installed and on PATH?)".to_string(),
            source,
        })?;
        match outcome {
            child::Outcome::Finished(f) => Ok(GitOutput {
                success: f.status.success(),
                stdout: self.redactor.redact(&String::from_utf8_lossy(&f.stdout)),
                stderr: without_progress(
                    &self.redactor.redact(&String::from_utf8_lossy(&f.stderr)),
                ),
            }),
            child::Outcome::Killed { why, stderr } => {
                let said =
                    without_progress(&self.redactor.redact(&String::from_utf8_lossy(&stderr)));
                let said = said.trim();
                Err(GitError::Timeout {
                    url: self.display_url.to_string(),
                    host: host_of(self.display_url),
                    operation,
                    waited: match why {
                        Killed::Idle(d) => TimeLimit::Idle(d),
                        Killed::Deadline => TimeLimit::Overall,
                    },
                    last_output: if said.is_empty() {
                        None
                    } else {
                        Some(last_meaningful_lines(said))
                    },
                })
            }
        }
    }
}

/// `host[:port]` of a URL (or scp-like `[user@]host:path`), for messages.
pub(crate) fn host_of(url: &str) -> String {
    RemoteUrl::parse(url)
        .ok()
        .and_then(|u| u.host_port())
        .unwrap_or_else(|| "the local machine".to_string())
}

/// The `(major, minor)` version of the `git` binary on `PATH`, `None` if it cannot be
/// run or its output is not understood.
pub(crate) fn git_version(runner: &GitRunner<'_>, dir: &Path) -> Option<(u32, u32)> {
    let out = runner.run(dir, ["version"]).ok()?;
    parse_version(&out.stdout)
}

/// `git version 2.47.3` (also `2.39.5.windows.1`, `2.50.1 (Apple Git-155)`) → `(2, 47)`.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let version = text.trim().strip_prefix("git version ")?;
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// `GIT_SSH_COMMAND` for the child: the caller's own `GIT_SSH_COMMAND` (or `ssh`),
/// non-interactive, with a connect timeout and keep-alives, plus `-i <key>` when a key file is given. A relative key path is
/// made absolute against our working directory: git runs ssh inside the clone.
pub(crate) fn ssh_command(key_file: Option<&Path>, idle: Duration) -> String {
    let base = std::env::var("GIT_SSH_COMMAND")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "ssh".to_string());
    // Keep-alives every 15 s, given up after the idle time; connect within it.
    let idle = idle.as_secs().max(1);
    let alive_max = idle.div_ceil(15).max(1);
    let mut cmd = format!(
        "{base} -o BatchMode=yes -o ConnectTimeout={idle} -o ServerAliveInterval=15 -o ServerAliveCountMax={alive_max}"
    );
    if let Some(key) = key_file {
        let key = std::path::absolute(key).unwrap_or_else(|_| key.to_path_buf());
        cmd.push_str(" -o IdentitiesOnly=yes -i ");
        cmd.push_str(&shell_quote(&key.to_string_lossy()));
    }
    cmd
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_versions_are_parsed() {
        assert_eq!(parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(parse_version("git version 2.39.5.windows.1"), Some((2, 39)));
        assert_eq!(
            parse_version("git version 2.50.1 (Apple Git-155)"),
            Some((2, 50))
        );
        assert_eq!(parse_version("hub version 2.14.2"), None);
    }

    #[test]
    fn ssh_command_quotes_the_key_path() {
        let cmd = ssh_command(Some(Path::new("/k/it's key")), Duration::from_secs(60));
        assert!(cmd.ends_with("-i '/k/it'\\''s key'"), "{cmd}");
        assert!(cmd.contains("BatchMode=yes"));
    }

    #[test]
    fn a_relative_key_path_is_made_absolute() {
        let cmd = ssh_command(Some(Path::new("keys/deploy")), Duration::from_secs(60));
        let expected = std::env::current_dir().expect("cwd").join("keys/deploy");
        assert!(
            cmd.ends_with(&format!("-i '{}'", expected.display())),
            "{cmd}"
        );
    }
}
