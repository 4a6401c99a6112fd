// Entry point: owns which page is shown and the last SessionView (the only app-wide view state),
// the step navigation, and the header (mode badge, tools). Pages get a PageContext.

import { asUiError, sessionView, type MigrationView, type SessionView } from "./api.js";
import { h, replace } from "./dom.js";
import { nextStep } from "./format.js";
import { accessPage } from "./pages/access.js";
import { auditPage } from "./pages/audit.js";
import { cutoverPage } from "./pages/cutover.js";
import { dashboardPage } from "./pages/dashboard.js";
import { startPage } from "./pages/start.js";
import { uploadPage } from "./pages/upload.js";
import { backupsPage } from "./pages/backups.js";
import { settingsPage } from "./pages/settings.js";
import { signInPage } from "./pages/signin.js";
import { storagePage } from "./pages/storage.js";
import { tsqlPage } from "./pages/tsql.js";
import { welcomePage } from "./pages/welcome.js";

export type PageId =
  | "welcome" | "signin" | "backups" | "storage" | "upload" | "access" | "start" | "dashboard" | "cutover"
  | "audit" | "tsql" | "settings";

/** What a page may do: move on, read and replace the session view. */
export interface PageContext {
  go(page: PageId): void;
  /** Shows the next step that exists. */
  next(): void;
  view(): SessionView | null;
  /** Keeps a view a command returned (updates the header and the step marks). */
  update(view: SessionView): void;
  /** Keeps the migration's last view (marks Upload, Start, Dashboard, Cutover as done). */
  updateMigration(view: MigrationView | null): void;
  /** The databases selected on the Dashboard, for the Cutover page. */
  selection(): string[];
  setSelection(names: string[]): void;
  /** What the Cutover page was opened for. */
  intent(): "cutover" | "stop";
  setIntent(intent: "cutover" | "stop"): void;
}

interface PageDef {
  title: string;
  /** Shown in the step list; tools are not steps. */
  step: boolean;
  /** False for a step that is not built (its place is shown, disabled). */
  available: boolean;
  build(ctx: PageContext): HTMLElement;
}

// The wizard's order (ux-reliability-anchors §1.1, §4). To add a page: write ui/src/pages/NAME.ts
// exporting a builder that takes the PageContext, and add it here.
const pages: Record<PageId, PageDef> = {
  welcome: { title: "Welcome", step: true, available: true, build: welcomePage },
  signin: { title: "Sign in and target", step: true, available: true, build: signInPage },
  backups: { title: "Backups", step: true, available: true, build: backupsPage },
  storage: { title: "Storage", step: true, available: true, build: storagePage },
  upload: { title: "Upload", step: true, available: true, build: uploadPage },
  access: { title: "Access", step: true, available: true, build: accessPage },
  start: { title: "Start", step: true, available: true, build: startPage },
  dashboard: { title: "Dashboard", step: true, available: true, build: dashboardPage },
  cutover: { title: "Cutover", step: true, available: true, build: cutoverPage },
  audit: { title: "Audit log", step: false, available: true, build: auditPage },
  tsql: { title: "T-SQL helper", step: false, available: true, build: tsqlPage },
  settings: { title: "Settings", step: false, available: true, build: settingsPage },
};

const order = Object.keys(pages) as PageId[];
let current: PageId = "welcome";
let lastView: SessionView | null = null;
let lastMigration: MigrationView | null = null;
let selected: string[] = [];
let intent: "cutover" | "stop" = "cutover";

const ctx: PageContext = {
  go: show,
  next() {
    const steps = order.filter((id) => pages[id].step).map((id) => ({ id, available: pages[id].available }));
    const next = nextStep(steps, current);
    if (next) show(next as PageId);
  },
  view: () => lastView,
  update(view) {
    lastView = view;
    renderMarks();
  },
  updateMigration(view) {
    lastMigration = view;
    renderMarks();
  },
  selection: () => selected,
  setSelection(names) {
    selected = [...names];
  },
  intent: () => intent,
  setIntent(value) {
    intent = value;
  },
};

function show(page: PageId): void {
  const main = document.getElementById("main");
  if (!main) return;
  // Cutover opened from the step list works on what is ready, not on an old selection.
  if (page === "cutover" && current !== "dashboard") {
    selected = [];
    intent = "cutover";
  }
  current = page;
  const el = pages[page].build(ctx);
  replace(main, el);
  renderMarks();
  document.title = `${pages[page].title} · LRS Wizard`;
  el.querySelector<HTMLElement>("h1")?.focus();
}

/** Which entry is current, which steps are done, and the mode badge. */
function renderMarks(): void {
  const done = lastView?.done;
  const isDone: Partial<Record<PageId, boolean>> = {
    signin: !!done?.signed_in && !!done?.target,
    backups: !!done?.backups,
    storage: !!done?.storage,
    access: !!done?.access,
    upload: !!lastMigration?.uploaded,
    start: !!lastMigration?.started,
    dashboard: !!lastMigration?.finished,
    cutover: !!lastMigration?.finished,
  };
  for (const link of document.querySelectorAll<HTMLButtonElement>("[data-page]")) {
    const id = link.dataset["page"] as PageId;
    if (id === current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    link.classList.toggle("done", !!isDone[id]);
  }
  const badge = document.getElementById("mode-badge");
  if (badge) {
    const rehearsal = lastView?.mode === "rehearsal";
    badge.hidden = !rehearsal;
    badge.textContent = rehearsal ? "Rehearsal · local emulators" : "";
  }
}

function navigation(): HTMLElement {
  const stepIds = order.filter((id) => pages[id].step);
  const items = stepIds.map((id, index) => {
    const page = pages[id];
    return h("li", {},
      h("button", {
        type: "button", class: "nav-step", "data-page": id, id: `nav-${id}`, disabled: !page.available,
        title: page.available ? undefined : "Arrives with the migration engine", onclick: () => show(id),
      },
        h("span", { class: "nav-number", "aria-hidden": "true" }, index === 0 ? "•" : index),
        h("span", { class: "nav-title" }, page.title),
        page.available ? null : h("span", { class: "nav-soon" }, "soon"),
      ),
    );
  });
  const tools = order.filter((id) => !pages[id].step).map((id) =>
    h("li", {}, h("button", { type: "button", class: "nav-step tool", "data-page": id, id: `nav-${id}`, onclick: () => show(id) },
      h("span", { class: "nav-title" }, pages[id].title))),
  );
  return h("nav", { class: "sidebar", "aria-label": "Wizard steps" },
    h("ol", { class: "nav-steps" }, ...items),
    h("p", { class: "nav-heading" }, "Tools"),
    h("ul", { class: "nav-steps" }, ...tools),
  );
}

async function start(): Promise<void> {
  const header = document.getElementById("header");
  if (header) {
    replace(header,
      h("div", { class: "brand" },
        h("img", { src: "icon.png", alt: "", width: 28, height: 28 }),
        h("span", {}, "LRS Wizard"),
      ),
      h("span", { id: "mode-badge", class: "mode-badge", testid: "mode-badge", hidden: true }),
    );
  }
  const layout = document.getElementById("layout");
  if (layout) layout.insertBefore(navigation(), layout.firstChild);
  try {
    ctx.update(await sessionView());
  } catch (err) {
    console.error(asUiError(err).message);
  }
  show("welcome");
}

void start();
