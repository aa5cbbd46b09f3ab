//! Which token goes to which host.
//!
//! A token taken from a forge's own variable belongs to that forge's host of the
//! current run and is never sent anywhere else; only an explicit choice goes to
//! whatever host the user named:
//!
//! | variable | sent to |
//! |---|---|
//! | `--token-env NAME` | any host (explicit choice) |
//! | `TAGBUMP_TOKEN` | any host (tagbump's own variable, set for this purpose) |
//! | `GITHUB_TOKEN` | the GitHub host of the run: the host of `$GITHUB_SERVER_URL` and of `$GITHUB_API_URL` when set, else `github.com` and `api.github.com` |
//! | `GITLAB_TOKEN` | `gitlab.com`, and the GitLab instance of the run (`$CI_SERVER_URL`, else `$CI_SERVER_HOST`) |
//! | `CI_JOB_TOKEN` | the GitLab instance of the run only (`$CI_SERVER_URL`, else `$CI_SERVER_HOST`) |
//!
//! `--forge gitlab` does not widen `GITLAB_TOKEN` to other hosts: naming the forge
//! software says nothing about whose token it is (a gitlab.com token must not reach
//! a self-managed instance, or a look-alike). For a self-managed GitLab outside its
//! CI, use `TAGBUMP_TOKEN` or `--token-env GITLAB_TOKEN`.
//!
//! Host matching: a scope taken from a URL (`$GITHUB_SERVER_URL`, `$CI_SERVER_URL`)
//! compares the host name and the port (the scheme's default when none is written);
//! a bare host name (`github.com`, `$CI_SERVER_HOST`) compares the host name only.
//! Host names are compared case-insensitively; nothing is matched by prefix or suffix.
//!
//! [`select_token`] is pure: it reads variables only through the closure it is
//! given, and returns the chosen variable with the reasons others were skipped, for
//! the caller to log. Variable values never appear in any message.

use std::fmt;

use crate::forge::ForgeKind;
use crate::secret::Secret;

/// The variables tried, in this order, when no `--token-env` is given.
pub const TOKEN_VARIABLES: [&str; 4] = [
    "TAGBUMP_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
];

/// A variable that was set but not used for this destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The variable's name.
    pub variable: String,
    /// Why, including the hosts it belongs to and how to send it anyway.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not using {}: {}", self.variable, self.reason)
    }
}

/// The outcome of [`select_token`].
#[derive(Debug, Clone)]
pub struct Selection {
    /// `host[:port]` the token is meant for (as shown in messages).
    pub destination: String,
    /// The chosen variable and its value.
    pub chosen: Option<(String, Secret)>,
    /// Variables that were set but do not belong to the destination, in the order tried.
    pub skipped: Vec<Skipped>,
    explicit: bool,
}

impl Selection {
    /// The chosen token.
    pub fn token(&self) -> Option<&Secret> {
        self.chosen.as_ref().map(|(_, t)| t)
    }

    /// The name of the chosen variable.
    pub fn variable(&self) -> Option<&str> {
        self.chosen.as_ref().map(|(v, _)| v.as_str())
    }

    /// Lines to log: each skipped variable, then which variable is used (or that
    /// none is). Never contains a value.
    pub fn log_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.skipped.iter().map(ToString::to_string).collect();
        match &self.chosen {
            Some((variable, _)) => lines.push(format!(
                "using the token from {variable}{} for {}",
                if self.explicit { " (--token-env)" } else { "" },
                self.destination
            )),
            None if !self.skipped.is_empty() => lines.push(format!(
                "no token for {}: sending no credentials",
                self.destination
            )),
            None => {}
        }
        lines
    }
}

/// Errors choosing a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// `--token-env NAME` names a variable that is not set.
    #[error("--token-env {0}: the variable {0} is not set or empty")]
    ExplicitUnset(String),
}

