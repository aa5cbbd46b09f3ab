//! What a remote URL gets: its forge, the files git is handed (an SSH key, a CA
//! bundle) and the credentials git uses for it.

use std::path::{Path, PathBuf};

use super::tokens::Tokens;
use super::{BumpError, FileRole, Options};
use crate::forge::{self, ForgeKind, RepoId};
use crate::git::Auth;
use crate::url::{RemoteUrl, Transport};

/// The forge of `url`: the configured one, else from its host.
pub(super) fn forge_kind(url: &str, options: &Options) -> Option<ForgeKind> {
    if let Some(kind) = options.forge {
        return Some(kind);
    }
    RepoId::from_remote_url(url)
        .ok()
        .and_then(|r| forge::detect_kind(&r))
}

/// An absolute path to an existing file: git runs inside the temporary clone, where a
/// relative path would point elsewhere.
pub(super) fn existing_file(
    path: Option<&Path>,
    role: super::FileRole,
) -> Result<Option<PathBuf>, BumpError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let absolute = std::path::absolute(path).map_err(|source| BumpError::UnresolvablePath {
        role,
        path: path.to_path_buf(),
        source,
    })?;
    if !absolute.is_file() {
        return Err(BumpError::NoSuchFile {
            role,
            path: path.to_path_buf(),
        });
    }
    Ok(Some(absolute))
}

/// The credentials git gets for `url`, by its transport ([`RemoteUrl`]): the SSH key
/// over SSH (also the scp form without a user), a token over http(s), nothing else.
/// A URL that does not parse gets nothing: `git` refuses it, with the reason.
pub(super) fn git_auth(
    url: &str,
    kind: Option<ForgeKind>,
    options: &Options,
    tokens: &Tokens<'_>,
) -> Result<Auth, BumpError> {
    Ok(match RemoteUrl::parse(url).map(|u| u.transport()) {
        Ok(Transport::Ssh) => Auth::Ssh {
            key_file: existing_file(options.ssh_key.as_deref(), FileRole::SshKey)?,
        },
        Ok(Transport::Https | Transport::Http) => {
            tokens.git_auth(kind, url)?.unwrap_or(Auth::Anonymous)
        }
        Ok(Transport::Git | Transport::File) | Err(_) => Auth::Anonymous,
    })
}
