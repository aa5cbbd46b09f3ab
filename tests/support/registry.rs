//! A real container registry for tests: Debian's `docker-registry` (distribution
//! 2.8) on 127.0.0.1, with TLS from a private CA the test makes, in two instances on
//! one storage directory:
//!
//! - **basic**: htpasswd auth (`auth.htpasswd`, bcrypt) — Basic challenges; the
//!   harness pushes through it with the registry HTTP API.
//! - **token**: token auth (`auth.token`) — Bearer challenges whose `realm` is the
//!   harness's [`TokenServer`], which signs ES256 JWTs with a certificate of the same
//!   CA (the `x5c` header; `rootcertbundle` is the CA), following
//!   distribution's `docs/spec/auth/token.md` and `registry/auth/token/token.go`.
//!
//! Images are pushed blob by blob (`POST /v2/<name>/blobs/uploads/`, then `PUT
//! <location>&digest=…`) and manifest by manifest (`PUT /v2/<name>/manifests/<tag>`),
//! as in the OCI distribution spec's "Pushing blobs" / "Pushing Manifests".
//!
//! Where `docker-registry` is not installed (and `.ci/run` could not install it),
//! [`TestRegistry::start`] returns `None` after printing a notice.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tempfile::TempDir;

/// The user the registry and the token server accept.
pub const USER: &str = "ci-bot";
/// Its password; distinctive so that a leak is easy to spot.
pub const PASSWORD: &str = "reg-SECRET-pw-7c2d";
/// bcrypt (cost 5) of [`PASSWORD`], as `htpasswd -B` writes it.
const PASSWORD_BCRYPT: &str = "$2b$05$5VDUd/nPaGiRpzJ4M8g35umHXzkpNjJUz7RUa68SuxscqeR3og9Sy";
/// The token service's name (`service=` and the token's `aud`).
pub const SERVICE: &str = "tagbump-test-registry";
const ISSUER: &str = "tagbump-test-token-issuer";

/// OCI media types the harness pushes.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// A pushed manifest: what a later index or re-tag needs.
#[derive(Clone, Debug)]
pub struct Pushed {
    pub digest: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Two registry processes on one storage, the token server, the CA.
pub struct TestRegistry {
    dir: TempDir,
    /// The CA certificate (PEM): what `--ca-bundle` points to.
    pub ca_pem: PathBuf,
    basic: RegistryProcess,
    token: RegistryProcess,
    /// The Bearer flow's token endpoint.
    pub tokens: TokenServer,
    http: reqwest::blocking::Client,
}

impl TestRegistry {
    /// Starts both registries and the token server, or prints a notice and returns
    /// `None` where `docker-registry` is missing.
    pub fn start() -> Option<TestRegistry> {
        let Some(binary) = binary() else {
            eprintln!("notice: docker-registry is not installed (apt-get install docker-registry); skipping the registry test");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("tagbump-registry-")
            .tempdir()
            .expect("tempdir");
        let pki = Pki::generate(dir.path());
        std::fs::create_dir_all(dir.path().join("storage")).expect("storage dir");
        std::fs::write(
            dir.path().join("htpasswd"),
            format!("{USER}:{PASSWORD_BCRYPT}\n"),
        )
        .expect("htpasswd");
        let tokens = TokenServer::start(pki.signing_key_der.clone(), pki.signing_cert_der.clone());
        let basic = RegistryProcess::start(
            &binary,
            dir.path(),
            "basic",
            &format!(
                "auth:\n  htpasswd:\n    realm: tagbump-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ),
        );
        let token = RegistryProcess::start(
            &binary,
            dir.path(),
            "token",
            &format!(
                "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                tokens.realm(),
                pki.ca_pem.display()
            ),
        );
        let ca = reqwest::Certificate::from_pem(&std::fs::read(&pki.ca_pem).expect("ca"))
            .expect("CA PEM");
        let http = reqwest::blocking::Client::builder()
            .tls_certs_only([ca])
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Some(TestRegistry {
            ca_pem: pki.ca_pem,
            dir,
            basic,
            token,
            tokens,
            http,
        })
    }

    /// `127.0.0.1:<port>` of the htpasswd (Basic) registry.
    pub fn basic_host(&self) -> String {
        format!("127.0.0.1:{}", self.basic.port)
    }

    /// `127.0.0.1:<port>` of the token (Bearer) registry.
    pub fn token_host(&self) -> String {
        format!("127.0.0.1:{}", self.token.port)
    }

    /// Another token-auth registry on the same storage whose challenges name `realm`
    /// (e.g. a plain-HTTP realm on another host, which clients must refuse).
    pub fn registry_with_realm(&self, name: &str, realm: &str) -> ExtraRegistry {
        let binary = binary().expect("docker-registry");
        let process = RegistryProcess::start(
            &binary,
            self.dir.path(),
            name,
            &format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                self.ca_pem.display()
            ),
        );
        ExtraRegistry { process }
    }

    /// The temporary directory (logs, config).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.basic_host())
    }

    /// Uploads a blob (monolithic: POST then PUT with the digest) and returns its digest.
    pub fn push_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256(bytes);
        let started = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/")))
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .expect("start upload");
        assert_eq!(
            started.status().as_u16(),
            202,
            "start upload of a blob to {repo}"
        );
        let location = started
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .expect("upload location")
            .to_string();
        let mut put = if location.starts_with('/') {
            self.url(&location)
        } else {
            location
        };
        put.push(if put.contains('?') { '&' } else { '?' });
        put.push_str(&format!("digest={digest}"));
        let done = self
            .http
            .put(put)
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .expect("finish upload");
        assert_eq!(done.status().as_u16(), 201, "finish upload of {digest}");
        digest
    }

