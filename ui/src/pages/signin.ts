// "Sign in and target": the cloud and the sign-in (browser, device code, a service principal kept in
// the keychain, the Azure CLI; automatic in a rehearsal), then subscription → resource group →
// managed instance, each instance shown with region, tier, collation and state. View state only.

import {
  asUiError, getSettings, listClouds, listInstances, listResourceGroups, listSubscriptions, selectTarget, signIn,
  type InstanceItem, type SessionView, type SignInPrompt, type SignInRequest,
} from "../api.js";
import { busy, errorBox, field, h, replace, setOptions } from "../dom.js";
import type { PageContext } from "../main.js";

const methods: Array<[SignInRequest["method"], string, string]> = [
  ["browser", "Browser", "Opens your browser at the Microsoft sign-in page."],
  ["device_code", "Device code", "Shows a code to type at the sign-in page, on any device."],
  ["service_principal", "Service principal", "An app registration whose secret is kept in the keychain."],
  ["azure_cli", "Azure CLI", "Uses your `az login`."],
];

export function signInPage(ctx: PageContext): HTMLElement {
  const signInBox = h("div", { class: "card", testid: "sign-in" });
  const targetBox = h("div", { class: "card", testid: "target" });
  const next = h("button", { type: "button", class: "primary", id: "next", testid: "next", onclick: () => ctx.next() }, "Next: Backups");

  const refresh = (view: SessionView | null): void => {
    if (view) ctx.update(view);
    next.disabled = !(view?.done.signed_in && view?.done.target);
  };

  const renderSignedIn = (view: SessionView): void => {
    const s = view.sign_in;
    if (!s) return;
    replace(signInBox,
      h("h2", {}, "Signed in"),
      h("p", { testid: "signed-in" },
        view.mode === "rehearsal"
          ? "Signed in to the local LRS emulator as its service principal (automatic in a rehearsal)."
          : `Signed in to ${s.cloud} (${methodName(s.method)}), tenant ${s.tenant_id}.`),
      view.mode === "rehearsal" ? null
        : h("button", { type: "button", class: "secondary", onclick: () => renderForm() }, "Sign in again"),
    );
    void loadTargets(view);
  };

  const renderForm = (): void => {
    const cloud = h("select", { id: "cloud" });
    const tenant = h("input", { id: "tenant", type: "text", spellcheck: "false", autocomplete: "off" });
    const client = h("input", { id: "client-id", type: "text", spellcheck: "false", autocomplete: "off" });
    const secret = h("input", { id: "client-secret", type: "password", autocomplete: "off" });
    const secretField = field("Client secret", secret, "Leave empty when it is in the keychain already; it is kept there, never shown again.");
    const prompt = h("div", { role: "status", "aria-live": "polite", testid: "sign-in-prompt" });
    const radios = methods.map(([value, label, hint], i) =>
      h("label", { class: "choice" },
        h("input", { type: "radio", name: "method", value, checked: i === 0 }),
        h("span", {}, h("strong", {}, label), h("span", { class: "hint" }, hint)),
      ));
    const method = (): SignInRequest["method"] =>
      (signInBox.querySelector<HTMLInputElement>('input[name="method"]:checked')?.value ?? "browser") as SignInRequest["method"];
    const showSecret = (): void => { secretField.hidden = method() !== "service_principal"; };
    for (const r of radios) r.addEventListener("change", showSecret);
    const submit = h("button", { type: "submit", class: "primary", id: "sign-in-button" }, "Sign in");
    const form = h("form", { class: "form", onsubmit: (e) => { e.preventDefault(); void go(); } },
      field("Cloud", cloud),
      h("fieldset", { class: "choices" }, h("legend", {}, "How to sign in"), ...radios),
      field("Tenant", tenant, "A tenant id, or 'organizations' for any work account."),
      field("Client id", client, "The app registration used to sign in (Settings has the default)."),
      secretField,
      h("div", { class: "actions" }, submit),
      prompt,
    );
    const go = async (): Promise<void> => {
      submit.disabled = true;
      replace(prompt, busy("Signing in…"));
      const request: SignInRequest = {
        cloud: cloud.value, method: method(), tenant_id: tenant.value, client_id: client.value,
        client_secret: secret.value ? secret.value : null,
      };
      secret.value = "";
      try {
        const view = await signIn(request, (p) => replace(prompt, promptView(p)));
        refresh(view);
        renderSignedIn(view);
      } catch (err) {
        replace(prompt, errorBox("Sign-in failed", asUiError(err)));
      } finally {
        submit.disabled = false;
      }
    };
    replace(signInBox, h("h2", {}, "Sign in to Azure"), form);
    showSecret();
    void (async () => {
      try {
        const [clouds, settings] = await Promise.all([listClouds(), getSettings()]);
        setOptions(cloud, clouds.map((c) => [c.name, `${c.name} (${c.arm_endpoint})`]));
        tenant.value = settings.tenant_id;
        client.value = settings.client_id;
      } catch (err) {
        replace(prompt, errorBox("Settings could not be read", asUiError(err)));
      }
    })();
  };

  const loadTargets = async (view: SessionView): Promise<void> => {
    const subscription = h("select", { id: "subscription", testid: "subscription" });
    const group = h("select", { id: "resource-group", testid: "resource-group", disabled: true });
    const list = h("div", { class: "instances", testid: "instances", role: "list" });
    const status = h("div", { role: "status", "aria-live": "polite" });
    replace(targetBox,
      h("h2", {}, "Target managed instance"),
      h("div", { class: "field-row" }, field("Subscription", subscription), field("Resource group", group)),
      list, status,
    );
    const preferred = view.rehearsal;
    const chosen = view.target;
    const fail = (title: string) => (err: unknown) => replace(status, errorBox(title, asUiError(err)));

    const loadInstances = async (): Promise<void> => {
      replace(list, busy("Reading the managed instances…"));
      try {
        const instances = await listInstances(subscription.value, group.value);
        replace(list, ...(instances.length
          ? instances.map((mi) => instanceCard(mi, chosen?.instance.name === mi.name, () => void choose(mi)))
          : [h("p", { class: "muted" }, "No managed instance in this resource group.")]));
      } catch (err) {
        replace(list);
        fail("The managed instances could not be listed")(err);
      }
    };
    const loadGroups = async (): Promise<void> => {
      group.disabled = true;
      try {
        const groups = await listResourceGroups(subscription.value);
        setOptions(group, groups.map((g) => [g.name, `${g.name} (${g.location})`]));
        const pick = chosen?.instance.resource_group ?? preferred?.resource_group;
        if (pick && groups.some((g) => g.name === pick)) group.value = pick;
        group.disabled = false;
        await loadInstances();
      } catch (err) {
        fail("The resource groups could not be listed")(err);
      }
    };
    const choose = async (mi: InstanceItem): Promise<void> => {
      replace(status, busy(`Reading ${mi.name}…`));
      try {
        const v = await selectTarget({ subscription_id: subscription.value, resource_group: mi.resource_group, instance: mi.name });
        refresh(v);
        replace(status, h("p", { class: "ok-line", testid: "target-chosen" }, `Target: ${mi.name} (${mi.location}).`));
        for (const card of list.querySelectorAll<HTMLElement>("[data-testid=instance]")) {
          card.setAttribute("aria-pressed", String(card.dataset["name"] === mi.name));
        }
      } catch (err) {
        fail("The instance could not be chosen")(err);
      }
    };
    subscription.addEventListener("change", () => void loadGroups());
    group.addEventListener("change", () => void loadInstances());
    try {
      const subs = await listSubscriptions();
      setOptions(subscription, subs.map((s) => [s.id, `${s.name} (${s.id})`]));
      const pick = chosen?.subscription_id ?? preferred?.subscription_id;
      if (pick && subs.some((s) => s.id === pick)) subscription.value = pick;
      await loadGroups();
    } catch (err) {
      fail("The subscriptions could not be listed")(err);
    }
  };

  const view = ctx.view();
  refresh(view);
  if (view?.sign_in) renderSignedIn(view);
  else renderForm();

  return h("section", { class: "page", id: "page-signin", testid: "page-signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title", tabindex: -1 }, "Sign in and choose the target"),
    h("p", { class: "lead" }, "The managed instance the databases are restored to. Nothing is changed on it until you start the migration."),
    signInBox, targetBox,
    h("div", { class: "actions" }, next),
  );
}

