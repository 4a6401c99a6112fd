//! The LRS Wizard desktop shell: builds the Tauri app (plugins, managed state, commands) over
//! `lrs-core` and `lrs-rehearsal`. The window, security policy and bundle live in the top-level
//! `tauri.conf.json`; what the window may call lives in `capabilities/`.

mod commands;
pub mod error;
mod state;

#[cfg(test)]
mod bindings;

use lrs_core::secrets::Keychain;
use tauri::{Manager, RunEvent, Runtime};

pub use error::{UiError, UiErrorCode};
pub use state::{AppDirs, AppState};

/// The app without its context, generic over the runtime so tests can use the mock runtime. Its
/// state lives in the platform's folders for the app.
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    with_app(tauri::Builder::<R>::new(), None)
}

/// As [`builder`], with a state built by the caller (tests: their own folders and keychain).
pub fn builder_with<R: Runtime>(state: AppState) -> tauri::Builder<R> {
    with_app(tauri::Builder::<R>::new(), Some(state))
}

fn with_app<R: Runtime>(builder: tauri::Builder<R>, state: Option<AppState>) -> tauri::Builder<R> {
    let builder = builder.plugin(tauri_plugin_dialog::init()).plugin(tauri_plugin_opener::init());
    let builder = match state {
        Some(state) => builder.manage(state),
        None => builder.setup(|app| {
            app.manage(AppState::new(&AppDirs::of(app.handle())?, Keychain::from_env())?);
            Ok(())
        }),
    };
    builder.invoke_handler(tauri::generate_handler![
        commands::session_view,
        commands::begin_azure,
        commands::begin_rehearsal,
        commands::list_clouds,
        commands::sign_in,
        commands::list_subscriptions,
        commands::list_resource_groups,
        commands::list_instances,
        commands::select_target,
        commands::inspect_backups,
        commands::pick_backup_folder,
        commands::list_storage_accounts,
        commands::list_containers,
        commands::select_storage,
        commands::fetch_account_key,
        commands::save_account_key,
        commands::set_folder,
        commands::set_target_name,
        commands::generate_sas,
        commands::paste_sas,
        commands::check_access,
        commands::migration_view,
        commands::watch_migration,
        commands::start_upload,
        commands::pause_migration,
        commands::cancel_upload,
        commands::start_migration,
        commands::resume_migration,
        commands::set_shipping,
        commands::cutover_databases,
        commands::stop_databases,
        commands::audit_log,
        commands::export_audit,
        commands::export_audit_to,
        commands::get_settings,
        commands::save_settings,
        commands::tsql_script,
    ])
}

/// Runs the desktop app until its last window closes: one instance per user session (a second
/// launch focuses the first window), the window's size and place remembered, and the rehearsal's
/// Azurite and emulator stopped on the way out.
pub fn run() {
    let single = tauri_plugin_single_instance::init(|app, _args, _cwd| {
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.set_focus();
        }
    });
    let window_state = tauri_plugin_window_state::Builder::new()
        .with_state_flags(
            tauri_plugin_window_state::StateFlags::SIZE
                | tauri_plugin_window_state::StateFlags::POSITION
                | tauri_plugin_window_state::StateFlags::MAXIMIZED,
        )
        .build();
    // The single-instance plugin goes first, so a second launch exits before doing anything.
    let app = with_app(tauri::Builder::<tauri::Wry>::new().plugin(single).plugin(window_state), None)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|handle, event| {
            if let RunEvent::Exit = event {
                handle.state::<AppState>().migration.shutdown();
                tauri::async_runtime::block_on(handle.state::<AppState>().rehearsal.stop());
            }
        }),
        Err(err) => {
            eprintln!("LRS Wizard could not start: {err}");
            std::process::exit(1);
        }
    }
}
