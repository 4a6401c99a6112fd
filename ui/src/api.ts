// The one module that reaches Rust. Every command the UI may call is a typed function here; the
// types come from ./bindings (generated from the Rust types by ts-rs). Failures are UiError.

import type { CloudItem } from "./bindings/CloudItem";
import type { ContainerItem } from "./bindings/ContainerItem";
import type { GroupItem } from "./bindings/GroupItem";
import type { Inspection } from "./bindings/Inspection";
import type { InstanceItem } from "./bindings/InstanceItem";
import type { SessionView } from "./bindings/SessionView";
import type { Settings } from "./bindings/Settings";
import type { SignInPrompt } from "./bindings/SignInPrompt";
import type { SignInRequest } from "./bindings/SignInRequest";
import type { StorageAccountItem } from "./bindings/StorageAccountItem";
import type { StorageRequest } from "./bindings/StorageRequest";
import type { SubscriptionItem } from "./bindings/SubscriptionItem";
import type { TargetRequest } from "./bindings/TargetRequest";
import type { TsqlRequest } from "./bindings/TsqlRequest";
import type { TsqlScript } from "./bindings/TsqlScript";
import type { UiError } from "./bindings/UiError";
import type { ActionOutcome } from "./bindings/ActionOutcome";
import type { AuditFormat } from "./bindings/AuditFormat";
import type { AuditRow } from "./bindings/AuditRow";
import type { CutoverRequest } from "./bindings/CutoverRequest";
import type { DatabaseRow } from "./bindings/DatabaseRow";
import type { MigrationView } from "./bindings/MigrationView";
import type { StartChoice } from "./bindings/StartChoice";
import type { StopRequest } from "./bindings/StopRequest";

export type {
  CloudItem, ContainerItem, GroupItem, Inspection, InstanceItem, SessionView, Settings, SignInPrompt, SignInRequest,
  StorageAccountItem, StorageRequest, SubscriptionItem, TargetRequest, TsqlRequest, TsqlScript, UiError,
  ActionOutcome, AuditFormat, AuditRow, CutoverRequest, DatabaseRow, MigrationView, StartChoice, StopRequest,
};

interface TauriChannel<T> {
  onmessage: (message: T) => void;
}

interface TauriGlobal {
  core: {
    invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T>;
    Channel: new <T>() => TauriChannel<T>;
  };
}

declare global {
  interface Window {
    __TAURI__?: TauriGlobal;
  }
}

function isUiError(value: unknown): value is UiError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

function tauri(): TauriGlobal {
  const global = window.__TAURI__;
  if (!global) {
    throw { code: "internal", message: "This page must run inside the LRS Wizard app." } satisfies UiError;
  }
  return global;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const core = tauri().core;
  try {
    return await core.invoke<T>(cmd, args);
  } catch (err) {
    throw isUiError(err) ? err : ({ code: "internal", message: String(err) } satisfies UiError);
  }
}

/** Turns whatever a failed call threw into a UiError. */
export function asUiError(err: unknown): UiError {
  return isUiError(err) ? err : { code: "internal", message: String(err) };
}

// Welcome and mode.
export const sessionView = (): Promise<SessionView> => call("session_view");
export const beginAzure = (): Promise<SessionView> => call("begin_azure");
/** Starts Azurite and the LRS emulator on this machine, writes the sample backups, signs in. */
export const beginRehearsal = (): Promise<SessionView> => call("begin_rehearsal");

// Sign in and target.
export const listClouds = (): Promise<CloudItem[]> => call("list_clouds");

/** Signs in; `onPrompt` receives what the user must do (device code, browser URL) meanwhile. */
export function signIn(request: SignInRequest, onPrompt: (prompt: SignInPrompt) => void): Promise<SessionView> {
  const channel = new (tauri().core.Channel)<SignInPrompt>();
  channel.onmessage = onPrompt;
  return call("sign_in", { request, onPrompt: channel });
}

