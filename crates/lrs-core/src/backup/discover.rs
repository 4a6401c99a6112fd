//! Turns the paths a user names into the candidate backup files: a file is taken as it is, a folder
//! is walked (nested folders included, so that they can be reported), in a stable order.

use std::path::{Path, PathBuf};

use super::InspectError;

/// One file found, with where it sits relative to the folder the user named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FoundFile {
    pub path: PathBuf,
    /// The folder the user named (for a file named directly: its parent).
    pub root: PathBuf,
    /// The folder that holds the file.
    pub dir: PathBuf,
    /// True when the file sits in a subfolder of the folder the user named.
    pub nested: bool,
}

/// All files found under the paths.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    pub files: Vec<FoundFile>,
    /// Entries inside a named folder that could not be read (a subfolder without permission, a
    /// broken link): reported, and the rest is inspected all the same.
    pub errors: Vec<(PathBuf, std::io::Error)>,
}

pub(crate) fn discover(paths: &[PathBuf]) -> Result<Discovery, InspectError> {
    if paths.is_empty() {
        return Err(InspectError::NoPaths);
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| InspectError::Open { path: path.clone(), source })?;
        if meta.is_dir() {
            walk_folder(path, &mut files, &mut errors);
        } else {
            // A file named directly must open: otherwise the user named a path that cannot be used.
            std::fs::File::open(path).map_err(|source| InspectError::Open { path: path.clone(), source })?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            files.push(FoundFile { path: path.clone(), root: dir.clone(), dir, nested: false });
        }
    }
    // The same file named twice (a folder and a file in it) is inspected once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone())));
    Ok(Discovery { files, errors })
}

fn walk_folder(root: &Path, files: &mut Vec<FoundFile>, errors: &mut Vec<(PathBuf, std::io::Error)>) {
    let walker = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                let source = err
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("a symbolic link loops back to a parent folder"));
                errors.push((path, source));
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.into_path();
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let nested = dir != root;
        files.push(FoundFile { path, root: root.to_path_buf(), dir, nested });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_in_order_and_marks_nested_files() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("LOG")).unwrap();
        std::fs::write(tmp.path().join("b.bak"), b"x").unwrap();
        std::fs::write(tmp.path().join("a.bak"), b"x").unwrap();
        std::fs::write(tmp.path().join("LOG").join("c.trn"), b"x").unwrap();
        let found = discover(&[tmp.path().to_path_buf(), tmp.path().join("a.bak")]).unwrap();
        let names: Vec<_> = found.files.iter().map(|f| f.path.file_name().unwrap().to_str().unwrap()).collect();
        // Sorted by name within each folder ("LOG" sorts before "a.bak"); the duplicate a.bak is dropped.
        assert_eq!(names, ["c.trn", "a.bak", "b.bak"]);
        let nested: Vec<_> = found.files.iter().filter(|f| f.nested).map(|f| f.path.file_name().unwrap()).collect();
        assert_eq!(nested, ["c.trn"]);
    }

    #[test]
    fn a_missing_path_is_an_error_that_names_it() {
        let err = discover(&[PathBuf::from("/nonexistent/lrs-test")]).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/lrs-test"), "{err}");
        assert!(matches!(discover(&[]), Err(InspectError::NoPaths)));
    }
}
