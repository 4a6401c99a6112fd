//! Build script: compiles the Tauri context (reads `tauri.conf.json`, a link to the top-level file)
//! and declares the app's own commands so each must be granted by a capability.

fn main() {
    let commands = tauri_build::AppManifest::new().commands(&["inspect_backups", "pick_backup_folder"]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(commands))
        .unwrap_or_else(|err| panic!("tauri-build failed: {err:#}"));
}
