//! The HTTP side of the registry API: one repository, its auth, its limits.
//!
//! Requests go to the image's registry over HTTPS (plain HTTP only as
//! [`super::endpoint`] allows). A `401` answer's challenge is followed once: Basic
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
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::blocking::{RequestBuilder, Response};
use reqwest::{Method, StatusCode, Url};

use super::challenge::Challenge;
use super::endpoint::{is_loopback, plain_http_allowed, Endpoint};
use super::{BasicCredentials, RegistryError};
use crate::retry::Timeouts;
use crate::secret::Secret;

/// Largest body read from a registry (a manifest is at most 4 MiB in the OCI
/// distribution spec; tag pages and config blobs are far smaller in practice).
pub const MAX_BODY_BYTES: u64 = 8 << 20;
/// Requests for one exchange that answered `429` before giving up.
const MAX_RATE_LIMITED: u32 = 5;

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Time limits (idle per request, overall deadline).
    pub timeouts: Timeouts,
    /// Extra CA certificates (PEM) to trust.
    pub ca_bundle: Option<PathBuf>,
    /// Hosts that may use plain HTTP besides loopback (`--insecure-registry`).
    pub insecure: Vec<String>,
    /// Credentials for this registry (and its token realm), if any.
    pub credentials: Option<BasicCredentials>,
    /// Tags per page when listing (`n`); `None`: the registry's default.
    pub page_size: Option<u32>,
}

