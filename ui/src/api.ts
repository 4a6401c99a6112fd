// The one module that reaches Rust. Every command the UI may call is a typed function here; the
// types come from ./bindings (generated from the Rust types by ts-rs). Failures are UiError.

import type { Inspection } from "./bindings/Inspection";
import type { UiError } from "./bindings/UiError";

export type { Inspection, UiError };

interface TauriGlobal {
  core: { invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> };
}

declare global {
  interface Window {
    __TAURI__?: TauriGlobal;
  }
}

function isUiError(value: unknown): value is UiError {
  return typeof value === "object" && value !== null && "code" in value && "message" in value;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  const tauri = window.__TAURI__;
  if (!tauri) {
    throw { code: "internal", message: "This page must run inside the LRS Wizard app." } satisfies UiError;
  }
  try {
    return await tauri.core.invoke<T>(cmd, args);
  } catch (err) {
    throw isUiError(err) ? err : ({ code: "internal", message: String(err) } satisfies UiError);
  }
}

/** Reads every backup under the given files or folders and plans each database's restore. */
export function inspectBackups(paths: string[]): Promise<Inspection> {
  return call<Inspection>("inspect_backups", { paths });
}

/** Opens the native folder picker; null when the user cancels. */
export function pickBackupFolder(): Promise<string | null> {
  return call<string | null>("pick_backup_folder");
}

/** Turns whatever a failed call threw into a UiError. */
export function asUiError(err: unknown): UiError {
  return isUiError(err) ? err : { code: "internal", message: String(err) };
}
