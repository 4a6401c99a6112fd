// Cutover and stop, the commit page of each database: the engine's gates in words (ready, nothing
// pending, the last backup restored), the last backup preselected, the database name typed, and
// buttons that say what they do: "Complete cutover", "Stop and delete the restoring database".
// The gates are checked again in Rust, on the folder itself, when the button is pressed.

import {
  asUiError, cutoverDatabases, migrationView, stopDatabases, watchMigration, type ActionOutcome, type DatabaseRow,
  type MigrationView,
} from "../api.js";
import { busy, errorBox, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";
import { statusTone } from "../progress.js";

interface Card {
  db: DatabaseRow;
  el: HTMLElement;
  status: HTMLElement;
  gate: HTMLElement;
  last: HTMLSelectElement;
  typed: HTMLInputElement;
  confirm: HTMLInputElement;
  stop: HTMLButtonElement;
}

export function cutoverPage(ctx: PageContext): HTMLElement {
  const list = h("div", { testid: "cutover-list" });
  const outcomes = h("div", { role: "status", "aria-live": "polite", testid: "cutover-outcomes" });
  const complete = h("button", { type: "button", class: "primary", id: "complete-cutover", testid: "complete-cutover", disabled: true }, "Complete cutover");
  const cards = new Map<string, Card>();
  const intent = ctx.intent();

  const ready = (c: Card): boolean => c.db.cutover_blocked === null && c.typed.value.trim() === c.db.name && c.confirm.checked;
  const refresh = (): void => {
    const open = [...cards.values()].filter((c) => c.db.cutover_blocked === null);
    complete.disabled = open.length === 0 || !open.every(ready);
    for (const c of cards.values()) c.stop.disabled = !c.db.can_stop || c.typed.value.trim() !== c.db.name;
  };

  const card = (db: DatabaseRow): Card => {
    const status = h("span", { class: `badge ${statusTone(db.status)}`, testid: "cutover-status" }, db.status_text);
    const gate = h("p", { testid: "cutover-gate" });
    const last = h("select", { id: `last-${db.name}`, testid: "last-backup" });
    const typed = h("input", { type: "text", id: `typed-${db.name}`, testid: "typed-name", autocomplete: "off", spellcheck: "false" });
    const confirm = h("input", { type: "checkbox", id: `confirm-${db.name}`, testid: "confirm-no-more-logs" });
    const stop = h("button", { type: "button", class: "danger", id: `stop-${db.name}`, testid: "stop-database", disabled: true },
      "Stop and delete the restoring database");
    typed.addEventListener("input", refresh);
    confirm.addEventListener("change", refresh);
    const el = h("div", { class: "card cutover-card", testid: "cutover-db", "data-name": db.name, "data-status": db.status },
      h("div", { class: "database-header" }, h("h2", {}, db.name), status),
      gate,
      h("div", { class: "field-row" },
        h("div", { class: "field" }, h("label", { for: `last-${db.name}` }, "Last backup"), last,
          h("p", { class: "hint" }, "Preselected: the last backup shipped and restored. Completing on an earlier one would lose the transactions after it.")),
        h("div", { class: "field" }, h("label", { for: `typed-${db.name}` }, `Type ${db.name} to confirm`), typed)),
      h("label", { class: "choice", for: `confirm-${db.name}` }, confirm,
        h("span", {}, "I confirm no more log backups will be taken of this database (the application is stopped).")),
      h("div", { class: "actions" }, stop),
    );
    const c: Card = { db, el, status, gate, last, typed, confirm, stop };
    stop.addEventListener("click", () => void run(`Stopping ${db.name} and deleting its restoring copy…`, async () =>
      stopDatabases([{ database: db.name, typed_name: typed.value }])));
    update(c, db);
    return c;
  };

  const update = (c: Card, db: DatabaseRow): void => {
    const options = db.shipped.length ? db.shipped : db.last_backup ? [db.last_backup] : [];
    if (c.last.options.length !== options.length) {
      replace(c.last, ...options.map((name) => h("option", { value: name }, name)));
      c.last.value = db.last_backup ?? "";
    }
    c.db = db;
    c.el.dataset["status"] = db.status;
    c.status.className = `badge ${statusTone(db.status)}`;
    c.status.textContent = db.status_text;
    replace(c.gate, db.cutover_blocked === null
      ? h("span", { class: "check-ok" }, `✓ Gates pass: the last backup (${db.last_backup ?? "—"}) is restored, 0 log backups pending.`)
      : h("span", { class: db.status === "Completed" ? "check-ok" : "check-bad" }, db.cutover_blocked));
    refresh();
  };

  const render = (view: MigrationView | null): void => {
    ctx.updateMigration(view);
    if (!view || !view.started) {
      replace(list, h("div", { class: "alert info" }, "No migration has started yet (step Start)."));
      return;
    }
    const chosen = ctx.selection();
    const shown = view.databases.filter((d) => chosen.length ? chosen.includes(d.name) : d.cutover_blocked === null || d.status === "CuttingOver");
    if (cards.size === 0) {
      for (const db of shown) cards.set(db.name, card(db));
      replace(list, ...(cards.size ? [...cards.values()].map((c) => c.el)
        : [h("p", { class: "muted", testid: "cutover-none" }, "No database is ready for cutover. Select rows on the Dashboard to stop them.")]));
    } else {
      for (const db of view.databases) {
        const c = cards.get(db.name);
        if (c) update(c, db);
      }
    }
  };

  const run = async (label: string, what: () => Promise<ActionOutcome[]>): Promise<void> => {
    replace(outcomes, busy(label));
    complete.disabled = true;
    try {
      const results = await what();
      replace(outcomes, h("ul", { class: "checks" }, ...results.map((o) =>
        h("li", { class: `check ${o.ok ? "pass" : "fail"}`, testid: "outcome", "data-name": o.database, "data-ok": String(o.ok) },
          h("span", { class: "check-mark", "aria-hidden": "true" }, o.ok ? "✓" : "✕"),
          h("span", { class: "check-body" }, h("strong", {}, `${o.database}: `), o.message)))));
      render(await migrationView());
    } catch (err) {
      replace(outcomes, errorBox("That did not work", asUiError(err)));
    } finally {
      refresh();
    }
  };

  complete.addEventListener("click", () => {
    const requests = [...cards.values()].filter((c) => c.db.cutover_blocked === null)
      .map((c) => ({ database: c.db.name, last_backup: c.last.value || null, typed_name: c.typed.value }));
    void run("Asking LRS to complete the cutover…", () => cutoverDatabases(requests));
  });

  void (async () => {
    try {
      render(await migrationView());
      await watchMigration(render);
    } catch (err) {
      replace(outcomes, errorBox("The migration could not be read", asUiError(err)));
    }
  })();

  return h("section", { class: "page", id: "page-cutover", testid: "page-cutover", "aria-labelledby": "cutover-title" },
    h("h1", { id: "cutover-title", tabindex: -1 }, intent === "stop" ? "Stop databases" : "Cut over"),
    h("p", { class: "lead" },
      "Cutover brings each database online on the managed instance after its last backup; the application then connects there. " +
        "Stop ends a restore and deletes the restoring database from the instance. Neither can be undone."),
    list,
    h("div", { class: "actions" }, complete),
    outcomes,
  );
}
