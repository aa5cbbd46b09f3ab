//! GitHub App authentication: the app's private key → an RS256 JWT → an installation
//! access token for one repository.
//!
//! The steps follow GitHub's docs "Generating a JSON Web Token (JWT) for a GitHub App"
//! and "Authenticating as a GitHub App installation":
//!
//! 1. a JWT signed with the app's RSA key (RS256), `iat` 60 s in the past (clock
//!    drift), `exp` 9 minutes ahead (GitHub allows at most 10), `iss` the app ID;
//! 2. `GET {api}/repos/{owner}/{repo}/installation` with `Authorization: Bearer JWT`
//!    ("Get a repository installation for the authenticated app") → the installation ID;
//! 3. `POST {api}/app/installations/{id}/access_tokens` with the JWT ("Create an
//!    installation access token for an app"), restricted to the one repository and to
//!    `contents: write` + `pull_requests: write` → `{token, expires_at}`.
//!
//! The requests go through the same client as the rest of the forge module
//! ([`ConnectOptions`]: timeouts, retries, no redirects followed). The key, the JWT and
//! the installation token never appear in an error or a log line.
//!
//! RSA signing uses `aws-lc-rs` (rustls' crypto provider, already built): maintained,
//! constant-time RSA.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::PrivateKeyDer;
use serde::Deserialize;
use serde_json::{json, Value};

use super::github::{GitHub, Verb};
use super::{encode_component, plain_http_warning, ConnectOptions, ForgeError, RepoId};
use crate::secret::Secret;

/// How far back `iat` is set, for clock drift (GitHub's recommendation).
const IAT_BACKDATE_SECS: u64 = 60;
/// How long the JWT is valid (GitHub accepts at most 10 minutes).
const JWT_LIFETIME_SECS: u64 = 9 * 60;

/// A GitHub App's private key (RSA). `Debug` never shows it.
pub struct AppKey(RsaKeyPair);

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(***)")
    }
}

impl AppKey {
    /// Reads a PEM private key: PKCS#1 (`BEGIN RSA PRIVATE KEY`, what GitHub hands
    /// out) or PKCS#8 (`BEGIN PRIVATE KEY`).
    pub fn from_pem(pem: &[u8]) -> Result<AppKey, ForgeError> {
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| {
            ForgeError::AppKey(format!("not a PEM private key ({})", pem_error(&e)))
        })?;
        let pair = match &der {
            PrivateKeyDer::Pkcs1(k) => RsaKeyPair::from_der(k.secret_pkcs1_der()),
            PrivateKeyDer::Pkcs8(k) => RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
            _ => {
                return Err(ForgeError::AppKey(
                    "not an RSA key (GitHub App keys are RSA: BEGIN RSA PRIVATE KEY)".to_string(),
                ))
            }
        }
        .map_err(|e| ForgeError::AppKey(format!("not a usable RSA private key ({e})")))?;
        Ok(AppKey(pair))
    }
}

/// The kind of PEM problem, without any of the input.
fn pem_error(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::NoItemsFound => "no private key section found",
        E::MissingSectionEnd { .. } => "a section has no END line",
        E::IllegalSectionStart { .. } => "malformed BEGIN line",
        E::Base64Decode(_) => "invalid base64",
        _ => "unreadable PEM",
    }
}

/// A GitHub App: its ID (or client ID) and private key.
#[derive(Debug)]
pub struct GitHubApp {
    /// The app ID (`42`) or its client ID (`Iv23…`): the JWT's `iss`.
    pub app_id: String,
    /// The private key.
    pub key: AppKey,
}

/// An installation access token, from [`installation_token`].
#[derive(Debug, Clone)]
pub struct InstallationToken {
    /// The token (`ghs_…`): for git over HTTPS with user name `x-access-token`, and
    /// for the API.
    pub token: Secret,
    /// The installation it belongs to.
    pub installation_id: u64,
    /// When it expires (ISO 8601, as GitHub wrote it).
    pub expires_at: String,
}

