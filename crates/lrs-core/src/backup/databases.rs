//! Groups the inspected backup sets by database and assembles each database's report: its plan,
//! the rule checks, and the findings that span databases (several databases in one folder).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::discover::FoundFile;
use super::finding::{Finding, FindingCode};
use super::header::{BackupHeader, BackupKind};
use super::plan::{plan_chain, Entry};
use super::reader::FileRead;
use super::report::{DatabaseReport, FileReport, FileRole, UnreadableFile};
use super::rules::{self, upload_name};
use super::InspectOptions;

/// A database is its name (without case, as SQL Server compares names with its default
/// collations) and its family GUID, which stays the same across servers (log backups taken on an
/// availability group secondary) and changes when a database is created again under the same
/// name. A file without that GUID falls back on the server that took it.
type DatabaseKey = (String, String);

fn database_key(header: &BackupHeader) -> DatabaseKey {
    let identity = if header.family_guid.is_nil() {
        format!("server:{}", header.server.to_lowercase())
    } else {
        header.family_guid.to_string()
    };
    (header.database_name.to_lowercase(), identity)
}

pub(crate) fn plan_databases(
    reads: Vec<(FoundFile, FileRead)>,
    unreadable: &[UnreadableFile],
    options: &InspectOptions,
) -> Vec<DatabaseReport> {
    let mut groups: BTreeMap<DatabaseKey, Vec<Entry>> = BTreeMap::new();
    let mut folders: BTreeMap<PathBuf, BTreeSet<DatabaseKey>> = BTreeMap::new();
    let mut display: HashMap<DatabaseKey, String> = HashMap::new();
    for (found, read) in reads {
        let sets_in_file = read.sets.len();
        for header in read.sets {
            let key = database_key(&header);
            display.entry(key.clone()).or_insert_with(|| header.database_name.clone());
            folders.entry(found.dir.clone()).or_default().insert(key.clone());
            groups.entry(key).or_default().push(Entry {
                found: found.clone(),
                header,
                sets_in_file,
                truncation: read.truncation.clone(),
            });
        }
    }
    let mut name_counts: HashMap<String, usize> = HashMap::new();
    for entries in groups.values() {
        if let Some(first) = entries.first() {
            *name_counts.entry(first.header.database_name.to_lowercase()).or_default() += 1;
        }
    }
    let last_backup_owners = last_backup_owners(&groups, options.last_backup_name.as_deref());
    let mut reports = Vec::with_capacity(groups.len());
    for (key, entries) in groups {
        let Some(first) = entries.first() else { continue };
        let name = first.header.database_name.clone();
        let shared_name = name_counts.get(&name.to_lowercase()).copied().unwrap_or(0) > 1;
        let folder = folder_name(&name, shared_name.then(|| key.1.get(..8).unwrap_or(&key.1).to_string()));
        // The chosen last backup is checked in the database that has a file of that name; when
        // none has, every database is told.
        let last_backup = options
            .last_backup_name
            .as_deref()
            .filter(|_| last_backup_owners.is_empty() || last_backup_owners.contains(&key));
        let mut report = database_report(name, folder, &entries, options.container.as_deref(), last_backup);
        report.findings.extend(shared_folder_findings(&key, &entries, &folders, &display));
        mention_unreadable_fulls(&mut report, &entries, unreadable);
        report.findings.sort_by_key(|f| f.severity);
        report.restorable = report.restorable && !report.has_errors();
        reports.push(report);
    }
    reports
}

fn database_report(
    name: String,
    folder: String,
    entries: &[Entry],
    container: Option<&str>,
    last_backup: Option<&str>,
) -> DatabaseReport {
    let plan = plan_chain(entries);
    let sequence: Vec<&Entry> = plan.sequence.iter().filter_map(|i| entries.get(*i)).collect();
    let mut findings = plan.findings;
    findings.extend(rules::sequence_rules(&sequence));
    findings.extend(rules::nested_folder_rule(entries, &folder));
    findings.extend(rules::reserved_keyword_rule(&folder, container));
    if let Some(chosen) = last_backup {
        findings.extend(rules::last_backup_rule(&sequence, entries, chosen));
    }
    findings.extend(not_needed_finding(entries, &plan.roles));
    if let Some(last) = sequence.last().filter(|e| e.header.kind != BackupKind::Log) {
        findings.push(Finding::info(
            FindingCode::LastBackupIsNotLog,
            Some(last.header.path.clone()),
            format!(
                "The restore sequence ends with the {} backup {}: in autocomplete mode the database is restored to the \
                 moment that backup was taken; in continuous mode, log backups taken after it can still be added.",
                last.header.kind,
                upload_name(&last.header.path)
            ),
        ));
    }
    let mut order: Vec<usize> = plan.sequence.clone();
    let mut in_sequence = vec![false; entries.len()];
    for i in &plan.sequence {
        if let Some(flag) = in_sequence.get_mut(*i) {
            *flag = true;
        }
    }
    let mut rest: Vec<usize> = (0..entries.len()).filter(|i| !in_sequence[*i]).collect();
    rest.sort_by(|a, b| {
        let (ha, hb) = (&entries[*a].header, &entries[*b].header);
        (ha.backup_start, &ha.path, ha.position).cmp(&(hb.backup_start, &hb.path, hb.position))
    });
    order.extend(rest);
    let files = order
        .iter()
        .filter_map(|i| {
            let entry = entries.get(*i)?;
            Some(FileReport {
                header: entry.header.clone(),
                role: plan.roles.get(*i).copied().unwrap_or(FileRole::NotNeeded),
                upload_name: upload_name(&entry.header.path),
            })
        })
        .collect();
    DatabaseReport {
        name,
        folder,
        files,
        restore_sequence: sequence.iter().map(|e| e.header.path.clone()).collect(),
        last_backup_name: sequence.last().map(|e| upload_name(&e.header.path)),
        findings,
        restorable: plan.has_full,
    }
}

