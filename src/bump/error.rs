//! Why a bump failed, with a stable machine-readable [`kind`](BumpError::kind).

use std::error::Error as StdError;
use std::path::PathBuf;

use crate::credentials::CredentialsError;
#[cfg(doc)]
use crate::forge::ForgeError;
use crate::forge::ForgeKind;
use crate::registry::RegistryError;
use crate::verify::VerifyError;

/// A boxed cause (a plan, git, forge or landing error).
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// A file the run was pointed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileRole {
    /// The CA bundle for HTTPS.
    CaBundle,
    /// The SSH private key.
    SshKey,
}

impl std::fmt::Display for FileRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FileRole::CaBundle => "the CA bundle",
            FileRole::SshKey => "the SSH key",
        })
    }
}

/// Why [`run`](super::run) failed. The causes (plan, git, forge errors) stay reachable
/// through [`source`](StdError::source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BumpError {
    /// The change could not be applied or landed in `place`.
    #[error("cannot apply {summary}{}", place.as_deref().map(|p| format!(" in {p}")).unwrap_or_default())]
    Apply {
        /// What was asked ([`Request::summary`](crate::plan::Request::summary)).
        summary: String,
        /// The directory or repository (credentials removed); `None`: the current directory.
        place: Option<String>,
        /// Why.
        #[source]
        source: Cause,
    },
    /// The status of the environments could not be read from `place`
    /// ([`status`](super::status)).
    #[error("cannot read the status of the environments in {place}")]
    Status {
        /// The directory or repository (credentials removed).
        place: String,
        /// Why (a [`StatusError`](crate::environments::StatusError), a git or forge
        /// error).
        #[source]
        source: Cause,
    },
    /// A token could not be chosen.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// A GitHub App token needs an `https://` GitHub repository.
    #[error("a GitHub App needs an https:// GitHub repository")]
    AppNeedsGitHubRepository,
    /// A GitHub App token for a host not known as GitHub.
    #[error("a GitHub App works with GitHub only, and {host} is not known as GitHub")]
    AppNotGitHub {
        /// The repository's host.
        host: String,
    },
    /// The installation token could not be minted.
    #[error("cannot get an installation token for GitHub App {app_id} on {repo}")]
    AppToken {
        /// The app ID.
        app_id: String,
        /// The repository path.
        repo: String,
        /// Why (a [`ForgeError`]).
        #[source]
        source: Cause,
    },
    /// The forge of the repository is unknown (give [`Options::forge`](super::Options::forge)).
    #[error("cannot tell which forge hosts {url}")]
    UnknownForge {
        /// The repository URL (credentials removed).
        url: String,
    },
    /// The repository path cannot be read from the URL.
    #[error("cannot read the repository path from {url}")]
    RepositoryPath {
        /// The repository URL (credentials removed).
        url: String,
        /// Why (a [`ForgeError`]).
        #[source]
        source: Cause,
    },
    /// A pull request needs an API token and none was found.
    #[error("opening a pull request needs an API token for {api}")]
    PullRequestNeedsToken {
        /// The API base URL.
        api: String,
    },
    /// GitLab's CI/CD job token cannot open merge requests.
    #[error(
        "a GitLab CI/CD job token ({}) cannot create, edit or merge merge requests",
        super::tokens::JOB_TOKEN
    )]
    JobTokenCannotOpenMergeRequest,
    /// GitLab's CI/CD job token cannot commit through the API.
    #[error(
        "a GitLab CI/CD job token ({}) cannot commit through the API",
        super::tokens::JOB_TOKEN
    )]
    JobTokenCannotCommitViaApi,
    /// The forge API cannot be used as asked ([`Via::Api`](crate::land::via::Via::Api)).
    #[error(transparent)]
    ApiUnavailable(#[from] crate::land::via::ApiUnavailable),
    /// The repository cannot be opened through the forge's API.
    #[error("cannot use the {kind} API for {url}")]
    ForgeRepository {
        /// The forge.
        kind: ForgeKind,
        /// The repository URL (credentials removed).
        url: String,
        /// Why (a [`ForgeError`]).
        #[source]
        source: Cause,
    },
    /// The forge's API cannot be reached.
    #[error("cannot connect to the {kind} API at {api}")]
    ForgeConnect {
        /// The forge.
        kind: ForgeKind,
        /// The API base URL (credentials removed).
        api: String,
        /// Why (a [`ForgeError`]).
        #[source]
        source: Cause,
    },
    /// The commit was pushed, but the pull request could not be opened or updated.
    #[error("pushed {} to branch {branch}, but cannot open the pull request in {url}", &commit[..commit.len().min(12)])]
    PullRequest {
        /// The pushed commit.
        commit: String,
        /// The pushed branch.
        branch: String,
        /// The repository URL (credentials removed).
        url: String,
        /// Why (a [`ForgeError`]).
        #[source]
        source: Cause,
    },
    /// The registry client could not be set up (its CA bundle, Docker's credentials).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The registry could not answer what [`Options::registry`](super::Options::registry)
    /// asks.
    #[error("cannot read the registry of {image}")]
    RegistryRead {
        /// The image's repository.
        image: String,
        /// Why (a [`RegistryError`], or the chosen tag or digest made no valid
        /// reference).
        #[source]
        source: Cause,
    },
    /// [`Options::registry`](super::Options::registry) is given for a change that
    /// names no image.
    #[error("the registry step needs an image change")]
    RegistryNeedsImage,
    /// The digest to verify is missing.
    #[error("{image} carries no digest to verify against the registry")]
    NoDigestToVerify {
        /// The image as given.
        image: String,
    },
    /// The registry step's signature policy
    /// ([`Resolve::verify`](super::Resolve::verify)) was not met: nothing was written.
    #[error("{image} is not verified: a cosign signature by {required} was required")]
    NotVerified {
        /// The image as given.
        image: String,
        /// The keys, any one of which would have done (`ECDSA P-256 key SHA256:…`).
        required: String,
        /// What was found instead.
        #[source]
        source: Box<VerifyError>,
    },
    /// A signature is required but the image names neither a tag nor a digest.
    #[error(
        "{image} names neither a tag nor a digest: verifying a signature needs the image's digest"
    )]
    NothingToVerify {
        /// The image as given.
        image: String,
    },
    /// A file the options name does not exist.
    #[error("{role} {}: no such file", path.display())]
    NoSuchFile {
        /// Which file.
        role: FileRole,
        /// As given.
        path: PathBuf,
    },
    /// A path the options name cannot be made absolute.
    #[error("{role} {}: cannot resolve the path", path.display())]
    UnresolvablePath {
        /// Which file.
        role: FileRole,
        /// As given.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}
