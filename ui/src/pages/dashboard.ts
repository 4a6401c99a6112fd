// The Dashboard: one row per database (status, current file, counts, percent, a progress chart over
// time, the block reason or error in plain language), continuous shipping on or off, and bulk
// actions on the selected rows (cut over, stop: both go to the Cutover page, which holds the gates).

import { asUiError, resumeMigration, setShipping, type DatabaseRow, type MigrationView } from "../api.js";
import { busy, errorBox, h, replace } from "../dom.js";
import { followMigration } from "../follow.js";
import type { PageContext } from "../main.js";
import { chartPath, keepSelected, percentText, statusTone, type Sample } from "../progress.js";
import { bar } from "./upload.js";

const SVG = "http://www.w3.org/2000/svg";

export function dashboardPage(ctx: PageContext): HTMLElement {
  const toolbar = h("div", { class: "toolbar", testid: "dashboard-toolbar" });
  const summary = h("p", { class: "summary", testid: "dashboard-summary", "aria-live": "polite" });
  const table = h("div", { class: "table-scroll" });
  const status = h("div", { role: "status", "aria-live": "polite", testid: "dashboard-status" });
  let selected: string[] = [...ctx.selection()];

  const act = async (label: string, what: () => Promise<MigrationView>): Promise<void> => {
    replace(status, busy(label));
    try {
      render(await what());
      replace(status);
    } catch (err) {
      replace(status, errorBox("That did not work", asUiError(err)));
    }
  };

  const render = (view: MigrationView | null): void => {
    ctx.updateMigration(view);
    if (!view || !view.started) {
      replace(toolbar);
      replace(summary);
      replace(table, h("div", { class: "alert info", testid: "dashboard-empty" },
        h("strong", {}, "No migration is running yet."), h("p", {}, "Start it on the Start step.")));
      return;
    }
    selected = keepSelected(selected, view.databases.map((d) => d.name));
    ctx.setSelection(selected);
    const counts = new Map<string, number>();
    for (const db of view.databases) counts.set(db.status_text, (counts.get(db.status_text) ?? 0) + 1);
    replace(summary, `${view.instance} · ${view.mode} mode · `,
      [...counts].map(([text, n]) => `${n} ${text.toLowerCase()}`).join(" · "),
      view.activity === "running" ? " · following" : " · not followed now");
    const shipping = h("input", { type: "checkbox", id: "shipping", testid: "shipping", checked: view.shipping, disabled: view.mode !== "continuous" });
    shipping.addEventListener("change", () => void act(shipping.checked ? "Turning shipping on…" : "Turning shipping off…", () => setShipping(shipping.checked)));
    const focused = document.activeElement?.id;
    const some = selected.length > 0;
    replace(toolbar,
      h("label", { class: "toggle", for: "shipping" }, shipping,
        view.mode === "continuous" ? " Ship new log backups (continuous)" : " Ship new log backups (continuous mode only)"),
      h("span", { class: "toolbar-gap" }),
      h("span", { class: "muted", testid: "selected-count" }, some ? `${selected.length} selected` : "Select rows for bulk actions"),
      h("button", { type: "button", class: "primary", id: "bulk-cutover", testid: "bulk-cutover", disabled: !some,
        onclick: () => { ctx.setSelection(selected); ctx.setIntent("cutover"); ctx.go("cutover"); } }, "Cut over selected…"),
      h("button", { type: "button", class: "secondary", id: "bulk-stop", testid: "bulk-stop", disabled: !some,
        onclick: () => { ctx.setSelection(selected); ctx.setIntent("stop"); ctx.go("cutover"); } }, "Stop selected…"),
      view.activity === "idle" && !view.finished
        ? h("button", { type: "button", class: "secondary", id: "resume", testid: "resume", onclick: () => void act("Following again…", resumeMigration) }, "Resume following")
        : null,
    );
    const all = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select every database", checked: selected.length === view.databases.length });
    all.addEventListener("change", () => { selected = all.checked ? view.databases.map((d) => d.name) : []; render(view); });
    replace(table, h("table", { class: "dashboard", testid: "dashboard-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, all), h("th", { scope: "col" }, "Database"), h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Current file"), h("th", { scope: "col" }, "Files"), h("th", { scope: "col" }, "Progress"),
        h("th", { scope: "col" }, "Over time"))),
      h("tbody", {}, ...view.databases.map((db) => row(db, selected.includes(db.name), (on) => {
        selected = on ? [...selected, db.name] : selected.filter((s) => s !== db.name);
        render(view);
      })))));
    if (view.last_error) replace(status, errorBox("The run stopped", { code: "internal", message: view.last_error }));
    if (focused) document.getElementById(focused)?.focus();
  };

  followMigration(render, status);

  return h("section", { class: "page wide", id: "page-dashboard", testid: "page-dashboard", "aria-labelledby": "dashboard-title" },
    h("h1", { id: "dashboard-title", tabindex: -1 }, "Dashboard"),
    h("p", { class: "lead" }, "Every database's restore on the managed instance. Leave it open: it follows the restores and ships new log backups until you cut over."),
    summary, toolbar, status, table,
  );
}

