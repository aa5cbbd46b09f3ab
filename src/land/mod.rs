//! The ways of landing a change on a config repository's branch, behind one seam.
//!
//! - git: clone (sparse where possible), commit, push — [`crate::git::write_back`];
//! - a forge's API (GitHub, GitLab): read only the files the edit needs at the branch
//!   tip, then create one commit with compare-and-swap on the tip — [`api`].
//!
//! Each way is a set of [`Attempts`]: one attempt reads the branch tip, runs the
//! caller's edit closure (it edits files in a directory and reports which ones it
//! changed, [`crate::change::Applied`]) and tries to land the result. [`with_retries`]
//! is the one retry loop: when an attempt lost a race (the branch moved) or the
//! connection failed on the way, it waits (jittered exponential backoff) and tries
//! again on the new tip, until the time budget of [`RetryPolicy`](crate::retry::RetryPolicy) is spent.

pub mod api;
pub mod api_lander;
pub mod via;

// The retry loop lives in the `retry` leaf (below git and forge, which both run it);
// these are its old paths.
pub use crate::retry::{with_retries, Attempt, Attempts};