function instanceCard(mi: InstanceItem, pressed: boolean, onclick: () => void): HTMLElement {
  const fact = (label: string, value: string | number | null) =>
    h("span", { class: "fact" }, h("span", { class: "fact-label" }, label), String(value ?? "—"));
  return h("button", {
    type: "button", class: "instance", role: "listitem", testid: "instance", "data-name": mi.name,
    "aria-pressed": String(pressed), onclick,
  },
    h("strong", { class: "instance-name" }, mi.name),
    h("span", { class: `state ${mi.state === "Ready" ? "ok" : ""}` }, mi.state ?? "unknown state"),
    h("span", { class: "facts-inline" },
      fact("Region", mi.location), fact("Tier", mi.tier), fact("vCores", mi.vcores), fact("Collation", mi.collation)),
  );
}

function promptView(prompt: SignInPrompt): HTMLElement {
  if (prompt.kind === "device_code") {
    return h("div", { class: "alert info", testid: "device-code" },
      h("p", {}, "Go to ", h("code", {}, prompt.verification_uri), " and enter the code:"),
      h("p", { class: "big-code" }, prompt.user_code),
      h("p", { class: "hint" }, `The code expires in ${Math.round(prompt.expires_in_seconds / 60)} minutes. Waiting for you…`));
  }
  return h("div", { class: "alert info" },
    h("p", {}, prompt.opened ? "Your browser opened the sign-in page. Waiting for you…" : "Open this address in your browser:"),
    prompt.opened ? null : h("p", { class: "mono wrap" }, prompt.url));
}

function methodName(method: SignInRequest["method"]): string {
  return methods.find(([value]) => value === method)?.[1] ?? method;
}