    /// Puts a manifest under `reference` (a tag) and returns what was pushed.
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &'static str,
        bytes: Vec<u8>,
    ) -> Pushed {
        let answer = self
            .http
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .basic_auth(USER, Some(PASSWORD))
            .header("content-type", media_type)
            .body(bytes.clone())
            .send()
            .expect("put manifest");
        let status = answer.status().as_u16();
        let text = answer.text().unwrap_or_default();
        assert_eq!(status, 201, "put manifest {repo}:{reference}: {text}");
        Pushed {
            digest: sha256(&bytes),
            media_type,
            bytes,
        }
    }

    /// Pushes a one-layer OCI image built at `created` (RFC 3339) for `arch`, tagged `tag`.
    pub fn push_image(&self, repo: &str, tag: &str, created: &str, arch: &str) -> Pushed {
        self.push_image_as(repo, tag, created, arch, false)
    }

    /// The same as a Docker v2 schema 2 image.
    pub fn push_docker_image(&self, repo: &str, tag: &str, created: &str, arch: &str) -> Pushed {
        self.push_image_as(repo, tag, created, arch, true)
    }

    fn push_image_as(
        &self,
        repo: &str,
        tag: &str,
        created: &str,
        arch: &str,
        docker: bool,
    ) -> Pushed {
        let layer = format!("layer of {repo}:{tag} for {arch} built {created}").into_bytes();
        let layer_digest = self.push_blob(repo, &layer);
        let config = serde_json::json!({
            "created": created,
            "architecture": arch,
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        });
        let config = serde_json::to_vec(&config).expect("json");
        let config_digest = self.push_blob(repo, &config);
        let (manifest_type, config_type, layer_type) = if docker {
            (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER)
        } else {
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
        };
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": layer_type, "digest": layer_digest, "size": layer.len()}],
        });
        self.put_manifest(
            repo,
            tag,
            manifest_type,
            serde_json::to_vec(&manifest).expect("json"),
        )
    }

    /// Pushes an OCI index of `children` (`(manifest, arch)`, all linux) tagged `tag`.
    pub fn push_index(&self, repo: &str, tag: &str, children: &[(&Pushed, &str)]) -> Pushed {
        let manifests: Vec<serde_json::Value> = children
            .iter()
            .map(|(m, arch)| {
                serde_json::json!({
                    "mediaType": m.media_type,
                    "digest": m.digest,
                    "size": m.bytes.len(),
                    "platform": {"os": "linux", "architecture": arch},
                })
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": manifests,
        });
        self.put_manifest(
            repo,
            tag,
            OCI_INDEX,
            serde_json::to_vec(&index).expect("json"),
        )
    }

    /// Tags an already pushed manifest with another tag.
    pub fn tag(&self, repo: &str, tag: &str, manifest: &Pushed) -> Pushed {
        self.put_manifest(repo, tag, manifest.media_type, manifest.bytes.clone())
    }

    /// The registries' logs (for failure messages and leak checks).
    pub fn logs(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("basic.log"), read("token.log"))
    }
}

/// A further registry process (see [`TestRegistry::registry_with_realm`]); stops on drop.
pub struct ExtraRegistry {
    process: RegistryProcess,
}

impl ExtraRegistry {
    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.process.port)
    }
}

/// `docker-registry` on PATH or in /usr/bin.
fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("docker-registry"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from("/usr/bin/docker-registry");
        p.is_file().then_some(p)
    })
}

/// `sha256:<hex>`.
pub fn sha256(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A free port on 127.0.0.1 (bound and released; the registry binds it next).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

// ---------------------------------------------------------------- the CA

struct Pki {
    ca_pem: PathBuf,
    signing_key_der: Vec<u8>,
    signing_cert_der: Vec<u8>,
}

impl Pki {
    /// A CA, a server certificate for 127.0.0.1/localhost (`server.pem`,
    /// `server-key.pem`), and a token-signing certificate, all under `dir`.
    fn generate(dir: &Path) -> Pki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "tagbump registry test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signed CA");
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("server certificate");

        let signing_key = KeyPair::generate().expect("token signing key");
        let mut signing_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        signing_params
            .distinguished_name
            .push(DnType::CommonName, "tagbump test token signer");
        signing_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let signing_cert = signing_params
            .signed_by(&signing_key, &issuer)
            .expect("signing certificate");

        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, ca_cert.pem()).expect("ca.pem");
        std::fs::write(dir.join("server.pem"), server_cert.pem()).expect("server.pem");
        std::fs::write(dir.join("server-key.pem"), server_key.serialize_pem()).expect("key");
        Pki {
            ca_pem,
            signing_key_der: signing_key.serialize_der(),
            signing_cert_der: signing_cert.der().to_vec(),
        }
    }
}

// ---------------------------------------------------------------- registry process

struct RegistryProcess {
    child: Child,
    port: u16,
}

impl RegistryProcess {
    fn start(binary: &Path, dir: &Path, name: &str, auth: &str) -> RegistryProcess {
        let port = free_port();
        let config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  tls:\n    certificate: {cert}\n    key: {key}\n{auth}",
            storage = dir.join("storage").display(),
            cert = dir.join("server.pem").display(),
            key = dir.join("server-key.pem").display(),
        );
        let config_path = dir.join(format!("{name}.yml"));
        std::fs::write(&config_path, config).expect("config");
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut process = RegistryProcess { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = process.child.try_wait() {
                let log =
                    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
                panic!("docker-registry ({name}) exited with {status}:\n{log}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "docker-registry ({name}) did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        process
    }
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- token server

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
    fn start(key_der: Vec<u8>, cert_der: Vec<u8>) -> TokenServer {
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

fn header(name: &str, value: &str) -> tiny_http::Header {
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

// ---------------------------------------------------------------- paging front

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
