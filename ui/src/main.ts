// Entry point: owns which page is shown (the only app-wide view state) and the header navigation.

import { h, replace } from "./dom.js";
import { welcomePage } from "./pages/welcome.js";
import { backupsPage } from "./pages/backups.js";

type PageId = "welcome" | "backups";

const pages: Record<PageId, { title: string; build: (go: (page: PageId) => void) => HTMLElement }> = {
  welcome: { title: "Welcome", build: (go) => welcomePage(() => go("backups")) },
  backups: { title: "Backups", build: () => backupsPage() },
};

const built = new Map<PageId, HTMLElement>();

function show(page: PageId): void {
  const main = document.getElementById("main");
  if (!main) return;
  let el = built.get(page);
  if (!el) {
    el = pages[page].build(show);
    built.set(page, el);
  }
  replace(main, el);
  for (const link of document.querySelectorAll<HTMLButtonElement>("[data-page]")) {
    if (link.dataset["page"] === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${pages[page].title} · LRS Wizard`;
  el.querySelector<HTMLElement>("h1")?.focus();
}

function navigation(): HTMLElement {
  const items = (Object.keys(pages) as PageId[]).map((id, index) =>
    h("li", {},
      h("button", { type: "button", class: "nav-step", "data-page": id, id: `nav-${id}`, onclick: () => show(id) },
        h("span", { class: "nav-number", "aria-hidden": "true" }, index + 1),
        pages[id].title,
      ),
    ),
  );
  return h("nav", { "aria-label": "Wizard steps" }, h("ol", { class: "nav-steps" }, ...items));
}

function start(): void {
  const header = document.getElementById("header");
  if (header) {
    replace(header,
      h("div", { class: "brand" },
        h("img", { src: "icon.png", alt: "", width: 28, height: 28 }),
        h("span", {}, "LRS Wizard"),
      ),
      navigation(),
    );
  }
  show("welcome");
}

start();
