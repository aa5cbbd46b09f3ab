//! The `git clone` command line the shallow and the sparse clone share.

use std::path::Path;

use super::cli::{self, GitOutput};
use super::remote::Remote;
use super::GitError;

/// `git clone --depth=1 --single-branch --no-tags --progress [extra…] [--branch B] -- URL
/// DEST`, with the remote's credentials; a failure is classified (auth, unreachable,
/// branch…).
pub(crate) fn run_git_clone(
    remote: &Remote,
    branch: Option<&str>,
    dest: &Path,
    extra: &[&str],
) -> Result<GitOutput, GitError> {
    let parent = dest.parent().unwrap_or(dest);
    let mut args: Vec<std::ffi::OsString> = vec![
        "clone".into(),
        "--progress".into(),
        "--depth=1".into(),
        "--single-branch".into(),
        "--no-tags".into(),
    ];
    args.extend(extra.iter().map(Into::into));
    if let Some(b) = branch {
        args.push("--branch".into());
        args.push(b.into());
    }
    args.push("--".into());
    args.push(remote.url.as_str().into());
    args.push(dest.as_os_str().to_owned());
    let out = remote.runner().run(parent, &args)?;
    if !out.success {
        return Err(cli::classify_failure(
            &out.stderr,
            &remote.url,
            "clone",
            branch,
        ));
    }
    Ok(out)
}
