//! The paginating front before the token registry, which can also slow the
//! registry down and misbehave as busy registries do.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::TestRegistry;

/// distribution 2.8 answers `GET /v2/<name>/tags/list` with every tag and ignores
/// `n` and `last`; registries such as distribution 3, GHCR, Docker Hub and Harbor
/// paginate. This front, on plain HTTP at 127.0.0.1 (loopback, where clients may use
/// plain HTTP), forwards every request to the token registry over TLS unchanged —
/// auth challenges, tokens, manifests, blobs — and pages tag lists as the OCI
/// distribution spec ("Listing Tags", end-12b) says: at most `n` tags (and at most
/// `page_max`) in lexical order after `last`, with `Link: <…?n=…&last=…>;
/// rel="next"` while more remain. It can also answer `429 Too Many Requests` with
/// `Retry-After`, as Docker Hub does for pulls over its rate limit, and [`Faults`]
/// make it slow, stormy or silent. It is a small HTTP/1.1 server of its own, a
/// thread per connection with keep-alive (tiny_http's connection pool can leave a
/// new connection unserved while its threads hold kept-alive ones, which stalled
/// concurrent clients); it counts requests by method and path and records the most
/// in flight at once.
pub struct PagingFront {
    port: u16,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    /// Requests received.
    pub requests: Arc<AtomicU32>,
    /// The next N requests are answered with 429 (`Retry-After: retry_after`).
    pub throttle: Arc<AtomicU32>,
    stats: Arc<Stats>,
    referrers: Arc<Mutex<Option<Referrers>>>,
    refuse_referrers: Arc<Mutex<Option<u16>>>,
}

/// The referrers API's answers ([`PagingFront::serve_referrers`]): per `repository` and
/// subject digest, the descriptors of the manifests that refer to it.
type Referrers = HashMap<(String, String), Vec<serde_json::Value>>;

/// How the front misbehaves, besides paging (all off by default).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Added before every request is looked at: a registry seen across a network.
    pub delay: Duration,
    /// Every Nth request (counting from 1) is answered `429 Too Many Requests` with
    /// `Retry-After` (a 429 storm). Docker Hub answers pulls over its limit this way
    /// (docs.docker.com/docker-hub/usage/, "Docker Hub usage and limits"); the
    /// distribution spec lists `TOOMANYREQUESTS` among its error codes
    /// (distribution.github.io/distribution/spec/api/, "Errors").
    pub storm_every: Option<u32>,
    /// After this many requests, further requests are accepted and never answered.
    pub silent_after: Option<u32>,
    /// Blobs (`GET …/blobs/…` answered `200`) come back with their last byte changed:
    /// a mirror or cache serving corrupted or substituted content.
    pub tamper_blobs: bool,
}

