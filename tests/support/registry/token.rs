//! The token server of the harness's Bearer flow.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;

use super::{ISSUER, PASSWORD, SERVICE, USER};

/// Docker's token authentication service, in small: `GET /token?service=…&scope=…`
/// with optional Basic auth answers `{"token": …, "access_token": …, "expires_in":
/// …, "issued_at": …}` (distribution `docs/spec/auth/token.md`, "Token Response
/// Fields"). Anonymous requests get a token without access; bad credentials get
/// `401`. It can be told to answer `429 Too Many Requests` with `Retry-After`, as
/// Docker Hub does when pulls are rate-limited (docs.docker.com, "Docker Hub usage
/// and limits": "429 Too Many Requests").
pub struct TokenServer {
    port: u16,
    stop: Arc<AtomicBool>,
    /// Requests answered so far.
    pub requests: Arc<AtomicU32>,
    /// The next N requests are answered with 429.
    pub throttle: Arc<AtomicU32>,
    /// `Authorization` headers seen (for leak checks: they must never reach other hosts).
    pub saw_credentials: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

impl TokenServer {
    pub(super) fn start(key_der: Vec<u8>, cert_der: Vec<u8>) -> TokenServer {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("token server");
        let port = server.server_addr().to_ip().expect("ip").port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(AtomicU32::new(0));
        let throttle = Arc::new(AtomicU32::new(0));
        let saw_credentials = Arc::new(AtomicU32::new(0));
        let (s, r, t, c) = (
            stop.clone(),
            requests.clone(),
            throttle.clone(),
            saw_credentials.clone(),
        );
        let rng = ring::rand::SystemRandom::new();
        let key = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_der,
            &rng,
        )
        .expect("ES256 key");
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                r.fetch_add(1, Ordering::SeqCst);
                if t.load(Ordering::SeqCst) > 0 {
                    t.fetch_sub(1, Ordering::SeqCst);
                    let _ = request.respond(
                        tiny_http::Response::from_string("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"rate limit\"}]}")
                            .with_status_code(429)
                            .with_header(header("Retry-After", "1")),
                    );
                    continue;
                }
                let answer = answer_token(&request, &key, &cert_der, &rng, &c);
                let _ = request.respond(answer);
            }
        });
        TokenServer {
            port,
            stop,
            requests,
            throttle,
            saw_credentials,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>/token` (loopback, so plain HTTP is allowed).
    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub(super) fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header")
}

fn answer_token(
    request: &tiny_http::Request,
    key: &ring::signature::EcdsaKeyPair,
    cert_der: &[u8],
    rng: &ring::rand::SystemRandom,
    saw_credentials: &AtomicU32,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let url = reqwest::Url::parse(&format!("http://x{}", request.url())).expect("url");
    let query = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let auth = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .map(|h| h.value.as_str().to_string());
    let user = match auth {
        None => None,
        Some(value) => {
            saw_credentials.fetch_add(1, Ordering::SeqCst);
            let decoded = value
                .strip_prefix("Basic ")
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok());
            if decoded.as_deref() != Some(&format!("{USER}:{PASSWORD}")) {
                return tiny_http::Response::from_string(
                    "{\"details\":\"incorrect username or password\"}",
                )
                .with_status_code(401);
            }
            Some(USER.to_string())
        }
    };
    if url.path() != "/token" || query("service").as_deref() != Some(SERVICE) {
        return tiny_http::Response::from_string("unknown service").with_status_code(400);
    }
    // scope=repository:<name>:<actions>; only an authenticated user gets access.
    let access: Vec<serde_json::Value> = match (&user, query("scope")) {
        (Some(_), Some(scope)) => {
            let mut parts = scope.splitn(3, ':');
            let (kind, name, actions) = (parts.next(), parts.next(), parts.next());
            match (kind, name, actions) {
                (Some("repository"), Some(name), Some(actions)) => vec![serde_json::json!({
                    "type": "repository",
                    "name": name,
                    "actions": actions.split(',').filter(|a| *a == "pull").collect::<Vec<_>>(),
                })],
                _ => vec![],
            }
        }
        _ => vec![],
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header_json = serde_json::json!({
        "typ": "JWT",
        "alg": "ES256",
        "x5c": [base64::engine::general_purpose::STANDARD.encode(cert_der)],
    });
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": user.clone().unwrap_or_default(),
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("tagbump-test-{now}-{}", fastrand::u64(..)),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64(&serde_json::to_vec(&header_json).expect("json")),
        b64(&serde_json::to_vec(&claims).expect("json"))
    );
    let signature = key.sign(rng, signing_input.as_bytes()).expect("sign");
    let token = format!("{signing_input}.{}", b64(signature.as_ref()));
    let body = serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": 300,
        "issued_at": "2026-01-01T00:00:00Z",
    });
    tiny_http::Response::from_string(body.to_string())
        .with_header(header("Content-Type", "application/json"))
}
