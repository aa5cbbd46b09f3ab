//! Several requests applied to one tree, one after the other, as one plan: each request
//! searches and edits what the ones before it made of the files, and nothing is
//! written until the whole plan is.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{plan_over, Options, Plan, PlanError, Request};
use crate::yaml::file::FileError;

/// Applies `requests` in order to the files under `root`, in memory: a request sees
/// the edits of those before it. Returns one [`Plan`] (each file once, its `original`
/// as on disk, its text after every request, sorted by path; the records of every
/// request in order)
/// and, per request, whether it changed a value. The first request that fails fails
/// the whole; nothing is written either way.
pub fn plan_all(
    root: &Path,
    requests: &[Request],
    options: &Options,
) -> Result<(Plan, Vec<bool>), PlanError> {
    let real_root = root.canonicalize().map_err(|error| FileError::Io {
        path: root.to_path_buf(),
        error,
    })?;
    let mut overlay: HashMap<PathBuf, String> = HashMap::new();
    let mut all = Plan {
        root: real_root,
        files: Vec::new(),
        records: Vec::new(),
        skipped: Vec::new(),
        notes: Vec::new(),
        not_searched: Vec::new(),
    };
    let mut changed = Vec::new();
    for request in requests {
        let one = plan_over(root, request, options, &overlay)?;
        changed.push(one.records.iter().any(|r| r.changed));
        for file in one.files {
            overlay.insert(file.path.clone(), file.outcome.text.clone());
            match all.files.iter_mut().find(|f| f.path == file.path) {
                Some(earlier) => {
                    earlier.outcome.text = file.outcome.text;
                    earlier.outcome.changes.extend(file.outcome.changes);
                }
                None => all.files.push(file),
            }
        }
        all.records.extend(one.records);
        for note in one.notes {
            if !all.notes.contains(&note) {
                all.notes.push(note);
            }
        }
        for skip in one.skipped {
            if !all.skipped.contains(&skip) {
                all.skipped.push(skip);
            }
        }
        for n in one.not_searched {
            if !all.not_searched.iter().any(|m| m.path == n.path) {
                all.not_searched.push(n);
            }
        }
    }
    // Each file once, in path order, whichever request reached it first.
    all.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((all, changed))
}
