//! The `tagbump` runs the forge tests make against the fake GitHub and GitLab: the
//! config repository they seed, the image bump they run, and `--via api` pointed at a
//! fake. Each test adds the flags and the token it is about.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

use super::cli::tagbump;
use super::fake_github::FakeGitHub;
use super::fake_gitlab::{FakeGitLab, PROJECT};
use super::git_server::BareRepo;

/// The web app's values file in [`web_config`].
pub const WEB: &str = "apps/web/values.yaml";

/// A config repository with the web app at `ghcr.io/acme/web:2.0.0` and a README.
pub fn web_config() -> BareRepo {
    BareRepo::new_with(
        &[
            (
                WEB,
                "image:\n  repository: ghcr.io/acme/web\n  tag: \"2.0.0\"\n",
            ),
            ("README.md", "# config\n"),
        ],
        "main",
    )
}

/// `image ghcr.io/acme/web:TAG apps --output json`: the bump of the web app.
pub fn bump_web(tag: &str) -> [String; 5] {
    [
        "image".to_string(),
        format!("ghcr.io/acme/web:{tag}"),
        "apps".to_string(),
        "--output".to_string(),
        "json".to_string(),
    ]
}

/// `tagbump ARGS… --repo <fake>/acme/gitops.git --via api --forge github --api-url <fake>`.
pub fn via_github_api<S: AsRef<OsStr>>(
    home: &Path,
    github: &FakeGitHub,
    args: impl IntoIterator<Item = S>,
) -> Command {
    let repo = format!("{}/acme/gitops.git", github.url());
    via_api(home, args, &repo, "github", github.url())
}

/// `tagbump ARGS… --repo <fake>/group/config.git --via api --forge gitlab --api-url
/// <fake>/api/v4`.
pub fn via_gitlab_api<S: AsRef<OsStr>>(
    home: &Path,
    gitlab: &FakeGitLab,
    args: impl IntoIterator<Item = S>,
) -> Command {
    let repo = format!("{}/{PROJECT}.git", gitlab.url());
    via_api(home, args, &repo, "gitlab", &gitlab.api_base())
}

fn via_api<S: AsRef<OsStr>>(
    home: &Path,
    args: impl IntoIterator<Item = S>,
    repo: &str,
    forge: &str,
    api_url: &str,
) -> Command {
    let mut cmd = tagbump(home);
    cmd.args(args)
        .args(["--repo", repo, "--via", "api", "--forge", forge])
        .args(["--api-url", api_url]);
    cmd
}
