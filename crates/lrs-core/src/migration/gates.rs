//! The cutover gate: a cutover is offered only when the database is ReadyForCutover, the last
//! local backup is shipped and is the last file LRS restored, nothing is pending or halted, the
//! backup the user names (preselected: the last one) is that file, and the name the user typed is
//! the database's. Pure: the runner gives it the record and a fresh scan of the folder.

use super::plan::Mode;
use super::shipping::Scan;
use super::state::DbRecord;
use super::status::DbStatus;

/// The part of the cutover gate that the database's record alone decides (the mode, a halt, the
/// status): checked before anything waits for the step under way, so a cutover of a database
/// still uploading is refused at once, not after its upload.
pub fn readiness_gate(record: &DbRecord, mode: Mode) -> Result<(), String> {
    let name = &record.name;
    if mode == Mode::Autocomplete {
        return Err(format!("{name} is migrated in autocomplete mode: LRS cuts over by itself after the last backup"));
    }
    if let Some(halt) = &record.halted {
        return Err(format!("{name}: shipping is halted: {halt}"));
    }
    if record.status != DbStatus::ReadyForCutover {
        return Err(format!(
            "{name} is {}, not ReadyForCutover: run `lrs migrate run` until the last backup is restored",
            record.status
        ));
    }
    Ok(())
}

/// The name of the last backup to complete with, or why the cutover is refused (what and what to do).
pub fn cutover_gate(
    record: &DbRecord,
    scan: &Scan,
    last_backup: Option<&str>,
    typed_name: &str,
    mode: Mode,
) -> Result<String, String> {
    let name = &record.name;
    readiness_gate(record, mode)?;
    if let Some(waiting) = &scan.waiting {
        return Err(format!("{name}: {waiting}; wait until it is complete, then run `lrs migrate run` to ship it"));
    }
    if !scan.to_ship.is_empty() {
        let names: Vec<&str> = scan.to_ship.iter().map(|f| f.name.as_str()).collect();
        return Err(format!(
            "{name}: {} not uploaded yet ({}): run `lrs migrate run` to ship and restore it first",
            if names.len() == 1 { "a backup is" } else { "backups are" },
            names.join(", ")
        ));
    }
    let Some(last_shipped) = record.last_shipped() else {
        return Err(format!("{name}: nothing was shipped"));
    };
    let last_restored = record.restore.as_ref().and_then(|r| r.last_restored_file.as_deref());
    if last_restored != Some(last_shipped) {
        return Err(format!(
            "{name}: the last backup shipped, '{last_shipped}', is not restored yet (last restored: {}): wait, then try again",
            last_restored.unwrap_or("none")
        ));
    }
    let chosen = last_backup.map(str::trim).filter(|l| !l.is_empty()).unwrap_or(last_shipped);
    if chosen != last_shipped {
        return Err(format!(
            "{name}: '{chosen}' is not the last backup; the last one shipped and restored is '{last_shipped}'. \
             Completing with an earlier backup would lose the transactions after it"
        ));
    }
    if typed_name.trim() != name {
        return Err(format!("the name typed ('{}') is not '{name}': nothing was done", typed_name.trim()));
    }
    Ok(chosen.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::shipping::LocalFile;
    use crate::migration::state::{RestoreSnapshot, ShippedFile};

    fn ready() -> (DbRecord, Scan) {
        let mut r = DbRecord::new("Sales");
        r.status = DbStatus::ReadyForCutover;
        for name in ["full.bak", "log1.log"] {
            r.shipped.push(ShippedFile { name: name.into(), size: 1, content_md5: String::new() });
        }
        r.restore = Some(RestoreSnapshot {
            polled_at: time::OffsetDateTime::UNIX_EPOCH,
            status: Some("Restoring".into()),
            last_restored_file: Some("log1.log".into()),
            current_restoring_file: None,
            percent_completed: None,
            block_reason: None,
            files_restored: None,
            files_detected: None,
        });
        let file = |n: &str| LocalFile { path: n.into(), name: n.into() };
        let scan = Scan {
            sequence: vec![file("full.bak"), file("log1.log")],
            to_ship: vec![],
            waiting: None,
            halt: None,
            errors: vec![],
        };
        (r, scan)
    }

    #[test]
    fn the_last_backup_is_preselected_and_the_name_must_be_typed() {
        let (r, scan) = ready();
        assert_eq!(cutover_gate(&r, &scan, None, "Sales", Mode::Continuous), Ok("log1.log".to_string()));
        let typo = cutover_gate(&r, &scan, None, "sales", Mode::Continuous).unwrap_err();
        assert!(typo.contains("nothing was done"), "{typo}");
        let earlier = cutover_gate(&r, &scan, Some("full.bak"), "Sales", Mode::Continuous).unwrap_err();
        assert!(earlier.contains("not the last backup"), "{earlier}");
    }

    #[test]
    fn each_gate_refuses_on_its_own() {
        let (r, scan) = ready();
        let mut restoring = r.clone();
        restoring.status = DbStatus::Restoring;
        assert!(cutover_gate(&restoring, &scan, None, "Sales", Mode::Continuous)
            .unwrap_err()
            .contains("not ReadyForCutover"));
        let mut pending = scan.clone();
        pending.to_ship.push(LocalFile { path: "log2.trn".into(), name: "log2.log".into() });
        assert!(cutover_gate(&r, &pending, None, "Sales", Mode::Continuous).unwrap_err().contains("log2.log"));
        let mut writing = scan.clone();
        writing.waiting = Some("'log2.trn' is still being written".into());
        assert!(cutover_gate(&r, &writing, None, "Sales", Mode::Continuous)
            .unwrap_err()
            .contains("still being written"));
        let mut behind = r.clone();
        behind.restore.as_mut().unwrap().last_restored_file = Some("full.bak".into());
        assert!(cutover_gate(&behind, &scan, None, "Sales", Mode::Continuous)
            .unwrap_err()
            .contains("not restored yet"));
        let mut halted = r.clone();
        halted.halted = Some("gap".into());
        assert!(cutover_gate(&halted, &scan, None, "Sales", Mode::Continuous).unwrap_err().contains("halted"));
        assert!(cutover_gate(&r, &scan, None, "Sales", Mode::Autocomplete).unwrap_err().contains("autocomplete"));
    }
}