function row(db: DatabaseRow, checked: boolean, onToggle: (on: boolean) => void): HTMLElement {
  const box = h("input", { type: "checkbox", id: `select-${db.name}`, testid: "select-row", "aria-label": `Select ${db.name}`, checked });
  box.addEventListener("change", () => onToggle(box.checked));
  const problem = db.error ?? db.halted;
  return h("tr", { testid: "db-row", "data-name": db.name, "data-status": db.status },
    h("td", {}, box),
    h("th", { scope: "row" }, db.name, h("span", { class: "cell-sub mono" }, db.folder)),
    h("td", {},
      h("span", { class: `badge ${statusTone(db.status)}`, testid: "db-status" }, db.status_text),
      db.block ? h("span", { class: "cell-sub block", testid: "db-block" }, `Blocked: ${db.block.meaning ?? db.block.reason}`, db.block.fix ? ` Fix: ${db.block.fix}` : "") : null,
      problem ? h("span", { class: "cell-sub check-bad", testid: "db-problem" }, problem) : null,
      db.pending.length ? h("span", { class: "cell-sub" }, `${db.pending.length} backup(s) waiting: ${db.pending.join(", ")}`) : null),
    h("td", { class: "mono wrap", testid: "db-current" }, db.current_file ?? (db.last_restored_file ? `restored up to ${db.last_restored_file}` : "—")),
    h("td", { class: "nowrap", testid: "db-counts" }, `${db.files_uploaded}/${db.files_total} uploaded`, h("br", {}),
      `${db.files_restored ?? 0}/${db.files_total} restored`),
    h("td", { class: "progress-cell" }, bar(db.percent, `Progress of ${db.name}`), h("span", { class: "cell-sub", testid: "db-percent" }, percentText(db.percent))),
    h("td", {}, chart(db.samples, db.name)),
  );
}

/** An inline SVG line of the database's percent over time. */
function chart(samples: Sample[], name: string): SVGElement {
  const width = 160;
  const height = 40;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("data-testid", "db-chart");
  svg.setAttribute("data-points", String(samples.length));
  const last = samples[samples.length - 1];
  const title = document.createElementNS(SVG, "title");
  title.textContent = last ? `${name}: ${percentText(last.percent)} over ${samples.length} samples` : `${name}: no progress yet`;
  svg.appendChild(title);
  const frame = document.createElementNS(SVG, "rect");
  for (const [k, v] of [["x", "0"], ["y", "0"], ["width", String(width)], ["height", String(height)], ["class", "chart-frame"]]) frame.setAttribute(k!, v!);
  svg.appendChild(frame);
  const d = chartPath(samples, width, height);
  if (d) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("class", "chart-line");
    svg.appendChild(path);
  }
  return svg;
}
