// WCAG 2.x AA contrast of ui/public/styles.css, as the README promises ("Text and controls meet
// WCAG AA contrast"). The pairs are derived from the rules, not listed as hex values:
// - a rule's text colour is its own `color`, else that of the closest less specific rule for the same
//   element (`.step.full .step-index` takes its white from `.step-index`), else the inherited body text;
// - its background is its own, else that of a less specific rule, else the background of an enclosing
//   element named in the selector (`.finding.warning .severity` sits on `.finding.warning`), else
//   every page surface: the root background and every box that sets a background but no text colour
//   (cards, the sidebar, tinted alerts, findings and checks).
// Normal text needs 4.5:1, large text 3:1 (only where a rule makes it large: 18pt, or 14pt bold),
// component boundaries and focus indicators 3:1 against what they sit on (WCAG 1.4.3, 1.4.11).
// Disabled controls are exempt: WCAG 1.4.3 and 1.4.11 do not apply to inactive components, so the
// `:disabled` rules (faded by opacity) are left out on purpose.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { compoundParts, compounds, contrast, firstColor, parseRules, resolveVars, rootVars } from "./wcag.mjs";

const stylesheet = new URL("../../ui/public/styles.css", import.meta.url);
const rules = parseRules(readFileSync(stylesheet, "utf8"));
const vars = rootVars(rules);
const root = rules.filter((r) => r.selector === ":root");

/** Boxes that set a background but never hold text, so text is not checked on them. */
const NO_TEXT = new Set([".bar-fill", ".spinner"]);

/** Rules whose borders are how the user finds a control or sees its state (WCAG 1.4.11). */
const COMPONENT_BORDERS = [
  "button.secondary",
  'input[type="text"]',
  ".picker-row input",
  '.instance[aria-pressed="true"]',
];

const value = (rule, prop) => (rule.decls[prop] === undefined ? undefined : resolveVars(rule.decls[prop], vars));
const isDisabled = (selector) => /:disabled/.test(selector.replace(/:not\([^)]*\)/g, ""));
const isSubset = (small, big) => small.every((p) => big.includes(p));
const lastOf = (rule) => compounds(rule.selector).at(-1);
const ancestorsOf = (rule) => compounds(rule.selector).slice(0, -1);
const rootColor = firstColor(value(root[0], "color"));
const rootBackground = firstColor(value(root[0], "background-color") ?? value(root[0], "background"));

function ownColor(rule) {
  return firstColor(value(rule, "color"));
}

function ownBackground(rule) {
  return firstColor(value(rule, "background-color") ?? value(rule, "background"));
}

/** Less specific rules for the same element: their last compound is part of this one's, and their
 * enclosing compounds are named in this selector too. Most specific (then latest) first. */
function bases(rule) {
  const last = lastOf(rule);
  const ancestors = ancestorsOf(rule);
  return rules
    .filter((r) => r !== rule && r.selector !== ":root" && !isDisabled(r.selector))
    .filter((r) => isSubset(lastOf(r), last) && ancestorsOf(r).every((a) => ancestors.some((b) => isSubset(a, b))))
    .sort((a, b) => lastOf(b).length - lastOf(a).length || b.index - a.index);
}

function resolved(rule, own) {
  const mine = own(rule);
  if (mine) return mine;
  for (const base of bases(rule)) if (own(base)) return own(base);
  return null;
}

/** Decorative pseudo-elements (`content: ""`) and boxes listed in NO_TEXT hold no text. */
function holdsText(rule) {
  if (NO_TEXT.has(rule.selector)) return false;
  const pseudo = lastOf(rule).some((p) => p === "::before" || p === "::after");
  return !(pseudo && /^(""|'')$/.test(value(rule, "content") ?? ""));
}

