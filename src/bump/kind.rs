//! The stable kinds of errors (`invalid-input`, `git-auth`, …), derived from the
//! library's typed errors.

use std::error::Error as StdError;

use super::error::BumpError;
use crate::environments::PromoteError;
use crate::forge::ForgeError;
use crate::git::GitError;
use crate::image::ReferenceError;
use crate::land::api_lander::ApiLandError;
use crate::plan::PlanError;
use crate::policy::PolicyError;
use crate::registry::RegistryError;
use crate::targets::TargetError;
use crate::verify::VerifyError;
use crate::yaml::file::FileError;
use crate::yaml::{EditError, PathError};

/// The kind of one cause, `None` when it is not classified (look at its source):
///
/// `invalid-input`, `file-not-found`, `image-not-found`, `skipped-reference`, `yaml`, `key-path`,
/// `safety-net`, `policy`, `git-auth`, `git-unreachable`, `git-not-found`, `git-transport`, `timeout`, `tls`, `rejected`,
/// `retries-exhausted`, `dirty-worktree`, `git`, `forge-auth`, `forge`, `io`,
/// `registry-not-found`, `registry-auth`, `rate-limited`, `digest-mismatch`,
/// `no-match`, `registry`, `verification`, `ambiguous` (a promotion's source disagrees with
/// itself), `config-moved` (the environments file changed while promoting).
pub fn kind_of(cause: &(dyn StdError + 'static)) -> Option<&'static str> {
    if let Some(e) = cause.downcast_ref::<BumpError>() {
        return bump_kind(e);
    }
    if let Some(e) = cause.downcast_ref::<super::AssignmentError>() {
        return e.kind();
    }
    if let Some(e) = cause.downcast_ref::<super::AppConfigError>() {
        return e.kind();
    }
    if cause.is::<crate::argocd_source::ArgoSourceError>()
        || cause.is::<PathError>()
        || cause.is::<ReferenceError>()
        || cause.is::<regex::Error>()
    {
        return Some("invalid-input");
    }
    if let Some(e) = cause.downcast_ref::<GitError>() {
        return git_kind(e);
    }
    if let Some(e) = cause.downcast_ref::<PromoteError>() {
        // `None` for a plan error: its cause (next in the chain) says what it is.
        return e.kind();
    }
    if let Some(e) = cause.downcast_ref::<crate::environments::StatusError>() {
        return Some(e.kind());
    }
    if cause.is::<super::PromoteLandError>() {
        return Some("config-moved");
    }
    if let Some(e) = cause.downcast_ref::<ForgeError>() {
        return Some(forge_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<ApiLandError>() {
        return match e {
            ApiLandError::Forge(f) => Some(forge_kind(f)),
            ApiLandError::BranchNotFound { .. }
            | ApiLandError::Incomplete { .. }
            | ApiLandError::TooManyFiles { .. }
            | ApiLandError::InvalidInput { .. } => Some("invalid-input"),
            ApiLandError::RetriesExhausted { .. } => Some("retries-exhausted"),
            ApiLandError::Io { .. } => Some("io"),
            // The edit's own error is next in the chain.
            ApiLandError::Apply(_) => None,
        };
    }
    if let Some(e) = cause.downcast_ref::<PlanError>() {
        return Some(plan_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<FileError>() {
        return Some(file_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<TargetError>() {
        return Some(target_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<EditError>() {
        return Some(edit_kind(e));
    }
    if cause.is::<PolicyError>() {
        return Some("policy");
    }
    if let Some(e) = cause.downcast_ref::<RegistryError>() {
        return Some(registry_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<VerifyError>() {
        return Some(match e {
            VerifyError::Registry { source, .. } => registry_kind(source),
            _ => e.kind(),
        });
    }
    if cause.is::<std::io::Error>() {
        return Some("io");
    }
    None
}

fn registry_kind(e: &RegistryError) -> &'static str {
    match e {
        RegistryError::NotFound { .. } | RegistryError::NoPlatform { .. } => "registry-not-found",
        RegistryError::Auth { .. } | RegistryError::Credentials { .. } => "registry-auth",
        RegistryError::RateLimited { .. } => "rate-limited",
        RegistryError::Timeout { .. } => "timeout",
        RegistryError::InsecureRefused { .. } | RegistryError::CaBundle { .. } => "invalid-input",
        RegistryError::DigestMismatch { .. } => "digest-mismatch",
        RegistryError::NoMatch { .. } => "no-match",
        RegistryError::Transport { .. } | RegistryError::Protocol { .. } => "registry",
    }
}

/// `None` for the edit closure's error: its cause (next in the chain) says what it is.
fn git_kind(e: &GitError) -> Option<&'static str> {
    Some(match e {
        GitError::Apply(_) => return None,
        GitError::Unreachable { .. } => "git-unreachable",
        GitError::RepoNotFound { .. } => "git-not-found",
        GitError::PushNotAllowed { .. } => "rejected",
        GitError::Auth { .. } => "git-auth",
        GitError::Transport { .. } => "git-transport",
        GitError::Timeout { .. } => "timeout",
        GitError::Tls { .. } => "tls",
        GitError::Rejected { .. } => "rejected",
        GitError::RetriesExhausted { .. } => "retries-exhausted",
        GitError::DirtyWorktree { .. } => "dirty-worktree",
        GitError::BranchNotFound { .. } | GitError::InvalidInput { .. } => "invalid-input",
        GitError::Io { .. } => "io",
        GitError::Git { .. } => "git",
    })
}

fn forge_kind(e: &ForgeError) -> &'static str {
    match e {
        ForgeError::InvalidRemote { .. } | ForgeError::Config(_) => "invalid-input",
        ForgeError::Auth { .. }
        | ForgeError::Forbidden { .. }
        | ForgeError::AppKey(_)
        | ForgeError::AppRejected { .. }
        | ForgeError::AppNotInstalled { .. } => "forge-auth",
        _ => "forge",
    }
}

fn plan_kind(e: &PlanError) -> &'static str {
    match e {
        PlanError::OutsideRoot { .. } | PlanError::SetTwice { .. } => "invalid-input",
        PlanError::File(f) => file_kind(f),
        PlanError::Targets(t) => target_kind(t),
        PlanError::Policy { .. } => "policy",
        PlanError::ImageNotFound { .. } | PlanError::NameOnly { .. } => "image-not-found",
        PlanError::SkippedReference { .. } => "skipped-reference",
        PlanError::ArgoCdSourceDir => "invalid-input",
        PlanError::ArgoCdSource(e) => match e {
            crate::argocd_source::ArgoSourceError::Malformed { .. } => "yaml",
            _ => "invalid-input",
        },
    }
}

fn file_kind(e: &FileError) -> &'static str {
    match e {
        FileError::NotFound { .. } => "file-not-found",
        FileError::NotUtf8 { .. } => "yaml",
        FileError::NotAFile { .. } | FileError::TooLarge { .. } => "invalid-input",
        FileError::Io { .. } => "io",
        FileError::Edit { error, .. } => edit_kind(error),
    }
}

fn target_kind(e: &TargetError) -> &'static str {
    match e {
        TargetError::Syntax { .. } => "yaml",
        TargetError::Unwritable { .. } => "key-path",
        TargetError::NothingToWrite { .. } | TargetError::OutsideRoot { .. } => "invalid-input",
        TargetError::Io { .. } => "io",
    }
}

fn edit_kind(e: &EditError) -> &'static str {
    match e {
        EditError::Syntax { .. }
        | EditError::NotJson { .. }
        | EditError::DuplicateKey { .. }
        | EditError::AliasBomb { .. } => "yaml",
        EditError::SafetyNet { .. } | EditError::JsonSafetyNet { .. } => "safety-net",
        EditError::ValueType { .. } => "invalid-input",
        EditError::Aliased { .. } => "policy",
        EditError::NotFound { .. }
        | EditError::WrongKind { .. }
        | EditError::IndexOutOfRange { .. }
        | EditError::NotAScalar { .. }
        | EditError::Alias { .. }
        | EditError::NoSuchDocument { .. }
        | EditError::Conflict { .. }
        | EditError::CannotCreate { .. } => "key-path",
    }
}

fn bump_kind(e: &BumpError) -> Option<&'static str> {
    match e {
        // The cause (next in the chain) says what it is.
        BumpError::Apply { .. }
        | BumpError::Status { .. }
        | BumpError::Credentials(_)
        | BumpError::AppToken { .. }
        | BumpError::ForgeRepository { .. }
        | BumpError::ForgeConnect { .. }
        | BumpError::PullRequest { .. }
        | BumpError::RegistryRead { .. } => None,
        BumpError::Registry(e) => Some(registry_kind(e)),
        BumpError::NotVerified { .. } => Some("verification"),
        BumpError::UnresolvablePath { .. } => Some("io"),
        _ => Some("invalid-input"),
    }
}

impl BumpError {
    /// What went wrong, as a stable word (see [`kind_of`](super::kind_of)); `other` when no cause is
    /// classified.
    pub fn kind(&self) -> &'static str {
        let mut cause: Option<&(dyn StdError + 'static)> = Some(self);
        while let Some(c) = cause {
            if let Some(kind) = kind_of(c) {
                return kind;
            }
            cause = c.source();
        }
        "other"
    }
}