/// The app's JWT at `now`: RS256, `iat = now - 60 s`, `exp = now + 9 min`, `iss` the
/// app ID (a number when it is all digits).
pub fn app_jwt(app: &GitHubApp, now: SystemTime) -> Result<Secret, ForgeError> {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| ForgeError::Config("the system clock is before 1970".to_string()))?
        .as_secs();
    let id = app.app_id.trim();
    if id.is_empty() {
        return Err(ForgeError::Config("the GitHub App ID is empty".to_string()));
    }
    let iss = id
        .parse::<u64>()
        .map_or_else(|_| Value::from(id), Value::from);
    let header = json!({ "alg": "RS256", "typ": "JWT" });
    let claims = json!({
        "iat": now.saturating_sub(IAT_BACKDATE_SECS),
        "exp": now + JWT_LIFETIME_SECS,
        "iss": iss,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0u8; app.key.0.public_modulus_len()];
    app.key
        .0
        .sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut signature,
        )
        .map_err(|_| ForgeError::AppKey("cannot sign the JWT with this key".to_string()))?;
    Ok(Secret::new(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(signature)
    )))
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    #[serde(default)]
    expires_at: String,
}

/// Mints an installation access token for `repo` (`owner/name`) on the GitHub API at
/// `api_base`, restricted to that repository with `contents: write` and
/// `pull_requests: write` (see the module documentation).
///
/// Errors: [`ForgeError::AppKey`] for an unusable key, [`ForgeError::AppRejected`]
/// when GitHub refuses the JWT (HTTP 401: wrong app ID, a key of another app, a clock
/// far off), [`ForgeError::AppNotInstalled`] when the app is not installed on the
/// repository; other failures as for any GitHub call.
pub fn installation_token(
    api_base: &str,
    repo: &RepoId,
    app: &GitHubApp,
    options: &ConnectOptions,
) -> Result<InstallationToken, ForgeError> {
    let (owner, name) = match repo.path.split_once('/') {
        Some((owner, name)) if !owner.is_empty() && !name.is_empty() && !name.contains('/') => {
            (owner, name)
        }
        _ => {
            return Err(ForgeError::Config(format!(
                "`{}` is not a GitHub repository path of the form owner/name",
                repo.path
            )))
        }
    };
    let jwt = app_jwt(app, SystemTime::now())?;
    if let Some(warning) = plain_http_warning(api_base) {
        (options.log)(&format!("{warning} (GitHub App JWT)"));
    }
    let client = GitHub::with_options(api_base, &jwt, options)?;
    let api = client.api_base().to_string();
    let app_error = |e: ForgeError| -> ForgeError {
        match e {
            ForgeError::Auth { api_base } => ForgeError::AppRejected {
                api_base,
                app_id: app.app_id.clone(),
            },
            ForgeError::NotFound { api_base, what, .. } if what.ends_with("/installation") => {
                ForgeError::AppNotInstalled {
                    api_base,
                    app_id: app.app_id.clone(),
                    repo: format!("{owner}/{name}"),
                }
            }
            other => other,
        }
        .redacted(&jwt)
    };
    let installation: Installation = client
        .call_json(
            Verb::Get,
            &format!(
                "/repos/{}/{}/installation",
                encode_component(owner),
                encode_component(name)
            ),
            None,
        )
        .map_err(app_error)?;
    let body = json!({
        "repositories": [name],
        "permissions": { "contents": "write", "pull_requests": "write" },
    });
    let access: AccessToken = client
        .call_json(
            Verb::Post,
            &format!("/app/installations/{}/access_tokens", installation.id),
            Some(&body),
        )
        .map_err(app_error)?;
    if access.token.is_empty() {
        return Err(ForgeError::Decode {
            api_base: api,
            what: "POST /app/installations/{id}/access_tokens".to_string(),
            message: "the answer has no token".to_string(),
        });
    }
    Ok(InstallationToken {
        token: Secret::new(access.token),
        installation_id: installation.id,
        expires_at: access.expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_a_key_and_the_message_does_not_echo_it() {
        let input = b"-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END RSA PRIVATE KEY-----\n";
        let err = AppKey::from_pem(input).map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("GitHub App private key"), "{err}");
        assert!(!err.contains("c2VjcmV0"), "{err}");
        let err = AppKey::from_pem(b"hello")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no private key section"), "{err}");
    }
}