export const listSubscriptions = (): Promise<SubscriptionItem[]> => call("list_subscriptions");
export const listResourceGroups = (subscriptionId: string): Promise<GroupItem[]> =>
  call("list_resource_groups", { subscriptionId });
export const listInstances = (subscriptionId: string, resourceGroup: string): Promise<InstanceItem[]> =>
  call("list_instances", { subscriptionId, resourceGroup });
export const selectTarget = (request: TargetRequest): Promise<SessionView> => call("select_target", { request });

// Backups.
/** Reads every backup under the given files or folders and plans each database's restore. */
export const inspectBackups = (paths: string[]): Promise<Inspection> => call("inspect_backups", { paths });
/** Opens the native folder picker; null when the user cancels. */
export const pickBackupFolder = (): Promise<string | null> => call("pick_backup_folder");

// Storage.
export const listStorageAccounts = (): Promise<StorageAccountItem[]> => call("list_storage_accounts");
export const listContainers = (account: StorageAccountItem): Promise<ContainerItem[]> =>
  call("list_containers", { account });
export const selectStorage = (request: StorageRequest): Promise<SessionView> => call("select_storage", { request });
/** The key goes from Azure to the keychain; it never comes back here. */
export const fetchAccountKey = (): Promise<SessionView> => call("fetch_account_key");
export const saveAccountKey = (key: string): Promise<SessionView> => call("save_account_key", { key });
export const setFolder = (database: string, folder: string): Promise<SessionView> =>
  call("set_folder", { database, folder });
export const setTargetName = (database: string, target: string): Promise<SessionView> =>
  call("set_target_name", { database, target });

// Access.
export const generateSas = (days: number): Promise<SessionView> => call("generate_sas", { days });
export const pasteSas = (token: string): Promise<SessionView> => call("paste_sas", { token });
export const checkAccess = (): Promise<SessionView> => call("check_access");

// Settings and the T-SQL helper.
export const getSettings = (): Promise<Settings> => call("get_settings");
export const saveSettings = (settings: Settings): Promise<Settings> => call("save_settings", { settings });
export const tsqlScript = (request: TsqlRequest): Promise<TsqlScript> => call("tsql_script", { request });

// Upload, Start, Dashboard, Cutover: the migration runs in Rust; these start, pause and watch it.
/** The current migration; null before the first upload. */
export const migrationView = (): Promise<MigrationView | null> => call("migration_view");

/** `onUpdate` receives the migration's view whenever it changes (the last watcher wins). */
export function watchMigration(onUpdate: (view: MigrationView) => void): Promise<void> {
  const channel = new (tauri().core.Channel)<MigrationView>();
  channel.onmessage = onUpdate;
  return call("watch_migration", { onUpdate: channel });
}

/** Uploads every database's restore sequence in the background (or resumes it). */
export const startUpload = (): Promise<MigrationView> => call("start_upload");
export const pauseMigration = (): Promise<MigrationView | null> => call("pause_migration");
/** Cancels the upload and leaves this migration; uploaded files stay in the container. */
export const cancelUpload = (): Promise<void> => call("cancel_upload");
export const startMigration = (choice: StartChoice): Promise<MigrationView> => call("start_migration", { choice });
export const resumeMigration = (): Promise<MigrationView> => call("resume_migration");
export const setShipping = (on: boolean): Promise<MigrationView> => call("set_shipping", { on });
export const cutoverDatabases = (requests: CutoverRequest[]): Promise<ActionOutcome[]> =>
  call("cutover_databases", { requests });
export const stopDatabases = (requests: StopRequest[]): Promise<ActionOutcome[]> => call("stop_databases", { requests });

// The audit log.
export const auditLog = (): Promise<AuditRow[]> => call("audit_log");
/** Asks where to save (native dialog) and writes the file; null when cancelled. */
export const exportAudit = (format: AuditFormat): Promise<string | null> => call("export_audit", { format });
/** Writes audit-<plan>.<jsonl|csv> into `folder`. */
export const exportAuditTo = (format: AuditFormat, folder: string): Promise<string> =>
  call("export_audit_to", { format, folder });
