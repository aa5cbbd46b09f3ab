//! Errors talking to a forge. No message ever contains the token.

use std::time::Duration;

use crate::secret::Secret;

/// Errors talking to a forge. No message ever contains the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForgeError {
    /// The git remote URL does not name a forge repository.
    #[error("cannot derive a forge repository from remote `{url}`: {reason}")]
    InvalidRemote {
        /// The remote URL, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Bad configuration (unknown forge name, malformed API URL, …).
    #[error("invalid forge configuration: {0}")]
    Config(String),
    /// HTTP 401.
    #[error("token rejected by {api_base} (HTTP 401): check that it is valid and not expired")]
    Auth {
        /// The API base URL.
        api_base: String,
    },
    /// HTTP 403 that is not a rate limit.
    #[error("forbidden by {api_base} (HTTP 403): {message} (the token may lack a permission or scope, or a branch protection rule forbids this)")]
    Forbidden {
        /// The API base URL.
        api_base: String,
        /// The forge's own explanation.
        message: String,
    },
    /// HTTP 404.
    #[error("not found at {api_base}: {what}: {message} (check the repository path and the base branch; {hint})")]
    NotFound {
        /// The API base URL.
        api_base: String,
        /// The request that failed, e.g. `GET /repos/o/r/pulls`.
        what: String,
        /// The forge's own explanation.
        message: String,
        /// A forge-specific hint.
        hint: String,
    },
    /// Rate limited for longer than [`RetryPolicy::max_wait`](super::RetryPolicy::max_wait), or still limited
    /// after [`RetryPolicy::max_attempts`](super::RetryPolicy::max_attempts).
    #[error("rate limited by {api_base}: {reset}")]
    RateLimited {
        /// The API base URL.
        api_base: String,
        /// When the limit resets, as far as the forge said.
        reset: String,
        /// Unix time of the reset, when the forge sent one.
        reset_at: Option<u64>,
    },
    /// HTTP 5xx still failing after all attempts.
    #[error("server error from {api_base} after {attempts} attempt(s): HTTP {status}: {message}")]
    Server {
        /// The API base URL.
        api_base: String,
        /// The last status code.
        status: u16,
        /// How many attempts were made.
        attempts: u32,
        /// The forge's own explanation (or body excerpt).
        message: String,
    },
    /// The forge refused the request (another 4xx status, e.g. a validation error).
    #[error("{api_base} refused {what} (HTTP {status}): {message}")]
    Api {
        /// The API base URL.
        api_base: String,
        /// The request, e.g. `POST /repos/o/r/pulls`.
        what: String,
        /// Status code.
        status: u16,
        /// The forge's own explanation.
        message: String,
    },
    /// The forge could not be reached.
    #[error("could not reach {api_base} after {attempts} attempt(s): {message}")]
    Transport {
        /// The API base URL.
        api_base: String,
        /// How many attempts were made.
        attempts: u32,
        /// The transport error.
        message: String,
    },
    /// The API did not answer in time (see [`Timeouts`](super::Timeouts)). Not retried.
    #[error("timed out after {}s waiting for {waited_for} from {host} ({what} at {api_base})", after.as_secs_f32())]
    Timeout {
        /// The API base URL.
        api_base: String,
        /// `host[:port]` that was waited for.
        host: String,
        /// The request, e.g. `GET /api/v4/user`.
        what: String,
        /// `a connection` or `an answer`.
        waited_for: String,
        /// How long tagbump waited.
        after: Duration,
    },
    /// The API answered with a redirect. Redirects are never followed, so the token
    /// cannot reach another host (see the module documentation).
    #[error("{api_base} answered {what} with a redirect (HTTP {status}) from {from} to {to}; tagbump does not follow redirects of API calls, so the token is never sent to another host: give the final API address (or the new repository URL)")]
    Redirect {
        /// The API base URL.
        api_base: String,
        /// The request.
        what: String,
        /// The 3xx status.
        status: u16,
        /// Origin (`scheme://host[:port]`) of the API.
        from: String,
        /// Origin the redirect pointed to (path and query left out), or a note
        /// that the answer had no usable `Location`.
        to: String,
    },
    /// A GitHub App private key that cannot be used. The message never contains
    /// any of the key.
    #[error("unusable GitHub App private key: {0}")]
    AppKey(String),
    /// GitHub refused the GitHub App's JWT (HTTP 401).
    #[error("{api_base} rejected the JWT of GitHub App {app_id} (HTTP 401): check the app ID, that the private key belongs to that app (not revoked), and the machine's clock")]
    AppRejected {
        /// The API base URL.
        api_base: String,
        /// The app ID (or client ID) the JWT was issued for.
        app_id: String,
    },
    /// The GitHub App is not installed on the repository (HTTP 404 on
    /// `repos/{owner}/{repo}/installation`).
    #[error("GitHub App {app_id} is not installed on {repo} (HTTP 404 from {api_base}): install the app on that repository (or its organisation)")]
    AppNotInstalled {
        /// The API base URL.
        api_base: String,
        /// The app ID (or client ID).
        app_id: String,
        /// `owner/name`.
        repo: String,
    },
    /// A successful response that could not be understood.
    #[error("unexpected response from {api_base} to {what}: {message}")]
    Decode {
        /// The API base URL.
        api_base: String,
        /// The request.
        what: String,
        /// What was wrong.
        message: String,
    },
}

