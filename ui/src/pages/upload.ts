// The Upload page: every database's restore sequence goes to its folder in the background (the
// engine's journal resumes half-sent files), with the whole upload and each database in real units,
// the throughput and an "about" estimate; pause, resume and cancel. After a restart of the app the
// same migration is shown again and Resume carries on where it stopped.

import {
  asUiError, cancelUpload, migrationView, pauseMigration, startUpload, type DatabaseRow,
  type MigrationView,
} from "../api.js";
import { busy, errorBox, h, replace } from "../dom.js";
import { followMigration } from "../follow.js";
import type { PageContext } from "../main.js";
import { formatEta, formatOf, formatRate, percentText } from "../progress.js";

export function uploadPage(ctx: PageContext): HTMLElement {
  const overall = h("div", { class: "card", testid: "upload-overall" });
  const list = h("div", { class: "card", testid: "upload-databases" });
  const status = h("div", { role: "status", "aria-live": "polite", testid: "upload-status" });
  const actions = h("div", { class: "actions" });
  const next = h("button", { type: "button", class: "primary", id: "next", testid: "next", disabled: true, onclick: () => ctx.next() }, "Next: Access");
  let confirming = false;
  let last: MigrationView | null = null;

  const act = async (label: string, what: () => Promise<unknown>): Promise<void> => {
    replace(status, busy(label));
    try {
      const result = await what();
      replace(status);
      if (result && typeof result === "object" && "plan_id" in result) render(result as MigrationView);
    } catch (err) {
      replace(status, errorBox("That did not work", asUiError(err)));
    }
  };

  const render = (view: MigrationView | null): void => {
    last = view;
    ctx.updateMigration(view);
    const dbs = ctx.view()?.databases ?? [];
    if (!view) {
      replace(overall,
        h("h2", {}, "Ready to upload"),
        dbs.length
          ? h("p", {}, `${dbs.length} database(s): ${dbs.map((d) => `${d.name} (${d.files_to_restore} files → ${d.folder})`).join(", ")}.`)
          : h("p", { class: "muted" }, "Choose the backups and the storage first (steps Backups and Storage)."));
      replace(list);
      replace(actions,
        h("button", { type: "button", class: "primary", id: "upload-start", testid: "upload-start", disabled: dbs.length === 0,
          onclick: () => void act("Preparing the upload…", startUpload) }, `Upload ${dbs.length === 1 ? "the database" : `${dbs.length} databases`}`));
      next.disabled = true;
      return;
    }
    const u = view.upload;
    const pct = u.total_bytes ? (100 * u.done_bytes) / u.total_bytes : view.uploaded ? 100 : 0;
    const running = view.activity === "uploading";
    const state = view.uploaded ? "Uploaded and verified" : running ? "Uploading" : view.paused ? "Paused" : "Not started";
    replace(overall,
      h("h2", {}, "All databases"),
      h("p", { class: "upload-state", testid: "upload-state", "data-state": view.uploaded ? "done" : running ? "running" : view.paused ? "paused" : "idle" }, state),
      bar(pct, "Whole upload"),
      h("p", { class: "progress-text", testid: "upload-totals" },
        `${formatOf(u.done_bytes, u.total_bytes)} · ${u.files_done} of ${u.files_total} files`,
        running && u.bytes_per_second > 0 ? ` · ${formatRate(u.bytes_per_second)} · ${formatEta(u.eta_seconds)}` : ""),
      view.last_error ? errorBox("The upload stopped", { code: "internal", message: view.last_error }) : null,
      h("p", { class: "hint" }, `Plan ${view.plan_id}, kept in ${view.plan_path}. Every file is checked after upload (Content-MD5); a paused or interrupted upload resumes with the blocks not sent yet.`),
    );
    replace(list, h("h2", {}, "Each database"), h("ul", { class: "upload-list" }, ...view.databases.map(dbLine)));
    const buttons: HTMLElement[] = [];
    if (running) {
      buttons.push(h("button", { type: "button", class: "secondary", id: "upload-pause", testid: "upload-pause",
        onclick: () => void act("Pausing…", pauseMigration) }, "Pause"));
    } else if (!view.uploaded) {
      buttons.push(h("button", { type: "button", class: "primary", id: "upload-resume", testid: "upload-resume",
        onclick: () => void act("Resuming the upload…", startUpload) }, view.paused ? "Resume" : "Upload"));
    }
    if (!view.started && !view.uploaded) {
      buttons.push(confirming
        ? h("span", { class: "confirm", testid: "cancel-confirm" },
          "Cancel this upload? What is uploaded stays in the container. ",
          h("button", { type: "button", class: "danger", id: "upload-cancel-yes", onclick: () => {
            confirming = false;
            void act("Cancelling…", async () => { await cancelUpload(); render(await migrationView()); });
          } }, "Yes, cancel the upload"),
          h("button", { type: "button", class: "secondary", id: "upload-cancel-no", onclick: () => { confirming = false; render(last); } }, "Keep it"))
        : h("button", { type: "button", class: "secondary", id: "upload-cancel", testid: "upload-cancel",
          onclick: () => { confirming = true; render(last); } }, "Cancel upload"));
    }
    replace(actions, ...buttons);
    next.disabled = !view.uploaded;
  };

  followMigration(render, status);

  return h("section", { class: "page", id: "page-upload", testid: "page-upload", "aria-labelledby": "upload-title" },
    h("h1", { id: "upload-title", tabindex: -1 }, "Upload the backups"),
    h("p", { class: "lead" },
      "Each database's restore sequence goes to its own folder in the container, one file after the other in restore order. " +
        "You can pause, resume and close the app: the upload carries on from where it was."),
    overall, actions, status, list,
    h("div", { class: "actions" }, next),
  );
}

/** A determinate bar (never backwards: it shows what the engine counted). */
export function bar(percent: number, label: string): HTMLElement {
  const p = Math.min(100, Math.max(0, percent));
  const fill = h("div", { class: "bar-fill" });
  // CSSOM, not a style attribute: the CSP allows no inline style.
  fill.style.width = `${p.toFixed(1)}%`;
  return h("div", { class: "bar", role: "progressbar", "aria-label": label, "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(p) }, fill);
}

function dbLine(db: DatabaseRow): HTMLElement {
  const pct = db.bytes_total ? (100 * db.bytes_uploaded) / db.bytes_total : db.files_total ? (100 * db.files_uploaded) / db.files_total : 0;
  const done = db.files_total > 0 && db.files_uploaded >= db.files_total;
  return h("li", { class: "upload-db", testid: "upload-db", "data-name": db.name, "data-status": db.status },
    h("div", { class: "upload-db-head" },
      h("strong", {}, db.name), h("span", { class: "muted" }, ` → ${db.folder}`),
      h("span", { class: `badge ${done ? "ok" : "busy"}` }, done ? "✓ uploaded" : db.status_text)),
    bar(pct, `Upload of ${db.name}`),
    h("p", { class: "progress-text" },
      `${formatOf(db.bytes_uploaded, db.bytes_total)} · ${db.files_uploaded} of ${db.files_total} files · ${percentText(pct)}`),
    db.uploading && db.current_file
      ? h("p", { class: "current-file", testid: "current-file" },
        `Uploading ${db.current_file}: ${formatOf(db.current_file_done, db.current_file_total)}`,
        db.bytes_per_second > 0 ? ` · ${formatRate(db.bytes_per_second)}` : "")
      : null,
    db.error ? h("p", { class: "check-bad" }, db.error) : null,
  );
}
