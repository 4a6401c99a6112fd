//! The LRS Wizard desktop shell: builds the Tauri app (plugins, commands) over `lrs-core`. The
//! window, security policy and bundle live in the top-level `tauri.conf.json`; what the window may
//! call lives in `capabilities/`.

mod commands;
pub mod error;

#[cfg(test)]
mod bindings;

use tauri::Runtime;

pub use error::{UiError, UiErrorCode};

/// The app without its context, generic over the runtime so tests can use the mock runtime.
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .plugin(tauri_plugin_dialog::init())
        .invoke_handler(tauri::generate_handler![commands::inspect_backups, commands::pick_backup_folder])
}

/// Runs the desktop app until its last window closes.
pub fn run() {
    if let Err(err) = builder::<tauri::Wry>().run(tauri::generate_context!()) {
        eprintln!("LRS Wizard could not start: {err}");
        std::process::exit(1);
    }
}
