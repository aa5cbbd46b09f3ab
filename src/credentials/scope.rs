//! Host scopes: which hosts a token variable belongs to (hosts and ports as
//! [`RemoteUrl`] reads them).

use crate::url::{RemoteUrl, Transport};

/// Scheme, host name and port of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    host: String,
    /// The written port, else the scheme's default; `None` for a bare host name.
    port: Option<u16>,
    explicit_port: bool,
}

impl Endpoint {
    /// `scheme://[user@]host[:port][/…]` (also scp-like `[user@]host:path`), or a bare
    /// `host[:port]`, as [`RemoteUrl`] reads them. Over http(s) an unwritten port is the
    /// scheme's default; a bare host and other transports leave it open.
    pub(super) fn parse(text: &str) -> Option<Endpoint> {
        let text = text.trim();
        let url = match RemoteUrl::from_authority(Transport::Https, text) {
            Ok(bare) if !text.contains("://") => bare,
            _ => RemoteUrl::parse(text).ok()?,
        };
        let host = url.host_in_url()?;
        let bare_or_not_http = !text.contains("://") || !url.transport().is_http();
        Some(Endpoint {
            host,
            port: if bare_or_not_http {
                url.port()
            } else {
                url.port_or_default()
            },
            // Shown like [`RemoteUrl::authority`]: `https://h:443` is `h`.
            explicit_port: url
                .port()
                .is_some_and(|p| bare_or_not_http || Some(p) != url.transport().default_port()),
        })
    }

    /// `host[:port]`, the port only when written.
    pub(super) fn shown(&self) -> String {
        match (self.explicit_port, self.port) {
            (true, Some(port)) => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }

    /// Does this scope entry admit `dest`? A bare host name admits any port.
    pub(super) fn admits(&self, dest: &Endpoint) -> bool {
        self.host == dest.host && (self.port.is_none() || self.port == dest.port)
    }
}

/// The hosts one variable belongs to.
pub(super) struct Scope {
    /// `None`: any host.
    hosts: Option<Vec<Endpoint>>,
    /// Where the hosts come from, for messages.
    origin: &'static str,
}

impl Scope {
    pub(super) fn of(variable: &str, env: &dyn Fn(&str) -> Option<String>) -> Scope {
        let set = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let from_url = |name: &str| set(name).and_then(|v| Endpoint::parse(&v));
        let bare = |host: &str| Endpoint {
            host: host.to_string(),
            port: None,
            explicit_port: false,
        };
        let gitlab_instance = || {
            from_url("CI_SERVER_URL").or_else(|| {
                set("CI_SERVER_HOST")
                    .and_then(|h| Endpoint::parse(&h))
                    .map(|e| Endpoint {
                        port: None,
                        explicit_port: false,
                        ..e
                    })
            })
        };
        match variable {
            "GITHUB_TOKEN" => {
                let mut hosts = match from_url("GITHUB_SERVER_URL") {
                    Some(server) => vec![server],
                    None => vec![bare("github.com"), bare("api.github.com")],
                };
                hosts.extend(from_url("GITHUB_API_URL"));
                Scope {
                    hosts: Some(hosts),
                    origin: "the GitHub host of this run: $GITHUB_SERVER_URL and $GITHUB_API_URL, else github.com",
                }
            }
            "GITLAB_TOKEN" => Scope {
                hosts: Some(std::iter::once(bare("gitlab.com")).chain(gitlab_instance()).collect()),
                origin: "gitlab.com and the GitLab instance of this run: $CI_SERVER_URL, else $CI_SERVER_HOST",
            },
            "CI_JOB_TOKEN" => Scope {
                hosts: Some(gitlab_instance().into_iter().collect()),
                origin: "the GitLab instance of this CI job: $CI_SERVER_URL, else $CI_SERVER_HOST",
            },
            _ => Scope {
                hosts: None,
                origin: "any host",
            },
        }
    }

    pub(super) fn admits(&self, dest: Option<&Endpoint>) -> bool {
        match (&self.hosts, dest) {
            (None, _) => true,
            (Some(hosts), Some(dest)) => hosts.iter().any(|h| h.admits(dest)),
            (Some(_), None) => false,
        }
    }

    pub(super) fn refusal(&self, destination: &str) -> String {
        let hosts = match &self.hosts {
            Some(hosts) if !hosts.is_empty() => hosts
                .iter()
                .map(Endpoint::shown)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "no host".to_string(),
        };
        format!("it belongs to {hosts} ({}), not {destination}", self.origin)
    }
}
