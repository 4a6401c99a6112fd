//! Every finding code, triggered by synthetic backups from `backup::writer` in a scratch folder,
//! with its severity and the facts its message must name. `every_code_is_triggered` checks that
//! no code in `FindingCode::ALL` is left without a scenario.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lrs_core::backup::writer::{striped, write_sets, SyntheticBackup};
use lrs_core::backup::{
    inspect, BackupKind, FileRole, Finding, FindingCode, InspectOptions, Inspection, Lsn, Severity, SoftwareVersion,
};
use tempfile::TempDir;

struct Scenario {
    dir: TempDir,
    options: InspectOptions,
}

impl Scenario {
    fn new() -> Self {
        Scenario { dir: tempfile::tempdir().unwrap(), options: InspectOptions::default() }
    }

    fn path(&self, rel: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }

    fn write(&self, rel: &str, backup: &SyntheticBackup) -> PathBuf {
        let path = self.path(rel);
        backup.write_to(&path).unwrap();
        path
    }

    fn inspect(&self) -> Inspection {
        inspect(&[self.dir.path().to_path_buf()], &self.options).unwrap()
    }
}

/// A full backup and `logs` log backups that chain after it.
fn chain(db: &str, logs: usize) -> (SyntheticBackup, Vec<SyntheticBackup>) {
    let full = SyntheticBackup::full(db);
    let mut out = Vec::new();
    let mut prev = full.clone();
    for _ in 0..logs {
        let log = SyntheticBackup::log_after(&prev);
        out.push(log.clone());
        prev = log;
    }
    (full, out)
}

fn all_findings(result: &Inspection) -> Vec<&Finding> {
    result.databases.iter().flat_map(|d| &d.findings).collect()
}

fn find(result: &Inspection, code: FindingCode) -> &Finding {
    all_findings(result)
        .into_iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:#?}", all_findings(result)))
}

fn file_name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

fn scenario_log_chain_gap() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 4);
    s.write("full.bak", &full);
    for (i, log) in logs.iter().enumerate() {
        if i != 1 {
            s.write(&format!("log{i}.log"), log);
        }
    }
    let result = s.inspect();
    let gap = find(&result, FindingCode::LogChainGap);
    assert_eq!(gap.severity, Severity::Error);
    // The missing range is log1's: from log0's LastLSN to log2's FirstLSN.
    assert!(gap.message.contains(&logs[0].last_lsn.to_string()), "{}", gap.message);
    assert!(gap.message.contains(&logs[2].first_lsn.to_string()), "{}", gap.message);
    assert_eq!(file_name(gap.file.as_ref().unwrap()), "log2.log");
    let db = &result.databases[0];
    assert_eq!(db.restore_sequence.len(), 2, "full and log0 only");
    assert!(!db.restorable);
    result
}

fn scenario_diff_based_on_other_full() -> Inspection {
    let s = Scenario::new();
    let (old_full, _) = chain("Sales", 0);
    // A newer full taken elsewhere (not in the folder), and a diff based on it.
    let mut newer_full = SyntheticBackup::diff_of(&old_full);
    newer_full.kind = BackupKind::Full;
    newer_full.backup_set_guid = lrs_core::backup::Guid([7; 16]);
    newer_full.database_backup_lsn = old_full.checkpoint_lsn;
    let diff = SyntheticBackup::diff_of(&newer_full);
    s.write("full.bak", &old_full);
    s.write("diff.diff", &diff);
    let result = s.inspect();
    let finding = find(&result, FindingCode::DiffBasedOnOtherFull);
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains(&newer_full.checkpoint_lsn.to_string()), "{}", finding.message);
    assert_eq!(result.databases[0].restore_sequence.len(), 1);
    result
}

fn scenario_no_full_backup() -> Inspection {
    let s = Scenario::new();
    let (_, logs) = chain("Sales", 2);
    s.write("log0.log", &logs[0]);
    s.write("log1.log", &logs[1]);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::NoFullBackup).severity, Severity::Error);
    assert!(result.databases[0].restore_sequence.is_empty());
    assert!(result.databases[0].files.iter().all(|f| f.role == FileRole::Unusable));
    result
}

