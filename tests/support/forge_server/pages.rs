//! Pages of a list answer, as the forges serve them.
//!
//! - GitHub, "Using pagination in the REST API"
//!   (<https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api>)
//!   and "List pull requests" (<https://docs.github.com/en/rest/pulls/pulls#list-pull-requests>):
//!   `per_page` (default 30, at most 100) and `page` (default 1); a `Link` header with
//!   absolute URLs for `prev`, `next`, `last` and `first`, only those that apply (none when
//!   everything fits on one page). github.com names the repository by id in those URLs
//!   (`/repositories/{id}/…`), not by `owner/name`: a client has to follow the link as given.
//! - GitLab, "REST API" › "Pagination" › "Offset-based pagination"
//!   (<https://docs.gitlab.com/api/rest/#pagination>): `per_page` (default 20, at most
//!   100) and `page` (default 1); headers `x-page`, `x-per-page`, `x-next-page` and
//!   `x-prev-page` (empty when there is none), `x-total`, `x-total-pages`, and a `Link`
//!   header with `prev`, `next`, `first` and `last`.

use super::{decode, FakeResponse};
use serde_json::Value;

/// Which forge's pagination rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rules {
    /// Default 30 a page, `Link` only.
    GitHub,
    /// Default 20 a page, `x-*` headers and `Link`.
    GitLab,
}

/// Query pairs of `query` (`a=b&c=d`), percent-decoded.
pub fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Percent-encodes everything but the unreserved characters.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page of `items` that `query` asks for, with the forge's headers; links point at
/// `link_base` (an absolute URL without query) with the request's other parameters.
pub fn page(
    rules: Rules,
    items: Vec<Value>,
    query: &[(String, String)],
    link_base: &str,
) -> FakeResponse {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
    };
    let default = match rules {
        Rules::GitHub => 30,
        Rules::GitLab => 20,
    };
    let per_page = get("per_page").unwrap_or(default).clamp(1, 100);
    let page_no = get("page").unwrap_or(1).max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let start = ((page_no - 1) * per_page).min(total);
    let end = (start + per_page).min(total);
    let shown: Vec<Value> = items[start..end].to_vec();

    let kept: Vec<String> = query
        .iter()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let url = |n: usize| {
        let mut parts = kept.clone();
        parts.push(format!("per_page={per_page}"));
        parts.push(format!("page={n}"));
        format!("<{link_base}?{}>", parts.join("&"))
    };
    let mut links = Vec::new();
    if page_no > 1 {
        links.push(format!("{}; rel=\"prev\"", url(page_no - 1)));
    }
    if page_no < last {
        links.push(format!("{}; rel=\"next\"", url(page_no + 1)));
    }
    if rules == Rules::GitLab || page_no < last {
        links.push(format!("{}; rel=\"last\"", url(last)));
    }
    if rules == Rules::GitLab || page_no > 1 {
        links.push(format!("{}; rel=\"first\"", url(1)));
    }
    let mut response = FakeResponse::json(200, Value::Array(shown));
    if !links.is_empty() && (rules == Rules::GitLab || last > 1) {
        response = response.with_header("Link", &links.join(", "));
    }
    if rules == Rules::GitLab {
        let or_empty = |n: usize, ok: bool| if ok { n.to_string() } else { String::new() };
        response = response
            .with_header("x-page", &page_no.to_string())
            .with_header("x-per-page", &per_page.to_string())
            .with_header("x-next-page", &or_empty(page_no + 1, page_no < last))
            .with_header(
                "x-prev-page",
                &or_empty(page_no.saturating_sub(1), page_no > 1),
            )
            .with_header("x-total", &total.to_string())
            .with_header("x-total-pages", &last.to_string());
    }
    response
}
