//! A URL, parsed once: which transport, which host, which port, which origin, which
//! path, and the URL without credentials. Every "is this SSH?", "which host?", "is this
//! the same host?" decision asks [`RemoteUrl`]: git remotes ([`crate::git`], the CLI's
//! `--ssh-key`), forge API bases and redirect targets, the hosts a token is scoped to,
//! and registry names. So they cannot disagree (an scp-form `github.com:acme/cfg.git`
//! without a user is SSH everywhere; `https://h:443` is the same origin as `https://h`).
//!
//! Parsing is git's own syntax, through `gix-url` (the parser `gix` uses):
//! `scheme://[user[:password]@]host[:port]/path`, the scp-like `[user@]host:path` (no
//! slash before the first colon), and local paths; a bare `host[:port]` (a registry, a
//! `$CI_SERVER_HOST`) through [`RemoteUrl::from_authority`]. A leaf module: it depends
//! on nothing else in the crate.

use std::fmt;

use gix_url::Scheme;

/// How git talks to a remote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `https://`.
    Https,
    /// `http://`.
    Http,
    /// `ssh://` (also `git+ssh://`, `ssh+git://`) and the scp-like `[user@]host:path`.
    Ssh,
    /// `git://` (git daemon).
    Git,
    /// `file://` and local paths.
    File,
}

impl Transport {
    /// `https`, `http`, `ssh`, `git` or `file` (git's protocol names).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Https => "https",
            Transport::Http => "http",
            Transport::Ssh => "ssh",
            Transport::Git => "git",
            Transport::File => "file",
        }
    }

    /// HTTP or HTTPS: the transports a token (basic auth) is sent over.
    pub fn is_http(self) -> bool {
        matches!(self, Transport::Https | Transport::Http)
    }

    /// The port a URL of this transport means when it names none (443, 80, 22, 9418);
    /// `None` for `file`.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Transport::Https => Some(443),
            Transport::Http => Some(80),
            Transport::Ssh => Some(22),
            Transport::Git => Some(9418),
            Transport::File => None,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a remote URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// A transport other than https, http, ssh, git and file: `ext::` and other remote
    /// helpers run commands; `ftp://`, `rsync://` and the like are not supported.
    #[error("the '{0}' transport is not allowed: tagbump talks to git remotes over https, http, ssh, git and file only")]
    Transport(String),
    /// Not a URL git would accept (the message never holds credentials).
    #[error("invalid git remote URL: {0}")]
    Invalid(String),
}

/// A parsed git remote URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    transport: Transport,
    user: Option<String>,
    password: Option<String>,
    /// Lower-case; IPv6 addresses without brackets.
    host: Option<String>,
    /// As written in the URL (`https://h:443/` keeps 443).
    port: Option<u16>,
    path: String,
    scp_like: bool,
    /// A local path, not a `file://` URL.
    plain_path: bool,
    /// The input without `user:password@` (a user alone is kept: `git@host:path`,
    /// `ssh://git@host/path` and a `token@` over http(s) are handled by
    /// [`RemoteUrl::without_credentials`]).
    shown: String,
}

