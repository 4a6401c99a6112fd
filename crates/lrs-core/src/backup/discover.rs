//! Turns the paths a user names into the list of candidate backup files (in progress).
use std::path::PathBuf;
use super::InspectError;

#[derive(Clone, Debug)]
pub(crate) struct FoundFile { pub path: PathBuf }
#[derive(Clone, Debug, Default)]
pub(crate) struct Discovery { pub files: Vec<FoundFile> }

pub(crate) fn discover(paths: &[PathBuf]) -> Result<Discovery, InspectError> {
    if paths.is_empty() { return Err(InspectError::NoPaths); }
    Ok(Discovery::default())
}
