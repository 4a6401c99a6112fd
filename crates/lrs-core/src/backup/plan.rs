//! The restore-chain planner: for one database, which full backup (with all its stripes), which
//! differential and which log backups LRS will restore, in order — and why the others are left out.
//!
//! Rules from `reference/sql-backup-format.md` §5 (dbatools' `Test-DbaLsnChain` and its edge
//! cases): the latest complete full anchors the chain; the latest diff whose DatabaseBackupLSN is
//! that full's CheckpointLSN follows; then logs, the first with FirstLSN ≤ base LastLSN < LastLSN
//! (whatever its DatabaseBackupLSN: a log taken during the full counts), each next one starting
//! where the previous ended. Empty logs (FirstLSN == LastLSN) continue the chain.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use super::discover::FoundFile;
use super::finding::{Finding, FindingCode};
use super::header::{BackupHeader, BackupKind, Guid};
use super::lsn::Lsn;
use super::report::FileRole;

/// One backup set in one file, with what the reader learnt about the file.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub found: FoundFile,
    pub header: BackupHeader,
    /// Backup sets in the file this entry comes from.
    pub sets_in_file: usize,
    /// Set when the file's end is missing.
    pub truncation: Option<String>,
}

/// The planner's verdict for one database.
#[derive(Debug, Default)]
pub(crate) struct ChainPlan {
    /// Role of each entry, index-aligned with the input.
    pub roles: Vec<FileRole>,
    /// Entry indices in restore order.
    pub sequence: Vec<usize>,
    pub findings: Vec<Finding>,
    /// True when a complete full backup anchors the sequence.
    pub has_full: bool,
}

/// The entries of one backup set (its stripes) in one database.
#[derive(Debug)]
struct MediaSet {
    indices: Vec<usize>,
    complete: bool,
}

pub(crate) fn plan_chain(entries: &[Entry]) -> ChainPlan {
    let mut plan = ChainPlan { roles: vec![FileRole::NotNeeded; entries.len()], ..ChainPlan::default() };
    let usable = exclude_unusable(entries, &mut plan);
    let fulls = media_sets(entries, &usable, BackupKind::Full, &mut plan);
    let diffs = media_sets(entries, &usable, BackupKind::Diff, &mut plan);
    let logs = log_sets(entries, &usable);
    // Every complete full could anchor the restore (the latest may be COPY_ONLY, which a newer
    // diff does not build on): keep the chain that restores furthest, then the shortest, then the
    // one on the newest full.
    let best =
        fulls.iter().filter(|f| f.complete).map(|full| candidate(entries, full, &diffs, &logs)).max_by_key(|c| {
            let full = &entries[c.full.indices[0]].header;
            (c.logs.end, std::cmp::Reverse(c.len()), full.checkpoint_lsn, full.backup_start)
        });
    let Some(best) = best else {
        no_full(entries, &usable, &mut plan);
        return plan;
    };
    plan.has_full = true;
    assign(&mut plan, &best.full.indices, FileRole::Full);
    let base = match best.diff {
        Some(set) => {
            assign(&mut plan, &set.indices, FileRole::Diff);
            &entries[set.indices[0]].header
        }
        None => &entries[best.full.indices[0]].header,
    };
    for (set, role) in &best.logs.roles {
        assign(&mut plan, set, *role);
    }
    plan.findings.extend(best.logs.failure);
    report_orphan_diffs(entries, &fulls, &diffs, base, &mut plan);
    plan
}

/// A possible restore: a full, the latest diff based on it, and the logs that follow.
struct Candidate<'a> {
    full: &'a MediaSet,
    diff: Option<&'a MediaSet>,
    logs: LogChain,
}

impl Candidate<'_> {
    fn len(&self) -> usize {
        self.full.indices.len() + self.diff.map_or(0, |d| d.indices.len()) + self.logs.applied
    }
}

