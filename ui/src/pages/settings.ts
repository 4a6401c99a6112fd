// Settings: extra clouds, the sign-in tenant and client id, and the upload concurrency. Saved by
// Rust as JSON in the app's config folder; no secret is ever part of them.

import { asUiError, getSettings, saveSettings, type Settings } from "../api.js";
import type { CustomCloud } from "../bindings/CustomCloud";
import { busy, errorBox, field, h, replace } from "../dom.js";
import type { PageContext } from "../main.js";

export function settingsPage(_ctx: PageContext): HTMLElement {
  const tenant = h("input", { id: "settings-tenant", type: "text", spellcheck: "false" });
  const client = h("input", { id: "settings-client-id", type: "text", spellcheck: "false" });
  const concurrency = h("input", { id: "settings-concurrency", type: "number", min: 1, max: 64 });
  const clouds = h("tbody", {});
  const status = h("div", { role: "status", "aria-live": "polite", testid: "settings-status" });

  const cloudRow = (c: CustomCloud): HTMLElement => {
    const cell = (name: keyof CustomCloud, value: string | null, label: string) =>
      h("td", {}, h("input", { type: "text", "data-field": name, value: value ?? "", "aria-label": label, spellcheck: "false" }));
    const row = h("tr", { testid: "cloud-row" },
      cell("name", c.name, "Cloud name"), cell("arm_endpoint", c.arm_endpoint, "ARM endpoint"),
      cell("authority_host", c.authority_host, "Sign-in authority (optional)"), cell("audience", c.audience, "Token audience (optional)"));
    row.appendChild(h("td", {}, h("button", { type: "button", class: "secondary small", onclick: () => row.remove() }, "Remove")));
    return row;
  };
  const readClouds = (): CustomCloud[] =>
    [...clouds.querySelectorAll("tr")].map((row) => {
      const get = (name: string): string => row.querySelector<HTMLInputElement>(`[data-field="${name}"]`)?.value.trim() ?? "";
      return { name: get("name"), arm_endpoint: get("arm_endpoint"), authority_host: get("authority_host") || null, audience: get("audience") || null };
    });

  const fill = (s: Settings): void => {
    tenant.value = s.tenant_id;
    client.value = s.client_id;
    concurrency.value = String(s.upload_concurrency);
    replace(clouds, ...s.clouds.map(cloudRow));
  };
  const save = async (): Promise<void> => {
    replace(status, busy("Saving…"));
    try {
      const settings: Settings = {
        tenant_id: tenant.value.trim(), client_id: client.value.trim(),
        upload_concurrency: Number(concurrency.value), clouds: readClouds(),
      };
      fill(await saveSettings(settings));
      replace(status, h("p", { class: "ok-line", testid: "settings-saved" }, "Saved."));
    } catch (err) {
      replace(status, errorBox("The settings were not saved", asUiError(err)));
    }
  };
  void getSettings().then(fill, (err) => replace(status, errorBox("The settings could not be read", asUiError(err))));

  return h("section", { class: "page", id: "page-settings", testid: "page-settings", "aria-labelledby": "settings-title" },
    h("h1", { id: "settings-title", tabindex: -1 }, "Settings"),
    h("form", { class: "form card", onsubmit: (e) => { e.preventDefault(); void save(); } },
      h("h2", {}, "Sign-in"),
      h("div", { class: "field-row" },
        field("Tenant", tenant, "'organizations', or your tenant id."),
        field("Client id", client, "The app registration for interactive sign-in (the README says how to register one).")),
      h("h2", {}, "Upload"),
      field("Blocks in flight", concurrency, "8 by default; more helps on a distant region, each costs one block of memory."),
      h("h2", {}, "Other clouds"),
      h("p", { class: "hint" }, "Azure Stack, a proxy, or the LRS emulator at a fixed address. http:// only on this machine."),
      h("table", { class: "clouds" },
        h("thead", {}, h("tr", {}, ...["Name", "ARM endpoint", "Sign-in authority", "Audience", ""].map((t) => h("th", { scope: "col" }, t)))),
        clouds),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => clouds.appendChild(cloudRow({ name: "", arm_endpoint: "https://", authority_host: null, audience: null })) }, "Add a cloud"),
        h("button", { type: "submit", class: "primary", id: "save-settings" }, "Save settings")),
      status),
  );
}
