// The audit log: every action of the migration (who, what, where, the request id), newest last,
// exported as JSON lines or CSV through the native save dialog or into a folder typed here.

import { asUiError, auditLog, exportAudit, exportAuditTo } from "../api.js";
import type { AuditFormat } from "../bindings/AuditFormat";
import type { AuditRow } from "../bindings/AuditRow";
import { busy, errorBox, field, h, replace } from "../dom.js";
import { formatUtc } from "../format.js";

export function auditPage(): HTMLElement {
  const table = h("div", { class: "table-scroll", testid: "audit-table" });
  const status = h("div", { role: "status", "aria-live": "polite", testid: "audit-status" });
  const format = h("select", { id: "audit-format", testid: "audit-format" },
    h("option", { value: "jsonl" }, "JSON lines (.jsonl)"), h("option", { value: "csv" }, "CSV (.csv)"));
  const folder = h("input", { type: "text", id: "audit-folder", testid: "audit-folder", spellcheck: "false", autocomplete: "off", placeholder: "/home/me/reports" });

  const act = async (label: string, what: () => Promise<string | null>): Promise<void> => {
    replace(status, busy(label));
    try {
      const path = await what();
      replace(status, path ? h("p", { class: "ok-line", testid: "audit-saved" }, `Saved to ${path}`) : h("p", { class: "muted" }, "Not saved."));
    } catch (err) {
      replace(status, errorBox("The audit log was not saved", asUiError(err)));
    }
  };

  void (async () => {
    try {
      const rows = await auditLog();
      replace(table, rows.length ? h("table", { class: "files" },
        h("thead", {}, h("tr", {}, ...["Time (UTC)", "Who", "Action", "Database", "Outcome", "Detail"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, ...rows.map(line)))
        : h("p", { class: "muted" }, "Nothing yet: the log starts with the first upload."));
    } catch (err) {
      replace(table, errorBox("The audit log could not be read", asUiError(err)));
    }
  })();

  return h("section", { class: "page wide", id: "page-audit", testid: "page-audit", "aria-labelledby": "audit-title" },
    h("h1", { id: "audit-title", tabindex: -1 }, "Audit log"),
    h("p", { class: "lead" }, "Every action of the migration, with the time, the identity that acted and Azure's request id. No secret is ever written to it."),
    h("div", { class: "card" },
      h("div", { class: "inline-form" }, field("Format", format),
        h("button", { type: "button", class: "primary", id: "audit-save", testid: "audit-save",
          onclick: () => void act("Saving…", () => exportAudit(format.value as AuditFormat)) }, "Save as…")),
      h("div", { class: "inline-form" }, field("Or write it into this folder", folder),
        h("button", { type: "button", class: "secondary", id: "audit-write", testid: "audit-write",
          onclick: () => void act("Writing…", () => exportAuditTo(format.value as AuditFormat, folder.value.trim())) }, "Write into folder")),
      status),
    h("div", { class: "card" }, table),
  );
}

function line(r: AuditRow): HTMLElement {
  return h("tr", { testid: "audit-row", "data-action": r.action },
    h("td", { class: "nowrap" }, formatUtc(r.at_utc)),
    h("td", {}, r.identity),
    h("td", { class: "mono" }, r.action),
    h("td", {}, r.database ?? ""),
    h("td", {}, r.outcome),
    h("td", { class: "wrap" }, r.detail, r.request_id ? h("span", { class: "cell-sub mono" }, `request ${r.request_id}`) : null),
  );
}