fn candidate<'a>(entries: &[Entry], full: &'a MediaSet, diffs: &'a [MediaSet], logs: &[Vec<usize>]) -> Candidate<'a> {
    let full_head = &entries[full.indices[0]].header;
    let diff = latest(entries, diffs, |set| {
        is_based_on(&entries[set.indices[0]].header, full_head.checkpoint_lsn, full_head.backup_set_guid)
    });
    let base = diff.map_or(full_head, |set| &entries[set.indices[0]].header);
    Candidate { full, diff, logs: chain_logs(entries, logs, base) }
}

/// Diffs newer than the chosen base whose full backup is not in the folder: a newer full is missing.
fn report_orphan_diffs(
    entries: &[Entry],
    fulls: &[MediaSet],
    diffs: &[MediaSet],
    base: &BackupHeader,
    plan: &mut ChainPlan,
) {
    for set in diffs.iter().filter(|s| s.complete) {
        let diff = &entries[set.indices[0]].header;
        let base_present = fulls.iter().any(|f| {
            let full = &entries[f.indices[0]].header;
            is_based_on(diff, full.checkpoint_lsn, full.backup_set_guid)
        });
        if !base_present && diff.checkpoint_lsn > base.checkpoint_lsn {
            plan.findings.push(diff_based_on_other_full(diff, base));
            assign(plan, &set.indices, FileRole::Unusable);
        }
    }
}

/// Marks files that LRS cannot use whatever the chain: several sets, truncated, password, other kinds.
fn exclude_unusable(entries: &[Entry], plan: &mut ChainPlan) -> Vec<bool> {
    let mut usable = vec![true; entries.len()];
    let mut seen_copies: HashMap<(Guid, u16), usize> = HashMap::new();
    let mut files_reported: HashSet<&Path> = HashSet::new();
    for (i, entry) in entries.iter().enumerate() {
        let h = &entry.header;
        let file = Some(h.path.clone());
        let first_set_of_file = files_reported.insert(h.path.as_path());
        let reason = if entry.sets_in_file > 1 {
            first_set_of_file.then(|| Finding::error(
                FindingCode::MultipleBackupSets,
                file,
                format!("{} holds {} backup sets (appended WITH NOINIT); LRS needs one backup per file.", name(h), entry.sets_in_file),
                "Take each backup into its own file (WITH INIT or FORMAT), or restore this file on a SQL Server and back up again.",
            ))
        } else if let Some(detail) = &entry.truncation {
            Some(Finding::error(
                FindingCode::TruncatedFile,
                file,
                format!("{} is truncated: {detail}.", name(h)),
                "The backup or the copy was interrupted: copy the file again from the server that took it.",
            ))
        } else if h.password_protected {
            Some(Finding::error(
                FindingCode::PasswordProtectedMedia,
                file,
                format!("{} was written WITH MEDIAPASSWORD; LRS cannot supply a media password.", name(h)),
                "Take the backup again without MEDIAPASSWORD (use backup encryption with a certificate instead).",
            ))
        } else if h.kind == BackupKind::Other {
            Some(Finding::warning(
                FindingCode::UnsupportedBackupKind,
                file,
                format!(
                    "{} is a file, filegroup or partial backup; LRS restores only full, differential and log backups.",
                    name(h)
                ),
                "Leave it out of the upload; take a full database backup instead.",
            ))
        } else {
            None
        };
        if entry.sets_in_file > 1 || entry.truncation.is_some() || h.password_protected || h.kind == BackupKind::Other {
            usable[i] = false;
            plan.roles[i] = FileRole::Unusable;
            plan.findings.extend(reason);
            continue;
        }
        if h.backup_set_guid.is_nil() {
            continue;
        }
        if let Some(first) = seen_copies.insert((h.backup_set_guid, h.family_sequence), i) {
            usable[i] = false;
            seen_copies.insert((h.backup_set_guid, h.family_sequence), first);
            plan.findings.push(Finding::warning(
                FindingCode::DuplicateBackup,
                Some(h.path.clone()),
                format!("{} is a copy of {} (same backup set and stripe).", name(h), name(&entries[first].header)),
                "Keep one of them in the folder: LRS would see the same backup twice.",
            ));
        }
    }
    usable
}