#[derive(Default)]
struct Stats {
    /// Requests by `(method, path with query)`, except those answered `401` (the
    /// challenge every client gets once before it authenticates) and injected `429`s.
    answered: Mutex<HashMap<(String, String), u32>>,
    challenges: AtomicU32,
    injected_429: AtomicU32,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl PagingFront {
    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The most requests in flight at once so far.
    pub fn peak_in_flight(&self) -> usize {
        self.stats.peak.load(Ordering::SeqCst)
    }

    /// Requests by `(method, path)` answered by the registry, except `401` challenges.
    pub fn counts(&self) -> HashMap<(String, String), u32> {
        self.stats.answered.lock().expect("lock").clone()
    }

    /// The `(method, path)`s asked for more than once (with how often), `401`
    /// challenges and injected `429`s left out.
    pub fn repeated(&self) -> Vec<((String, String), u32)> {
        let mut out: Vec<_> = self.counts().into_iter().filter(|(_, n)| *n > 1).collect();
        out.sort();
        out
    }

    /// `401` challenges answered.
    pub fn challenges(&self) -> u32 {
        self.stats.challenges.load(Ordering::SeqCst)
    }

    /// `429`s the front injected ([`Faults::storm_every`] and [`PagingFront::throttle`]).
    pub fn injected_429(&self) -> u32 {
        self.stats.injected_429.load(Ordering::SeqCst)
    }

    /// From now on the front answers the OCI referrers API, which distribution 2.8
    /// lacks (it answers `404`): `GET /v2/<name>/referrers/<digest>` (OCI distribution
    /// spec 1.1, "Listing Referrers", end-12a) is `200` with an image index
    /// (`Content-Type: application/vnd.oci.image.index.v1+json`) of the descriptors
    /// added with [`PagingFront::add_referrer`] for that digest (an empty index when
    /// none), filtered by the `artifactType` query parameter when given (then with
    /// `OCI-Filters-Applied: artifactType`). Access is the registry's: the request's
    /// `Authorization` must let it `HEAD` the subject (a `401` challenge is passed on).
    pub fn serve_referrers(&self) {
        let mut r = self.referrers.lock().expect("lock");
        r.get_or_insert_with(HashMap::new);
    }

    /// From now on `GET /v2/<name>/referrers/<digest>` is answered `status` with an error
    /// body (as registries older than the referrers API answer an unknown route), and
    /// never reaches the registry.
    pub fn refuse_referrers_with(&self, status: u16) {
        *self.refuse_referrers.lock().expect("lock") = Some(status);
    }

    /// Lists `descriptor` (of a manifest whose `subject` is `subject`) among the
    /// referrers of `subject` in `repository` ([`PagingFront::serve_referrers`]).
    pub fn add_referrer(&self, repository: &str, subject: &str, descriptor: serde_json::Value) {
        let mut r = self.referrers.lock().expect("lock");
        (r.get_or_insert_with(HashMap::new))
            .entry((repository.to_string(), subject.to_string()))
            .or_default()
            .push(descriptor);
    }

    /// Forgets the counts and the peak (between runs against one front).
    pub fn reset(&self) {
        self.stats.answered.lock().expect("lock").clear();
        self.stats.challenges.store(0, Ordering::SeqCst);
        self.stats.injected_429.store(0, Ordering::SeqCst);
        self.stats.peak.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
    }
}

impl Drop for PagingFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees `stop`; connection threads see it at
        // their next read (they poll) and end.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}
/// What one connection thread shares with the others.
struct Shared {
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU32>,
    throttle: Arc<AtomicU32>,
    stats: Arc<Stats>,
    faults: Faults,
    page_max: usize,
    retry_after_secs: u32,
    upstream: String,
    http: reqwest::blocking::Client,
    referrers: Arc<Mutex<Option<Referrers>>>,
    refuse_referrers: Arc<Mutex<Option<u16>>>,
}

impl TestRegistry {
    /// A [`PagingFront`] before the token registry, with pages of at most
    /// `page_max` tags and `Retry-After: retry_after_secs` on throttled answers.
    pub fn paging_front(&self, page_max: usize, retry_after_secs: u32) -> PagingFront {
        self.front_with(page_max, retry_after_secs, Faults::default())
    }

    /// A [`PagingFront`] that also misbehaves as `faults` say.
    pub fn front_with(
        &self,
        page_max: usize,
        retry_after_secs: u32,
        faults: Faults,
    ) -> PagingFront {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            stop: Arc::new(AtomicBool::new(false)),
            requests: Arc::new(AtomicU32::new(0)),
            throttle: Arc::new(AtomicU32::new(0)),
            stats: Arc::new(Stats::default()),
            faults,
            page_max,
            retry_after_secs,
            upstream: format!("https://{}", self.token_host()),
            http: self.http.clone(),
            referrers: Arc::new(Mutex::new(None)),
            refuse_referrers: Arc::new(Mutex::new(None)),
        });
        let mut front = PagingFront {
            port,
            stop: shared.stop.clone(),
            requests: shared.requests.clone(),
            throttle: shared.throttle.clone(),
            stats: shared.stats.clone(),
            referrers: shared.referrers.clone(),
            refuse_referrers: shared.refuse_referrers.clone(),
            accept: None,
        };
        let accept = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || serve(client, &shared));
            }
        });
        front.accept = Some(accept);
        front
    }
}

/// A request as read off the wire.
struct Request {
    method: String,
    /// Path and query.
    target: String,
    headers: Vec<(String, String)>,
}

