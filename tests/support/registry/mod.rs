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
//! Where `docker-registry` is not installed, [`TestRegistry::start`] fails the test
//! under `TAGBUMP_REQUIRE_TOOLS=1` (`.ci/run`, CI), and elsewhere reports the skip
//! ([`super::tools::missing`]) and returns `None`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::test_ca::TestCa;
use tempfile::TempDir;

pub mod front;
pub mod token;

use token::TokenServer;

/// The user the registry and the token server accept.
pub const USER: &str = "ci-bot";
/// Its password; distinctive so that a leak is easy to spot.
pub const PASSWORD: &str = "reg-SECRET-pw-7c2d";
/// bcrypt (cost 5) of [`PASSWORD`], as `htpasswd -B` writes it.
const PASSWORD_BCRYPT: &str = "$2b$05$5VDUd/nPaGiRpzJ4M8g35umHXzkpNjJUz7RUa68SuxscqeR3og9Sy";
/// The token service's name (`service=` and the token's `aud`).
pub const SERVICE: &str = "tagbump-test-registry";
pub(super) const ISSUER: &str = "tagbump-test-token-issuer";

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
    /// Starts both registries and the token server. Where `docker-registry` is
    /// missing: a panic under `TAGBUMP_REQUIRE_TOOLS=1`, else a reported skip and `None`.
    pub fn start() -> Option<TestRegistry> {
        let Some(binary) = binary() else {
            super::tools::missing(
                "docker-registry",
                "not on PATH nor in /usr/bin (apt-get install docker-registry; .ci/run does)",
            );
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
        let ca = TestCa::new("tagbump registry test CA");
        let server = ca.localhost_server();
        let signing = ca.signer("tagbump test token signer");

        let ca_pem = dir.join("ca.pem");
        std::fs::write(&ca_pem, ca.cert.pem()).expect("ca.pem");
        std::fs::write(dir.join("server.pem"), server.cert.pem()).expect("server.pem");
        std::fs::write(dir.join("server-key.pem"), server.key.serialize_pem()).expect("key");
        Pki {
            ca_pem,
            signing_key_der: signing.key.serialize_der(),
            signing_cert_der: signing.cert.der().to_vec(),
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
