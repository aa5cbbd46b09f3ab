//! The ways of landing a change on a config repository's branch, behind one seam.
//!
//! - git: clone (sparse where possible), commit, push — [`crate::git`];
//! - a forge's API (GitHub, GitLab): read only the files the edit needs at the branch
//!   tip, then create one commit with compare-and-swap on the tip — [`api`].
//!
//! Both are driven by the same edit closure (it edits files in a directory and reports
//! which ones it changed), the same time-based retry budget ([`crate::retry`]) and the
//! same reporting.

pub mod api;
