// The Storage page: the container (an account and a container from the subscription's lists, or a
// pasted container URL), where the account key is kept (fetched through Azure or pasted, into the
// keychain; never shown), and the folder each database goes to, checked against the LRS rules.

import {
  asUiError, fetchAccountKey, listContainers, listStorageAccounts, saveAccountKey, selectStorage, setFolder,
  type SessionView, type StorageAccountItem,
} from "../api.js";
import { busy, errorBox, field, h, replace, setOptions } from "../dom.js";
import type { PageContext } from "../main.js";

export function storagePage(ctx: PageContext): HTMLElement {
  const containerBox = h("div", { class: "card", testid: "container-card" });
  const keyBox = h("div", { class: "card", testid: "key-card" });
  const foldersBox = h("div", { class: "card", testid: "folders-card" });
  const next = h("button", { type: "button", class: "primary", id: "next", testid: "next", onclick: () => ctx.next() }, "Next");
  let accounts: StorageAccountItem[] = [];

  const render = (view: SessionView): void => {
    ctx.update(view);
    renderKey(view);
    renderFolders(view);
    next.disabled = !view.done.storage;
  };

  // The container.
  const account = h("select", { id: "storage-account", testid: "storage-account" });
  const container = h("input", { id: "container", testid: "container", type: "text", list: "container-names", spellcheck: "false", autocomplete: "off" });
  const names = h("datalist", { id: "container-names" });
  const url = h("input", { id: "container-url", testid: "container-url", type: "text", spellcheck: "false", autocomplete: "off",
    placeholder: "https://ACCOUNT.blob.core.windows.net/CONTAINER" });
  const containerStatus = h("div", { role: "status", "aria-live": "polite" });
  const useContainer = h("button", { type: "submit", class: "primary", id: "use-container", testid: "use-container" }, "Use this container");
  const chosenAccount = (): StorageAccountItem | null => accounts.find((a) => a.name === account.value) ?? null;

  const loadContainers = async (): Promise<void> => {
    const a = chosenAccount();
    replace(names);
    if (!a) return;
    try {
      const list = await listContainers(a);
      replace(names, ...list.map((c) => h("option", { value: c.name })));
    } catch {
      // Listing needs more rights than reading; the name can be typed.
    }
  };
  account.addEventListener("change", () => void loadContainers());

  const submitContainer = async (): Promise<void> => {
    useContainer.disabled = true;
    replace(containerStatus, busy("Checking the container…"));
    try {
      const typedUrl = url.value.trim();
      const view = await selectStorage(typedUrl
        ? { container_url: typedUrl, account: null, container: null }
        : { container_url: null, account: chosenAccount(), container: container.value.trim() });
      replace(containerStatus, h("p", { class: "ok-line", testid: "container-chosen" }, `Container: ${view.storage?.container_url ?? ""}`));
      render(view);
    } catch (err) {
      replace(containerStatus, errorBox("That container cannot be used", asUiError(err)));
    } finally {
      useContainer.disabled = false;
    }
  };

  replace(containerBox,
    h("h2", {}, "Container"),
    h("form", { class: "form", onsubmit: (e) => { e.preventDefault(); void submitContainer(); } },
      h("div", { class: "field-row" },
        field("Storage account", account),
        field("Container", container, "Its name must not contain 'backup'."), names),
      field("Or paste the container URL", url, "Without '?…': the SAS is given on the Access step."),
      h("div", { class: "actions" }, useContainer),
      containerStatus),
  );

  // The key.
  const renderKey = (view: SessionView): void => {
    const s = view.storage;
    if (!s) {
      replace(keyBox, h("h2", {}, "Account key"), h("p", { class: "muted" }, "Choose the container first."));
      return;
    }
    const keyInput = h("input", { id: "account-key", testid: "account-key", type: "password", autocomplete: "off", spellcheck: "false" });
    const keyStatus = h("div", { role: "status", "aria-live": "polite" });
    const act = async (what: () => Promise<SessionView>): Promise<void> => {
      replace(keyStatus, busy("Keeping the key in the keychain…"));
      try {
        render(await what());
      } catch (err) {
        replace(keyStatus, errorBox("The key could not be kept", asUiError(err)));
      }
    };
    replace(keyBox,
      h("h2", {}, "Account key"),
      s.key_saved
        ? h("p", { class: "ok-line", testid: "key-saved" }, `The key of ${s.account} is in the keychain (entry ${s.key_entry}).`)
        : h("p", {}, `The key of ${s.account} signs the SAS for LRS and the uploads. It is kept in the keychain only.`),
      h("div", { class: "actions" },
        h("button", { type: "button", class: s.key_saved ? "secondary" : "primary", id: "fetch-key", testid: "fetch-key",
          disabled: !s.arm_account, title: s.arm_account ? undefined : "Pick the account from the list to fetch its key",
          onclick: () => void act(fetchAccountKey) }, "Fetch the key through Azure"),
      ),
      h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); const k = keyInput.value; keyInput.value = ""; void act(() => saveAccountKey(k)); } },
        h("label", { for: "account-key" }, "Or paste it"), keyInput,
        h("button", { type: "submit", class: "secondary", id: "save-key" }, "Keep in keychain")),
      keyStatus,
    );
  };

  // The folders.
  const renderFolders = (view: SessionView): void => {
    if (view.databases.length === 0) {
      replace(foldersBox, h("h2", {}, "Folders"), h("p", { class: "muted" }, "Inspect the backups first (step Backups)."));
      return;
    }
    const rows = view.databases.map((db) => {
      const input = h("input", { type: "text", value: db.folder, id: `folder-${db.name}`, testid: "folder", "data-database": db.name,
        spellcheck: "false", autocomplete: "off", "aria-label": `Folder for ${db.name}` });
      input.addEventListener("change", async () => {
        try {
          render(await setFolder(db.name, input.value));
        } catch (err) {
          replace(foldersBox, errorBox("The folder could not be set", asUiError(err)));
        }
      });
      const ok = db.folder_problems.length === 0;
      return h("tr", { testid: "folder-row", "data-database": db.name },
        h("th", { scope: "row" }, db.name),
        h("td", {}, input),
        h("td", {}, ok
          ? h("span", { class: "check-ok" }, "✓ follows the LRS rules")
          : h("ul", { class: "problems" }, ...db.folder_problems.map((p) =>
            h("li", { class: "check-bad" }, p.problem, h("span", { class: "fix" }, ` Fix: ${p.fix}`))))),
      );
    });
    const base = view.storage?.container_url ?? "the container";
    replace(foldersBox,
      h("h2", {}, "A folder per database"),
      h("p", { class: "hint" }, `Each database's backups go to ${base}/FOLDER; LRS reads one flat folder per database.`),
      h("table", { class: "folders" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Database"), h("th", { scope: "col" }, "Folder"), h("th", { scope: "col" }, "Check"))),
        h("tbody", {}, ...rows)),
    );
  };

  const start = async (): Promise<void> => {
    const view = ctx.view();
    if (view) render(view);
    try {
      accounts = await listStorageAccounts();
      setOptions(account, accounts.map((a) => [a.name, `${a.name} (${a.resource_group}, ${a.location})`]), "Choose an account…");
      const s = view?.storage;
      const preferred = s?.account ?? view?.rehearsal?.storage_account;
      if (preferred && accounts.some((a) => a.name === preferred)) account.value = preferred;
      container.value = s?.container ?? view?.rehearsal?.container_url.split("/").pop() ?? "";
      await loadContainers();
    } catch (err) {
      const e = asUiError(err);
      setOptions(account, [], e.code === "not_signed_in" ? "Sign in to list the accounts" : "No list: paste the URL");
      replace(containerStatus, h("p", { class: "hint" }, `The accounts could not be listed (${e.message}). Paste the container URL instead.`));
    }
  };
  void start();

  return h("section", { class: "page", id: "page-storage", testid: "page-storage", "aria-labelledby": "storage-title" },
    h("h1", { id: "storage-title", tabindex: -1 }, "Where the backups go"),
    h("p", { class: "lead" }, "A Blob Storage container the managed instance can read, and one folder in it per database."),
    containerBox, keyBox, foldersBox,
    h("div", { class: "actions" }, next),
  );
}