fn scenario_incomplete_stripe_set() -> Inspection {
    let s = Scenario::new();
    let stripes = striped(&SyntheticBackup::full("Sales"), 3);
    s.write("full_1.bak", &stripes[0]);
    s.write("full_3.bak", &stripes[2]);
    let result = s.inspect();
    let finding = find(&result, FindingCode::IncompleteStripeSet);
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("stripe 2 of 3"), "{}", finding.message);
    result
}

fn scenario_complete_stripes_are_one_full() {
    let s = Scenario::new();
    let full = SyntheticBackup::full("Sales");
    for (i, stripe) in striped(&full, 3).iter().enumerate() {
        s.write(&format!("full_{}.bak", i + 1), stripe);
    }
    s.write("log.log", &SyntheticBackup::log_after(&full));
    let result = s.inspect();
    let db = &result.databases[0];
    assert_eq!(
        db.restore_sequence.iter().map(|p| file_name(p)).collect::<Vec<_>>(),
        ["full_1.bak", "full_2.bak", "full_3.bak", "log.log"]
    );
    assert!(result.is_clean(), "{:#?}", db.findings);
}

fn scenario_striped_log_backup() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 1);
    s.write("full.bak", &full);
    for (i, stripe) in striped(&logs[0], 2).iter().enumerate() {
        s.write(&format!("log_{}.log", i + 1), stripe);
    }
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::StripedLogBackup).severity, Severity::Error);
    result
}

fn scenario_multiple_databases_in_folder() -> Inspection {
    let s = Scenario::new();
    s.write("sales.bak", &SyntheticBackup::full("Sales"));
    s.write("hr.bak", &SyntheticBackup::full("HR"));
    let result = s.inspect();
    assert_eq!(result.databases.len(), 2);
    for db in &result.databases {
        let f = db.findings.iter().find(|f| f.code == FindingCode::MultipleDatabasesInFolder).unwrap();
        assert_eq!(f.severity, Severity::Warning);
    }
    result
}

fn scenario_multiple_backup_sets() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 1);
    let mut second = logs[0].clone();
    second.media_set_id = full.media_set_id;
    write_sets(&s.path("appended.bak"), &[full, second]).unwrap();
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::MultipleBackupSets).severity, Severity::Error);
    let files = &result.databases[0].files;
    assert_eq!(files.len(), 2, "both sets are listed");
    assert_eq!(files.iter().map(|f| f.header.position).collect::<BTreeSet<_>>(), BTreeSet::from([1, 2]));
    result
}

fn scenario_truncated_file() -> Inspection {
    let s = Scenario::new();
    let full = SyntheticBackup::full("Sales");
    let path = s.write("full.bak", &full);
    // Cut the file inside its data: the trailer is gone, the head copy remains.
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len / 2).unwrap();
    // And a file cut before its SQL header is unreadable as truncated.
    let cut = s.write("log.log", &SyntheticBackup::log_after(&full));
    std::fs::OpenOptions::new().write(true).open(&cut).unwrap().set_len(3000).unwrap();
    let result = s.inspect();
    let finding = find(&result, FindingCode::TruncatedFile);
    assert_eq!(finding.severity, Severity::Error);
    let header = &result.databases[0].files[0].header;
    assert_eq!(header.header_source, lrs_core::backup::HeaderSource::Head);
    assert_eq!(result.unreadable.len(), 1);
    assert_eq!(result.unreadable[0].code, FindingCode::TruncatedFile);
    result
}

fn scenario_not_a_backup_file() -> Inspection {
    let s = Scenario::new();
    s.write("full.bak", &SyntheticBackup::full("Sales"));
    std::fs::write(s.path("readme.txt"), "not a backup").unwrap();
    let result = s.inspect();
    assert_eq!(result.unreadable[0].code, FindingCode::NotABackupFile);
    assert!(result.unreadable[0].reason.contains("readme.txt"));
    assert!(!result.is_clean());
    result
}

