//! What every environment runs, read from a directory, a checkout or a remote
//! repository ([`status`](super::status)); nothing is ever written, committed or
//! pushed.
//!
//! A remote branch is read in two steps, through the forge's API or git as a change
//! would land (the API for an `https://` forge URL with a token, else git): the
//! environments file alone (one API read, or a blob-less shallow clone of that file),
//! then only the environments' paths (a sparse shallow clone, or the API reads of those
//! files). An environment whose path is `.` reads the whole tree.

use std::path::{Path, PathBuf};

use super::remote::Reader;
use super::{BumpError, Destination, Event, Options};
use crate::environments::{self, Config, Status, StatusError, CONFIG_FILE};

/// Reads the status of every environment of `destination` (a remote branch: the
/// remote's default branch unless one is named). `config`: an environments file on
/// the local disk (read once) instead of `.tagbump.yaml` of the tree read; its paths
/// are relative to the repository root either way. [`Options::dry_run`] makes no
/// difference; [`Options::pull_request`], [`Options::registry`] and
/// [`Options::commit`] are not used.
///
/// # Errors
///
/// [`BumpError::Status`], its source a [`StatusError`] (the environments file, an
/// environment's path) or what reading the remote met (a git or forge error).
pub fn status(
    config: Option<&Path>,
    destination: &Destination,
    options: &Options,
    events: &dyn Fn(Event<'_>),
) -> Result<Status, BumpError> {
    let fixed = match config {
        Some(file) => Some(
            Config::load(Path::new("."), Some(file))
                .map_err(|e| failed(file.display().to_string(), StatusError::from(e).into()))?,
        ),
        None => None,
    };
    match destination {
        Destination::Directory(dir) | Destination::Checkout { dir, .. } => {
            let place = dir.display().to_string();
            let config = match fixed {
                Some(c) => c,
                None => Config::load(dir, None)
                    .map_err(|e| failed(place.clone(), StatusError::from(e).into()))?,
            };
            environments::status(dir, &config).map_err(|e| failed(place, e.into()))
        }
        Destination::Remote {
            url, branch, via, ..
        } => {
            let options = &*destination.options(options);
            let reader = Reader::new(url, branch.as_deref(), *via, options, events)?;
            events(Event::Repository(&reader.shown_url));
            remote(&reader, fixed).map_err(|e| failed(reader.shown_url.clone(), e))
        }
    }
}

/// What one destination of [`status_each`] read.
#[derive(Debug)]
#[non_exhaustive]
pub struct StatusTarget {
    /// The destination as given: a remote's URL, a directory's path.
    pub name: String,
    /// What [`status`] returned for it alone.
    pub result: Result<Status, BumpError>,
}

/// Reads the status of each of `destinations` in turn, as [`status`] reads one (the
/// same `config`, options and events; `events` also gets the index of the destination),
/// in the order given. A destination that cannot be read never stops the others.
pub fn status_each(
    config: Option<&Path>,
    destinations: &[Destination],
    options: &Options,
    events: &dyn Fn(usize, Event<'_>),
) -> Vec<StatusTarget> {
    destinations
        .iter()
        .enumerate()
        .map(|(i, destination)| StatusTarget {
            name: match destination {
                Destination::Remote { url, .. } => url.clone(),
                Destination::Directory(dir) | Destination::Checkout { dir, .. } => {
                    dir.display().to_string()
                }
            },
            result: status(config, destination, options, &|e| events(i, e)),
        })
        .collect()
}

/// The two reads of a remote branch.
fn remote(reader: &Reader<'_>, fixed: Option<Config>) -> Result<Status, super::Cause> {
    let config = match fixed {
        Some(c) => c,
        None => {
            let mut found = None;
            reader.read(
                &format!("reading {CONFIG_FILE}"),
                Some(vec![PathBuf::from(CONFIG_FILE)]),
                &mut |root| {
                    found = Some(Config::load(root, None).map_err(StatusError::from)?);
                    Ok(())
                },
            )?;
            found.ok_or_else(|| format!("{CONFIG_FILE} was not read"))?
        }
    };
    let mut status = None;
    reader.read(
        "reading the environments",
        sparse_paths(&config),
        &mut |root| {
            status = Some(environments::status(root, &config)?);
            Ok(())
        },
    )?;
    Ok(status.ok_or("the environments were not read")?)
}

/// Every environment's paths, `None` when one of them is the whole repository.
fn sparse_paths(config: &Config) -> Option<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = config
        .environments
        .iter()
        .flat_map(|e| e.paths.iter().cloned())
        .collect();
    (!paths.iter().any(|p| p.as_os_str() == ".")).then_some(paths)
}

fn failed(place: String, source: super::Cause) -> BumpError {
    BumpError::Status { place, source }
}
