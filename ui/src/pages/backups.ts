// The Backups page: choose a folder (native dialog, or a typed path), or in a rehearsal the sample
// backups; run the inspection in Rust and show what it returned. View state only: the path, whether
// a call is running, the last result.

import {
  asUiError, inspectBackups, pickBackupFolder, sessionView, setTargetName, type Inspection, type SessionView, type UiError,
} from "../api.js";
import { busy, errorBox, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";
import { inspectionView } from "./inspection.js";

const errorTitles: Partial<Record<UiError["code"], string>> = {
  path_not_found: "That path does not exist",
  permission_denied: "That path cannot be read",
  invalid_input: "Nothing to inspect",
};

/** The last inspection, shown again when the user comes back to the page. */
let last: { paths: string[]; inspection: Inspection } | null = null;

export function backupsPage(ctx: PageContext): HTMLElement {
  const pathInput = h("input", {
    type: "text", id: "backup-path", testid: "backup-path", spellcheck: "false", autocomplete: "off",
    placeholder: "/path/to/backups/MyDatabase", "aria-describedby": "backup-path-hint",
  });
  const inspectButton = h("button", { type: "submit", class: "primary", id: "inspect", testid: "inspect" }, "Inspect");
  const chooseButton = h("button", { type: "button", class: "secondary", id: "choose-folder", testid: "choose-folder" }, "Choose folder…");
  const status = h("div", { id: "status", testid: "status", role: "status", "aria-live": "polite" });
  const results = h("div", { id: "results", testid: "results" });
  const names = h("div", { id: "target-names", testid: "target-names" });
  const next = h("button", { type: "button", class: "primary", id: "next", testid: "next", onclick: () => ctx.next() }, "Next: Storage");
  const rehearsal = ctx.view()?.rehearsal ?? null;

  const setNext = (): void => {
    next.disabled = !ctx.view()?.done.backups;
  };
  // The name each database gets on the managed instance, checked by Rust to be free there.
  const renderNames = (view: SessionView | null): void => {
    if (!view || view.databases.length === 0) {
      replace(names);
      return;
    }
    const instance = view.target?.instance.name ?? "the managed instance";
    const rows = view.databases.map((db) => {
      const input = h("input", { type: "text", value: db.target, id: `target-${db.name}`, testid: "target-name",
        "data-database": db.name, spellcheck: "false", autocomplete: "off", "aria-label": `Name of ${db.name} on ${instance}` });
      input.addEventListener("change", async () => {
        try {
          const updated = await setTargetName(db.name, input.value);
          ctx.update(updated);
          renderNames(updated);
        } catch (err) {
          replace(names, errorBox("The name could not be set", asUiError(err)));
        } finally {
          setNext();
        }
      });
      return h("tr", { testid: "target-row", "data-database": db.name },
        h("th", { scope: "row" }, db.name),
        h("td", {}, input),
        h("td", {}, db.target_problem
          ? h("span", { class: "check-bad", testid: "target-problem" }, db.target_problem)
          : h("span", { class: "check-ok" }, `✓ free on ${instance}`)));
    });
    replace(names,
      h("h2", {}, "Names on the managed instance"),
      h("p", { class: "hint" }, "LRS creates each database: its name must not exist on the instance yet."),
      h("table", { class: "folders" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "In the backups"), h("th", { scope: "col" }, "Name on the instance"),
          h("th", { scope: "col" }, "Check"))),
        h("tbody", {}, ...rows)));
  };

  const setBusy = (on: boolean): void => {
    inspectButton.disabled = on;
    chooseButton.disabled = on;
    replace(status, on ? busy("Reading backup headers…") : null);
  };

  const run = async (paths: string[]): Promise<void> => {
    setBusy(true);
    replace(results);
    try {
      const inspection = await inspectBackups(paths);
      last = { paths, inspection };
      replace(results, inspectionView(inspection));
      const view = await sessionView();
      ctx.update(view);
      renderNames(view);
    } catch (err) {
      const e = asUiError(err);
      replace(results, errorBox(errorTitles[e.code] ?? "Inspection failed", e));
    } finally {
      setBusy(false);
      setNext();
    }
  };
  const typed = (): string[] => {
    const path = pathInput.value.trim();
    return path ? [path] : [];
  };

  chooseButton.addEventListener("click", async () => {
    try {
      const picked = await pickBackupFolder();
      if (picked === null) return;
      pathInput.value = picked;
      await run([picked]);
    } catch (err) {
      replace(results, errorBox("The folder dialog failed", asUiError(err)));
    }
  });

  const form = h("form", { class: "picker", id: "picker", onsubmit: (event) => { event.preventDefault(); void run(typed()); } },
    h("label", { for: "backup-path" }, "Backup folder"),
    h("div", { class: "picker-row" }, chooseButton, h("span", { class: "or" }, "or type a path"), pathInput, inspectButton),
    h("p", { class: "hint", id: "backup-path-hint" },
      "One folder per database. Nothing is uploaded: each file's header is read, the restore chain planned and the LRS rules checked."),
    rehearsal
      ? h("div", { class: "samples" },
        h("button", { type: "button", class: "secondary", id: "use-samples", testid: "use-samples", onclick: () => void run(rehearsal.samples) },
          `Use the sample backups (${rehearsal.samples.length} databases)`),
        h("span", { class: "hint" }, "Synthetic backups written for the rehearsal, one folder per database."))
      : null,
  );

  if (last) {
    pathInput.value = last.paths.length === 1 ? (last.paths[0] ?? "") : "";
    replace(results, inspectionView(last.inspection));
    renderNames(ctx.view());
  }
  setNext();

  return h("section", { class: "page", id: "page-backups", testid: "page-backups", "aria-labelledby": "backups-title" },
    h("h1", { id: "backups-title", tabindex: -1 }, "Check your backups"),
    form, status, results, names,
    h("div", { class: "actions" }, next),
  );
}
