//! Build script: compiles the Tauri context (reads `tauri.conf.json`, a link to the top-level file)
//! and declares the app's own commands so each must be granted by a capability.

fn main() {
    let commands = tauri_build::AppManifest::new().commands(&[
        "session_view",
        "begin_azure",
        "begin_rehearsal",
        "list_clouds",
        "sign_in",
        "list_subscriptions",
        "list_resource_groups",
        "list_instances",
        "select_target",
        "inspect_backups",
        "pick_backup_folder",
        "list_storage_accounts",
        "list_containers",
        "select_storage",
        "fetch_account_key",
        "save_account_key",
        "set_folder",
        "set_target_name",
        "generate_sas",
        "paste_sas",
        "check_access",
        "migration_view",
        "watch_migration",
        "start_upload",
        "pause_migration",
        "cancel_upload",
        "start_migration",
        "resume_migration",
        "set_shipping",
        "cutover_databases",
        "stop_databases",
        "audit_log",
        "export_audit",
        "export_audit_to",
        "get_settings",
        "save_settings",
        "tsql_script",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
        .unwrap_or_else(|err| panic!("tauri-build failed: {err:#}"));
}