/// Groups the usable entries of one kind by backup set and checks that every stripe is present.
fn media_sets(entries: &[Entry], usable: &[bool], kind: BackupKind, plan: &mut ChainPlan) -> Vec<MediaSet> {
    let mut sets = Vec::new();
    for mut indices in group_by_set(entries, usable, kind) {
        indices.sort_by_key(|i| entries[*i].header.family_sequence);
        let head = &entries[indices[0]].header;
        let count = head.family_count;
        let present: Vec<u16> = indices.iter().map(|i| entries[*i].header.family_sequence).collect();
        let complete = (1..=count).all(|seq| present.contains(&seq));
        if !complete {
            // SQL Server writes at most 64 stripes; a damaged header may claim more, so list a few.
            let mut missing: Vec<String> =
                (1..=count).filter(|s| !present.contains(s)).take(8).map(|s| s.to_string()).collect();
            if usize::from(count).saturating_sub(present.len()) > missing.len() {
                missing.push("…".into());
            }
            plan.findings.push(Finding::error(
                FindingCode::IncompleteStripeSet,
                Some(head.path.clone()),
                format!(
                    "The {} backup taken {} is striped over {count} files, but stripe {} of {count} is missing (only {} is here).",
                    head.kind,
                    head.backup_start,
                    missing.join(", "),
                    indices.iter().map(|i| name(&entries[*i].header)).collect::<Vec<_>>().join(", "),
                ),
                "Copy every stripe of that backup into the folder (they share one backup set GUID), or remove these files.",
            ));
            assign(plan, &indices, FileRole::Unusable);
        }
        sets.push(MediaSet { indices, complete });
    }
    sets
}

/// The latest complete set that passes `accept`, by CheckpointLSN, then LastLSN, then start time.
fn latest<'a>(entries: &[Entry], sets: &'a [MediaSet], accept: impl Fn(&MediaSet) -> bool) -> Option<&'a MediaSet> {
    sets.iter().filter(|s| s.complete && accept(s)).max_by_key(|s| {
        let h = &entries[s.indices[0]].header;
        (h.checkpoint_lsn, h.last_lsn, h.backup_start)
    })
}

fn is_based_on(diff: &BackupHeader, full_checkpoint: Lsn, full_guid: Guid) -> bool {
    diff.database_backup_lsn == full_checkpoint
        && (diff.differential_base_guid.is_nil() || diff.differential_base_guid == full_guid)
}

fn diff_based_on_other_full(diff: &BackupHeader, base: &BackupHeader) -> Finding {
    Finding::error(
        FindingCode::DiffBasedOnOtherFull,
        Some(diff.path.clone()),
        format!(
            "The differential backup {} is newer than {}, where the restore would start from, but it is based on a \
             full backup that is not in this folder (DatabaseBackupLSN {}, base backup set {}): a newer full backup \
             is missing.",
            name(diff),
            name(base),
            diff.database_backup_lsn,
            diff.differential_base_guid,
        ),
        "Add the full backup this differential is based on, or remove the differential from the folder.",
    )
}

fn no_full(entries: &[Entry], usable: &[bool], plan: &mut ChainPlan) {
    let file = entries.iter().find(|e| e.header.kind != BackupKind::Full).map(|e| e.header.path.clone());
    plan.findings.push(Finding::error(
        FindingCode::NoFullBackup,
        file,
        "There is no complete full backup of this database here, so LRS has nothing to start the restore from.",
        "Add the latest full backup (all its stripes) to the folder.",
    ));
    for (i, ok) in usable.iter().enumerate() {
        if *ok && plan.roles[i] == FileRole::NotNeeded {
            plan.roles[i] = FileRole::Unusable;
        }
    }
}

