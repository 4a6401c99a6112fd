// The T-SQL helper: the statements to run on the source server, built in Rust (lrs-core::tsql),
// shown and copied here. Backups to disk WITH CHECKSUM in a folder per database, or straight to the
// container with CREATE CREDENTIAL + BACKUP TO URL.

import { asUiError, tsqlScript, type TsqlRequest } from "../api.js";
import { errorBox, field, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";

export function tsqlPage(ctx: PageContext): HTMLElement {
  const view = ctx.view();
  const databases = h("textarea", { id: "tsql-databases", testid: "tsql-databases", rows: 3, spellcheck: "false" });
  databases.value = (view?.databases.map((d) => d.name) ?? []).join("\n");
  const kind = h("select", { id: "tsql-kind", testid: "tsql-kind" },
    h("option", { value: "full" }, "Full"), h("option", { value: "differential" }, "Differential"), h("option", { value: "log" }, "Log"));
  const toDisk = h("input", { type: "radio", name: "tsql-target", value: "disk", id: "tsql-disk", checked: true });
  const toUrl = h("input", { type: "radio", name: "tsql-target", value: "url", id: "tsql-url" });
  const folder = h("input", { id: "tsql-folder", testid: "tsql-folder", type: "text", value: "D:\\LRS", spellcheck: "false" });
  const url = h("input", { id: "tsql-container", type: "text", value: view?.storage?.container_url ?? "", spellcheck: "false",
    placeholder: "https://ACCOUNT.blob.core.windows.net/CONTAINER" });
  const out = h("div", { testid: "tsql-output" });

  const generate = async (): Promise<void> => {
    const request: TsqlRequest = {
      databases: databases.value.split(/[\n,]/).map((d) => d.trim()).filter(Boolean),
      backup_type: kind.value as TsqlRequest["backup_type"],
      target: toUrl.checked ? { kind: "url", container_url: url.value } : { kind: "disk", folder: folder.value },
    };
    try {
      const script = await tsqlScript(request);
      const code = h("textarea", { class: "code", testid: "tsql-sql", readonly: true, rows: Math.min(30, script.sql.split("\n").length + 1), spellcheck: "false", "aria-label": "T-SQL script" });
      code.value = script.sql;
      const copied = h("span", { role: "status", "aria-live": "polite", class: "hint" });
      const copy = h("button", { type: "button", class: "secondary", id: "tsql-copy", onclick: async () => {
        try {
          await navigator.clipboard.writeText(script.sql);
        } catch {
          code.select();
          document.execCommand("copy");
        }
        copied.textContent = "Copied.";
      } }, "Copy");
      replace(out, h("div", { class: "actions" }, copy, copied), code,
        h("ul", { class: "notes" }, ...script.notes.map((n) => h("li", {}, n))));
    } catch (err) {
      replace(out, errorBox("No script", asUiError(err)));
    }
  };

  return h("section", { class: "page", id: "page-tsql", testid: "page-tsql", "aria-labelledby": "tsql-title" },
    h("h1", { id: "tsql-title", tabindex: -1 }, "T-SQL for the source server"),
    h("p", { class: "lead" }, "Backups LRS can restore: WITH CHECKSUM, one backup set per file, one folder per database."),
    h("form", { class: "form card", onsubmit: (e) => { e.preventDefault(); void generate(); } },
      field("Databases (one per line)", databases),
      field("Backup", kind),
      h("fieldset", { class: "choices" }, h("legend", {}, "Where to"),
        h("label", { class: "choice", for: "tsql-disk" }, toDisk, h("span", {}, "To disk, then upload with the wizard")),
        h("label", { class: "choice", for: "tsql-url" }, toUrl, h("span", {}, "Straight to the container (BACKUP TO URL, SQL Server 2016+)"))),
      field("Folder on the server", folder),
      field("Container URL", url),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "tsql-generate", testid: "tsql-generate" }, "Write the script"))),
    out,
  );
}
