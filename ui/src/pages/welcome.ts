// The Welcome page: what Log Replay Service does, what to have ready, and the way in.

import { h } from "../dom.js";

const checklist: Array<[string, string]> = [
  ["Backups taken WITH CHECKSUM", "A full backup, optionally a differential, then log backups, in one folder per database."],
  ["An Azure Storage account", "A blob container the managed instance can reach, in the same region if possible."],
  ["A SAS token with Read and List only", "LRS reads the backups with it; it needs no other permission."],
  ["An Azure SQL Managed Instance", "And the rights to start a restore on it (Contributor or SQL Managed Instance Contributor)."],
];

const steps = [
  "Check the backups on disk: every header read, the restore chain planned, the LRS rules checked.",
  "Upload each database's backups to its own folder in the container.",
  "Grant the instance read access and prove it works.",
  "Start LRS, watch the restore, and cut over when you are ready.",
];

export function welcomePage(onStart: () => void): HTMLElement {
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
    h("div", { class: "actions" },
      h("button", { type: "button", class: "primary", id: "start-migrate", testid: "start-migrate", onclick: onStart }, "Migrate to Azure"),
      h("button", { type: "button", class: "secondary", id: "start-rehearse", testid: "start-rehearse", onclick: onStart }, "Rehearse locally"),
    ),
    h("p", { class: "note" },
      "Both start by checking your backups. The local rehearsal (against a storage emulator) is not in this version yet.",
    ),
  );
}
