//! Credentials from Docker's client configuration (`$DOCKER_CONFIG/config.json`, else
//! `~/.docker/config.json`), as the Docker CLI reads them
//! (`docker/cli`, `cli/config/configfile/file.go` and `cli/config/credentials`):
//! a registry's entry in `credHelpers` names a `docker-credential-<helper>` program;
//! otherwise `credsStore` names one for every registry; otherwise `auths` holds
//! `auth` (base64 of `user:password`) or `username` / `password`.
//!
//! A helper is run as `docker-credential-<helper> get` with the server address on
//! stdin and answers `{"ServerURL": …, "Username": …, "Secret": …}`
//! (`docker/docker-credential-helpers`, `client/client.go`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

use super::{BasicCredentials, RegistryError};
use crate::secret::Secret;

#[derive(serde::Deserialize, Default)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[derive(serde::Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The config file Docker would read: `$DOCKER_CONFIG/config.json`, else
/// `$HOME/.docker/config.json`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(dir) = env("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(Path::new(&dir).join("config.json"));
    }
    env("HOME")
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(&home).join(".docker/config.json"))
}

/// The credentials stored for a registry under any of `keys` (most specific first),
/// or `None`. A missing config file is no credentials; a malformed one is an error.
/// A credential helper gets `helper_timeout` to answer.
pub fn lookup(
    path: &Path,
    keys: &[String],
    helper_timeout: Duration,
) -> Result<Option<BasicCredentials>, RegistryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(config_error(path, &e.to_string())),
    };
    let config: ConfigFile =
        serde_json::from_str(&text).map_err(|e| config_error(path, &e.to_string()))?;
    // Keys in config.json may be written with a scheme (`https://ghcr.io`) or a path.
    let find = |map_keys: &mut dyn Iterator<Item = &String>| -> Option<String> {
        let all: Vec<&String> = map_keys.collect();
        keys.iter().find_map(|want| {
            all.iter()
                .find(|k| strip_key(k).eq_ignore_ascii_case(strip_key(want)))
                .map(|k| (*k).clone())
        })
    };
    if let Some(key) = find(&mut config.cred_helpers.keys()) {
        let helper = &config.cred_helpers[&key];
        return run_helper(helper, &key, helper_timeout);
    }
    if let Some(store) = &config.creds_store {
        let server = keys.first().cloned().unwrap_or_default();
        if let Some(found) = run_helper(store, &server, helper_timeout)? {
            return Ok(Some(found));
        }
    }
    let Some(key) = find(&mut config.auths.keys()) else {
        return Ok(None);
    };
    let entry = &config.auths[&key];
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                config_error(
                    path,
                    &format!("the `auth` of {key:?} is not base64 of user:password"),
                )
            })?;
        let (user, password) = decoded.split_once(':').ok_or_else(|| {
            config_error(
                path,
                &format!("the `auth` of {key:?} is not base64 of user:password"),
            )
        })?;
        return Ok(Some(BasicCredentials {
            username: user.to_string(),
            password: Secret::new(password),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Some(BasicCredentials {
            username: u.clone(),
            password: Secret::new(p.clone()),
        })),
        _ => Ok(None),
    }
}

/// `https://host/v1/` → `host`.
fn strip_key(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

fn config_error(path: &Path, reason: &str) -> RegistryError {
    RegistryError::Credentials {
        source_name: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Runs `docker-credential-<helper> get` for `server`. "credentials not found" is
/// `None`; any other failure is an error that names the helper (never its output,
/// which could hold a secret).
fn run_helper(
    helper: &str,
    server: &str,
    timeout: Duration,
) -> Result<Option<BasicCredentials>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let fail = |reason: String| RegistryError::Credentials {
        source_name: program.clone(),
        reason,
    };
    if helper.is_empty() || helper.contains(['/', '\\']) {
        return Err(fail("not a credential helper name".into()));
    }
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run it: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading is judged by its exit status below.
        let _ = stdin.write_all(server.as_bytes());
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(fail(format!("no answer within {}s", timeout.as_secs_f32())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(fail(e.to_string())),
        }
    };
    let mut stdout = String::new();
    if let Some(mut out) = child.stdout.take() {
        out.read_to_string(&mut stdout)
            .map_err(|e| fail(e.to_string()))?;
    }
    if !status.success() {
        // docker-credential-helpers' ErrCredentialsNotFound message.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("it failed ({status})")));
    }
    let answer: HelperAnswer = serde_json::from_str(&stdout)
        .map_err(|_| fail("its answer is not the credential JSON".into()))?;
    Ok(Some(BasicCredentials {
        username: answer.username,
        password: Secret::new(answer.secret),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let path = dir.join("config.json");
        std::fs::write(&path, json).expect("write");
        path
    }

    #[test]
    fn auths_with_base64_auth_and_with_username_password() {
        let dir = tempfile::tempdir().expect("tmp");
        // base64("bot:pa:ss") — the password may hold colons.
        let path = write(
            dir.path(),
            r#"{"auths":{"https://ghcr.io":{"auth":"Ym90OnBhOnNz"},"reg.example:5000":{"username":"u","password":"p"}}}"#,
        );
        let c = lookup(&path, &["ghcr.io".into()], Duration::from_secs(5))
            .expect("ok")
            .expect("found");
        assert_eq!((c.username.as_str(), c.password.expose()), ("bot", "pa:ss"));
        let c = lookup(&path, &["reg.example:5000".into()], Duration::from_secs(5))
            .expect("ok")
            .expect("found");
        assert_eq!((c.username.as_str(), c.password.expose()), ("u", "p"));
        assert!(lookup(&path, &["quay.io".into()], Duration::from_secs(5))
            .expect("ok")
            .is_none());
    }

    #[test]
    fn a_missing_file_is_no_credentials_and_a_bad_one_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(lookup(
            &dir.path().join("none.json"),
            &["x".into()],
            Duration::from_secs(1)
        )
        .expect("ok")
        .is_none());
        let path = write(dir.path(), "{not json");
        let err = lookup(&path, &["x".into()], Duration::from_secs(1)).expect_err("bad");
        assert!(err.to_string().contains("config.json"), "{err}");
    }

    #[test]
    fn a_helper_name_with_a_path_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = write(dir.path(), r#"{"credHelpers":{"ghcr.io":"../../bin/sh"}}"#);
        let err = lookup(&path, &["ghcr.io".into()], Duration::from_secs(1)).expect_err("refused");
        assert!(
            err.to_string().contains("not a credential helper name"),
            "{err}"
        );
    }
}