/// Chooses the token to send to `destination` (a git remote URL or an API base
/// URL), following the table in the module documentation.
///
/// `explicit` is the variable named with `--token-env`: it is used for any host, and
/// no other variable is considered. Otherwise [`TOKEN_VARIABLES`] are tried in order;
/// the first one that is set and belongs to the destination's host is chosen.
pub fn select_token(
    env: &dyn Fn(&str) -> Option<String>,
    explicit: Option<&str>,
    destination: &str,
) -> Result<Selection, CredentialsError> {
    let dest = Endpoint::parse(destination);
    let shown = dest
        .as_ref()
        .map_or_else(|| "an unrecognised host".to_string(), Endpoint::shown);
    let value = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(name) = explicit {
        let token = value(name).ok_or_else(|| CredentialsError::ExplicitUnset(name.to_string()))?;
        return Ok(Selection {
            destination: shown,
            chosen: Some((name.to_string(), Secret::new(token))),
            skipped: Vec::new(),
            explicit: true,
        });
    }
    let mut skipped = Vec::new();
    for name in TOKEN_VARIABLES {
        let Some(token) = value(name) else { continue };
        let scope = Scope::of(name, env);
        if scope.admits(dest.as_ref()) {
            return Ok(Selection {
                destination: shown,
                chosen: Some((name.to_string(), Secret::new(token))),
                skipped,
                explicit: false,
            });
        }
        skipped.push(Skipped {
            variable: name.to_string(),
            reason: scope.refusal(name, &shown),
        });
    }
    Ok(Selection {
        destination: shown,
        chosen: None,
        skipped,
        explicit: false,
    })
}

/// The git user name sent with a token over HTTPS: `gitlab-ci-token` for
/// `CI_JOB_TOKEN`, `oauth2` for GitLab, `x-access-token` otherwise (GitHub, and
/// hosts whose forge is unknown).
pub fn git_username(variable: &str, kind: Option<ForgeKind>) -> &'static str {
    if variable == "CI_JOB_TOKEN" {
        "gitlab-ci-token"
    } else if kind == Some(ForgeKind::GitLab) {
        "oauth2"
    } else {
        "x-access-token"
    }
}

/// The values of every token variable tagbump may read ([`TOKEN_VARIABLES`] and
/// `explicit`), set or not chosen: all of them are hidden from messages.
pub fn known_secrets(env: &dyn Fn(&str) -> Option<String>, explicit: Option<&str>) -> Vec<Secret> {
    TOKEN_VARIABLES
        .iter()
        .copied()
        .chain(explicit)
        .filter_map(env)
        .map(|v| v.trim().to_string())
        // Very short values would blank out ordinary words; real tokens are long.
        .filter(|v| v.len() >= 6)
        .map(Secret::new)
        .collect()
}

/// `text` with URL credentials (`user:password@`, token query parameters) removed and
/// every one of `secrets` replaced by `***`: for any message that shows a URL.
pub fn redact(text: &str, secrets: &[Secret]) -> String {
    let mut out = crate::git::strip_url_credentials(text);
    for secret in secrets {
        out = secret.redact(&out);
    }
    out
}

/// Scheme, host name and port of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    host: String,
    /// The written port, else the scheme's default; `None` for a bare host name.
    port: Option<u16>,
    explicit_port: bool,
}