/// An answer to write.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Answers the requests of one connection until the client closes it or the front
/// stops. A TLS ClientHello (first byte 0x16) is answered by closing the connection
/// — what a plain HTTP server's "400 Bad Request" to a TLS client amounts to — so
/// that a client trying HTTPS first fails fast and falls back to plain HTTP.
fn serve(client: TcpStream, shared: &Shared) {
    let mut first = [0u8; 1];
    if client.peek(&mut first).is_err() || first[0] == 0x16 {
        return;
    }
    // Reads poll, so that a stopped front's threads end.
    let _ = client.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = client.set_nodelay(true);
    let Ok(mut writer) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(client);
    while let Some(request) = read_request(&mut reader, &shared.stop) {
        let number = shared.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let stats = &shared.stats;
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.peak.fetch_max(now, Ordering::SeqCst);
        if shared.faults.silent_after.is_some_and(|n| number > n) {
            // Accepted, never answered: hold the connection until the front stops.
            while !shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        std::thread::sleep(shared.faults.delay);
        let throttled = shared
            .throttle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let storm = shared
            .faults
            .storm_every
            .is_some_and(|n| number.is_multiple_of(n));
        let answer = if throttled || storm {
            stats.injected_429.fetch_add(1, Ordering::SeqCst);
            Response {
                status: 429,
                headers: vec![
                    ("Retry-After".into(), shared.retry_after_secs.to_string()),
                    ("Content-Type".into(), "application/json".into()),
                ],
                body: br#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#.to_vec(),
            }
        } else {
            let mut answer = match referrers(shared, &request) {
                Some(answer) => answer,
                None => forward(&shared.http, &shared.upstream, &request, shared.page_max),
            };
            let blob = request.method == "GET" && request.target.contains("/blobs/");
            if shared.faults.tamper_blobs && blob && answer.status == 200 {
                if let Some(last) = answer.body.last_mut() {
                    *last ^= 0x01;
                }
            }
            if answer.status == 401 {
                stats.challenges.fetch_add(1, Ordering::SeqCst);
            } else {
                let key = (request.method.clone(), request.target.clone());
                *stats.answered.lock().expect("lock").entry(key).or_default() += 1;
            }
            answer
        };
        // Out of flight once the answer is ready: the client may send its next
        // request the moment the bytes arrive.
        stats.in_flight.fetch_sub(1, Ordering::SeqCst);
        if write_response(&mut writer, &request, &answer).is_err() {
            return;
        }
    }
}

/// The next request of a connection (its body, if any, read and dropped); `None` at
/// its end or when the front stops.
fn read_request(reader: &mut BufReader<TcpStream>, stop: &AtomicBool) -> Option<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        loop {
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => return None,
                Ok(_) if line.ends_with(b"\n") => break,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if stop.load(Ordering::SeqCst) {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
        let line = String::from_utf8(line).ok()?;
        let line = line.trim_end().to_string();
        if line.is_empty() {
            if head.is_empty() {
                continue;
            }
            break;
        }
        head.push(line);
    }
    let mut parts = head[0].split(' ');
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let headers: Vec<(String, String)> = head[1..]
        .iter()
        .filter_map(|h| h.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<u64>().ok())
        .unwrap_or(0);
    if length > 0 {
        let _ = std::io::copy(&mut reader.by_ref().take(length), &mut std::io::sink());
    }
    Some(Request {
        method,
        target,
        headers,
    })
}

fn write_response(
    out: &mut TcpStream,
    request: &Request,
    answer: &Response,
) -> std::io::Result<()> {
    let reason = match answer.status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", answer.status);
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", answer.body.len()));
    let mut bytes = head.into_bytes();
    if request.method != "HEAD" {
        bytes.extend_from_slice(&answer.body);
    }
    out.write_all(&bytes)?;
    out.flush()
}

/// The referrers API's answer to `request`, when the front serves it and `request` is
/// `GET /v2/<name>/referrers/<digest>` (see [`PagingFront::serve_referrers`]).
fn referrers(shared: &Shared, request: &Request) -> Option<Response> {
    let url = reqwest::Url::parse(&format!("http://x{}", request.target)).ok()?;
    let (name, digest) = url
        .path()
        .strip_prefix("/v2/")?
        .rsplit_once("/referrers/")?;
    if request.method != "GET" || !digest.starts_with("sha256:") {
        return None;
    }
    if let Some(status) = *shared.refuse_referrers.lock().expect("lock") {
        return Some(Response {
            status,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: b"unsupported\n".to_vec(),
        });
    }
    let listed = {
        let r = shared.referrers.lock().expect("lock");
        let listed = r.as_ref()?.get(&(name.to_string(), digest.to_string()));
        listed.cloned().unwrap_or_default()
    };
    // The registry decides access: the subject's HEAD with the same credentials.
    let head = Request {
        method: "HEAD".into(),
        target: format!("/v2/{name}/manifests/{digest}"),
        headers: request.headers.clone(),
    };
    let access = forward(&shared.http, &shared.upstream, &head, shared.page_max);
    if access.status == 401 {
        return Some(Response {
            body: br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#
                .to_vec(),
            ..access
        });
    }
    let wanted = url
        .query_pairs()
        .find(|(k, _)| k == "artifactType")
        .map(|(_, v)| v.into_owned());
    let manifests: Vec<serde_json::Value> = listed
        .into_iter()
        .filter(|d| wanted.as_deref().is_none_or(|w| d["artifactType"] == w))
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": super::OCI_INDEX,
        "manifests": manifests,
    });
    let mut headers = vec![("Content-Type".to_string(), super::OCI_INDEX.to_string())];
    if wanted.is_some() {
        headers.push(("OCI-Filters-Applied".into(), "artifactType".into()));
    }
    Some(Response {
        status: 200,
        headers,
        body: serde_json::to_vec(&index).expect("json"),
    })
}