impl ForgeError {
    /// Replaces every occurrence of the secret in every text field with `***`.
    pub fn redacted(self, secret: &Secret) -> ForgeError {
        let r = |s: String| secret.redact(&s);
        match self {
            ForgeError::InvalidRemote { url, reason } => ForgeError::InvalidRemote {
                url: r(url),
                reason: r(reason),
            },
            ForgeError::Config(m) => ForgeError::Config(r(m)),
            ForgeError::AppKey(m) => ForgeError::AppKey(r(m)),
            ForgeError::AppRejected { api_base, app_id } => ForgeError::AppRejected {
                api_base: r(api_base),
                app_id,
            },
            ForgeError::AppNotInstalled {
                api_base,
                app_id,
                repo,
            } => ForgeError::AppNotInstalled {
                api_base: r(api_base),
                app_id,
                repo,
            },
            ForgeError::Auth { api_base } => ForgeError::Auth {
                api_base: r(api_base),
            },
            ForgeError::Forbidden { api_base, message } => ForgeError::Forbidden {
                api_base: r(api_base),
                message: r(message),
            },
            ForgeError::NotFound {
                api_base,
                what,
                message,
                hint,
            } => ForgeError::NotFound {
                api_base: r(api_base),
                what: r(what),
                message: r(message),
                hint: r(hint),
            },
            ForgeError::RateLimited {
                api_base,
                reset,
                reset_at,
            } => ForgeError::RateLimited {
                api_base: r(api_base),
                reset: r(reset),
                reset_at,
            },
            ForgeError::Server {
                api_base,
                status,
                attempts,
                message,
            } => ForgeError::Server {
                api_base: r(api_base),
                status,
                attempts,
                message: r(message),
            },
            ForgeError::Api {
                api_base,
                what,
                status,
                message,
            } => ForgeError::Api {
                api_base: r(api_base),
                what: r(what),
                status,
                message: r(message),
            },
            ForgeError::Transport {
                api_base,
                attempts,
                message,
            } => ForgeError::Transport {
                api_base: r(api_base),
                attempts,
                message: r(message),
            },
            ForgeError::Decode {
                api_base,
                what,
                message,
            } => ForgeError::Decode {
                api_base: r(api_base),
                what: r(what),
                message: r(message),
            },
            ForgeError::Timeout {
                api_base,
                host,
                what,
                waited_for,
                after,
            } => ForgeError::Timeout {
                api_base: r(api_base),
                host: r(host),
                what: r(what),
                waited_for,
                after,
            },
            ForgeError::Redirect {
                api_base,
                what,
                status,
                from,
                to,
            } => ForgeError::Redirect {
                api_base: r(api_base),
                what: r(what),
                status,
                from: r(from),
                to: r(to),
            },
        }
    }

    /// The HTTP status behind this error, when there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ForgeError::Auth { .. } | ForgeError::AppRejected { .. } => Some(401),
            ForgeError::AppNotInstalled { .. } => Some(404),
            ForgeError::Forbidden { .. } => Some(403),
            ForgeError::NotFound { .. } => Some(404),
            ForgeError::Server { status, .. }
            | ForgeError::Api { status, .. }
            | ForgeError::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }
}