/** Every background text may sit on when nothing closer says: the root and every text-less-coloured box. */
const surfaces = (() => {
  const found = new Map([[":root", rootBackground]]);
  for (const r of rules) {
    if (r.selector === ":root" || isDisabled(r.selector) || !ownBackground(r) || !holdsText(r)) continue;
    if (!resolved(r, ownColor)) found.set(r.selector, ownBackground(r));
  }
  return found;
})();

/** The backgrounds behind `rule`: its own, a base's, an enclosing element's, or every surface. */
function backgroundsOf(rule) {
  const bg = resolved(rule, ownBackground);
  if (bg) return new Map([[rule.selector, bg]]);
  for (const ancestor of ancestorsOf(rule).reverse()) {
    const around = new Map();
    for (const r of rules) {
      if (!isDisabled(r.selector) && ownBackground(r) && isSubset(ancestor, lastOf(r))) around.set(r.selector, ownBackground(r));
    }
    if (around.size > 0) return around;
  }
  return surfaces;
}

/** Font size in px from a rule or its bases (rem and em against the root size), and boldness. */
function isLarge(rule) {
  const rootPx = parseFloat(value(root[0], "font-size") ?? "16");
  const chain = [rule, ...bases(rule)];
  const size = chain.map((r) => value(r, "font-size")).find((v) => v !== undefined);
  const weight = chain.map((r) => value(r, "font-weight")).find((v) => v !== undefined);
  if (!size) return false;
  const m = size.match(/^([\d.]+)(px|rem|em)$/);
  if (!m) return false;
  const px = m[2] === "px" ? Number(m[1]) : Number(m[1]) * rootPx;
  const bold = weight === "bold" || Number(weight) >= 700;
  return px >= 24 || (px >= 18.66 && bold);
}

/** Every text pair: selector, foreground, background (and which rule gave it), minimum ratio. */
const textPairs = (() => {
  const pairs = [];
  for (const rule of rules) {
    if (isDisabled(rule.selector) || !holdsText(rule)) continue;
    if (rule.selector !== ":root" && !ownColor(rule) && !ownBackground(rule)) continue;
    const fg = resolved(rule, ownColor) ?? rootColor;
    const min = isLarge(rule) ? 3 : 4.5;
    for (const [on, bg] of backgroundsOf(rule)) pairs.push({ selector: rule.selector, fg, on, bg, min });
  }
  return pairs;
})();

function failures(pairs) {
  return pairs
    .map((p) => ({ ...p, ratio: Math.round(contrast(p.fg, p.bg) * 100) / 100 }))
    .filter((p) => p.ratio < p.min)
    .map((p) => `${p.selector}: ${p.fg} on ${p.bg} (${p.on}) is ${p.ratio}:1, needs ${p.min}:1`);
}

test("the contrast ratio is the WCAG 2.x one", () => {
  assert.equal(contrast("#000000", "#ffffff"), 21);
  assert.equal(contrast("#ffffff", "#ffffff"), 1);
  assert.equal(Math.round(contrast("#777777", "#ffffff") * 100) / 100, 4.48, "#777 on white just fails AA");
  assert.equal(firstColor("1px solid #FFF"), "#ffffff");
  assert.equal(resolveVars("3px solid var(--accent)", { "--accent": "#0f5fb8" }), "3px solid #0f5fb8");
});

