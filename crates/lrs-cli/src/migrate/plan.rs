//! `lrs migrate plan`: the plan written from the flags, each source folder inspected first.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lrs_core::backup::{self, InspectOptions};
use lrs_core::migration::plan::folder_problem;
use lrs_core::migration::{AuditEntry, DatabasePlan, MigrationPlan, Mode, PlanStore, StoragePlan, Target};
use lrs_core::storage::ContainerUrl;

use super::{whoami, ModeArg, PlanArgs};
use crate::failure::Failure;

pub(super) fn plan(args: &PlanArgs) -> Result<ExitCode, Failure> {
    let databases = databases(args)?;
    let container = ContainerUrl::parse(&args.container_url).map_err(|e| Failure::usage(e.to_string()))?;
    // Each folder must hold exactly one database's restorable chain; say so now rather than at run time.
    let warnings = inspect_folders(&databases, &container)?;
    let target = Target {
        cloud: args.cloud.cloud.clone(),
        arm_endpoint: args.cloud.arm_endpoint.clone(),
        subscription: args.subscription.subscription.clone(),
        resource_group: args.resource_group.clone(),
        instance: args.instance.clone(),
        collation: args.collation.clone(),
    };
    if args.account_key_env.is_none() && args.keychain.is_none() {
        return Err(Failure::usage(
            "name where the storage account key will come from: --account-key-env VAR or --keychain storage/<account>/key",
        ));
    }
    let storage = StoragePlan {
        container_url: container.url().to_string().trim_end_matches('/').to_string(),
        account_key_env: args.account_key_env.clone(),
        keychain: args.keychain.clone(),
        sas_days: args.sas_days,
    };
    let mode = match args.mode {
        ModeArg::Autocomplete => Mode::Autocomplete,
        ModeArg::Continuous => Mode::Continuous,
    };
    let plan = MigrationPlan::new(mode, target, storage, databases);
    plan.save_new(&args.out).map_err(|e| Failure::usage(e.to_string()))?;
    let store = PlanStore::for_plan(None, &plan.id).ok();
    if let Some(store) = store {
        let entry =
            AuditEntry::new(&whoami(), lrs_core::migration::Action::PlanCreated, args.out.display().to_string())
                .detail(format!(
                    "{} database(s), {:?} mode, instance {}",
                    plan.databases.len(),
                    plan.mode,
                    plan.target.instance
                ));
        let _ = lrs_core::migration::AuditLog::at(store.audit_path()).append(entry);
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    eprintln!(
        "Wrote {} ({} database(s), {} mode). Run it with: lrs migrate run {}",
        args.out.display(),
        plan.databases.len(),
        if mode == Mode::Continuous { "continuous" } else { "autocomplete" },
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// The databases named by `--database` and found under `--sources`.
fn databases(args: &PlanArgs) -> Result<Vec<DatabasePlan>, Failure> {
    let mut databases = Vec::new();
    for spec in &args.databases {
        databases.push(parse_database(spec)?);
    }
    if let Some(root) = &args.sources {
        let entries = std::fs::read_dir(root)
            .map_err(|e| Failure::usage(format!("cannot read --sources '{}': {e}", root.display())))?;
        let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
        dirs.sort();
        for dir in dirs {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            databases.push(DatabasePlan::new(name.clone(), absolute(&dir), name));
        }
    }
    if databases.is_empty() {
        return Err(Failure::usage("name the databases: --database NAME=DIR (repeat it) or --sources DIR"));
    }
    Ok(databases)
}

/// Inspects each database's folder: an error that `run` would refuse is a warning now; a folder
/// with no backup, or with backups of several databases, is refused.
fn inspect_folders(databases: &[DatabasePlan], container: &ContainerUrl) -> Result<Vec<String>, Failure> {
    let mut warnings = Vec::new();
    for db in databases {
        let options = InspectOptions { last_backup_name: None, container: Some(container.container().to_string()) };
        let inspection = backup::inspect(std::slice::from_ref(&db.source), &options)
            .map_err(|e| Failure::usage(format!("{}: {e}", db.name)))?;
        match inspection.databases.as_slice() {
            [_] if inspection.is_clean() => {}
            [_] => warnings.push(format!(
                "{}: the inspection of '{}' found errors (run `lrs inspect {}`); `lrs migrate run` will refuse it until they are fixed",
                db.name,
                db.source.display(),
                db.source.display()
            )),
            [] => return Err(Failure::usage(format!("{}: no backup found in '{}'", db.name, db.source.display()))),
            many => {
                return Err(Failure::usage(format!(
                    "{}: '{}' holds backups of {} databases: give each database its own folder",
                    db.name,
                    db.source.display(),
                    many.len()
                )))
            }
        }
    }
    Ok(warnings)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn parse_database(spec: &str) -> Result<DatabasePlan, Failure> {
    let Some((name, rest)) = spec.split_once('=') else {
        return Err(Failure::usage(format!("--database '{spec}': write NAME=DIR or NAME=DIR:FOLDER")));
    };
    // DIR:FOLDER, but a Windows drive letter (C:\...) is part of DIR.
    let (dir, folder) = match rest.rsplit_once(':') {
        Some((dir, folder)) if !folder.contains(['/', '\\']) && dir.len() > 1 => (dir, folder.to_string()),
        _ => (rest, name.to_string()),
    };
    if let Some(problem) = folder_problem(&folder) {
        return Err(Failure::usage(format!("--database '{spec}': folder '{folder}' {problem}")));
    }
    Ok(DatabasePlan::new(name.trim(), absolute(Path::new(dir)), folder))
}
