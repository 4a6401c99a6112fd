//! The Tauri commands: one-line adapters that call `lrs-core` (or the native dialog) off the UI
//! thread and turn errors into [`UiError`]. No logic lives here.

use std::path::PathBuf;

use lrs_core::backup::{self, InspectOptions, Inspection};
use tauri::async_runtime::spawn_blocking;
use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

use crate::error::UiError;

/// Reads every backup under `paths` and plans each database's restore (blocking work, so it runs
/// on the blocking pool and the window stays responsive).
#[tauri::command]
pub async fn inspect_backups(paths: Vec<PathBuf>) -> Result<Inspection, UiError> {
    Ok(spawn_blocking(move || backup::inspect(&paths, &InspectOptions::default())).await??)
}

/// Shows the native folder picker; `None` when the user cancels.
#[tauri::command]
pub async fn pick_backup_folder<R: Runtime>(app: AppHandle<R>) -> Result<Option<PathBuf>, UiError> {
    let dialog = app.dialog().file().set_title("Choose the folder that holds one database's backups");
    let picked = spawn_blocking(move || dialog.blocking_pick_folder()).await?;
    picked.map(|path| path.into_path().map_err(UiError::internal)).transpose()
}