fn scenario_compressed() -> Inspection {
    let s = Scenario::new();
    let mut bytes = b"MSSQLBAK".to_vec();
    bytes.extend_from_slice(&[0u8; 4096]);
    std::fs::write(s.path("compressed.bak"), bytes).unwrap();
    let result = s.inspect();
    assert_eq!(result.unreadable[0].code, FindingCode::CompressedOrEncryptedUnreadable);
    assert!(result.unreadable[0].reason.contains("compressed or encrypted"));
    result
}

fn scenario_no_checksum() -> Inspection {
    let s = Scenario::new();
    let mut full = SyntheticBackup::full("Sales");
    full.has_checksum = false;
    s.write("full.bak", &full);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::NoChecksum).severity, Severity::Warning);
    assert!(result.is_clean(), "a warning does not block");
    result
}

fn scenario_extensions() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 2);
    s.write("full.bak", &full);
    s.write("log0.trn", &logs[0]);
    s.write("log1.bkp", &logs[1]);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::ExtensionRenamed).severity, Severity::Warning);
    let not_accepted = find(&result, FindingCode::ExtensionNotAccepted);
    assert_eq!(not_accepted.severity, Severity::Error);
    assert!(not_accepted.message.contains(".bkp") && not_accepted.fix.contains(".log"), "{}", not_accepted.message);
    let db = &result.databases[0];
    assert_eq!(db.files.iter().find(|f| file_name(&f.header.path) == "log0.trn").unwrap().upload_name, "log0.log");
    result
}

fn scenario_nested_and_collision() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 2);
    s.write("FULL/sales.bak", &full);
    s.write("LOG/a/sales_log.trn", &logs[0]);
    s.write("LOG/b/sales_log.log", &logs[1]);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::NestedFolder).severity, Severity::Warning);
    let collision = find(&result, FindingCode::FileNameCollision);
    assert_eq!(collision.severity, Severity::Error);
    assert!(collision.message.contains("sales_log.log"), "{}", collision.message);
    result
}

fn scenario_reserved_keyword() -> Inspection {
    let mut s = Scenario::new();
    s.write("full.bak", &SyntheticBackup::full("NightlyBackup"));
    s.options.container = Some("sql-backups".into());
    let result = s.inspect();
    let findings: Vec<_> =
        all_findings(&result).into_iter().filter(|f| f.code == FindingCode::ReservedKeywordInName).collect();
    assert_eq!(findings.len(), 2);
    assert!(findings.iter().any(|f| f.severity == Severity::Error && f.message.contains("sql-backups")));
    assert!(findings.iter().any(|f| f.severity == Severity::Warning && f.message.contains("NightlyBackup")));
    result
}

fn scenario_unsupported_version() -> Inspection {
    let s = Scenario::new();
    let mut full = SyntheticBackup::full("Sales");
    full.software_version = SoftwareVersion { major: 9, minor: 0, build: 5000 };
    s.write("full.bak", &full);
    let result = s.inspect();
    let finding = find(&result, FindingCode::UnsupportedSourceVersion);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.message.contains("2005"), "{}", finding.message);
    result
}

fn scenario_last_backup() -> Inspection {
    let mut s = Scenario::new();
    let (full, logs) = chain("Sales", 3);
    s.write("full.bak", &full);
    for (i, log) in logs.iter().enumerate() {
        s.write(&format!("log{i}.trn"), log);
    }
    s.options.last_backup_name = Some("log1.log".into());
    let result = s.inspect();
    let after = find(&result, FindingCode::FilesAfterLastBackup);
    assert_eq!(after.severity, Severity::Error);
    assert!(after.message.contains("log2.trn") && after.fix.contains("log2.log"), "{}", after.message);
    s.options.last_backup_name = Some("log2.log".into());
    assert!(s.inspect().is_clean());
    s.options.last_backup_name = Some("nope.log".into());
    let missing = s.inspect();
    assert_eq!(find(&missing, FindingCode::LastBackupNotInSequence).severity, Severity::Error);
    let mut both = result;
    both.databases.extend(missing.databases);
    both
}

