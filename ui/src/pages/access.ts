// The Access page: the Read+List SAS LRS reads the backups with (generated here with the key in the
// keychain, or pasted), its window in UTC and local time, and the live check list: every rule green
// or red with its fix. Next stays disabled until every line is green.

import { asUiError, checkAccess, generateSas, pasteSas, type SessionView } from "../api.js";
import type { AccessCheck } from "../bindings/AccessCheck";
import { busy, errorBox, field, h, replace } from "../dom.js";
import { daysUntil, formatLocal, formatUtc, plural } from "../format.js";
import type { PageContext } from "../main.js";

export function accessPage(ctx: PageContext): HTMLElement {
  const sasBox = h("div", { class: "card", testid: "sas-card" });
  const checksBox = h("div", { class: "card", testid: "checks-card" });
  const status = h("div", { role: "status", "aria-live": "polite", testid: "access-status" });
  const next = h("button", { type: "button", class: "primary", id: "next", testid: "next", onclick: () => ctx.next() }, "Next: Start");

  const days = h("input", { id: "sas-days", testid: "sas-days", type: "number", min: 1, max: 365, value: 32 });
  const token = h("input", { id: "sas-token", testid: "sas-token", type: "password", autocomplete: "off", spellcheck: "false" });
  const generate = h("button", { type: "button", class: "primary", id: "generate-sas", testid: "generate-sas" }, "Generate a Read+List SAS");
  const usePasted = h("button", { type: "button", class: "secondary", id: "use-sas", testid: "use-sas" }, "Use this SAS");
  const check = h("button", { type: "button", class: "primary", id: "check-access", testid: "check-access" }, "Check access");
  const sasInfo = h("div", { testid: "sas-info" });

  const render = (view: SessionView): void => {
    ctx.update(view);
    const s = view.sas;
    replace(sasInfo, s
      ? h("dl", { class: "facts", testid: "sas-window" },
        h("dt", {}, "Source"), h("dd", {}, s.source === "generated" ? "Generated here with the account key" : "Pasted"),
        h("dt", {}, "Permissions"), h("dd", { class: "mono" }, s.permissions ?? "—"),
        h("dt", {}, "Valid from"), h("dd", {}, s.start_utc ? `${formatUtc(s.start_utc)} · ${formatLocal(s.start_utc)} local` : "—"),
        h("dt", {}, "Expires"), h("dd", { testid: "sas-expiry" }, s.expiry_utc
          ? `${formatUtc(s.expiry_utc)} · ${formatLocal(s.expiry_utc)} local (in ${plural(daysUntil(s.expiry_utc), "day")})` : "—"),
        h("dt", {}, "Kept in"), h("dd", { class: "mono" }, `the keychain, entry ${s.keychain_entry}`))
      : h("p", { class: "muted" }, "No SAS yet."));
    check.disabled = !s;
    renderChecks(view);
    next.disabled = !view.done.access;
  };

  const renderChecks = (view: SessionView): void => {
    const a = view.access;
    if (!a) {
      replace(checksBox, h("h2", {}, "Checks"), h("p", { class: "muted" }, "Run the checks once the SAS is there."));
      return;
    }
    const failed = a.checks.filter((c) => !c.passed).length;
    replace(checksBox,
      h("h2", {}, "Checks"),
      h("p", { class: failed ? "check-bad" : "check-ok", testid: "access-verdict", "data-accepted": String(a.accepted) },
        failed ? `${plural(failed, "check")} failed: LRS would refuse this SAS.` : `All ${a.checks.length} checks passed: LRS will accept this SAS until ${formatUtc(a.until_utc)}.`),
      h("ul", { class: "checks", testid: "checks" }, ...a.checks.map(checkLine)),
    );
  };

  const act = async (label: string, what: () => Promise<SessionView>): Promise<void> => {
    replace(status, busy(label));
    for (const b of [generate, usePasted, check]) b.disabled = true;
    try {
      render(await what());
      replace(status);
    } catch (err) {
      replace(status, errorBox("That did not work", asUiError(err)));
    } finally {
      generate.disabled = false;
      usePasted.disabled = false;
      check.disabled = !ctx.view()?.sas;
    }
  };
  generate.addEventListener("click", () => void act("Signing the SAS…", () => generateSas(Number(days.value))));
  usePasted.addEventListener("click", () => {
    const value = token.value;
    token.value = "";
    void act("Keeping the SAS…", () => pasteSas(value));
  });
  check.addEventListener("click", () => void act("Checking the SAS and proving it on each folder…", checkAccess));

  replace(sasBox,
    h("h2", {}, "The SAS LRS will use"),
    h("div", { class: "inline-form" }, field("Valid for (days)", days, "32 days: an LRS job lasts at most 30."), generate),
    h("div", { class: "inline-form" }, field("Or paste a SAS token", token, "Read and List only, on the whole container, without '?'."), usePasted),
    sasInfo,
    h("div", { class: "actions" }, check),
  );
  const view = ctx.view();
  if (view) render(view);
  else check.disabled = true;

  return h("section", { class: "page", id: "page-access", testid: "page-access", "aria-labelledby": "access-title" },
    h("h1", { id: "access-title", tabindex: -1 }, "Grant LRS read access"),
    h("p", { class: "lead" },
      "LRS reads the backups with a SAS token that allows exactly Read and List on the container. Each rule is checked, " +
        "then proven on every database folder: listing and reading must work, creating and deleting must be refused."),
    sasBox, status, checksBox,
    h("div", { class: "actions" }, next),
  );
}

function checkLine(c: AccessCheck): HTMLElement {
  return h("li", { class: `check ${c.passed ? "pass" : "fail"}`, testid: "check", "data-id": c.id, "data-scope": c.scope, "data-passed": String(c.passed) },
    h("span", { class: "check-mark", "aria-hidden": "true" }, c.passed ? "✓" : "✕"),
    h("span", { class: "check-body" },
      h("span", { class: "check-scope" }, c.scope === "token" ? "token" : `folder ${c.scope}`),
      h("span", { class: "sr-only" }, c.passed ? "passed: " : "failed: "),
      c.message,
      c.fix ? h("span", { class: "fix" }, h("strong", {}, " Fix: "), c.fix) : null),
  );
}
