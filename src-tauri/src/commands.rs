//! The Tauri commands: one-line adapters that unpack the managed state, call one `lrs-core` (or
//! `lrs-rehearsal`, or native dialog) function and turn its error into [`UiError`]. No logic lives
//! here. Grouped by wizard step.

use std::path::PathBuf;

use lrs_core::backup::Inspection;
use lrs_core::session::{
    ActionOutcome, AuditFormat, AuditRow, CloudItem, ContainerItem, CutoverRequest, GroupItem, InstanceItem,
    MigrationView, PastedSecret, SessionView, Settings, SignInPrompt, SignInRequest, StartChoice, StopRequest,
    StorageAccountItem, StorageRequest, SubscriptionItem, TargetRequest,
};
use lrs_core::tsql::{self, TsqlRequest, TsqlScript};
use tauri::async_runtime::spawn_blocking;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;
use time::OffsetDateTime;

use crate::error::UiError;
use crate::state::AppState;

type Result<T> = std::result::Result<T, UiError>;

// Welcome and mode.

#[tauri::command]
pub fn session_view(state: State<'_, AppState>) -> SessionView {
    state.session.view()
}

#[tauri::command]
pub fn begin_azure(state: State<'_, AppState>) -> SessionView {
    state.session.begin_azure()
}

/// Starts the local rehearsal (Azurite, the LRS emulator, samples) and signs in to it.
#[tauri::command]
pub async fn begin_rehearsal(state: State<'_, AppState>) -> Result<SessionView> {
    Ok(state.rehearsal.begin(&state.session, &state.rehearsal_dir).await?)
}

// Sign in and target.

#[tauri::command]
pub fn list_clouds(state: State<'_, AppState>) -> Vec<CloudItem> {
    state.session.clouds()
}

/// Signs in; what the user must do (device code, browser URL) comes over `on_prompt`.
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: SignInRequest,
    on_prompt: Channel<SignInPrompt>,
) -> Result<SessionView> {
    let open = |url: &str| app.opener().open_url(url, None::<&str>).map_err(|e| e.to_string());
    Ok(state
        .session
        .sign_in(
            request,
            |prompt| {
                let _ = on_prompt.send(prompt);
            },
            open,
        )
        .await?)
}

#[tauri::command]
pub async fn list_subscriptions(state: State<'_, AppState>) -> Result<Vec<SubscriptionItem>> {
    Ok(state.session.subscriptions().await?)
}

#[tauri::command]
pub async fn list_resource_groups(state: State<'_, AppState>, subscription_id: String) -> Result<Vec<GroupItem>> {
    Ok(state.session.resource_groups(&subscription_id).await?)
}

#[tauri::command]
pub async fn list_instances(
    state: State<'_, AppState>,
    subscription_id: String,
    resource_group: String,
) -> Result<Vec<InstanceItem>> {
    Ok(state.session.instances(&subscription_id, &resource_group).await?)
}

#[tauri::command]
pub async fn select_target(state: State<'_, AppState>, request: TargetRequest) -> Result<SessionView> {
    Ok(state.session.select_target(request).await?)
}

// Backups.

/// Reads every backup under `paths`, plans each database's restore, and keeps the databases.
#[tauri::command]
pub async fn inspect_backups(state: State<'_, AppState>, paths: Vec<PathBuf>) -> Result<Inspection> {
    Ok(state.session.inspect_backups(paths).await?)
}

/// Sets the name a database gets on the instance; every name is checked again (free, valid, unique).
#[tauri::command]
pub async fn set_target_name(state: State<'_, AppState>, database: String, target: String) -> Result<SessionView> {
    Ok(state.session.set_target_name(&database, &target).await?)
}

/// Shows the native folder picker; `None` when the user cancels.
#[tauri::command]
pub async fn pick_backup_folder<R: Runtime>(app: AppHandle<R>) -> Result<Option<PathBuf>> {
    let dialog = app.dialog().file().set_title("Choose the folder that holds one database's backups");
    let picked = spawn_blocking(move || dialog.blocking_pick_folder()).await?;
    picked.map(|path| path.into_path().map_err(UiError::internal)).transpose()
}

// Storage.

#[tauri::command]
pub async fn list_storage_accounts(state: State<'_, AppState>) -> Result<Vec<StorageAccountItem>> {
    Ok(state.session.storage_accounts().await?)
}

#[tauri::command]
pub async fn list_containers(state: State<'_, AppState>, account: StorageAccountItem) -> Result<Vec<ContainerItem>> {
    Ok(state.session.containers(&account).await?)
}

#[tauri::command]
pub fn select_storage(state: State<'_, AppState>, request: StorageRequest) -> Result<SessionView> {
    Ok(state.session.select_storage(request)?)
}

/// Fetches the account key through ARM into the keychain (it never comes back to the window).
#[tauri::command]
pub async fn fetch_account_key(state: State<'_, AppState>) -> Result<SessionView> {
    Ok(state.session.fetch_account_key().await?)
}