fn scenario_password() -> Inspection {
    let s = Scenario::new();
    let mut full = SyntheticBackup::full("Sales");
    full.password_protected = true;
    s.write("full.bak", &full);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::PasswordProtectedMedia).severity, Severity::Error);
    result
}

fn scenario_duplicate() -> Inspection {
    let s = Scenario::new();
    let full = SyntheticBackup::full("Sales");
    s.write("full.bak", &full);
    s.write("full copy.bak", &full);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::DuplicateBackup).severity, Severity::Warning);
    assert_eq!(result.databases[0].restore_sequence.len(), 1);
    result
}

fn scenario_not_needed_and_last_not_log() -> Inspection {
    let s = Scenario::new();
    let (full, logs) = chain("Sales", 2);
    let diff = SyntheticBackup::diff_of(&full);
    s.write("full.bak", &full);
    s.write("log0.log", &logs[0]);
    s.write("diff.bak", &diff);
    let result = s.inspect();
    let db = &result.databases[0];
    assert_eq!(db.restore_sequence.iter().map(|p| file_name(p)).collect::<Vec<_>>(), ["full.bak", "diff.bak"]);
    assert_eq!(find(&result, FindingCode::NotInRestoreSequence).severity, Severity::Info);
    assert_eq!(find(&result, FindingCode::LastBackupIsNotLog).severity, Severity::Info);
    assert!(result.is_clean());
    result
}

fn scenario_unsupported_kind() -> Inspection {
    let s = Scenario::new();
    let full = SyntheticBackup::full("Sales");
    let mut file_backup = full.clone();
    file_backup.kind = BackupKind::Other;
    file_backup.backup_set_guid = lrs_core::backup::Guid([9; 16]);
    s.write("full.bak", &full);
    s.write("filegroup.bak", &file_backup);
    let result = s.inspect();
    assert_eq!(find(&result, FindingCode::UnsupportedBackupKind).severity, Severity::Warning);
    result
}

fn scenario_cannot_read_file() -> Inspection {
    let s = Scenario::new();
    s.write("full.bak", &SyntheticBackup::full("Sales"));
    std::os::unix::fs::symlink(s.dir.path().join("gone.bak"), s.path("broken-link.bak")).unwrap();
    let result = s.inspect();
    assert_eq!(result.databases.len(), 1, "the rest is still inspected");
    assert_eq!(result.unreadable.len(), 1);
    assert_eq!(result.unreadable[0].code, FindingCode::CannotReadFile);
    assert!(result.unreadable[0].reason.contains("broken-link.bak"), "{}", result.unreadable[0].reason);
    assert!(!result.is_clean());
    result
}

#[test]
fn cannot_read_file() {
    scenario_cannot_read_file();
}

#[test]
fn a_copy_only_full_does_not_hide_the_chain_of_the_previous_full() {
    // F1, then F2 (COPY_ONLY: no diff builds on it), then D1 based on F1, then logs after D1.
    let s = Scenario::new();
    let f1 = SyntheticBackup::full("Sales");
    let d1 = SyntheticBackup::diff_of(&f1);
    let mut f2 = SyntheticBackup::full("Sales");
    f2.backup_set_guid = lrs_core::backup::Guid([5; 16]);
    f2.first_lsn = Lsn::new(f1.last_lsn.vlf, f1.last_lsn.block + 100, 1);
    f2.checkpoint_lsn = f2.first_lsn;
    f2.last_lsn = Lsn::new(f2.first_lsn.vlf, f2.first_lsn.block + 50, 1);
    f2.database_backup_lsn = f1.checkpoint_lsn;
    assert!(f2.checkpoint_lsn < d1.checkpoint_lsn && f2.checkpoint_lsn > f1.checkpoint_lsn);
    let log = SyntheticBackup::log_after(&d1);
    s.write("f1.bak", &f1);
    s.write("f2_copy_only.bak", &f2);
    s.write("d1.bak", &d1);
    s.write("log.log", &log);
    let result = s.inspect();
    let db = &result.databases[0];
    assert_eq!(db.restore_sequence.iter().map(|p| file_name(p)).collect::<Vec<_>>(), ["f1.bak", "d1.bak", "log.log"]);
    assert!(result.is_clean(), "{:#?}", db.findings);
}