impl fmt::Debug for RemoteUrl {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteUrl")
            .field("transport", &self.transport)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RemoteUrl {
    /// Parses `text` as git does.
    ///
    /// # Errors
    ///
    /// [`UrlError::Transport`] for `ext::…`, other `<helper>::` and unknown schemes;
    /// [`UrlError::Invalid`] for what git cannot parse (an SSH URL without a path, a
    /// port that is not a number, …).
    pub fn parse(text: &str) -> Result<RemoteUrl, UrlError> {
        let text = text.trim();
        // A query or fragment (API URLs, redirect targets) is not part of a git URL.
        let text = match text.split_once("://") {
            Some((scheme, rest)) => match rest.find(['?', '#']) {
                Some(end) => &text[..scheme.len() + 3 + end],
                None => text,
            },
            None => text,
        };
        // Scheme names are case-insensitive (RFC 3986 §3.1).
        let lowered;
        let text = match text.split_once("://") {
            Some((scheme, rest)) if scheme.chars().any(|c| c.is_ascii_uppercase()) => {
                lowered = format!("{}://{rest}", scheme.to_ascii_lowercase());
                lowered.as_str()
            }
            _ => text,
        };
        let url = gix_url::parse(text.as_bytes()).map_err(|e| {
            let mut message = e.to_string();
            if let Some(userinfo) = userinfo(text) {
                message = message.replace(userinfo, "***");
            }
            UrlError::Invalid(format!("{}: {message}", strip_userinfo(text)))
        })?;
        let transport = match &url.scheme {
            Scheme::Https => Transport::Https,
            Scheme::Http => Transport::Http,
            Scheme::Ssh => Transport::Ssh,
            Scheme::Git => Transport::Git,
            Scheme::File => Transport::File,
            Scheme::Ext => return Err(UrlError::Transport("ext".to_string())),
            Scheme::Helper(name) | Scheme::HelperUrl(name) => {
                return Err(UrlError::Transport(name.to_ascii_lowercase()))
            }
        };
        let scp_like = transport == Transport::Ssh && !text.contains("://");
        let host = url.host().filter(|h| !h.is_empty()).map(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        });
        Ok(RemoteUrl {
            transport,
            user: url.user().filter(|u| !u.is_empty()).map(str::to_string),
            password: url.password().map(str::to_string),
            host: if transport == Transport::File {
                None
            } else {
                host
            },
            port: url.port,
            path: String::from_utf8_lossy(url.path.as_ref()).into_owned(),
            scp_like,
            plain_path: transport == Transport::File && !text.contains("://"),
            shown: strip_password(text),
        })
    }

    /// Which transport git uses.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The host, lower-case (`None` for `file://` and local paths).
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// `host` (lower-case, `None` for `file://` and local paths) and `port`, for a
    /// bare `host[:port]` such as a registry name or `$CI_SERVER_HOST`, as `transport`
    /// would reach it (`[v6]:port` for IPv6).
    ///
    /// # Errors
    ///
    /// [`UrlError::Invalid`] when `authority` holds a path, credentials or whitespace,
    /// or its port is not a number.
    pub fn from_authority(transport: Transport, authority: &str) -> Result<RemoteUrl, UrlError> {
        let authority = authority.trim();
        if authority.is_empty()
            || authority.contains(['/', '\\', '@', '?', '#'])
            || authority.contains(char::is_whitespace)
            || transport == Transport::File
        {
            let shown = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            return Err(UrlError::Invalid(format!("`{shown}` is not a host[:port]")));
        }
        RemoteUrl::parse(&format!("{transport}://{authority}/"))
    }

    /// The host as a URL writes it: lower-case, an IPv6 address in brackets.
    pub fn host_in_url(&self) -> Option<String> {
        self.host.as_deref().map(bracketed)
    }

    /// The port, if the URL names one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port the URL reaches: the one it names, else its transport's default
    /// ([`Transport::default_port`]); `None` for local paths.
    pub fn port_or_default(&self) -> Option<u16> {
        self.host.as_ref()?;
        self.port.or(self.transport.default_port())
    }

    /// `host[:port]` with the port only when it is not the transport's default
    /// (`https://H:443/x` and `https://h/x` are both `h`): what "the same host" means for
    /// token scopes, forge repository ids and messages. `None` without a host.
    pub fn authority(&self) -> Option<String> {
        let host = bracketed(self.host.as_deref()?);
        Some(match self.port {
            Some(port) if Some(port) != self.transport.default_port() => format!("{host}:{port}"),
            _ => host,
        })
    }

    /// `host` or `host:port` (`[v6]:port`) as git's credential protocol names it, for
    /// messages and credential scopes; `None` without a host.
    pub fn host_port(&self) -> Option<String> {
        let host = bracketed(self.host.as_deref()?);
        Some(match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    /// `scheme://host[:port]` (no credentials, no path; the port only when it is not
    /// the default, as [`RemoteUrl::authority`]): two URLs are on the same origin when
    /// these are equal (redirect checks). `file://` for local paths.
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            self.transport,
            self.authority().unwrap_or_default()
        )
    }