/// An answer: status, the headers tagbump reads, the body.
#[derive(Debug)]
pub struct Answer {
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

/// A client for one repository of one registry.
pub struct Client {
    http: reqwest::blocking::Client,
    endpoint: Endpoint,
    insecure: Vec<String>,
    credentials: Option<BasicCredentials>,
    authorization: Option<Secret>,
    timeouts: Timeouts,
    deadline: Instant,
    page_size: Option<u32>,
    requests: u32,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint)
            .field("requests", &self.requests)
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
        let http = builder.build().map_err(|e| RegistryError::Transport {
            host: endpoint.host.clone(),
            step: "setting up the HTTP client".into(),
            reason: e.to_string(),
        })?;
        Ok(Client {
            http,
            deadline: options.timeouts.deadline_from_now(),
            timeouts: options.timeouts,
            insecure: options.insecure,
            credentials: options.credentials,
            authorization: None,
            page_size: options.page_size,
            endpoint,
            requests: 0,
        })
    }

    /// The endpoint (its scheme says whether the client fell back to plain HTTP).
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// HTTP requests made so far (token requests included).
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// `HEAD` or `GET` of `/v2/<repository>/<rest>`, authenticated as the registry
    /// asks. Any status is returned except `401` (an [`RegistryError::Auth`]) and a
    /// `429` that outlasts the deadline.
    pub fn call(
        &mut self,
        method: Method,
        rest: &str,
        accept: &[&str],
        step: &str,
    ) -> Result<Answer, RegistryError> {
        let path = format!("/v2/{}/{rest}", self.endpoint.repository);
        self.call_path(method, &path, accept, step)
    }

    /// Like [`Client::call`] with an absolute path on the registry's host (a `Link`).
    pub fn call_path(
        &mut self,
        method: Method,
        path: &str,
        accept: &[&str],
        step: &str,
    ) -> Result<Answer, RegistryError> {
        let mut authenticated = false;
        loop {
            let url = format!("{}://{}{path}", self.endpoint.scheme, self.endpoint.host);
            let mut request = self.http.request(method.clone(), &url);
            if !accept.is_empty() {
                request = request.header(reqwest::header::ACCEPT, accept.join(", "));
            }
            if let Some(auth) = &self.authorization {
                let mut value = reqwest::header::HeaderValue::from_str(auth.expose())
                    .map_err(|_| self.protocol(step, "credentials are not a valid header"))?;
                value.set_sensitive(true);
                request = request.header(reqwest::header::AUTHORIZATION, value);
            }
            let response = match self.send(request, step) {
                Err(RegistryError::Transport { .. })
                    if self.endpoint.scheme == "https"
                        && self.endpoint.plain_http_fallback
                        && self.requests == 1 =>
                {
                    // Docker's rule for loopback and --insecure-registry hosts:
                    // HTTPS first, plain HTTP when HTTPS cannot be spoken.
                    self.endpoint.scheme = "http";
                    continue;
                }
                other => other?,
            };
            if response.status() == StatusCode::UNAUTHORIZED && !authenticated {
                authenticated = true;
                let challenge = response
                    .headers()
                    .get_all(reqwest::header::WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .filter_map(Challenge::parse)
                    .next();
                let Some(challenge) = challenge else {
                    return Err(self.denied(&self.endpoint.host.clone(), 401));
                };
                self.authenticate(challenge, step)?;
                continue;
            }
            if matches!(
                response.status(),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            ) {
                return Err(self.denied(&self.endpoint.host.clone(), response.status().as_u16()));
            }
            return self.read(response, method == Method::HEAD, step);
        }
    }

    /// Every tag of the repository, following `Link: <…>; rel="next"` pages.
    pub fn list_tags(&mut self) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut path = format!("/v2/{}/tags/list", self.endpoint.repository);
        if let Some(n) = self.page_size {
            path.push_str(&format!("?n={n}"));
        }
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
    pub fn not_found(&self, what: String) -> RegistryError {
        RegistryError::NotFound {
            host: self.endpoint.host.clone(),
            repository: self.endpoint.repository.clone(),
            what,
        }
    }

    /// Anything but `200` as an error.
    pub fn expect_ok(&self, answer: &Answer, step: &str) -> Result<(), RegistryError> {
        if answer.status.is_success() {
            return Ok(());
        }
        let detail = String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
            .trim()
            .to_string();
        Err(self.protocol(step, &format!("HTTP {} {detail}", answer.status.as_u16())))
    }

    /// A protocol error for `step`.
    pub fn protocol(&self, step: &str, reason: &str) -> RegistryError {
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
        let who = match &self.credentials {
            Some(c) => format!("as user {:?}", c.username),
            None => "without credentials".to_string(),
        };
        let hint = if self.credentials.is_some() {
            "check --registry-username / TAGBUMP_REGISTRY_PASSWORD or the docker login for this registry"
        } else {
            "give --registry-username with TAGBUMP_REGISTRY_PASSWORD, or docker login to this registry"
        };
        RegistryError::Auth {
            host: host.to_string(),
            repository: self.endpoint.repository.clone(),
            status,
            who,
            hint: hint.to_string(),
        }
    }

    /// Answers a challenge: sets the `Authorization` the next request sends.
    fn authenticate(&mut self, challenge: Challenge, step: &str) -> Result<(), RegistryError> {
        match challenge {
            Challenge::Basic => {
                let Some(c) = &self.credentials else {
                    return Err(self.denied(&self.endpoint.host.clone(), 401));
                };
                self.authorization = Some(basic_header(c));
                Ok(())
            }
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let token = self.fetch_token(&realm, service.as_deref(), scope.as_deref(), step)?;
                self.authorization = Some(Secret::new(format!("Bearer {}", token.expose())));
                Ok(())
            }
        }
    }

    /// `GET realm?service=…&scope=…` (Docker's token specification), with the
    /// credentials as Basic auth when there are any.
    fn fetch_token(
        &mut self,
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
        let response = self.send_to(request, &realm_host, "getting a registry token")?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(self.denied(&realm_host, status.as_u16()));
        }
        let answer = self.read(response, false, "getting a registry token")?;
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

    fn send(&mut self, request: RequestBuilder, step: &str) -> Result<Response, RegistryError> {
        let host = self.endpoint.host.clone();
        self.send_to(request, &host, step)
    }

    /// Sends with the idle timeout (cut to the deadline), waiting out `429`s.
    fn send_to(
        &mut self,
        request: RequestBuilder,
        host: &str,
        step: &str,
    ) -> Result<Response, RegistryError> {
        let mut attempts = 0u32;
        loop {
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
            self.requests += 1;
            attempts += 1;
            let response = attempt
                .send()
                .map_err(|e| transport(host, step, limit, &e))?;
            if response.status() != StatusCode::TOO_MANY_REQUESTS {
                return Ok(response);
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
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
            std::thread::sleep(wait);
        }
    }

    fn read(&self, response: Response, head: bool, step: &str) -> Result<Answer, RegistryError> {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mut answer = Answer {
            status: response.status(),
            digest: header("docker-content-digest"),
            content_type: header("content-type"),
            link: header("link"),
            body: Vec::new(),
        };
        if !head {
            response
                .take(MAX_BODY_BYTES + 1)
                .read_to_end(&mut answer.body)
                .map_err(|e| RegistryError::Transport {
                    host: self.endpoint.host.clone(),
                    step: step.to_string(),
                    reason: e.to_string(),
                })?;
            if answer.body.len() as u64 > MAX_BODY_BYTES {
                return Err(self.protocol(step, "the answer is larger than 8 MiB"));
            }
        }
        Ok(answer)
    }
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
