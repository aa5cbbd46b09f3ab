//! A GitHub App as configured: its ID and its private key, from a file or the PEM
//! itself (the variable [`APP_KEY_VARIABLE`]).

use std::path::PathBuf;

use crate::forge::github_app::{AppKey, GitHubApp};
use crate::forge::ForgeError;

/// The variable that may hold the App's PEM key itself.
pub const APP_KEY_VARIABLE: &str = "TAGBUMP_GITHUB_APP_KEY";

/// A GitHub App as given; blank values count as not given.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AppConfig {
    /// The app ID or client ID.
    pub app_id: Option<String>,
    /// The private key's PEM file (it wins over [`key_pem`](Self::key_pem)).
    pub key_file: Option<PathBuf>,
    /// The PEM itself (e.g. from [`APP_KEY_VARIABLE`]).
    pub key_pem: Option<String>,
}

/// Why a configured GitHub App cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppConfigError {
    /// A key without an app ID.
    #[error("a GitHub App key is given but no app ID")]
    KeyWithoutApp,
    /// An app ID without a key.
    #[error("a GitHub App ID needs the app's private key")]
    AppWithoutKey,
    /// The key file cannot be read.
    #[error("{}: cannot read the GitHub App key file ({kind})", path.display())]
    UnreadableKey {
        /// The file.
        path: PathBuf,
        /// Why.
        kind: std::io::ErrorKind,
    },
    /// The key is not a usable private key.
    #[error("the GitHub App key")]
    BadKey(#[source] ForgeError),
}

impl AppConfigError {
    /// `invalid-input`, except for a bad key, whose own error tells (`None`).
    pub fn kind(&self) -> Option<&'static str> {
        match self {
            AppConfigError::BadKey(_) => None,
            _ => Some("invalid-input"),
        }
    }
}

impl AppConfig {
    /// The app, `None` when neither an ID nor a key is given.
    pub fn app(&self) -> Result<Option<GitHubApp>, AppConfigError> {
        let pem = self.key_pem.as_deref().filter(|v| !v.trim().is_empty());
        let app_id = self
            .app_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty());
        let Some(app_id) = app_id else {
            if self.key_file.is_some() || pem.is_some() {
                return Err(AppConfigError::KeyWithoutApp);
            }
            return Ok(None);
        };
        let pem = match (&self.key_file, pem) {
            (Some(path), _) => std::fs::read(path).map_err(|e| AppConfigError::UnreadableKey {
                path: path.clone(),
                kind: e.kind(),
            })?,
            (None, Some(pem)) => pem.as_bytes().to_vec(),
            (None, None) => return Err(AppConfigError::AppWithoutKey),
        };
        let key = AppKey::from_pem(&pem).map_err(AppConfigError::BadKey)?;
        Ok(Some(GitHubApp {
            app_id: app_id.to_string(),
            key,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(app_id: Option<&str>, key_file: Option<&str>, key_pem: Option<&str>) -> AppConfig {
        AppConfig {
            app_id: app_id.map(str::to_string),
            key_file: key_file.map(PathBuf::from),
            key_pem: key_pem.map(str::to_string),
        }
    }

    #[test]
    fn nothing_given_is_no_app_and_half_an_app_is_refused() {
        assert!(config(None, None, None).app().expect("none").is_none());
        assert!(config(Some(" "), None, Some("\n"))
            .app()
            .expect("blank")
            .is_none());
        let err = config(None, None, Some("PEM")).app().expect_err("no id");
        assert!(matches!(err, AppConfigError::KeyWithoutApp), "{err}");
        assert_eq!(err.kind(), Some("invalid-input"));
        let err = config(None, Some("key.pem"), None)
            .app()
            .expect_err("no id");
        assert!(matches!(err, AppConfigError::KeyWithoutApp), "{err}");
        let err = config(Some("42"), None, None).app().expect_err("no key");
        assert!(matches!(err, AppConfigError::AppWithoutKey), "{err}");
    }

    #[test]
    fn the_key_file_wins_and_a_bad_key_keeps_its_own_kind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.pem");
        let err = config(Some("42"), missing.to_str(), Some("PEM"))
            .app()
            .expect_err("missing file");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: cannot read the GitHub App key file (entity not found)",
                missing.display()
            )
        );
        let err = config(Some("42"), None, Some("not a key"))
            .app()
            .expect_err("bad");
        assert!(matches!(err, AppConfigError::BadKey(_)), "{err}");
        assert_eq!(err.kind(), None);
    }
}