    /// The repository path as git sends it (`acme/cfg.git` for scp-like URLs,
    /// `/acme/cfg.git` for the others).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The user name in the URL (`git` in `git@host:path`), if any. Over http(s) a lone
    /// user part is commonly a token: see [`RemoteUrl::credentials`].
    pub fn user(&self) -> Option<&str> {
        self.user.as_deref()
    }

    /// `(user, password)` from an http(s) URL's `user:password@`, or a lone `token@`
    /// (user `x-access-token`); for other transports only a `user:password@` pair.
    pub fn credentials(&self) -> Option<(String, String)> {
        match (&self.user, &self.password) {
            (Some(user), Some(password)) => Some((user.clone(), password.clone())),
            (None, Some(password)) => Some((String::new(), password.clone())),
            (Some(token), None) if self.transport.is_http() => {
                Some(("x-access-token".to_string(), token.clone()))
            }
            _ => None,
        }
    }

    /// The scp-like `[user@]host:path` form.
    pub fn is_scp_like(&self) -> bool {
        self.scp_like
    }

    /// A local path written as a path, not as a `file://` URL (git then copies the
    /// object store instead of using the transport, unless `--no-local`).
    pub fn is_plain_path(&self) -> bool {
        self.plain_path
    }

    /// A local path or `file://` URL.
    pub fn is_local(&self) -> bool {
        self.transport == Transport::File
    }

    /// The URL as given, without credentials: `user:password@` removed everywhere, a
    /// lone `user@` removed over http(s) (a token), kept otherwise (`git@host:path`).
    pub fn without_credentials(&self) -> String {
        if self.has_credentials() && self.scp_like {
            strip_scp_userinfo(&self.shown)
        } else if self.has_credentials() {
            strip_userinfo(&self.shown)
        } else {
            self.shown.clone()
        }
    }

    /// Whether the URL holds a secret: a password, or a lone `user@` over http(s).
    pub fn has_credentials(&self) -> bool {
        self.password.is_some()
            || (self.transport.is_http() && self.user.is_some())
            || self.user.as_deref().is_some_and(|u| u.contains(':'))
    }
}

/// `text` without credentials, and whether it had any, for any text that should be a
/// URL (also one that does not parse, for the message saying so): a parsed URL as
/// [`RemoteUrl::without_credentials`]; otherwise every `userinfo@` of
/// `scheme://userinfo@host` and of a scp-like `userinfo@host:path` is removed.
pub fn strip_credentials(text: &str) -> (String, bool) {
    if let Ok(url) = RemoteUrl::parse(text) {
        return (url.without_credentials(), url.has_credentials());
    }
    let text = text.trim();
    let stripped = if text.contains("://") {
        strip_userinfo(text)
    } else {
        strip_scp_userinfo(text)
    };
    let had = stripped != text;
    (stripped, had)
}

/// `userinfo@host:path` → `host:path` (the last `@` before the path's colon).
fn strip_scp_userinfo(text: &str) -> String {
    let Some(at) = text
        .find(['/', '\\'])
        .map_or(text, |end| &text[..end])
        .rfind('@')
    else {
        return text.to_string();
    };
    text[at + 1..].to_string()
}

/// `[v6]` for an IPv6 address, the host otherwise.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// The `userinfo` of `scheme://userinfo@host…`.
fn userinfo(text: &str) -> Option<&str> {
    let (_, rest) = text.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..authority_end]
        .rsplit_once('@')
        .map(|(userinfo, _)| userinfo)
        .filter(|u| !u.is_empty())
}

/// `scheme://user:password@rest` → `scheme://rest` (a user alone is kept).
fn strip_password(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((userinfo, _)) if userinfo.contains(':') => strip_userinfo(text),
        _ => format!("{scheme}://{rest}"),
    }
}