fn forward(
    http: &reqwest::blocking::Client,
    upstream: &str,
    request: &Request,
    page_max: usize,
) -> Response {
    let url = reqwest::Url::parse(&format!("http://x{}", request.target)).expect("url");
    let paging = url.path().ends_with("/tags/list") && request.method == "GET";
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).expect("method");
    let target = if paging {
        format!("{upstream}{}", url.path())
    } else {
        format!("{upstream}{}", request.target)
    };
    let mut out = http.request(method, target);
    for (k, v) in &request.headers {
        if k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("accept") {
            out = out.header(k.as_str(), v.as_str());
        }
    }
    let answer = match out.send() {
        Ok(a) => a,
        Err(e) => {
            return Response {
                status: 502,
                headers: Vec::new(),
                body: e.to_string().into_bytes(),
            }
        }
    };
    let status = answer.status().as_u16();
    let mut headers: Vec<(String, String)> =
        ["www-authenticate", "docker-content-digest", "content-type"]
            .iter()
            .filter_map(|name| {
                answer
                    .headers()
                    .get(*name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| (name.to_string(), v.to_string()))
            })
            .collect();
    let head_length = answer
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut body = answer.bytes().map(|b| b.to_vec()).unwrap_or_default();
    if request.method == "HEAD" {
        // The length of what a GET would bring, as the registry said.
        body = vec![0; head_length.unwrap_or(0)];
    }
    if paging && status == 200 {
        let query = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let mut list: serde_json::Value = serde_json::from_slice(&body).expect("tag list");
        let mut tags: Vec<String> = list["tags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        tags.sort();
        let n = query("n")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(page_max)
            .min(page_max);
        let after: Vec<String> = match query("last") {
            Some(last) => tags.into_iter().filter(|t| *t > last).collect(),
            None => tags,
        };
        let page: Vec<String> = after.iter().take(n).cloned().collect();
        if after.len() > page.len() {
            if let Some(last) = page.last() {
                headers.push((
                    "Link".into(),
                    format!("<{}?n={n}&last={last}>; rel=\"next\"", url.path()),
                ));
            }
        }
        list["tags"] = serde_json::json!(page);
        body = serde_json::to_vec(&list).expect("json");
    }
    Response {
        status,
        headers,
        body,
    }
}
