//! Groups the inspected backup sets by database and assembles each database's report: its plan,
//! the rule checks, and the findings that span databases (several databases in one folder).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use super::discover::FoundFile;
use super::finding::{Finding, FindingCode};
use super::header::BackupKind;
use super::plan::{plan_chain, Entry};
use super::reader::FileRead;
use super::report::{DatabaseReport, FileReport, FileRole};
use super::rules::{self, upload_name};
use super::InspectOptions;

/// A database is its name and the server that backed it up (both compared without case, as SQL
/// Server does with its default collations).
type DatabaseKey = (String, String);

pub(crate) fn plan_databases(reads: Vec<(FoundFile, FileRead)>, options: &InspectOptions) -> Vec<DatabaseReport> {
    let mut groups: BTreeMap<DatabaseKey, Vec<Entry>> = BTreeMap::new();
    let mut folders: BTreeMap<PathBuf, BTreeSet<DatabaseKey>> = BTreeMap::new();
    for (found, read) in reads {
        let sets_in_file = read.sets.len();
        for header in read.sets {
            let key = (header.database_name.to_lowercase(), header.server.to_lowercase());
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
    let mut reports = Vec::with_capacity(groups.len());
    for (key, entries) in groups {
        let Some(first) = entries.first() else { continue };
        let name = first.header.database_name.clone();
        let shared_name = name_counts.get(&name.to_lowercase()).copied().unwrap_or(0) > 1;
        let folder = folder_name(&name, shared_name.then_some(first.header.server.as_str()));
        let mut report = database_report(name, folder, &entries, options);
        report.findings.extend(shared_folder_findings(&key, &entries, &folders));
        report.findings.sort_by_key(|f| f.severity);
        report.restorable = report.restorable && !report.has_errors();
        reports.push(report);
    }
    reports
}

fn database_report(name: String, folder: String, entries: &[Entry], options: &InspectOptions) -> DatabaseReport {
    let plan = plan_chain(entries);
    let sequence: Vec<&Entry> = plan.sequence.iter().filter_map(|i| entries.get(*i)).collect();
    let mut findings = plan.findings;
    findings.extend(rules::sequence_rules(&sequence));
    findings.extend(rules::nested_folder_rule(entries, &folder));
    findings.extend(rules::reserved_keyword_rule(&folder, options.container.as_deref()));
    if let Some(chosen) = options.last_backup_name.as_deref() {
        findings.extend(rules::last_backup_rule(&sequence, chosen));
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
) -> Vec<Finding> {
    let dirs: BTreeSet<&PathBuf> = entries.iter().map(|e| &e.found.dir).collect();
    dirs.into_iter()
        .filter_map(|dir| {
            let others: Vec<&str> = folders.get(dir)?.iter().filter(|k| *k != key).map(|k| k.0.as_str()).collect();
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
                    others.join(", ")
                ),
                "Nothing to do if you upload with this tool: it gives each database its own folder. Keep them apart if \
                 you upload by other means.",
            ))
        })
        .collect()
}

/// The folder proposed for a database in the container: its name, plus the server when two
/// databases share a name. Slashes would nest folders, so they become dashes.
fn folder_name(database: &str, server: Option<&str>) -> String {
    let base = match server {
        Some(server) => format!("{database}-{server}"),
        None => database.to_string(),
    };
    base.chars().map(|c| if matches!(c, '/' | '\\') { '-' } else { c }).collect()
}