#[test]
fn one_database_across_servers_and_two_databases_with_one_name() {
    let s = Scenario::new();
    // An availability group: the full on one replica, the log on the other. Same family GUID.
    let full = SyntheticBackup::full("Sales");
    let mut log = SyntheticBackup::log_after(&full);
    log.server = "REPLICA02\\SQL2019".into();
    s.write("sales_full.bak", &full);
    s.write("sales_log.log", &log);
    // A database dropped and created again under another family GUID, elsewhere.
    let mut other = SyntheticBackup::full("Sales");
    other.family_guid = lrs_core::backup::Guid([3; 16]);
    other.backup_set_guid = lrs_core::backup::Guid([4; 16]);
    s.write("other/sales_full.bak", &other);
    let result = s.inspect();
    assert_eq!(result.databases.len(), 2, "{:#?}", result.databases.iter().map(|d| &d.folder).collect::<Vec<_>>());
    let folders: BTreeSet<&str> = result.databases.iter().map(|d| d.folder.as_str()).collect();
    assert_eq!(folders.len(), 2, "two databases named Sales get distinct folders: {folders:?}");
    assert!(folders.iter().all(|f| f.starts_with("Sales-")), "{folders:?}");
    let chain =
        result.databases.iter().find(|d| d.restore_sequence.len() == 2).expect("the AG database has full + log");
    assert!(!chain.findings.iter().any(|f| f.code == FindingCode::MultipleDatabasesInFolder));
}

#[test]
fn the_last_backup_is_checked_only_in_the_database_that_has_it() {
    let mut s = Scenario::new();
    let (full, logs) = chain("Sales", 2);
    s.write("sales/full.bak", &full);
    s.write("sales/sales_log1.log", &logs[0]);
    s.write("sales/sales_log2.log", &logs[1]);
    s.write("hr/hr_full.bak", &SyntheticBackup::full("HR"));
    s.options.last_backup_name = Some("sales_log2.log".into());
    let result = s.inspect();
    assert!(result.is_clean(), "{:#?}", all_findings(&result));
}

#[test]
fn autocomplete_counts_later_files_outside_the_sequence() {
    let mut s = Scenario::new();
    let (full, logs) = chain("Sales", 3);
    s.write("full.bak", &full);
    s.write("log0.log", &logs[0]);
    s.write("log2.log", &logs[2]); // after a gap: not in the sequence, but in the folder
    s.options.last_backup_name = Some("log0.log".into());
    let result = s.inspect();
    let after = find(&result, FindingCode::FilesAfterLastBackup);
    assert!(after.message.contains("log2.log"), "{}", after.message);
}

#[test]
fn no_full_backup_mentions_compressed_files_beside_it() {
    let s = Scenario::new();
    let (_, logs) = chain("Sales", 1);
    s.write("log0.trn", &logs[0]);
    let mut bytes = b"MSSQLBAK".to_vec();
    bytes.extend_from_slice(&[0u8; 1024]);
    std::fs::write(s.path("sales_full_compressed.bak"), bytes).unwrap();
    let result = s.inspect();
    let finding = find(&result, FindingCode::NoFullBackup);
    assert!(finding.message.contains("sales_full_compressed.bak"), "{}", finding.message);
}

