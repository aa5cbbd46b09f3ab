//! Following the pages of a list endpoint.
//!
//! GitHub ("Using pagination in the REST API",
//! <https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api>)
//! answers a list with at most `per_page` (default 30, at most 100) items and a `Link`
//! header naming the next page (`<URL>; rel="next"`, with `prev`, `first` and `last`
//! beside it). The URL is absolute and need not repeat the request's path (github.com
//! names `/repositories/{id}/…`), so it is followed as given — but only when it lies under
//! the API base the token belongs to: the token is never sent to another host, scheme or
//! port. At most [`MAX_PAGES`] pages are read.

use reqwest::Url;

/// The most pages one list reads (100 items each: 5 000 items).
pub(crate) const MAX_PAGES: usize = 50;

/// The items per page tagbump asks for: the largest GitHub and GitLab allow.
pub(crate) const PER_PAGE: usize = 100;

/// The items of a list endpoint.
pub(crate) struct Listed<T> {
    pub(crate) items: Vec<T>,
    /// [`MAX_PAGES`] pages were read and the last one named a next page.
    pub(crate) truncated: bool,
}

/// The `rel="next"` target of a `Link` header (RFC 8288), if any.
pub(crate) fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        is_next.then(|| target.to_string())
    })
}

/// A next page under the API base.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Next {
    /// The absolute URL.
    pub(crate) url: String,
    /// Its path and query.
    pub(crate) path_and_query: String,
}

/// `next` (absolute, or relative to `api_base`) if it is under `api_base` (same scheme,
/// host and port, path inside the base's path); else why not, naming only the origin
/// `next` points to.
pub(crate) fn under_api_base(api_base: &str, next: &str) -> Result<Next, String> {
    let base = Url::parse(api_base).map_err(|e| format!("the API base is not a URL: {e}"))?;
    let url = base
        .join(next)
        .map_err(|e| format!("the next page's address is not a URL: {e}"))?;
    if url.origin() != base.origin() {
        return Err(format!(
            "the next page is on {}, not on the API host {}; tagbump does not send the token there",
            url.origin().ascii_serialization(),
            base.origin().ascii_serialization()
        ));
    }
    let base_path = base.path().trim_end_matches('/');
    let path = url.path();
    let inside = path == base_path
        || path
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.starts_with('/'));
    if !inside {
        return Err(format!(
            "the next page is outside the API base path `{base_path}`; tagbump does not send the token there"
        ));
    }
    let path_and_query = match url.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    Ok(Next {
        url: url.to_string(),
        path_and_query,
    })
}

/// The warning for a list cut at [`MAX_PAGES`].
pub(crate) fn truncated_warning(what: &str) -> String {
    format!(
        "{what}: stopped after {MAX_PAGES} pages of {PER_PAGE}; any items past them were not looked at"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_the_others() {
        // The example of GitHub's "Using pagination in the REST API".
        let header = r#"<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1300192/issues?page=4")
        );
        assert_eq!(next_link(r#"<https://x.test/a?page=1>; rel="first""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn only_links_under_the_api_base_are_followed() {
        assert_eq!(
            under_api_base(
                "https://api.github.com",
                "https://api.github.com/repositories/1/pulls?page=2"
            )
            .map(|next| next.path_and_query)
            .as_deref(),
            Ok("/repositories/1/pulls?page=2")
        );
        assert_eq!(
            under_api_base(
                "https://ghe.test/api/v3",
                "https://ghe.test/api/v3/repositories/1/pulls?page=3"
            )
            .map(|next| next.url)
            .as_deref(),
            Ok("https://ghe.test/api/v3/repositories/1/pulls?page=3")
        );
        for (next, names) in [
            (
                "https://evil.test/repositories/1/pulls?page=2",
                "https://evil.test",
            ),
            ("http://ghe.test/api/v3/x?page=2", "http://ghe.test"),
            (
                "https://ghe.test:8443/api/v3/x?page=2",
                "https://ghe.test:8443",
            ),
            (
                "https://ghe.test/other/x?page=2",
                "outside the API base path",
            ),
            ("https://ghe.test/api/v3x/y", "outside the API base path"),
        ] {
            let refused = under_api_base("https://ghe.test/api/v3", next).unwrap_err();
            assert!(refused.contains(names), "{next}: {refused}");
            assert!(!refused.contains("page=2"), "{refused}");
        }
    }
}