/// `scheme://userinfo@rest` → `scheme://rest`.
fn strip_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[authority_end..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> RemoteUrl {
        RemoteUrl::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn scp_form_without_a_user_is_ssh_to_its_host() {
        let url = parse("github.com:acme/cfg.git");
        assert_eq!(url.transport(), Transport::Ssh);
        assert!(url.is_scp_like());
        assert_eq!(url.host(), Some("github.com"));
        assert_eq!(url.user(), None);
        assert_eq!(url.path(), "acme/cfg.git");
        let url = parse("git@GitHub.com:acme/cfg.git");
        assert_eq!(
            (url.transport(), url.host()),
            (Transport::Ssh, Some("github.com"))
        );
        assert_eq!(url.user(), Some("git"));
        assert_eq!(url.without_credentials(), "git@GitHub.com:acme/cfg.git");
    }

    #[test]
    fn transports_hosts_and_ports() {
        for (text, transport, host_port) in [
            (
                "https://github.com/o/r.git",
                Transport::Https,
                Some("github.com"),
            ),
            (
                "HTTP://Git.Example/r.git",
                Transport::Http,
                Some("git.example"),
            ),
            ("https://h:8443/o/r", Transport::Https, Some("h:8443")),
            ("ssh://git@host:2222/o/r", Transport::Ssh, Some("host:2222")),
            ("git+ssh://host/o/r", Transport::Ssh, Some("host")),
            (
                "git://127.0.0.1:9418/r.git",
                Transport::Git,
                Some("127.0.0.1:9418"),
            ),
            ("ssh://[::1]:22/r.git", Transport::Ssh, Some("[::1]:22")),
            ("file:///srv/r.git", Transport::File, None),
            ("/srv/r.git", Transport::File, None),
            ("./relative/r.git", Transport::File, None),
            ("a/b:c", Transport::File, None),
        ] {
            let url = parse(text);
            assert_eq!(url.transport(), transport, "{text}");
            assert_eq!(url.host_port().as_deref(), host_port, "{text}");
            assert!(!url.is_scp_like() || transport == Transport::Ssh);
            assert_eq!(
                url.is_plain_path(),
                transport == Transport::File && !text.contains("://"),
                "{text}"
            );
        }
        assert_eq!(parse("https://h:8443/o/r").origin(), "https://h:8443");
        assert_eq!(parse("https://h:8443/o/r").port(), Some(8443));
    }

    #[test]
    fn credentials_are_split_out_and_never_shown() {
        let url = parse("https://bot:s3cret@git.example:8443/org/cfg.git");
        assert_eq!(
            url.credentials(),
            Some(("bot".to_string(), "s3cret".to_string()))
        );
        assert_eq!(
            url.without_credentials(),
            "https://git.example:8443/org/cfg.git"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        let url = parse("https://ghp_tok@github.com/o/r");
        assert_eq!(
            url.credentials(),
            Some(("x-access-token".to_string(), "ghp_tok".to_string()))
        );
        assert_eq!(url.without_credentials(), "https://github.com/o/r");
        let url = parse("ssh://git@host/r.git");
        assert_eq!(url.credentials(), None);
        assert_eq!(url.without_credentials(), "ssh://git@host/r.git");
        assert_eq!(
            parse("ssh://git:pw@host/r.git").without_credentials(),
            "ssh://host/r.git"
        );
    }

    #[test]
    fn command_running_and_unknown_transports_are_refused() {
        for (text, name) in [
            ("ext::sh -c touch% /tmp/pwned", "ext"),
            ("fd::17", "fd"),
            ("foo::https://h/r.git", "foo"),
            ("ftp://h/r.git", "ftp"),
            ("rsync://h/r.git", "rsync"),
        ] {
            assert_eq!(
                RemoteUrl::parse(text),
                Err(UrlError::Transport(name.to_string())),
                "{text}"
            );
        }
    }

    #[test]
    fn api_urls_origins_and_default_ports() {
        let url = parse("HTTP://bot:pw@GitLab.Corp:8080/api/v4?private_token=x#f");
        assert_eq!(url.origin(), "http://gitlab.corp:8080");
        assert_eq!(url.path(), "/api/v4");
        assert_eq!(url.without_credentials(), "http://GitLab.Corp:8080/api/v4");
        assert!(url.has_credentials());
        // The default port is the same origin, host and authority as none.
        let (a, b) = (
            parse("https://H.example:443/x"),
            parse("https://h.example/y"),
        );
        assert_eq!((a.origin(), a.authority()), (b.origin(), b.authority()));
        assert_eq!((a.port(), b.port()), (Some(443), None));
        assert_eq!(
            (a.port_or_default(), b.port_or_default()),
            (Some(443), Some(443))
        );
        assert_eq!(parse("git@h:o/r").port_or_default(), Some(22));
        assert_eq!(parse("git://h/r").port_or_default(), Some(9418));
        assert_eq!(parse("/srv/r.git").port_or_default(), None);
        assert_eq!(
            parse("https://[::1]:8443/v2/").origin(),
            "https://[::1]:8443"
        );
        assert_eq!(parse("https://[::1]:8443/v2/").host(), Some("::1"));
    }

    #[test]
    fn bare_authorities() {
        let url = RemoteUrl::from_authority(Transport::Https, "Registry.Example:5000");
        let url = url.expect("parses");
        assert_eq!(
            (url.host(), url.port()),
            (Some("registry.example"), Some(5000))
        );
        let url = RemoteUrl::from_authority(Transport::Https, "[::1]:5000").expect("v6");
        assert_eq!(
            (url.host(), url.authority()),
            (Some("::1"), Some("[::1]:5000".into()))
        );
        for bad in ["", "h/p", "u:pw@h", "h :1", "h:x"] {
            let err = RemoteUrl::from_authority(Transport::Https, bad);
            assert!(err.is_err(), "{bad}");
            assert!(!format!("{err:?}").contains("pw"), "{bad}");
        }
    }

    #[test]
    fn strip_credentials_also_for_text_that_does_not_parse() {
        for (text, shown, had) in [
            ("https://u:pw@h/o/r", "https://h/o/r", true),
            ("git@h:o/r", "git@h:o/r", false),
            // Not parsed (no such transport, a port that is no number): still stripped.
            ("ftp://u:pw@h/r", "ftp://h/r", true),
            ("https://u:pw@h:port/x", "https://h:port/x", true),
        ] {
            assert_eq!(strip_credentials(text), (shown.to_string(), had), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn credentials_never_survive_and_host_port_origin_round_trip(
            scheme in proptest::sample::select(vec!["https", "http", "ssh", "git"]),
            user in "[a-z][a-z0-9._-]{0,8}",
            password in proptest::option::of("[A-Za-z0-9]{6,12}"),
            host in "[a-z][a-z0-9-]{0,10}(\\.[a-z]{2,4}){0,2}",
            port in proptest::option::of(1u16..),
            path in "(/[a-z0-9._-]{1,8}){1,3}",
        ) {
            let password = password.map(|p| format!("PW{p}"));
            let userinfo = match &password {
                Some(p) => format!("{user}:{p}@"),
                None => format!("{user}@"),
            };
            let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
            let text = format!("{scheme}://{userinfo}{host}{port_part}{path}");
            let url = RemoteUrl::parse(&text).expect("parses");
            let shown = url.without_credentials();
            if let Some(p) = &password {
                proptest::prop_assert!(!shown.contains(p.as_str()), "{shown}");
                let debug = format!("{url:?}");
                proptest::prop_assert!(!debug.contains(p.as_str()));
                proptest::prop_assert!(!strip_credentials(&text).0.contains(p.as_str()));
                proptest::prop_assert!(url.has_credentials());
            }
            if url.transport().is_http() {
                proptest::prop_assert!(!shown.contains('@'), "{shown}");
            }
            proptest::prop_assert_eq!(url.host(), Some(host.as_str()));
            proptest::prop_assert_eq!(url.port(), port);
            proptest::prop_assert_eq!(
                url.port_or_default(),
                port.or(url.transport().default_port())
            );
            proptest::prop_assert_eq!(url.path(), path.as_str());
            // origin → parse → the same host, port and origin.
            let again = RemoteUrl::parse(&format!("{}/x", url.origin())).expect("origin parses");
            proptest::prop_assert_eq!(again.host(), url.host());
            proptest::prop_assert_eq!(again.port_or_default(), url.port_or_default());
            proptest::prop_assert_eq!(again.origin(), url.origin());
            proptest::prop_assert!(!again.has_credentials());
        }
    }
}
