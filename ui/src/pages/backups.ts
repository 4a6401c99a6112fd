// The Backups page: choose a folder (native dialog, or a typed path), run the inspection in Rust,
// and show what it returned. View state only: the path, whether a call is running, the last result.

import { asUiError, inspectBackups, pickBackupFolder, type Inspection, type UiError } from "../api.js";
import { h, replace } from "../dom.js";
import { inspectionView } from "./inspection.js";

const errorTitles: Record<UiError["code"], string> = {
  path_not_found: "That path does not exist",
  permission_denied: "That path cannot be read",
  invalid_input: "Nothing to inspect",
  internal: "Inspection failed",
};

export function backupsPage(): HTMLElement {
  const pathInput = h("input", {
    type: "text", id: "backup-path", testid: "backup-path", spellcheck: "false", autocomplete: "off",
    placeholder: "/path/to/backups/MyDatabase", "aria-describedby": "backup-path-hint",
  });
  const inspectButton = h("button", { type: "submit", class: "primary", id: "inspect", testid: "inspect" }, "Inspect");
  const chooseButton = h("button", { type: "button", class: "secondary", id: "choose-folder", testid: "choose-folder" }, "Choose folder…");
  const status = h("div", { id: "status", testid: "status", role: "status", "aria-live": "polite" });
  const results = h("div", { id: "results", testid: "results" });

  const setBusy = (busy: boolean): void => {
    inspectButton.disabled = busy;
    chooseButton.disabled = busy;
    replace(status, busy ? h("p", { class: "busy" }, h("span", { class: "spinner", "aria-hidden": "true" }), "Reading backup headers…") : null);
  };

  const run = async (): Promise<void> => {
    const path = pathInput.value.trim();
    setBusy(true);
    replace(results);
    try {
      const inspection: Inspection = await inspectBackups(path ? [path] : []);
      replace(results, inspectionView(inspection));
    } catch (err) {
      replace(results, errorView(asUiError(err)));
    } finally {
      setBusy(false);
    }
  };

  chooseButton.addEventListener("click", async () => {
    try {
      const picked = await pickBackupFolder();
      if (picked === null) return;
      pathInput.value = picked;
      await run();
    } catch (err) {
      replace(results, errorView(asUiError(err)));
    }
  });

  const form = h("form", { class: "picker", id: "picker", onsubmit: (event) => { event.preventDefault(); void run(); } },
    h("label", { for: "backup-path" }, "Backup folder"),
    h("div", { class: "picker-row" }, chooseButton, h("span", { class: "or" }, "or type a path"), pathInput, inspectButton),
    h("p", { class: "hint", id: "backup-path-hint" },
      "One folder per database. Nothing is uploaded: each file's header is read, the restore chain planned and the LRS rules checked."),
  );

  return h("section", { class: "page", id: "page-backups", testid: "page-backups", "aria-labelledby": "backups-title" },
    h("h1", { id: "backups-title", tabindex: -1 }, "Check your backups"),
    form, status, results,
  );
}

function errorView(err: UiError): HTMLElement {
  return h("div", { class: "alert error", role: "alert", testid: "error", "data-code": err.code },
    h("strong", {}, errorTitles[err.code] ?? errorTitles.internal),
    h("p", {}, err.message),
  );
}
