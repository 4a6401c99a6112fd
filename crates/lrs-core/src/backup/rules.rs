//! The Log Replay Service rules that are not about the LSN chain: file names and extensions, flat
//! folders, reserved keywords, CHECKSUM, source versions, and the autocomplete last backup.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::finding::{Finding, FindingCode};
use super::header::BackupHeader;
use super::plan::{name, Entry};

/// Extensions LRS accepts (overview, "Limitations").
const ACCEPTED_EXTENSIONS: [&str; 3] = ["bak", "diff", "log"];
/// Oldest and newest SQL Server major versions LRS documents (2008 = 10, 2022 = 16).
const SUPPORTED_MAJOR_VERSIONS: std::ops::RangeInclusive<u8> = 10..=16;
/// How many file names a grouped finding lists before "and N more".
const NAMES_LISTED: usize = 5;

/// The name a file gets in the database's flat folder: `.trn` becomes `.log`, anything else stays.
pub fn upload_name(path: &Path) -> String {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("trn") => {
            let stem = &file_name[..file_name.len() - ext.len()];
            format!("{stem}log")
        }
        _ => file_name,
    }
}

/// True when LRS would reject the name: it contains the reserved keyword `backup` (so also `backups`).
pub fn has_reserved_keyword(name: &str) -> bool {
    name.to_ascii_lowercase().contains("backup")
}

/// Checks on the files of the restore sequence.
pub(crate) fn sequence_rules(sequence: &[&Entry]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let headers: Vec<&BackupHeader> = sequence.iter().map(|e| &e.header).collect();
    let no_checksum: Vec<&BackupHeader> = headers.iter().copied().filter(|h| !h.has_checksum).collect();
    if let Some(first) = no_checksum.first() {
        findings.push(Finding::warning(
            FindingCode::NoChecksum,
            Some(first.path.clone()),
            format!(
                "{} of the {} backups to restore were taken without CHECKSUM ({}): LRS restores them more slowly and \
                 cannot guarantee that a corrupt page is caught.",
                no_checksum.len(),
                headers.len(),
                list_names(&no_checksum)
            ),
            "Take the backups again WITH CHECKSUM if you can (BACKUP ... WITH CHECKSUM).",
        ));
    }
    let trn: Vec<&BackupHeader> =
        headers.iter().copied().filter(|h| extension_of(&h.path).as_deref() == Some("trn")).collect();
    if let Some(first) = trn.first() {
        findings.push(Finding::warning(
            FindingCode::ExtensionRenamed,
            Some(first.path.clone()),
            format!("{} file(s) end in .trn ({}); LRS accepts only .bak, .diff and .log.", trn.len(), list_names(&trn)),
            "Nothing to do: the upload names them .log in the database's folder.",
        ));
    }
    for h in &headers {
        let ext = extension_of(&h.path);
        let accepted = ext.as_deref().is_some_and(|e| e == "trn" || ACCEPTED_EXTENSIONS.contains(&e));
        if !accepted {
            findings.push(Finding::error(
                FindingCode::ExtensionNotAccepted,
                Some(h.path.clone()),
                format!(
                    "{} has {}; LRS accepts only .bak, .diff and .log files.",
                    name(h),
                    ext.map(|e| format!("the extension .{e}")).unwrap_or_else(|| "no extension".into())
                ),
                format!("Rename it to end in {} before uploading.", suggested_extension(h)),
            ));
        }
        if !SUPPORTED_MAJOR_VERSIONS.contains(&h.sql_major_version()) {
            findings.push(Finding::warning(
                FindingCode::UnsupportedSourceVersion,
                Some(h.path.clone()),
                format!(
                    "{} was taken by SQL Server {} ({}); LRS documents support for SQL Server 2008 to 2022 only.",
                    name(h),
                    product_name(h.sql_major_version()),
                    h.software_version
                ),
                "Test the restore in rehearsal and on a non-production instance first, or upgrade the source server.",
            ));
        }
    }
    findings.extend(name_collisions(&headers));
    findings
}

/// Two files that would get the same name in the flat folder.
fn name_collisions(headers: &[&BackupHeader]) -> Vec<Finding> {
    let mut by_name: HashMap<String, &BackupHeader> = HashMap::new();
    let mut findings = Vec::new();
    for h in headers {
        let upload = upload_name(&h.path).to_ascii_lowercase();
        match by_name.get(&upload) {
            Some(other) if other.path != h.path => findings.push(Finding::error(
                FindingCode::FileNameCollision,
                Some(h.path.clone()),
                format!(
                    "{} and {} would both be named {} in the database's flat folder.",
                    h.path.display(),
                    other.path.display(),
                    upload_name(&h.path)
                ),
                "Rename one of them so that every file of the database has its own name.",
            )),
            _ => {
                by_name.insert(upload, h);
            }
        }
    }
    findings
}

/// Files in subfolders of the folder the user named.
pub(crate) fn nested_folder_rule(entries: &[Entry], folder: &str) -> Option<Finding> {
    let nested: Vec<&BackupHeader> = entries.iter().filter(|e| e.found.nested).map(|e| &e.header).collect();
    let first = nested.first()?;
    Some(Finding::warning(
        FindingCode::NestedFolder,
        Some(first.path.clone()),
        format!(
            "{} file(s) of this database sit in subfolders ({}); LRS reads one flat folder per database and does not \
             look into nested folders.",
            nested.len(),
            list_names(&nested)
        ),
        format!("Nothing to do: the upload puts every file flat into the folder '{folder}'."),
    ))
}

