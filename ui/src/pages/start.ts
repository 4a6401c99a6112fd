// The Start page, the wizard's commit page: the mode (autocomplete, with each database's last backup
// preselected from its chain, or continuous), the collation, and a summary; its button says what it
// does: "Start migration". After it, the Dashboard follows the restores.

import { asUiError, migrationView, startMigration, type MigrationView } from "../api.js";
import type { MigrationMode } from "../bindings/MigrationMode";
import { busy, errorBox, field, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";

export function startPage(ctx: PageContext): HTMLElement {
  const body = h("div", {});
  const status = h("div", { role: "status", "aria-live": "polite", testid: "start-status" });
  let mode: MigrationMode = "continuous";
  const instanceCollation = ctx.view()?.target?.instance.collation ?? "";
  const collation = h("input", { type: "text", id: "collation", testid: "collation", value: instanceCollation, spellcheck: "false", autocomplete: "off" });

  const render = (view: MigrationView | null): void => {
    ctx.updateMigration(view);
    if (!view || !view.uploaded) {
      replace(body, h("div", { class: "alert info", testid: "start-not-ready" },
        h("strong", {}, "Upload the backups first."),
        h("p", {}, "The Start step begins once every database's restore sequence is uploaded (step Upload)."),
        h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => ctx.go("upload") }, "Go to Upload"))));
      return;
    }
    if (view.started) {
      replace(body, h("div", { class: "alert info", testid: "start-done" },
        h("strong", {}, `The migration started in ${view.mode} mode.`),
        h("div", { class: "actions" }, h("button", { type: "button", class: "primary", id: "go-dashboard", onclick: () => ctx.go("dashboard") }, "Open the dashboard"))));
      return;
    }
    const accessOk = ctx.view()?.done.access ?? false;
    const radio = (value: MigrationMode, title: string, hint: string): HTMLElement => {
      const input = h("input", { type: "radio", name: "mode", id: `mode-${value}`, testid: `mode-${value}`, value, checked: mode === value });
      input.addEventListener("change", () => { mode = value; renderSummary(view); });
      return h("label", { class: "choice", for: `mode-${value}` }, input, h("span", {}, h("strong", {}, title), h("span", { class: "hint" }, hint)));
    };
    const summary = h("div", { class: "card", testid: "start-summary" });
    const renderSummary = (v: MigrationView): void => {
      const rows = v.databases.map((db) => h("tr", { testid: "summary-db", "data-name": db.name },
        h("th", { scope: "row" }, db.name),
        h("td", { class: "mono" }, db.folder),
        h("td", {}, String(db.files_total)),
        h("td", { class: "mono", testid: "summary-last-backup" }, mode === "autocomplete"
          ? `${db.last_backup ?? "—"} (preselected: the end of the chain)`
          : "chosen at cutover (new logs keep being shipped)")));
      replace(summary,
        h("h2", {}, "Summary"),
        h("dl", { class: "facts" },
          h("dt", {}, "Managed instance"), h("dd", { testid: "summary-instance" }, v.instance),
          h("dt", {}, "Container"), h("dd", { class: "mono wrap" }, v.container_url),
          h("dt", {}, "Mode"), h("dd", { testid: "summary-mode" }, mode === "autocomplete" ? "Autocomplete: LRS completes after the last backup" : "Continuous: you cut over on the Dashboard"),
          h("dt", {}, "Collation"), h("dd", {}, collation.value.trim() || "the instance's")),
        h("div", { class: "table-scroll" }, h("table", { class: "folders" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Database"), h("th", { scope: "col" }, "Folder"), h("th", { scope: "col" }, "Files"), h("th", { scope: "col" }, "Last backup"))),
          h("tbody", {}, ...rows))),
      );
    };
    collation.addEventListener("input", () => renderSummary(view));
    const start = h("button", { type: "button", class: "primary", id: "start-migration", testid: "start-migration", disabled: !accessOk && !!ctx.view()?.storage },
      "Start migration");
    start.addEventListener("click", async () => {
      start.disabled = true;
      replace(status, busy("Starting: the SAS is proven on each folder, then LRS starts each restore…"));
      try {
        const value = collation.value.trim();
        render(await startMigration({ mode, collation: value && value !== instanceCollation ? value : null }));
        replace(status);
        ctx.go("dashboard");
      } catch (err) {
        replace(status, errorBox("The migration did not start", asUiError(err)));
        start.disabled = false;
      }
    });
    renderSummary(view);
    replace(body,
      h("div", { class: "card" },
        h("fieldset", { class: "choices" }, h("legend", {}, "Mode"),
          radio("autocomplete", "Autocomplete", "LRS restores up to the last backup of each chain (preselected below) and brings the database online by itself. For a one-time move with downtime."),
          radio("continuous", "Continuous", "LRS keeps restoring the new log backups the app ships until you cut over on the Dashboard. For a short downtime.")),
        h("div", { class: "field-row" }, field("Collation", collation, instanceCollation ? `The instance's is ${instanceCollation}.` : "Empty: the instance's."))),
      summary,
      accessOk || !ctx.view()?.storage ? null : h("p", { class: "check-bad" }, "Check the access first (step Access): every line must be green."),
      h("div", { class: "actions" }, start),
    );
  };

  void (async () => {
    try {
      render(await migrationView());
    } catch (err) {
      replace(status, errorBox("The migration could not be read", asUiError(err)));
    }
  })();

  return h("section", { class: "page", id: "page-start", testid: "page-start", "aria-labelledby": "start-title" },
    h("h1", { id: "start-title", tabindex: -1 }, "Start the migration"),
    h("p", { class: "lead" }, "Choose how LRS finishes, check the summary, then start. Each database's restore starts on the managed instance."),
    body, status,
  );
}
