//! A git remote URL, parsed once: which transport, which host, which port, and the URL
//! without credentials. Every "is this SSH?", "which host?" decision of the CLI and of
//! [`crate::git`] asks [`RemoteUrl`], so that they cannot disagree (an scp-form
//! `github.com:acme/cfg.git` without a user is SSH everywhere).
//!
//! Parsing is git's own syntax, through `gix-url` (already part of the `gix`
//! dependency): `scheme://[user[:password]@]host[:port]/path`, the scp-like
//! `[user@]host:path` (no slash before the first colon), and local paths. A leaf module:
//! it depends on nothing else in the crate.

use std::fmt;

use gix::url::Scheme;

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
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a remote URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
        // Scheme names are case-insensitive (RFC 3986 §3.1).
        let lowered;
        let text = match text.split_once("://") {
            Some((scheme, rest)) if scheme.chars().any(|c| c.is_ascii_uppercase()) => {
                lowered = format!("{}://{rest}", scheme.to_ascii_lowercase());
                lowered.as_str()
            }
            _ => text,
        };
        let url = gix::url::parse(text.as_bytes()).map_err(|e| {
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

    /// The port, if the URL names one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// `host` or `host:port` (`[v6]:port`) as git's credential protocol names it, for
    /// messages and credential scopes; `None` without a host.
    pub fn host_port(&self) -> Option<String> {
        let host = self.host.as_deref()?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        Some(match self.port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
    }

    /// `scheme://host[:port]` (no credentials, no path); `file://` for local paths.
    pub fn origin(&self) -> String {
        format!(
            "{}://{}",
            self.transport,
            self.host_port().unwrap_or_default()
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
        if self.transport.is_http() && self.user.is_some() {
            strip_userinfo(&self.shown)
        } else {
            self.shown.clone()
        }
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
}