/// The container and the database folder must not contain the reserved keyword.
pub(crate) fn reserved_keyword_rule(folder: &str, container: Option<&str>) -> Vec<Finding> {
    let mut findings = Vec::new();
    if has_reserved_keyword(folder) {
        // The folder is only proposed here (from the database name) and is chosen at upload, so this
        // is a warning; the container is the user's choice, so it is an error.
        findings.push(Finding::warning(
            FindingCode::ReservedKeywordInName,
            None,
            format!("The proposed folder name '{folder}' contains 'backup', a keyword LRS reserves: LRS would refuse that path."),
            "Choose a folder name without 'backup' or 'backups' when you upload (for example the database name with a suffix such as '-lrs').",
        ));
    }
    if let Some(container) = container.filter(|c| has_reserved_keyword(c)) {
        findings.push(Finding::error(
            FindingCode::ReservedKeywordInName,
            None,
            format!("The container name '{container}' contains 'backup', a keyword LRS reserves: LRS would refuse the path."),
            "Use a container whose name has neither 'backup' nor 'backups'.",
        ));
    }
    findings
}

/// True when `chosen` names this backup's file, as it is on disk or as it will be uploaded.
pub(crate) fn is_named(h: &BackupHeader, chosen: &str) -> bool {
    upload_name(&h.path).eq_ignore_ascii_case(chosen) || name(h).eq_ignore_ascii_case(chosen)
}

/// Autocomplete: the chosen last backup must be in the sequence, and no backup may follow it: LRS
/// fails on any later file in the folder, in the sequence or not.
pub(crate) fn last_backup_rule(sequence: &[&Entry], entries: &[Entry], chosen: &str) -> Option<Finding> {
    let position = sequence.iter().position(|e| is_named(&e.header, chosen));
    let last = sequence.last().map(|e| upload_name(&e.header.path)).unwrap_or_default();
    match position {
        None => Some(Finding::error(
            FindingCode::LastBackupNotInSequence,
            None,
            format!("The last backup you chose, '{chosen}', is not in this database's restore sequence."),
            if last.is_empty() {
                "Fix the other errors first; there is no restore sequence yet.".to_string()
            } else {
                format!("Choose a file of the sequence; the last one is '{last}'.")
            },
        )),
        Some(at) => {
            let chosen_header = &sequence.get(at)?.header;
            let in_sequence: HashSet<&Path> = sequence.iter().map(|e| e.header.path.as_path()).collect();
            let mut after: Vec<&BackupHeader> =
                sequence.get(at + 1..).unwrap_or(&[]).iter().map(|e| &e.header).collect();
            let later_elsewhere: Vec<&BackupHeader> = entries
                .iter()
                .map(|e| &e.header)
                .filter(|h| h.backup_start > chosen_header.backup_start && !in_sequence.contains(h.path.as_path()))
                .collect();
            after.extend(later_elsewhere);
            if after.is_empty() {
                return None;
            }
            Some(Finding::error(
                FindingCode::FilesAfterLastBackup,
                after.first().map(|h| h.path.clone()),
                format!(
                    "{} backup(s) come after '{chosen}', the last backup you chose ({}). In autocomplete mode LRS fails when \
                     it finds backups beyond the last one.",
                    after.len(),
                    list_names(&after)
                ),
                format!("Choose '{last}' as the last backup, or leave the later files out of the upload."),
            ))
        }
    }
}

fn extension_of(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

fn suggested_extension(h: &BackupHeader) -> &'static str {
    match h.kind {
        super::header::BackupKind::Log => ".log",
        super::header::BackupKind::Diff => ".diff or .bak",
        _ => ".bak",
    }
}

fn product_name(major: u8) -> String {
    match major {
        8 => "2000".into(),
        9 => "2005".into(),
        10 => "2008".into(),
        11 => "2012".into(),
        12 => "2014".into(),
        13 => "2016".into(),
        14 => "2017".into(),
        15 => "2019".into(),
        16 => "2022".into(),
        17 => "2025".into(),
        other => format!("version {other}"),
    }
}

pub(crate) fn list_names(headers: &[&BackupHeader]) -> String {
    let names: Vec<String> = headers.iter().map(|h| name(h)).collect();
    list_strings(&names.iter().map(String::as_str).collect::<Vec<_>>())
}

/// The first few of `items`, then "and N more".
pub(crate) fn list_strings(items: &[&str]) -> String {
    let mut listed: Vec<String> = items.iter().take(NAMES_LISTED).map(|s| (*s).to_string()).collect();
    if items.len() > NAMES_LISTED {
        listed.push(format!("and {} more", items.len() - NAMES_LISTED));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trn_becomes_log_and_other_names_stay() {
        assert_eq!(upload_name(Path::new("/x/db_LOG_1.trn")), "db_LOG_1.log");
        assert_eq!(upload_name(Path::new("/x/db_LOG_1.TRN")), "db_LOG_1.log");
        assert_eq!(upload_name(Path::new("/x/full.bak")), "full.bak");
        assert_eq!(upload_name(Path::new("/x/noext")), "noext");
    }

    #[test]
    fn reserved_keyword_in_any_case() {
        assert!(has_reserved_keyword("SalesBackups"));
        assert!(has_reserved_keyword("BACKUP"));
        assert!(!has_reserved_keyword("sales-lrs"));
    }
}