/// One finding that lists the valid backups the sequence does not need.
fn not_needed_finding(entries: &[Entry], roles: &[FileRole]) -> Option<Finding> {
    let unused: Vec<_> =
        entries.iter().zip(roles).filter(|(_, role)| **role == FileRole::NotNeeded).map(|(e, _)| &e.header).collect();
    let first = unused.first()?;
    Some(Finding::info(
        FindingCode::NotInRestoreSequence,
        Some(first.path.clone()),
        format!(
            "{} backup(s) are not needed to restore the latest state ({}): they are older than the chosen full or \
             differential backup, or superseded by a later one. LRS skips them; you may leave them out of the upload.",
            unused.len(),
            rules::list_names(&unused)
        ),
    ))
}

/// Warns each database whose files share a folder with another database's files.
fn shared_folder_findings(
    key: &DatabaseKey,
    entries: &[Entry],
    folders: &BTreeMap<PathBuf, BTreeSet<DatabaseKey>>,
    display: &HashMap<DatabaseKey, String>,
) -> Vec<Finding> {
    let dirs: BTreeSet<&PathBuf> = entries.iter().map(|e| &e.found.dir).collect();
    dirs.into_iter()
        .filter_map(|dir| {
            let others: Vec<&str> = folders
                .get(dir)?
                .iter()
                .filter(|k| *k != key)
                .map(|k| display.get(k).map_or(k.0.as_str(), String::as_str))
                .collect();
            if others.is_empty() {
                return None;
            }
            Some(Finding::warning(
                FindingCode::MultipleDatabasesInFolder,
                None,
                format!(
                    "The folder {} also holds backups of {} other database(s) ({}); LRS needs a folder per database and \
                     fails when one folder mixes databases.",
                    dir.display(),
                    others.len(),
                    rules::list_strings(&others)
                ),
                "Nothing to do if you upload with this tool: it gives each database its own folder. Keep them apart if \
                 you upload by other means.",
            ))
        })
        .collect()
}

/// The databases that own a file named like the chosen last backup.
fn last_backup_owners(groups: &BTreeMap<DatabaseKey, Vec<Entry>>, chosen: Option<&str>) -> BTreeSet<DatabaseKey> {
    let Some(chosen) = chosen else { return BTreeSet::new() };
    groups
        .iter()
        .filter(|(_, entries)| entries.iter().any(|e| rules::is_named(&e.header, chosen)))
        .map(|(key, _)| key.clone())
        .collect()
}

/// A database with no full backup whose folder holds compressed or encrypted files that could not
/// be read: the full backup may be among them, so the finding says so.
fn mention_unreadable_fulls(report: &mut DatabaseReport, entries: &[Entry], unreadable: &[UnreadableFile]) {
    let dirs: BTreeSet<&Path> = entries.iter().map(|e| e.found.dir.as_path()).collect();
    let compressed: Vec<String> = unreadable
        .iter()
        .filter(|u| u.code == FindingCode::CompressedOrEncryptedUnreadable)
        .filter(|u| u.path.parent().is_some_and(|p| dirs.contains(p)))
        .map(|u| u.path.file_name().map_or_else(|| u.path.display().to_string(), |n| n.to_string_lossy().into_owned()))
        .collect();
    if compressed.is_empty() {
        return;
    }
    for finding in report.findings.iter_mut().filter(|f| f.code == FindingCode::NoFullBackup) {
        let names: Vec<&str> = compressed.iter().map(String::as_str).collect();
        *finding = Finding::error(
            FindingCode::NoFullBackup,
            finding.file.clone(),
            format!(
                "{} The folder also holds compressed or encrypted backups that cannot be checked here ({}); the full \
                 backup may be among them.",
                finding.problem,
                rules::list_strings(&names)
            ),
            "Take the full backup again without COMPRESSION to have the chain checked, or upload knowing it was not.",
        );
    }
}

/// The folder proposed for a database in the container: its name, plus a short identifier when
/// two databases share a name. Slashes would nest folders, so they become dashes.
fn folder_name(database: &str, disambiguator: Option<String>) -> String {
    let base = match disambiguator {
        Some(suffix) => format!("{database}-{suffix}"),
        None => database.to_string(),
    };
    base.chars().map(|c| if matches!(c, '/' | '\\') { '-' } else { c }).collect()
}
