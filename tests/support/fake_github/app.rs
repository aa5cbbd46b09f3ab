//! The fake GitHub's App endpoints: `GET /repos/{o}/{r}/installation` and `POST
//! /app/installations/{id}/access_tokens`, authenticated with the app's RS256 JWT.
//!
//! Follows GitHub's docs "Generating a JSON Web Token (JWT) for a GitHub App",
//! "Authenticating as a GitHub App installation", the REST pages "Get a repository
//! installation for the authenticated app" (200 with the installation) and "Create an
//! installation access token for an app" (201 with `token`, `expires_at`,
//! `permissions`, `repository_selection`, `repositories`). The JWT's signature is
//! verified with the app's **public** key (ring, RSASSA-PKCS1-v1_5 SHA-256), and its
//! claims: `iss` is the app ID, `iat` not in the future, `exp` in the future and at
//! most 10 minutes ahead. A JWT that fails any check is answered 401 like GitHub.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use super::super::forge_server::FakeResponse;
use super::Shared;

/// A GitHub App the fake knows.
#[derive(Clone)]
pub struct FakeApp {
    /// The app ID (the JWT's `iss`).
    pub app_id: u64,
    /// The app's public key, DER `RSAPublicKey` (PKCS#1).
    pub public_key_der: Vec<u8>,
    /// The installation on the repository.
    pub installation_id: u64,
}

fn unauthorized(message: &str) -> FakeResponse {
    FakeResponse::json(
        401,
        json!({
            "message": message,
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        }),
    )
}

fn not_found() -> FakeResponse {
    FakeResponse::json(
        404,
        json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest",
            "status": "404",
        }),
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Checks `Authorization: Bearer JWT`; `Err` is GitHub's 401.
fn verify(app: &FakeApp, authorization: Option<&str>) -> Result<(), FakeResponse> {
    let undecodable = || unauthorized("A JSON web token could not be decoded");
    let jwt = authorization
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or_else(undecodable)?;
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(undecodable());
    };
    let decode = |part: &str| -> Result<Value, FakeResponse> {
        let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| undecodable())?;
        serde_json::from_slice(&bytes).map_err(|_| undecodable())
    };
    if decode(header)?["alg"] != "RS256" {
        return Err(undecodable());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| undecodable())?;
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        &app.public_key_der,
    );
    key.verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| undecodable())?;
    let claims = decode(claims)?;
    let iss_ok = claims["iss"].as_u64() == Some(app.app_id)
        || claims["iss"].as_str() == Some(app.app_id.to_string().as_str());
    if !iss_ok {
        return Err(unauthorized("'Issuer' claim ('iss') must be an Integer"));
    }
    let now = now();
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err(undecodable());
    };
    if iat > now {
        return Err(unauthorized(
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ));
    }
    if exp <= now {
        return Err(unauthorized(
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ));
    }
    if exp > now + 600 {
        return Err(unauthorized(
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(())
}

/// Answers an App endpoint; `None` when `path` is not one (or no app is set up).
pub(crate) fn route(
    shared: &Shared,
    method: &str,
    path: &str,
    authorization: Option<&str>,
    body: &Value,
) -> Option<FakeResponse> {
    let path = path.strip_prefix("/api/v3").unwrap_or(path);
    let (app, full_name, token) = {
        let state = shared.lock();
        (
            state.app.clone()?,
            state.full_name.clone(),
            state.token.clone(),
        )
    };
    let installation_path = format!("/repos/{full_name}/installation");
    let tokens_path = path
        .strip_prefix("/app/installations/")
        .and_then(|rest| rest.strip_suffix("/access_tokens"));
    let asks_installation = path.starts_with("/repos/") && path.ends_with("/installation");
    if !asks_installation && tokens_path.is_none() {
        return None;
    }
    if let Err(refused) = verify(&app, authorization) {
        return Some(refused);
    }
    let (owner, name) = full_name.split_once('/').unwrap_or((&full_name, ""));
    if asks_installation {
        if method != "GET" || path != installation_path {
            return Some(not_found());
        }
        return Some(FakeResponse::json(
            200,
            json!({
                "id": app.installation_id,
                "account": { "login": owner, "id": 1, "type": "Organization" },
                "repository_selection": "selected",
                "access_tokens_url": format!("/app/installations/{}/access_tokens", app.installation_id),
                "app_id": app.app_id,
                "target_type": "Organization",
                "permissions": { "contents": "write", "pull_requests": "write", "metadata": "read" },
                "events": [],
            }),
        ));
    }
    if method != "POST" || tokens_path != Some(app.installation_id.to_string().as_str()) {
        return Some(not_found());
    }
    if let Some(repos) = body.get("repositories").and_then(Value::as_array) {
        if repos.iter().any(|r| r.as_str() != Some(name)) {
            return Some(FakeResponse::json(
                422,
                json!({
                    "message": "There is at least one repository that does not exist or is not accessible to the parent installation.",
                    "documentation_url": "https://docs.github.com/rest",
                    "status": "422",
                }),
            ));
        }
    }
    let permissions = body.get("permissions").cloned().unwrap_or_else(
        || json!({ "contents": "write", "pull_requests": "write", "metadata": "read" }),
    );
    Some(FakeResponse::json(
        201,
        json!({
            "token": token,
            "expires_at": "2099-01-01T00:00:00Z",
            "permissions": permissions,
            "repository_selection": "selected",
            "repositories": [{ "id": 1, "name": name, "full_name": full_name }],
        }),
    ))
}
