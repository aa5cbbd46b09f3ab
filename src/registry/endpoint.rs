//! Where an image's registry answers: the API base URL, the repository name inside it,
//! and the host that credentials belong to.
//!
//! Docker Hub is special in two ways (`github.com/distribution/reference`,
//! `normalize.go`, and the Docker CLI's `registry` package): the name `docker.io` is
//! served by `registry-1.docker.io`, and one-element names are official images under
//! `library/`. [`crate::image::ImageRef`] already adds `library/`; this module maps the
//! host.
//!
//! The scheme is HTTPS, always. Only where Docker itself allows plain HTTP — a
//! registry on `localhost` or an address in `127.0.0.0/8` (or `::1`), and hosts the
//! user names as insecure (`--insecure-registry HOST`, Docker's
//! `insecure-registries`) — does the client fall back to `http://` when the HTTPS
//! connection cannot be made (Docker tries HTTPS first there too).

use std::net::IpAddr;

use crate::image::{ImageRef, DEFAULT_DOMAIN};
use crate::url::{RemoteUrl, Transport};

/// The host that serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// The key Docker Hub's credentials are stored under in `~/.docker/config.json`.
pub const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// The registry API of one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The registry as the image names it (`ghcr.io`, `docker.io`, `localhost:5000`).
    pub registry: String,
    /// The host (with port) that the API requests go to.
    pub host: String,
    /// The repository inside the registry (`library/nginx`, `acme/api`).
    pub repository: String,
    /// `https`; `http` once the client fell back to it.
    pub scheme: &'static str,
    /// Whether falling back to plain HTTP is allowed ([`plain_http_allowed`]).
    pub plain_http_fallback: bool,
}

impl Endpoint {
    /// The endpoint of `image`'s repository. `insecure` lists the registry hosts (as
    /// written in image names, with port where there is one) that may use plain HTTP.
    pub fn of(image: &ImageRef, insecure: &[String]) -> Endpoint {
        let registry = image.domain().to_string();
        let host = if registry == DEFAULT_DOMAIN {
            DOCKER_HUB_API_HOST.to_string()
        } else {
            registry.clone()
        };
        Endpoint {
            plain_http_fallback: plain_http_allowed(&registry, insecure),
            registry,
            host,
            repository: image.path().to_string(),
            scheme: "https",
        }
    }

    /// `https://host/v2/` — the API base.
    pub fn base(&self) -> String {
        format!("{}://{}/v2/", self.scheme, self.host)
    }

    /// `https://host/v2/<repository>/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!("{}{}/{rest}", self.base(), self.repository)
    }

    /// The keys this registry's credentials may be stored under in Docker's
    /// `config.json`, most specific first.
    pub fn config_keys(&self) -> Vec<String> {
        if self.registry == DEFAULT_DOMAIN {
            return vec![
                DOCKER_HUB_CONFIG_KEY.to_string(),
                "index.docker.io".to_string(),
                "docker.io".to_string(),
                DOCKER_HUB_API_HOST.to_string(),
            ];
        }
        vec![self.registry.clone()]
    }
}

/// Whether `registry` (`host[:port]`) may be spoken to over plain HTTP: loopback
/// names and addresses always (as Docker does), other hosts only when listed in
/// `insecure` (compared with and without the port).
pub fn plain_http_allowed(registry: &str, insecure: &[String]) -> bool {
    let host = host_of(registry);
    if is_loopback(&host) {
        return true;
    }
    insecure
        .iter()
        .any(|i| i.eq_ignore_ascii_case(registry) || i.eq_ignore_ascii_case(&host))
}

/// Whether `host` (no port) is `localhost` or a loopback address (`127.0.0.0/8`, `::1`).
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of a registry name `host[:port]` ([`RemoteUrl::from_authority`]: lower-case,
/// without the port, an IPv6 address in brackets); the name itself if it is no host.
pub fn host_of(registry: &str) -> String {
    RemoteUrl::from_authority(Transport::Https, registry)
        .ok()
        .and_then(|url| url.host_in_url())
        .unwrap_or_else(|| registry.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(image: &str, insecure: &[&str]) -> Endpoint {
        let insecure: Vec<String> = insecure.iter().map(|s| s.to_string()).collect();
        Endpoint::of(&ImageRef::parse(image).expect("image"), &insecure)
    }

    #[test]
    fn docker_hub_names_go_to_registry_1_with_library() {
        let e = endpoint("nginx:1.25", &[]);
        assert_eq!(e.host, "registry-1.docker.io");
        assert_eq!(
            e.url("manifests/1.25"),
            "https://registry-1.docker.io/v2/library/nginx/manifests/1.25"
        );
        let e = endpoint("docker.io/bitnami/redis", &[]);
        assert_eq!(
            e.url("tags/list"),
            "https://registry-1.docker.io/v2/bitnami/redis/tags/list"
        );
        assert_eq!(e.config_keys()[0], "https://index.docker.io/v1/");
    }

    #[test]
    fn other_registries_keep_their_host_and_port() {
        let e = endpoint("ghcr.io/acme/api:v1", &[]);
        assert_eq!(e.base(), "https://ghcr.io/v2/");
        assert_eq!(e.config_keys(), vec!["ghcr.io".to_string()]);
        let e = endpoint("registry.example.com:5443/team/app", &[]);
        assert_eq!(
            e.url("tags/list"),
            "https://registry.example.com:5443/v2/team/app/tags/list"
        );
    }

    #[test]
    fn registry_hosts_are_read_by_the_url_type() {
        assert_eq!(host_of("Registry.Example:5000"), "registry.example");
        assert_eq!(host_of("[::1]:5000"), "[::1]");
        assert_eq!(host_of("ghcr.io"), "ghcr.io");
        assert!(plain_http_allowed("LOCALHOST:5000", &[]));
        assert!(plain_http_allowed(
            "Reg.Corp:5000",
            &["reg.corp".to_string()]
        ));
    }

    #[test]
    fn https_first_and_plain_http_only_for_loopback_and_named_hosts() {
        let fallback = |image: &str, insecure: &[&str]| {
            let e = endpoint(image, insecure);
            assert_eq!(e.scheme, "https", "{image}: HTTPS is always tried first");
            e.plain_http_fallback
        };
        assert!(fallback("localhost:5000/app", &[]));
        assert!(fallback("127.0.0.1:5000/app", &[]));
        assert!(fallback("127.8.9.10:5000/app", &[]));
        assert!(fallback("[::1]:5000/app", &[]));
        assert!(!fallback("10.0.0.5:5000/app", &[]));
        assert!(!fallback("registry.lan:5000/app", &[]));
        assert!(fallback("registry.lan:5000/app", &["registry.lan"]));
        assert!(fallback("registry.lan:5000/app", &["registry.lan:5000"]));
        assert!(!fallback("registry.lan:5000/app", &["other.lan"]));
        // A name that merely starts like a loopback one is not loopback.
        assert!(!fallback("localhost.evil.example/app", &[]));
    }
}