#[tauri::command]
pub fn save_account_key(state: State<'_, AppState>, key: PastedSecret) -> Result<SessionView> {
    Ok(state.session.save_account_key(key)?)
}

#[tauri::command]
pub fn set_folder(state: State<'_, AppState>, database: String, folder: String) -> Result<SessionView> {
    Ok(state.session.set_folder(&database, &folder)?)
}

// Access.

#[tauri::command]
pub fn generate_sas(state: State<'_, AppState>, days: u32) -> Result<SessionView> {
    Ok(state.session.generate_sas(days, OffsetDateTime::now_utc())?)
}

#[tauri::command]
pub fn paste_sas(state: State<'_, AppState>, token: PastedSecret) -> Result<SessionView> {
    Ok(state.session.paste_sas(token)?)
}

#[tauri::command]
pub async fn check_access(state: State<'_, AppState>) -> Result<SessionView> {
    Ok(state.session.check_access(OffsetDateTime::now_utc()).await?)
}

// Upload, Start, Dashboard, Cutover: the migration (lrs_core::session::MigrationDesk).

/// The current migration; `null` before the first upload.
#[tauri::command]
pub async fn migration_view(state: State<'_, AppState>) -> Result<Option<MigrationView>> {
    Ok(state.migration.view()?)
}

/// Sends the migration's view over `on_update` whenever it changes (replacing the last watcher).
#[tauri::command]
pub async fn watch_migration(state: State<'_, AppState>, on_update: Channel<MigrationView>) -> Result<()> {
    Ok(state.migration.watch(move |view| {
        let _ = on_update.send(view);
    })?)
}

/// Uploads every database's restore sequence in the background, or resumes the upload.
#[tauri::command]
pub async fn start_upload(state: State<'_, AppState>) -> Result<MigrationView> {
    Ok(state.migration.start_upload(&state.session)?)
}

#[tauri::command]
pub async fn pause_migration(state: State<'_, AppState>) -> Result<Option<MigrationView>> {
    Ok(state.migration.pause()?)
}

/// Cancels the upload and leaves this migration (before any restore started).
#[tauri::command]
pub async fn cancel_upload(state: State<'_, AppState>) -> Result<()> {
    Ok(state.migration.cancel()?)
}

#[tauri::command]
pub async fn start_migration(state: State<'_, AppState>, choice: StartChoice) -> Result<MigrationView> {
    Ok(state.migration.start(&state.session, choice)?)
}

/// Follows the migration again after a pause or a restart.
#[tauri::command]
pub async fn resume_migration(state: State<'_, AppState>) -> Result<MigrationView> {
    Ok(state.migration.resume(&state.session)?)
}

#[tauri::command]
pub async fn set_shipping(state: State<'_, AppState>, on: bool) -> Result<MigrationView> {
    Ok(state.migration.set_shipping(on)?)
}

#[tauri::command]
pub async fn cutover_databases(
    state: State<'_, AppState>,
    requests: Vec<CutoverRequest>,
) -> Result<Vec<ActionOutcome>> {
    Ok(state.migration.cutover(&state.session, requests).await?)
}

#[tauri::command]
pub async fn stop_databases(state: State<'_, AppState>, requests: Vec<StopRequest>) -> Result<Vec<ActionOutcome>> {
    Ok(state.migration.stop(&state.session, requests).await?)
}

// The audit log.

#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>) -> Result<Vec<AuditRow>> {
    Ok(state.migration.audit()?)
}

/// Asks where to save the audit log (native dialog), then writes it; `None` when cancelled.
#[tauri::command]
pub async fn export_audit<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    format: AuditFormat,
) -> Result<Option<PathBuf>> {
    let name = state.migration.audit_file_name(format)?;
    let dialog = app.dialog().file().set_title("Save the audit log").set_file_name(name);
    let picked = spawn_blocking(move || dialog.blocking_save_file()).await?;
    let Some(path) = picked.map(|p| p.into_path().map_err(UiError::internal)).transpose()? else { return Ok(None) };
    Ok(Some(state.migration.export_audit(format, &path)?))
}

/// Writes the audit log into `folder` as `audit-<plan id>.<jsonl|csv>`.
#[tauri::command]
pub async fn export_audit_to(state: State<'_, AppState>, format: AuditFormat, folder: PathBuf) -> Result<PathBuf> {
    Ok(state.migration.export_audit_to_folder(format, &folder)?)
}

// Settings and the T-SQL helper.

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    state.session.settings()
}

#[tauri::command]
pub fn save_settings(state: State<'_, AppState>, settings: Settings) -> Result<Settings> {
    Ok(state.session.save_settings(settings)?)
}

#[tauri::command]
pub fn tsql_script(request: TsqlRequest) -> Result<TsqlScript> {
    Ok(tsql::backup_script(&request)?)
}
