//! The HTTP side of the registry API: one repository, its auth, its limits.
//!
//! Requests go to the image's registry over HTTPS (plain HTTP only as
//! [`super::endpoint`] allows), over HTTP/2 where the registry takes ALPN `h2`, else
//! HTTP/1.1 with keep-alive; one connection pool per client, so per host. A `401` answer's challenge is followed once: Basic
//! sends the credentials; Bearer fetches a token from the realm (with the
//! credentials, if any — the realm is the only other host they ever go to) and
//! repeats the request with it (Docker's token authentication specification,
//! `distribution/docs/spec/auth/token.md`). A `429 Too Many Requests` is waited out
//! as its `Retry-After` asks, within the run's deadline. Redirects (blob downloads
//! to object storage) are followed without the `Authorization` header when the host
//! changes. Every request has the idle timeout of [`Timeouts`], cut to the run's
//! deadline.

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::blocking::RequestBuilder;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};

use super::challenge::Challenge;
use super::endpoint::{is_loopback, plain_http_allowed, Endpoint};
use super::pool::{Logger, Pool, DEFAULT_CONCURRENCY};
use super::{BasicCredentials, RegistryError};
use crate::retry::Timeouts;
use crate::secret::Secret;

/// Largest body read from a registry (a manifest is at most 4 MiB in the OCI
/// distribution spec; tag pages and config blobs are far smaller in practice).
pub const MAX_BODY_BYTES: u64 = 8 << 20;
/// Requests for one exchange that answered `429` before giving up.
const MAX_RATE_LIMITED: u32 = 5;