/// The log backups after a base, up to the first gap or striped log.
#[derive(Debug, Default)]
struct LogChain {
    /// Each log set with its role.
    roles: Vec<(Vec<usize>, FileRole)>,
    /// The LSN the restore reaches.
    end: Lsn,
    /// Log sets restored.
    applied: usize,
    /// Why the chain stops early, if it does.
    failure: Option<Finding>,
}

/// Chains `logs` (sorted by FirstLSN) after `base`, stopping at the first gap or striped log.
fn chain_logs(entries: &[Entry], logs: &[Vec<usize>], base: &BackupHeader) -> LogChain {
    let mut chain = LogChain { end: base.last_lsn, ..LogChain::default() };
    let mut previous = base;
    for set in logs {
        let h = &entries[set[0]].header;
        let expected = chain.end;
        let role = if chain.failure.is_some() {
            FileRole::Unusable
        } else if h.last_lsn < expected || (h.last_lsn == expected && !(chain.applied > 0 && h.first_lsn == expected)) {
            FileRole::NotNeeded
        } else if h.first_lsn > expected {
            chain.failure = Some(log_chain_gap(previous, h, expected));
            FileRole::Unusable
        } else if h.family_count > 1 {
            chain.failure = Some(striped_log(h));
            FileRole::Unusable
        } else {
            chain.end = h.last_lsn;
            chain.applied += 1;
            previous = h;
            FileRole::Log
        };
        chain.roles.push((set.clone(), role));
    }
    chain
}

/// The usable log backups grouped by backup set (a striped log is one set of several files).
fn log_sets(entries: &[Entry], usable: &[bool]) -> Vec<Vec<usize>> {
    let mut sets = group_by_set(entries, usable, BackupKind::Log);
    sets.sort_by_key(|set| {
        let h = &entries[set[0]].header;
        (h.first_lsn, h.last_lsn, h.backup_start)
    });
    sets
}

/// Usable entries of one kind grouped by backup set. A nil BackupSetGUID is unknown, not shared:
/// such a file is a set of its own.
fn group_by_set(entries: &[Entry], usable: &[bool], kind: BackupKind) -> Vec<Vec<usize>> {
    let mut by_guid: BTreeMap<Guid, Vec<usize>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if usable[i] && e.header.kind == kind {
            if e.header.backup_set_guid.is_nil() {
                unknown.push(vec![i]);
            } else {
                by_guid.entry(e.header.backup_set_guid).or_default().push(i);
            }
        }
    }
    by_guid.into_values().chain(unknown).collect()
}

fn log_chain_gap(previous: &BackupHeader, next: &BackupHeader, expected: Lsn) -> Finding {
    Finding::error(
        FindingCode::LogChainGap,
        Some(next.path.clone()),
        format!(
            "Log backups are missing between {} and {}: no log backup covers LSN {} up to {}. LRS would stop the \
             restore at {}.",
            name(previous),
            name(next),
            expected,
            next.first_lsn,
            name(previous),
        ),
        format!(
            "Find the log backup(s) whose FirstLSN is {expected} (taken between {} and {}) and add them to the folder.",
            previous.backup_start, next.backup_start
        ),
    )
}

fn striped_log(h: &BackupHeader) -> Finding {
    Finding::error(
        FindingCode::StripedLogBackup,
        Some(h.path.clone()),
        format!(
            "The log backup {} is striped over {} files; LRS accepts only log backups written to a single file, so the \
             restore cannot go past it.",
            name(h),
            h.family_count
        ),
        "Take log backups to one file each (a single TO DISK clause) and replace this one and the ones after it.",
    )
}

fn assign(plan: &mut ChainPlan, indices: &[usize], role: FileRole) {
    for i in indices {
        if role.in_sequence() {
            plan.sequence.push(*i);
        }
        plan.roles[*i] = role;
    }
}

/// The file name of a header's file, for messages.
pub(crate) fn name(h: &BackupHeader) -> String {
    h.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| h.path.display().to_string())
}
