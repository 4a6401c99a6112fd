//! The app's managed state: the wizard [`Session`] and its [`MigrationDesk`] (lrs-core), the rehearsal slot (lrs-rehearsal)
//! and where the app keeps its files. Built once in `setup`; every command borrows it.

use std::path::PathBuf;

use lrs_core::secrets::Keychain;
use lrs_core::session::{MigrationDesk, Session, SessionError};
use lrs_rehearsal::RehearsalSlot;
use tauri::{AppHandle, Manager, Runtime};

/// Where the app keeps its settings and its data (the rehearsal's Azurite, emulator and samples).
#[derive(Debug, Clone)]
pub struct AppDirs {
    pub config: PathBuf,
    pub data: PathBuf,
}

impl AppDirs {
    /// Settings in the platform's config folder for this app (`~/.config/com.lrswizard.desktop`);
    /// data in the folder the `lrs` CLI uses too (`lrs_core::local::app_data_dir`,
    /// `~/.local/share/lrs-wizard`), so that `lrs migrate` finds the app's plans with their state,
    /// lock, request inbox and upload journals (Tauri's own data folder only when there is none).
    pub fn of<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<AppDirs> {
        let data = match lrs_core::local::app_data_dir() {
            Some(shared) => shared,
            None => app.path().app_data_dir()?,
        };
        Ok(AppDirs { config: app.path().app_config_dir()?, data })
    }
}

/// Managed state shared by every command.
#[derive(Debug)]
pub struct AppState {
    pub session: Session,
    /// The migration (upload, start, dashboard, cutover), kept under `<data>/migrations`.
    pub migration: MigrationDesk,
    pub rehearsal: RehearsalSlot,
    /// The rehearsal's folder: `<data>/rehearsal`.
    pub rehearsal_dir: PathBuf,
}

impl AppState {
    pub fn new(dirs: &AppDirs, keychain: Keychain) -> Result<AppState, SessionError> {
        Ok(AppState {
            session: Session::new(&dirs.config, keychain)?,
            migration: MigrationDesk::new(&dirs.data),
            rehearsal: RehearsalSlot::default(),
            rehearsal_dir: dirs.data.join("rehearsal"),
        })
    }
}