#[test]
fn log_chain_gap_names_the_missing_range() {
    scenario_log_chain_gap();
}
#[test]
fn diff_based_on_another_full() {
    scenario_diff_based_on_other_full();
}
#[test]
fn no_full_backup() {
    scenario_no_full_backup();
}
#[test]
fn incomplete_stripe_set() {
    scenario_incomplete_stripe_set();
}
#[test]
fn complete_stripes_form_one_full() {
    scenario_complete_stripes_are_one_full();
}
#[test]
fn striped_log_backup() {
    scenario_striped_log_backup();
}
#[test]
fn multiple_databases_in_folder() {
    scenario_multiple_databases_in_folder();
}
#[test]
fn multiple_backup_sets() {
    scenario_multiple_backup_sets();
}
#[test]
fn truncated_file() {
    scenario_truncated_file();
}
#[test]
fn not_a_backup_file() {
    scenario_not_a_backup_file();
}
#[test]
fn compressed_or_encrypted() {
    scenario_compressed();
}
#[test]
fn no_checksum() {
    scenario_no_checksum();
}
#[test]
fn extensions() {
    scenario_extensions();
}
#[test]
fn nested_folder_and_name_collision() {
    scenario_nested_and_collision();
}
#[test]
fn reserved_keyword() {
    scenario_reserved_keyword();
}
#[test]
fn unsupported_source_version() {
    scenario_unsupported_version();
}
#[test]
fn autocomplete_last_backup() {
    scenario_last_backup();
}
#[test]
fn password_protected_media() {
    scenario_password();
}
#[test]
fn duplicate_backup() {
    scenario_duplicate();
}
#[test]
fn not_needed_and_last_backup_is_not_a_log() {
    scenario_not_needed_and_last_not_log();
}
#[test]
fn unsupported_backup_kind() {
    scenario_unsupported_kind();
}

#[test]
fn a_log_taken_during_the_full_is_kept() {
    // dbatools #7515: the log started before the full ended, so it carries the previous full's
    // DatabaseBackupLSN, yet it is the first log the chain needs.
    let s = Scenario::new();
    let full = SyntheticBackup::full("Sales");
    let mut log = SyntheticBackup::log_after(&full);
    log.first_lsn = Lsn::new(full.first_lsn.vlf, full.first_lsn.block - 10, 1);
    log.database_backup_lsn = Lsn::new(1, 1, 1);
    s.write("full.bak", &full);
    s.write("log.log", &log);
    let result = s.inspect();
    assert_eq!(result.databases[0].restore_sequence.len(), 2);
    assert!(result.is_clean(), "{:#?}", result.databases[0].findings);
}

#[test]
fn every_code_is_triggered() {
    let results = [
        scenario_log_chain_gap(),
        scenario_diff_based_on_other_full(),
        scenario_no_full_backup(),
        scenario_incomplete_stripe_set(),
        scenario_striped_log_backup(),
        scenario_multiple_databases_in_folder(),
        scenario_multiple_backup_sets(),
        scenario_truncated_file(),
        scenario_not_a_backup_file(),
        scenario_compressed(),
        scenario_no_checksum(),
        scenario_extensions(),
        scenario_nested_and_collision(),
        scenario_reserved_keyword(),
        scenario_unsupported_version(),
        scenario_last_backup(),
        scenario_password(),
        scenario_duplicate(),
        scenario_not_needed_and_last_not_log(),
        scenario_unsupported_kind(),
        scenario_cannot_read_file(),
    ];
    let mut seen = BTreeSet::new();
    for result in &results {
        seen.extend(all_findings(result).iter().map(|f| f.code));
        seen.extend(result.unreadable.iter().map(|u| u.code));
    }
    let missing: Vec<_> = FindingCode::ALL.iter().filter(|c| !seen.contains(c)).collect();
    assert!(missing.is_empty(), "finding codes with no scenario: {missing:?}");
}

#[test]
fn the_json_result_reads_back_identical() {
    let result = scenario_log_chain_gap();
    let json = serde_json::to_string(&result).unwrap();
    let back: Inspection = serde_json::from_str(&json).unwrap();
    assert_eq!(back, result);
    // LSNs, GUIDs, times and versions travel as the text RESTORE HEADERONLY shows.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let file = &value["databases"][0]["files"][0];
    assert!(file["first_lsn"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()));
    assert_eq!(file["backup_set_guid"].as_str().unwrap().len(), 36);
    assert_eq!(file["software_version"], "15.0.2000");
    let bad = json.replacen(&result.databases[0].files[0].header.first_lsn.to_string(), "25:62:170", 1);
    let err = serde_json::from_str::<Inspection>(&bad).unwrap_err().to_string();
    assert!(err.contains("'25:62:170' is not an LSN"), "{err}");
}
