// The Welcome page: what Log Replay Service does, what to have ready, and the two ways in:
// migrate to Azure, or rehearse the whole flow locally against emulators.

import { asUiError, beginAzure, beginRehearsal } from "../api.js";
import { busy, errorBox, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";

const checklist: Array<[string, string]> = [
  ["Backups taken WITH CHECKSUM", "A full backup, optionally a differential, then log backups, in one folder per database (the T-SQL helper writes the statements)."],
  ["An Azure Storage account", "A blob container the managed instance can reach, in the same region if possible."],
  ["A SAS token with Read and List only", "LRS reads the backups with it; it needs no other permission. The wizard can make one."],
  ["An Azure SQL Managed Instance", "And the rights to start a restore on it (Contributor or SQL Managed Instance Contributor)."],
];

const steps = [
  "Sign in and choose the managed instance.",
  "Check the backups on disk: every header read, the restore chain planned, the LRS rules checked.",
  "Choose the container and a folder per database; upload the backups.",
  "Grant the instance read access and prove it works.",
  "Start LRS, watch the restore, and cut over when you are ready.",
];

export function welcomePage(ctx: PageContext): HTMLElement {
  const status = h("div", { id: "welcome-status", testid: "welcome-status", role: "status", "aria-live": "polite" });
  const migrate = h("button", { type: "button", class: "primary", id: "start-migrate", testid: "start-migrate" }, "Migrate to Azure");
  const rehearse = h("button", { type: "button", class: "secondary", id: "start-rehearse", testid: "start-rehearse" }, "Rehearse locally");

  const run = async (what: "azure" | "rehearsal"): Promise<void> => {
    migrate.disabled = true;
    rehearse.disabled = true;
    replace(status, what === "rehearsal" ? busy("Starting the local Azure Storage emulator and LRS emulator, writing sample backups…") : null);
    try {
      ctx.update(what === "rehearsal" ? await beginRehearsal() : await beginAzure());
      replace(status);
      ctx.go("signin");
    } catch (err) {
      replace(status, errorBox(what === "rehearsal" ? "The rehearsal could not start" : "Could not start", asUiError(err)));
    } finally {
      migrate.disabled = false;
      rehearse.disabled = false;
    }
  };

  return h("section", { class: "page", id: "page-welcome", testid: "page-welcome", "aria-labelledby": "welcome-title" },
    h("h1", { id: "welcome-title", tabindex: -1 }, "Move SQL Server databases to Azure SQL Managed Instance"),
    h("p", { class: "lead" },
      "Log Replay Service (LRS) restores your own full, differential and log backups from Azure Blob Storage onto a " +
        "managed instance. This wizard takes you through it, and checks each step before you commit to it.",
    ),
    h("div", { class: "columns" },
      h("div", { class: "card" },
        h("h2", {}, "How it works"),
        h("ol", { class: "steps" }, ...steps.map((text) => h("li", {}, text))),
      ),
      h("div", { class: "card" },
        h("h2", {}, "Have these ready"),
        h("ul", { class: "checklist", testid: "checklist" },
          ...checklist.map(([title, detail]) => h("li", {}, h("strong", {}, title), h("span", {}, detail))),
        ),
      ),
    ),
    h("div", { class: "actions" }, withClick(migrate, () => run("azure")), withClick(rehearse, () => run("rehearsal"))),
    h("p", { class: "note" },
      "Rehearse locally runs Azurite (the Azure Storage emulator) and an LRS emulator on this machine, with sample " +
        "backups, so you can walk every step without an Azure account. It checks files, chain, layout and access; " +
        "it cannot show how fast a real managed instance restores.",
    ),
    status,
  );
}

function withClick(button: HTMLButtonElement, handler: () => void): HTMLButtonElement {
  button.addEventListener("click", handler);
  return button;
}
