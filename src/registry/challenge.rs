//! `WWW-Authenticate` challenges of a registry (RFC 7235 syntax; the Bearer
//! parameters `realm`, `service` and `scope` are those of Docker's token
//! authentication specification, `distribution/docs/spec/auth/token.md`).

/// What a registry asked for in a `401 Unauthorized`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="…"`: send the username and password with every request.
    Basic,
    /// `Bearer realm="…",service="…",scope="…"`: get a token from `realm`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The `service` parameter to pass on, if any.
        service: Option<String>,
        /// The `scope` the registry wants, if it said.
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parses one `WWW-Authenticate` value; `None` for schemes tagbump does not speak
    /// or a Bearer challenge without a realm.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((header, ""));
        let params = params(rest);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            });
        }
        None
    }
}

/// `k=v` and `k="v"` pairs separated by commas; quoted values may hold commas and
/// `\`-escapes.
fn params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| *c == ',' || c.is_ascii_whitespace())
        {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            return out;
        }
        if chars.next() != Some('=') {
            continue;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hubs_bearer_challenge() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull".into()),
            })
        );
    }

    #[test]
    fn scopes_with_commas_and_unquoted_values() {
        let c = Challenge::parse(
            r#"bearer realm=https://r.example/token, scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://r.example/token".into(),
                service: None,
                scope: Some("repository:a/b:pull,push".into()),
            })
        );
    }

    #[test]
    fn basic_and_unknown_schemes() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None, "no realm");
    }
}
