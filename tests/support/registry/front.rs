//! The paginating front before the token registry.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::token::header;
use super::TestRegistry;

/// distribution 2.8 answers `GET /v2/<name>/tags/list` with every tag and ignores
/// `n` and `last`; registries such as distribution 3, GHCR, Docker Hub and Harbor
/// paginate. This front, on plain HTTP at 127.0.0.1 (loopback, where clients may use
/// plain HTTP), forwards every request to the token registry unchanged — auth
/// challenges, tokens, manifests, blobs — and pages tag lists as the OCI
/// distribution spec ("Listing Tags", end-12b) says: at most `n` tags (and at most
/// `page_max`) in lexical order after `last`, with `Link: <…?n=…&last=…>;
/// rel="next"` while more remain. It can also answer `429 Too Many Requests` with
/// `Retry-After`, as Docker Hub does for pulls over its rate limit.
pub struct PagingFront {
    port: u16,
    stop: Arc<AtomicBool>,
    splice: Option<JoinHandle<()>>,
    /// Requests received.
    pub requests: Arc<AtomicU32>,
    /// The next N requests are answered with 429 (`Retry-After: retry_after`).
    pub throttle: Arc<AtomicU32>,
    thread: Option<JoinHandle<()>>,
}

impl PagingFront {
    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for PagingFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Wake the accept loop so that it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.splice.take() {
            let _ = t.join();
        }
    }
}

/// Accepts on a new port and splices each connection to `backend`, except a TLS
/// ClientHello (first byte 0x16), which is answered by closing the connection — what
/// a plain HTTP server's "400 Bad Request" to a TLS client amounts to — so that a
/// client trying HTTPS first fails fast and falls back to plain HTTP.
fn plain_http_port(backend: u16, stop: Arc<AtomicBool>) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let thread = std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(client) = stream else { continue };
            std::thread::spawn(move || {
                let mut first = [0u8; 1];
                if client.peek(&mut first).is_err() || first[0] == 0x16 {
                    return;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", backend)) else {
                    return;
                };
                let (mut c_read, mut s_write) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let up = std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_read, &mut s_write);
                    let _ = s_write.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                let _ = std::io::copy(&mut s_read, &mut c_write);
                let _ = c_write.shutdown(std::net::Shutdown::Both);
                let _ = up.join();
            });
        }
    });
    (port, thread)
}

impl TestRegistry {
    /// A [`PagingFront`] before the token registry, with pages of at most
    /// `page_max` tags and `Retry-After: retry_after_secs` on throttled answers.
    pub fn paging_front(&self, page_max: usize, retry_after_secs: u32) -> PagingFront {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("front");
        let backend = server.server_addr().to_ip().expect("ip").port();
        let stop = Arc::new(AtomicBool::new(false));
        let (port, splice) = plain_http_port(backend, stop.clone());
        let requests = Arc::new(AtomicU32::new(0));
        let throttle = Arc::new(AtomicU32::new(0));
        let (s, r, t) = (stop.clone(), requests.clone(), throttle.clone());
        let upstream = format!("https://{}", self.token_host());
        let http = self.http.clone();
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                r.fetch_add(1, Ordering::SeqCst);
                if t.load(Ordering::SeqCst) > 0 {
                    t.fetch_sub(1, Ordering::SeqCst);
                    let _ = request.respond(
                        tiny_http::Response::from_string(
                            "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"You have reached your pull rate limit.\"}]}",
                        )
                        .with_status_code(429)
                        .with_header(header("Retry-After", &retry_after_secs.to_string())),
                    );
                    continue;
                }
                let answer = forward(&http, &upstream, &request, page_max);
                let _ = request.respond(answer);
            }
        });
        PagingFront {
            port,
            splice: Some(splice),
            stop,
            requests,
            throttle,
            thread: Some(thread),
        }
    }
}

fn forward(
    http: &reqwest::blocking::Client,
    upstream: &str,
    request: &tiny_http::Request,
    page_max: usize,
) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let url = reqwest::Url::parse(&format!("http://x{}", request.url())).expect("url");
    let paging = url.path().ends_with("/tags/list") && *request.method() == tiny_http::Method::Get;
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("method");
    let target = if paging {
        format!("{upstream}{}", url.path())
    } else {
        format!("{upstream}{}", request.url())
    };
    let mut out = http.request(method, target);
    for h in request.headers() {
        if h.field.equiv("Authorization") || h.field.equiv("Accept") {
            out = out.header(h.field.as_str().as_str(), h.value.as_str());
        }
    }
    let answer = match out.send() {
        Ok(a) => a,
        Err(e) => return tiny_http::Response::from_string(e.to_string()).with_status_code(502),
    };
    let status = answer.status().as_u16();
    let keep: Vec<tiny_http::Header> =
        ["www-authenticate", "docker-content-digest", "content-type"]
            .iter()
            .filter_map(|name| {
                answer
                    .headers()
                    .get(*name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| header(name, v))
            })
            .collect();
    let body = answer.bytes().map(|b| b.to_vec()).unwrap_or_default();
    let mut body = body;
    let mut link = None;
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
                link = Some(format!("<{}?n={n}&last={last}>; rel=\"next\"", url.path()));
            }
        }
        list["tags"] = serde_json::json!(page);
        body = serde_json::to_vec(&list).expect("json");
    }
    let mut response = tiny_http::Response::from_data(body).with_status_code(status);
    for h in keep {
        response.add_header(h);
    }
    if let Some(link) = link {
        response.add_header(header("Link", &link));
    }
    response
}