test("the pairs come from the stylesheet and cover every kind of text it colours", () => {
  const checked = new Set(textPairs.map((p) => p.selector));
  const expected = [
    ":root", ".card", ".lead", ".note", ".hint", ".muted", "h3", // body and muted text on page and cards
    "button.primary", "button.primary:hover", "button.secondary", "button.secondary:hover", "button.danger",
    ".alert.error", ".alert.info", ".ok-line", ".check-ok", ".check-bad", ".check.pass", ".check.fail", // errors, success
    ".badge", ".badge.ok", ".badge.bad", ".badge.busy", ".badge.ready", ".verdict.ok", ".verdict.bad", // tones, badges
    ".role.unusable", ".severity", ".finding.warning .severity", ".upload-state[data-state=\"done\"]",
    ".sidebar", ".nav-step", ".nav-step[aria-current=\"page\"]", ".nav-heading", ".nav-soon", ".mode-badge", // sidebar
    ".nav-step.done .nav-number", ".step-index", ".step.diff .step-index", "textarea.code", ".instance .state.ok",
  ];
  for (const selector of expected) assert.ok(checked.has(selector), `${selector} is among the checked pairs`);
  // The stylesheet styles no links (the UI has no <a>); if it ever does, its colour is a rule like any other.
  assert.ok(!rules.some((r) => compounds(r.selector).some((c) => c.includes("a"))), "a link rule appeared: check it is derived");
  // Enclosing backgrounds are found through the selector, not guessed.
  const severity = textPairs.filter((p) => p.selector === ".finding.warning .severity");
  assert.deepEqual(severity.map((p) => [p.fg, p.on]), [[vars["--warn"], ".finding.warning"]]);
  const selectedState = textPairs.filter((p) => p.selector === ".instance .state.ok").map((p) => p.on);
  assert.deepEqual(selectedState.sort(), [".instance", '.instance[aria-pressed="true"]']);
});

test("text meets AA: 4.5:1, or 3:1 where the stylesheet makes it large", () => {
  assert.ok(textPairs.length > 80, `only ${textPairs.length} pairs derived`);
  assert.deepEqual(failures(textPairs), []);
});

test("outlined buttons, fields and the selected card keep 3:1 boundaries", () => {
  const pairs = [];
  for (const selector of COMPONENT_BORDERS) {
    const rule = rules.find((r) => r.selector === selector);
    assert.ok(rule, `${selector} is in the stylesheet`);
    const border = firstColor(value(rule, "border-color") ?? value(rule, "border"));
    assert.ok(border, `${selector} has a border colour`);
    // The border separates the control from the page around it and from its own fill.
    const around = new Map([...surfaces, ...(ownBackground(rule) ? [[rule.selector, ownBackground(rule)]] : [])]);
    for (const [on, bg] of around) pairs.push({ selector: `${selector} border`, fg: border, on, bg, min: 3 });
  }
  assert.deepEqual(failures(pairs), []);
});

test("the focus outline is 3 px and keeps 3:1 against every surface it is drawn on", () => {
  const focusRules = rules.filter((r) => /:focus(-visible)?\b/.test(r.selector));
  const pairs = [];
  for (const rule of focusRules) {
    const outline = [rule, ...bases(rule)].map((r) => value(r, "outline")).find((v) => v !== undefined);
    if (outline === "none") {
      // Only headings (tabindex -1, focused by the page when it opens) may hide the ring; they are not controls.
      assert.match(rule.selector, /^h1:focus$/, `${rule.selector} hides the focus ring of a control`);
      continue;
    }
    assert.match(outline, /^3px solid /, `${rule.selector}: ${outline}`);
    const offset = parseFloat([rule, ...bases(rule)].map((r) => value(r, "outline-offset")).find((v) => v !== undefined) ?? "0");
    // With a positive offset the ring is drawn outside the control, on the surface around it.
    assert.ok(offset > 0, `${rule.selector} draws its ring outside the control`);
    for (const [on, bg] of surfaces) pairs.push({ selector: rule.selector, fg: firstColor(outline), on, bg, min: 3 });
  }
  assert.ok(pairs.length > 0, "a :focus-visible rule draws a ring");
  assert.deepEqual(failures(pairs), []);
});

test("disabled controls are exempt (WCAG 1.4.3 / 1.4.11 'inactive components') and are the only exemption", () => {
  const exempt = rules.filter((r) => isDisabled(r.selector)).map((r) => r.selector);
  assert.deepEqual(exempt.sort(), ["button:disabled", ".nav-step:disabled"].sort());
  assert.ok(!compoundParts("button:hover:not(:disabled)").includes(":disabled"));
});
