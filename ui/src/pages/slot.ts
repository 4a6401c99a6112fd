// A reserved place in the wizard for a step that arrives with the migration engine (Upload, Start,
// Dashboard, Cutover): says what the step will do, so the order of the wizard is visible now.

import { h } from "../dom.js";
import type { PageContext } from "../main.js";

const purposes: Record<string, string> = {
  upload: "Upload each database's restore sequence to its folder, with per-file and overall progress, pause, resume and cancel.",
  start: "Choose autocomplete (with the last backup preselected) or continuous mode, review, and start the migration.",
  dashboard: "Follow every database's restore: status, current file, counts, progress over time, and blocking reasons in plain language.",
  cutover: "Complete the cutover behind its gates, or stop and delete the restoring database.",
};

export function slotPage(title: string, id: string): (ctx: PageContext) => HTMLElement {
  return () =>
    h("section", { class: "page", id: `page-${id}`, testid: `page-${id}`, "aria-labelledby": `${id}-title` },
      h("h1", { id: `${id}-title`, tabindex: -1 }, title),
      h("p", { class: "lead" }, purposes[id] ?? ""),
      h("div", { class: "alert info" }, "This step arrives with the migration engine in the next version."),
    );
}