impl Endpoint {
    /// `scheme://[user@]host[:port][/…]`, or a bare `host[:port]`.
    fn parse(text: &str) -> Option<Endpoint> {
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
    fn shown(&self) -> String {
        match (self.explicit_port, self.port) {
            (true, Some(port)) => format!("{}:{port}", self.host),
            _ => self.host.clone(),
        }
    }

    /// Does this scope entry admit `dest`? A bare host name admits any port.
    fn admits(&self, dest: &Endpoint) -> bool {
        self.host == dest.host && (self.port.is_none() || self.port == dest.port)
    }
}

/// The hosts one variable belongs to.
struct Scope {
    /// `None`: any host.
    hosts: Option<Vec<Endpoint>>,
    /// Where the hosts come from, for messages.
    origin: &'static str,
}

impl Scope {
    fn of(variable: &str, env: &dyn Fn(&str) -> Option<String>) -> Scope {
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

    fn admits(&self, dest: Option<&Endpoint>) -> bool {
        match (&self.hosts, dest) {
            (None, _) => true,
            (Some(hosts), Some(dest)) => hosts.iter().any(|h| h.admits(dest)),
            (Some(_), None) => false,
        }
    }

    fn refusal(&self, variable: &str, destination: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "ghp_github_value";
    const GL: &str = "glpat-gitlab-value";
    const JOB: &str = "job-token-value";
    const TB: &str = "tagbump-token-value";

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    /// (variables, --token-env, destination) → chosen variable, skipped variables.
    #[test]
    fn token_scope_table() {
        type Case<'a> = (
            &'a [(&'a str, &'a str)],
            Option<&'a str>,
            &'a str,
            Option<&'a str>,
            &'a [&'a str],
        );
        let cases: &[Case] = &[
            // The issue's case: only GITHUB_TOKEN, a non-GitHub host.
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "http://10.0.0.5:8080/grp/cfg.git",
                None,
                &["GITHUB_TOKEN"],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://github.com/o/r.git",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://api.github.com",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://GitHub.com/o/r",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            // No prefix/suffix matching.
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://github.com.evil.example/o/r",
                None,
                &["GITHUB_TOKEN"],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://evilgithub.com/o/r",
                None,
                &["GITHUB_TOKEN"],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                None,
                "https://x@evil.example/github.com/r",
                None,
                &["GITHUB_TOKEN"],
            ),
            // GitHub Enterprise Server: the run's server and API hosts, not github.com.
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITHUB_SERVER_URL", "https://ghe.corp"),
                    ("GITHUB_API_URL", "https://ghe.corp/api/v3"),
                ],
                None,
                "https://ghe.corp/o/r.git",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITHUB_SERVER_URL", "https://ghe.corp"),
                ],
                None,
                "https://github.com/o/r.git",
                None,
                &["GITHUB_TOKEN"],
            ),
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITHUB_SERVER_URL", "https://ghe.corp"),
                ],
                None,
                "https://ghe.corp:8443/o/r.git",
                None,
                &["GITHUB_TOKEN"],
            ),
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITHUB_SERVER_URL", "http://127.0.0.1:9000"),
                ],
                None,
                "http://127.0.0.1:9000/o/r.git",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITHUB_SERVER_URL", "https://github.com"),
                    ("GITHUB_API_URL", "https://api.github.com"),
                ],
                None,
                "https://api.github.com",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            // GITLAB_TOKEN: gitlab.com and the CI instance; --forge does not matter.
            (
                &[("GITLAB_TOKEN", GL)],
                None,
                "https://gitlab.com/g/p.git",
                Some("GITLAB_TOKEN"),
                &[],
            ),
            (
                &[("GITLAB_TOKEN", GL)],
                None,
                "https://gitlab.corp/g/p.git",
                None,
                &["GITLAB_TOKEN"],
            ),
            (
                &[("GITLAB_TOKEN", GL), ("CI_SERVER_HOST", "gitlab.corp")],
                None,
                "https://gitlab.corp/g/p.git",
                Some("GITLAB_TOKEN"),
                &[],
            ),
            (
                &[
                    ("GITLAB_TOKEN", GL),
                    ("CI_SERVER_URL", "https://gitlab.corp:8443"),
                    ("CI_SERVER_HOST", "gitlab.corp"),
                ],
                None,
                "https://gitlab.corp/api/v4",
                None,
                &["GITLAB_TOKEN"],
            ),
            // CI_JOB_TOKEN: only the CI instance.
            (
                &[("CI_JOB_TOKEN", JOB), ("CI_SERVER_HOST", "gitlab.corp")],
                None,
                "https://gitlab.corp/g/p.git",
                Some("CI_JOB_TOKEN"),
                &[],
            ),
            (
                &[("CI_JOB_TOKEN", JOB), ("CI_SERVER_HOST", "gitlab.corp")],
                None,
                "https://gitlab.com/g/p.git",
                None,
                &["CI_JOB_TOKEN"],
            ),
            (
                &[("CI_JOB_TOKEN", JOB)],
                None,
                "https://gitlab.com/g/p.git",
                None,
                &["CI_JOB_TOKEN"],
            ),
            // The first variable that belongs wins; skipped ones are reported in order.
            (
                &[
                    ("GITHUB_TOKEN", GH),
                    ("GITLAB_TOKEN", GL),
                    ("CI_JOB_TOKEN", JOB),
                    ("CI_SERVER_HOST", "gitlab.corp"),
                ],
                None,
                "https://gitlab.corp/g/p.git",
                Some("GITLAB_TOKEN"),
                &["GITHUB_TOKEN"],
            ),
            (
                &[("GITHUB_TOKEN", GH), ("GITLAB_TOKEN", GL)],
                None,
                "https://github.com/o/r",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            // TAGBUMP_TOKEN and --token-env go anywhere.
            (
                &[("TAGBUMP_TOKEN", TB), ("GITHUB_TOKEN", GH)],
                None,
                "http://10.0.0.5/g/p.git",
                Some("TAGBUMP_TOKEN"),
                &[],
            ),
            (
                &[("GITHUB_TOKEN", GH)],
                Some("GITHUB_TOKEN"),
                "http://10.0.0.5/g/p.git",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (
                &[("MY_TOKEN", TB), ("GITHUB_TOKEN", GH)],
                Some("MY_TOKEN"),
                "https://github.com/o/r",
                Some("MY_TOKEN"),
                &[],
            ),
            // Empty values count as unset.
            (
                &[("TAGBUMP_TOKEN", "  "), ("GITHUB_TOKEN", GH)],
                None,
                "https://github.com/o/r",
                Some("GITHUB_TOKEN"),
                &[],
            ),
            (&[], None, "https://github.com/o/r", None, &[]),
        ];
        for (i, (vars, explicit, dest, want, want_skipped)) in cases.iter().enumerate() {
            let env = env_of(vars);
            let sel = select_token(&env, *explicit, dest).unwrap();
            assert_eq!(
                sel.variable(),
                *want,
                "case {i}: {vars:?} {explicit:?} → {dest}"
            );
            let skipped: Vec<&str> = sel.skipped.iter().map(|s| s.variable.as_str()).collect();
            assert_eq!(skipped, *want_skipped, "case {i}: skipped");
            for line in sel.log_lines() {
                for (_, value) in vars.iter().filter(|(name, _)| name.ends_with("TOKEN")) {
                    assert!(
                        value.trim().is_empty() || !line.contains(value),
                        "case {i}: value in {line}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_chosen_token_is_the_trimmed_value() {
        let vars = [("GITHUB_TOKEN", " ghp_x \n")];
        let sel = select_token(&env_of(&vars), None, "https://github.com/o/r").unwrap();
        assert_eq!(sel.token().map(Secret::expose), Some("ghp_x"));
    }

    #[test]
    fn an_unset_explicit_variable_is_an_error_naming_it() {
        let err = select_token(
            &env_of(&[("GITHUB_TOKEN", GH)]),
            Some("MINE"),
            "https://x/o/r",
        )
        .unwrap_err();
        assert_eq!(err, CredentialsError::ExplicitUnset("MINE".into()));
        assert_eq!(
            err.to_string(),
            "--token-env MINE: the variable MINE is not set or empty"
        );
    }

    #[test]
    fn log_lines_name_the_variables_the_host_and_the_way_out() {
        let vars = [("GITHUB_TOKEN", GH), ("CI_JOB_TOKEN", JOB)];
        let sel = select_token(
            &env_of(&vars),
            None,
            "http://bot:pw@127.0.0.1:4242/grp/cfg.git",
        )
        .unwrap();
        let lines = sel.log_lines();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0]
                .starts_with("not using GITHUB_TOKEN: it belongs to github.com, api.github.com (the GitHub host of this run:"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("), not 127.0.0.1:4242 ("), "{}", lines[0]);
        assert!(
            lines[0].contains("--token-env GITHUB_TOKEN"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].starts_with("not using CI_JOB_TOKEN:"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains("it belongs to no host (the GitLab instance of this CI job"),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            "no token for 127.0.0.1:4242: sending no credentials"
        );
        assert!(!lines.concat().contains("pw"));

        let sel = select_token(
            &env_of(&[("GITHUB_TOKEN", GH)]),
            None,
            "https://github.com/o/r",
        )
        .unwrap();
        assert_eq!(
            sel.log_lines(),
            ["using the token from GITHUB_TOKEN for github.com"]
        );
        let sel = select_token(&env_of(&[("X", GH)]), Some("X"), "https://h:8443/o/r").unwrap();
        assert_eq!(
            sel.log_lines(),
            ["using the token from X (--token-env) for h:8443"]
        );
    }

    #[test]
    fn git_user_names_follow_variable_and_forge() {
        assert_eq!(
            git_username("CI_JOB_TOKEN", Some(ForgeKind::GitLab)),
            "gitlab-ci-token"
        );
        assert_eq!(
            git_username("GITLAB_TOKEN", Some(ForgeKind::GitLab)),
            "oauth2"
        );
        assert_eq!(
            git_username("GITHUB_TOKEN", Some(ForgeKind::GitHub)),
            "x-access-token"
        );
        assert_eq!(git_username("TAGBUMP_TOKEN", None), "x-access-token");
    }

    #[test]
    fn redact_hides_every_known_token_and_url_credentials() {
        let vars = [
            ("GITHUB_TOKEN", GH),
            ("GITLAB_TOKEN", GL),
            ("MINE", TB),
            ("CI_JOB_TOKEN", "ab"),
        ];
        let secrets = known_secrets(&env_of(&vars), Some("MINE"));
        assert_eq!(
            secrets.len(),
            3,
            "a 2-character value is not treated as a secret"
        );
        let shown = redact(
            &format!("https://u:pw@h/{GH}/r.git https://h/x?private_token={GL} {TB}"),
            &secrets,
        );
        assert!(
            !shown.contains(GH) && !shown.contains(GL) && !shown.contains(TB),
            "{shown}"
        );
        assert!(!shown.contains("pw@"), "{shown}");
        assert!(shown.starts_with("https://h/***/r.git"), "{shown}");
    }
}