/// Tags per page asked for when listing, unless [`ClientOptions::page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// How to reach a registry.
#[derive(Clone, Default)]
pub struct ClientOptions {
    /// Time limits (idle per request, overall deadline).
    pub timeouts: Timeouts,
    /// Extra CA certificates (PEM) to trust.
    pub ca_bundle: Option<PathBuf>,
    /// Hosts that may use plain HTTP besides loopback (`--insecure-registry`).
    pub insecure: Vec<String>,
    /// Credentials for this registry (and its token realm), if any.
    pub credentials: Option<BasicCredentials>,
    /// Tags per page when listing (`n`); `None`: [`DEFAULT_PAGE_SIZE`].
    pub page_size: Option<u32>,
    /// Requests in flight at once (1 ..= 16); `None`: 8.
    pub concurrency: Option<usize>,
    /// Where log lines go (rate-limit pauses, a rate limit running low); `None`:
    /// nowhere.
    pub log: Option<Logger>,
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("timeouts", &self.timeouts)
            .field("ca_bundle", &self.ca_bundle)
            .field("insecure", &self.insecure)
            .field("credentials", &self.credentials)
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// What an exchange brought back, read whole while it held its place in the pool.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// An answer: status, the headers tagbump reads, the body.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: StatusCode,
    /// `Docker-Content-Digest`.
    pub digest: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Link`.
    pub link: Option<String>,
    /// The body (empty for `HEAD`).
    pub body: Vec<u8>,
}

/// A client for one repository of one registry; `Sync`: threads share it by
/// reference.
pub struct Client {
    http: reqwest::blocking::Client,
    endpoint: Endpoint,
    /// Set once HTTPS could not be spoken and the client fell back to plain HTTP.
    plain_http: AtomicBool,
    insecure: Vec<String>,
    credentials: Option<BasicCredentials>,
    authorization: Mutex<Option<Secret>>,
    timeouts: Timeouts,
    deadline: Instant,
    page_size: u32,
    requests: AtomicU32,
    /// Answers that came over HTTP/2 (ALPN `h2`, where the registry offers it).
    #[cfg_attr(not(any(test, feature = "test-seams")), allow(dead_code))]
    http2_answers: AtomicU32,
    pool: Pool,
    low_limit_reported: AtomicBool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint())
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `endpoint`. The run's deadline starts now.
    pub fn new(endpoint: Endpoint, options: ClientOptions) -> Result<Client, RegistryError> {
        let mut builder = reqwest::blocking::Client::builder()
            .user_agent(concat!("tagbump/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.timeouts.idle)
            .redirect(reqwest::redirect::Policy::limited(5));
        if let Some(path) = &options.ca_bundle {
            let ca_error = |reason: String| RegistryError::CaBundle {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
            if certs.is_empty() {
                return Err(ca_error("no PEM certificate in it".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        // reqwest's blocking client starts its own runtime thread: never from inside
        // another runtime.
        let http = crate::blocking::outside_runtime(|| builder.build()).map_err(|e| {
            RegistryError::Transport {
                host: endpoint.host.clone(),
                step: "setting up the HTTP client".into(),
                reason: e.to_string(),
            }
        })?;
        let log = options.log.unwrap_or_else(|| Arc::new(|_| {}));
        Ok(Client {
            http,
            deadline: options.timeouts.deadline_from_now(),
            timeouts: options.timeouts,
            insecure: options.insecure,
            credentials: options.credentials,
            authorization: Mutex::new(None),
            page_size: options.page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1),
            endpoint,
            plain_http: AtomicBool::new(false),
            requests: AtomicU32::new(0),
            http2_answers: AtomicU32::new(0),
            pool: Pool::new(options.concurrency.unwrap_or(DEFAULT_CONCURRENCY), log),
            low_limit_reported: AtomicBool::new(false),
        })
    }

    /// The endpoint (its scheme says whether the client fell back to plain HTTP).
    pub fn endpoint(&self) -> Endpoint {
        let mut endpoint = self.endpoint.clone();
        endpoint.scheme = self.scheme();
        endpoint
    }

    fn scheme(&self) -> &'static str {
        if self.plain_http.load(Ordering::SeqCst) {
            "http"
        } else {
            self.endpoint.scheme
        }
    }

    /// HTTP requests made so far (token requests included).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Answers so far that came over HTTP/2: over TLS the client offers `h2` and
    /// `http/1.1` (ALPN) and uses one multiplexed connection per host where the
    /// registry takes `h2` (Go's net/http, and so distribution, does). A test seam
    /// (feature `test-seams`), not part of the API.
    #[cfg(feature = "test-seams")]
    #[doc(hidden)]
    pub fn http2_answers(&self) -> u32 {
        self.http2_answers.load(Ordering::SeqCst)
    }

    /// Requests this client lets be in flight at once.
    pub fn concurrency(&self) -> usize {
        self.pool.limit()
    }

    /// How often a `429` paused the pool so far. A test seam (feature `test-seams`),
    /// not part of the API.
    #[cfg(feature = "test-seams")]
    #[doc(hidden)]
    pub fn rate_limit_pauses(&self) -> u32 {
        self.pool.pauses()
    }

    /// `HEAD` or `GET` of `/v2/<repository>/<rest>`, authenticated as the registry
    /// asks. Any status is returned except `401` (an [`RegistryError::Auth`]) and a
    /// `429` that outlasts the deadline.
    pub(crate) fn call(
        &self,
        method: Method,
        rest: &str,
        accept: &[&str],
        step: &str,
    ) -> Result<Answer, RegistryError> {
        let path = format!("/v2/{}/{rest}", self.endpoint.repository);
        self.call_path(method, &path, accept, step)
    }

    /// Like [`Client::call`] with an absolute path on the registry's host (a `Link`).
    pub(crate) fn call_path(
        &self,
        method: Method,
        path: &str,
        accept: &[&str],
        step: &str,
    ) -> Result<Answer, RegistryError> {
        self.call_path_capped(method, path, accept, step, MAX_BODY_BYTES)
    }

    /// Like [`Client::call`], refusing an answer body larger than `max_body` bytes
    /// (at most [`MAX_BODY_BYTES`]) before more than `max_body + 1` bytes are read.
    pub(crate) fn call_capped(
        &self,
        method: Method,
        rest: &str,
        accept: &[&str],
        step: &str,
        max_body: u64,
    ) -> Result<Answer, RegistryError> {
        let path = format!("/v2/{}/{rest}", self.endpoint.repository);
        self.call_path_capped(method, &path, accept, step, max_body.min(MAX_BODY_BYTES))
    }

    fn call_path_capped(
        &self,
        method: Method,
        path: &str,
        accept: &[&str],
        step: &str,
        max_body: u64,
    ) -> Result<Answer, RegistryError> {
        let mut authenticated = false;
        loop {
            let url = format!("{}://{}{path}", self.scheme(), self.endpoint.host);
            let mut request = self.http.request(method.clone(), &url);
            if !accept.is_empty() {
                request = request.header(reqwest::header::ACCEPT, accept.join(", "));
            }
            let authorization = self
                .authorization
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if let Some(auth) = &authorization {
                let mut value = reqwest::header::HeaderValue::from_str(auth.expose())
                    .map_err(|_| self.protocol(step, "credentials are not a valid header"))?;
                value.set_sensitive(true);
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            let host = self.endpoint.host.clone();
            let reply = match self.send_to(request, &host, step, method == Method::HEAD, max_body) {
                Err(RegistryError::Transport { .. })
                    if self.scheme() == "https"
                        && self.endpoint.plain_http_fallback
                        && self.requests() == 1 =>
                {
                    // Docker's rule for loopback and --insecure-registry hosts:
                    // HTTPS first, plain HTTP when HTTPS cannot be spoken.
                    self.plain_http.store(true, Ordering::SeqCst);
                    continue;
                }
                other => other?,
            };
            if reply.status == StatusCode::UNAUTHORIZED && !authenticated {
                authenticated = true;
                let challenge = reply
                    .headers
                    .get_all(reqwest::header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(Challenge::parse)
                    .next();
                let Some(challenge) = challenge else {
                    return Err(self.denied(&self.endpoint.host, 401));
                };
                self.authenticate(challenge, step)?;
                continue;
            }
            if matches!(
                reply.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) {
                return Err(self.denied(&self.endpoint.host, reply.status.as_u16()));
            }
            return Ok(Answer {
                status: reply.status,
                digest: reply.header("docker-content-digest"),
                content_type: reply.header("content-type"),
                link: reply.header("link"),
                body: reply.body,
            });
        }
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    pub fn list_tags(&self) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut path = format!(
            "/v2/{}/tags/list?n={}",
            self.endpoint.repository, self.page_size
        );
        let mut tags = Vec::new();
        let mut pages = 0u32;
        loop {
            let answer =
                self.call_path(Method::GET, &path, &["application/json"], "listing tags")?;
            if answer.status == StatusCode::NOT_FOUND {
                return Err(self.not_found("repository".into()));
            }
            self.expect_ok(&answer, "listing tags")?;
            let page: Page = serde_json::from_slice(&answer.body)
                .map_err(|e| self.protocol("listing tags", &format!("not a tag list: {e}")))?;
            tags.extend(page.tags.unwrap_or_default());
            pages += 1;
            match answer.link.as_deref().and_then(next_link) {
                Some(next) if pages < 100_000 => {
                    path = self.same_host_path(&next, "listing tags")?
                }
                _ => return Ok(tags),
            }
        }
    }

    /// A `404` as [`RegistryError::NotFound`].
    pub(crate) fn not_found(&self, what: String) -> RegistryError {
        RegistryError::NotFound {
            host: self.endpoint.host.clone(),
            repository: self.endpoint.repository.clone(),
            what,
        }
    }

    /// Anything but `200` as an error.
    pub(crate) fn expect_ok(&self, answer: &Answer, step: &str) -> Result<(), RegistryError> {
        if answer.status.is_success() {
            return Ok(());
        }
        let detail = String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
            .trim()
            .to_string();
        Err(self.protocol(step, &format!("HTTP {} {detail}", answer.status.as_u16())))
    }

    /// A protocol error for `step`.
    pub(crate) fn protocol(&self, step: &str, reason: &str) -> RegistryError {
        RegistryError::Protocol {
            host: self.endpoint.host.clone(),
            step: step.to_string(),
            reason: reason.to_string(),
        }
    }

    /// A `Link` target as a path on the registry's own host; a link elsewhere is refused.
    fn same_host_path(&self, link: &str, step: &str) -> Result<String, RegistryError> {
        if link.starts_with('/') {
            return Ok(link.to_string());
        }
        let url = Url::parse(link).map_err(|_| self.protocol(step, "a Link that is not a URL"))?;
        let host = url_host(&url);
        if host != self.endpoint.host {
            return Err(self.protocol(step, &format!("a Link to another host ({host})")));
        }
        Ok(match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        })
    }

    fn denied(&self, host: &str, status: u16) -> RegistryError {
        RegistryError::Auth {
            host: host.to_string(),
            repository: self.endpoint.repository.clone(),
            status,
            user: self.credentials.as_ref().map(|c| c.username.clone()),
        }
    }

    /// Answers a challenge: sets the `Authorization` the next request sends.
    fn authenticate(&self, challenge: Challenge, step: &str) -> Result<(), RegistryError> {
        let authorization = match challenge {
            Challenge::Basic => {
                let Some(c) = &self.credentials else {
                    return Err(self.denied(&self.endpoint.host, 401));
                };
                basic_header(c)
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let token = self.fetch_token(&realm, service.as_deref(), scope.as_deref(), step)?;
                Secret::new(format!("Bearer {}", token.expose()))
            }
        };
        *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) = Some(authorization);
        Ok(())
    }

    /// `GET realm?service=…&scope=…` (Docker's token specification), with the
    /// credentials as Basic auth when there are any.
    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        step: &str,
    ) -> Result<Secret, RegistryError> {
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            #[serde(default)]
            token: Option<String>,
            #[serde(default)]
            access_token: Option<String>,
        }
        let mut url =
            Url::parse(realm).map_err(|_| self.protocol(step, "the token realm is not a URL"))?;
        let realm_host = url_host(&url);
        match url.scheme() {
            "https" => {}
            "http"
                if is_loopback(url.host_str().unwrap_or(""))
                    || plain_http_allowed(&realm_host, &self.insecure) => {}
            _ => {
                return Err(RegistryError::InsecureRefused {
                    url: format!("{}://{realm_host}{}", url.scheme(), url.path()),
                })
            }
        }
        let default_scope = format!("repository:{}:pull", self.endpoint.repository);
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            query.append_pair("scope", scope.unwrap_or(&default_scope));
        }
        let mut request = self.http.get(url);
        if let Some(c) = &self.credentials {
            let mut value = reqwest::header::HeaderValue::from_str(basic_header(c).expose())
                .map_err(|_| self.protocol(step, "credentials are not a valid header"))?;
            value.set_sensitive(true);
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        let answer = self.send_to(
            request,
            &realm_host,
            "getting a registry token",
            false,
            MAX_BODY_BYTES,
        )?;
        let status = answer.status;
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(self.denied(&realm_host, status.as_u16()));
        }
        if !answer.status.is_success() {
            return Err(RegistryError::Protocol {
                host: realm_host,
                step: "getting a registry token".into(),
                reason: format!("HTTP {}", answer.status.as_u16()),
            });
        }
        let parsed: TokenAnswer =
            serde_json::from_slice(&answer.body).map_err(|_| RegistryError::Protocol {
                host: realm_host.clone(),
                step: "getting a registry token".into(),
                reason: "the answer is not token JSON".into(),
            })?;
        parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .map(Secret::new)
            .ok_or_else(|| RegistryError::Protocol {
                host: realm_host,
                step: "getting a registry token".into(),
                reason: "the answer has no token".into(),
            })
    }

    /// Sends with the idle timeout (cut to the deadline) once the pool has a place
    /// and `host` is not paused, and reads the answer whole; a `429` pauses the pool
    /// for `host` and the request is repeated after the wait.
    fn send_to(
        &self,
        request: RequestBuilder,
        host: &str,
        step: &str,
        head: bool,
        max_body: u64,
    ) -> Result<Reply, RegistryError> {
        let mut attempts = 0u32;
        let mut retry_after = None;
        loop {
            let permit = match self.pool.acquire(host, self.deadline) {
                Ok(permit) => permit,
                Err(_) => {
                    return Err(RegistryError::RateLimited {
                        host: host.to_string(),
                        retry_after,
                        attempts,
                    })
                }
            };
            let remaining = self.deadline.saturating_duration_since(Instant::now());
            let limit = self
                .timeouts
                .idle
                .min(remaining)
                .max(Duration::from_millis(1));
            let attempt = request
                .try_clone()
                .ok_or_else(|| self.protocol(step, "request cannot be repeated"))?
                .timeout(limit);
            self.requests.fetch_add(1, Ordering::SeqCst);
            attempts += 1;
            let reply = crate::blocking::outside_runtime(|| {
                let response = attempt
                    .send()
                    .map_err(|e| transport(host, step, limit, &e))?;
                let status = response.status();
                if response.version() == reqwest::Version::HTTP_2 {
                    self.http2_answers.fetch_add(1, Ordering::SeqCst);
                }
                let headers = response.headers().clone();
                let mut body = Vec::new();
                if !head {
                    response
                        .take(max_body + 1)
                        .read_to_end(&mut body)
                        .map_err(|e| read_error(host, step, limit, &e))?;
                }
                Ok(Reply {
                    status,
                    headers,
                    body,
                })
            })?;
            drop(permit);
            if reply.body.len() as u64 > max_body {
                return Err(self.protocol(step, &too_large(max_body)));
            }
            self.watch_rate_limit(&reply, host);
            if reply.status != StatusCode::TOO_MANY_REQUESTS {
                return Ok(reply);
            }
            retry_after = reply
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let wait = retry_after.unwrap_or(Duration::from_secs(1));
            let fits = Instant::now() + wait < self.deadline;
            if attempts >= MAX_RATE_LIMITED || !fits {
                return Err(RegistryError::RateLimited {
                    host: host.to_string(),
                    retry_after,
                    attempts,
                });
            }
            self.pool.pause(host, wait);
        }
    }

    /// Docker Hub's `ratelimit-remaining: 12;w=21600` (with `ratelimit-limit`):
    /// logged once when a tenth or less is left.
    fn watch_rate_limit(&self, reply: &Reply, host: &str) {
        let leading = |name: &str| {
            reply
                .header(name)
                .and_then(|v| v.split(';').next()?.trim().parse::<u64>().ok())
        };
        let Some(remaining) = leading("ratelimit-remaining") else {
            return;
        };
        let limit = leading("ratelimit-limit");
        let low = match limit {
            Some(limit) => remaining * 10 <= limit,
            None => remaining <= 10,
        };
        if low && !self.low_limit_reported.swap(true, Ordering::SeqCst) {
            let of = limit.map(|l| format!(" of {l}")).unwrap_or_default();
            self.pool.log(&format!(
                "registry {host}: rate limit running low: {remaining}{of} requests left (ratelimit-remaining)"
            ));
        }
    }
}

/// `the answer is larger than 8 MiB` (or KiB, or bytes).
fn too_large(max: u64) -> String {
    let size = match max {
        m if m >= 1 << 20 && m % (1 << 20) == 0 => format!("{} MiB", m >> 20),
        m if m >= 1 << 10 && m % (1 << 10) == 0 => format!("{} KiB", m >> 10),
        m => format!("{m} bytes"),
    };
    format!("the answer is larger than {size}")
}

fn basic_header(c: &BasicCredentials) -> Secret {
    let raw = format!("{}:{}", c.username, c.password.expose());
    Secret::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

fn url_host(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

/// A failure while reading an answer's body: a timeout if the body stalled.
fn read_error(host: &str, step: &str, limit: Duration, e: &std::io::Error) -> RegistryError {
    let inner = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<reqwest::Error>());
    match inner {
        Some(re) => transport(host, step, limit, re),
        None if e.kind() == std::io::ErrorKind::TimedOut => RegistryError::Timeout {
            host: host.to_string(),
            waited_for: "an answer",
            step: step.to_string(),
            after: limit,
        },
        None => RegistryError::Transport {
            host: host.to_string(),
            step: step.to_string(),
            reason: e.to_string(),
        },
    }
}

fn transport(host: &str, step: &str, limit: Duration, e: &reqwest::Error) -> RegistryError {
    if e.is_timeout() {
        return RegistryError::Timeout {
            host: host.to_string(),
            waited_for: if e.is_connect() {
                "a connection"
            } else {
                "an answer"
            },
            step: step.to_string(),
            after: limit,
        };
    }
    // The chain of causes says what failed (refused, certificate unknown, …); reqwest
    // errors carry the URL, which holds no credentials here.
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    RegistryError::Transport {
        host: host.to_string(),
        step: step.to_string(),
        reason,
    }
}

/// The target of `rel="next"` in a `Link` header (RFC 8288), as the OCI
/// distribution spec's tag listing sends it: `</v2/…?n=…&last=…>; rel="next"`.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_of_a_tag_page() {
        assert_eq!(
            next_link(r#"</v2/acme/api/tags/list?last=v1.9&n=100>; rel="next""#).as_deref(),
            Some("/v2/acme/api/tags/list?last=v1.9&n=100")
        );
        assert_eq!(
            next_link(r#"<https://r.example/a>; rel="prev", <https://r.example/b>; rel=next"#)
                .as_deref(),
            Some("https://r.example/b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }
}
