//! Host scopes: which hosts a token variable belongs to, and URL host/port parsing.

/// Scheme, host name and port of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Endpoint {
    host: String,
    /// The written port, else the scheme's default; `None` for a bare host name.
    port: Option<u16>,
    explicit_port: bool,
}

impl Endpoint {
    /// `scheme://[user@]host[:port][/…]`, or a bare `host[:port]`.
    pub(super) fn parse(text: &str) -> Option<Endpoint> {
        let text = text.trim();
        let (scheme, rest) = match text.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
            None => (None, text),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = match host_port.strip_prefix('[') {
            Some(v6) => {
                let (inner, tail) = v6.split_once(']')?;
                (format!("[{inner}]"), tail.strip_prefix(':'))
            }
            None => match host_port.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (host_port.to_string(), None),
            },
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty() || host.contains(char::is_whitespace) {
            return None;
        }
        let explicit_port = match port.filter(|p| !p.is_empty()) {
            Some(p) => Some(p.parse::<u16>().ok()?),
            None => None,
        };
        let default_port = match scheme.as_deref() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        };
        Some(Endpoint {
            host,
            port: explicit_port.or(default_port),
            explicit_port: explicit_port.is_some(),
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

    pub(super) fn refusal(&self, variable: &str, destination: &str) -> String {
        let hosts = match &self.hosts {
            Some(hosts) if !hosts.is_empty() => hosts
                .iter()
                .map(Endpoint::shown)
                .collect::<Vec<_>>()
                .join(", "),
            _ => "no host".to_string(),
        };
        format!(
            "it belongs to {hosts} ({}), not {destination} (pass --token-env {variable} or set TAGBUMP_TOKEN to send a token there)",
            self.origin
        )
    }
}
