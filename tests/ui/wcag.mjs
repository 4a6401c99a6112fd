// What the contrast test needs from a stylesheet: its rules (selector → declarations) with the
// custom properties of :root resolved, colours as sRGB, and the WCAG 2.x contrast ratio.
// Only the CSS that ui/public/styles.css writes is understood (hex colours, `var()`, one-colour
// `background`, `border`/`outline` shorthands); anything else reads as "no colour".

/** Top-level rules of `css`, in order: `{ selector, decls, index }`, one per selector of a list.
 * At-rules (`@keyframes` …) are skipped with their block. */
export function parseRules(css) {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  const rules = [];
  let i = 0;
  let index = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    if (open < 0) break;
    const prelude = text.slice(i, open).trim();
    const close = matchingBrace(text, open);
    const body = text.slice(open + 1, close);
    i = close + 1;
    if (prelude.startsWith("@")) continue;
    const decls = parseDecls(body);
    for (const selector of splitTopLevel(prelude, ",")) rules.push({ selector: selector.trim(), decls, index: index++ });
  }
  return rules;
}

function matchingBrace(text, open) {
  let depth = 0;
  for (let j = open; j < text.length; j++) {
    if (text[j] === "{") depth++;
    else if (text[j] === "}" && --depth === 0) return j;
  }
  throw new Error(`unbalanced braces after ${text.slice(open - 40, open)}`);
}

function parseDecls(body) {
  const decls = {};
  for (const part of splitTopLevel(body, ";")) {
    const colon = part.indexOf(":");
    if (colon < 0) continue;
    decls[part.slice(0, colon).trim().toLowerCase()] = part.slice(colon + 1).trim();
  }
  return decls;
}

/** Splits on `sep` outside brackets and quotes (selector lists with `:not(a, b)`, font stacks). */
function splitTopLevel(text, sep) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let start = 0;
  for (let j = 0; j < text.length; j++) {
    const c = text[j];
    if (quote) { if (c === quote) quote = null; continue; }
    if (c === '"' || c === "'") quote = c;
    else if (c === "(" || c === "[") depth++;
    else if (c === ")" || c === "]") depth--;
    else if (c === sep && depth === 0) { parts.push(text.slice(start, j)); start = j + 1; }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim() !== "");
}

/** Replaces `var(--x)` by the custom properties declared on `:root` (nested references too). */
export function resolveVars(value, vars) {
  let out = value;
  for (let n = 0; n < 10 && out.includes("var("); n++) {
    out = out.replace(/var\(\s*(--[\w-]+)\s*(?:,\s*([^)]*))?\)/g, (_, name, fallback) => {
      if (name in vars) return vars[name];
      if (fallback !== undefined) return fallback;
      throw new Error(`undefined custom property ${name}`);
    });
  }
  return out;
}

/** The custom properties of the `:root` rules. */
export function rootVars(rules) {
  const vars = {};
  for (const r of rules) {
    if (r.selector !== ":root") continue;
    for (const [k, v] of Object.entries(r.decls)) if (k.startsWith("--")) vars[k] = v;
  }
  return vars;
}

/** The first colour in a CSS value as `#rrggbb`, or null (`none`, `transparent`, `currentColor`). */
export function firstColor(value) {
  if (!value) return null;
  const hex = value.match(/#([0-9a-f]{3}|[0-9a-f]{6})\b/i);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    return `#${h.toLowerCase()}`;
  }
  const named = value.match(/\b(white|black)\b/i);
  if (named) return named[1].toLowerCase() === "white" ? "#ffffff" : "#000000";
  return null;
}

/** WCAG 2.x relative luminance of `#rrggbb`. */
export function luminance(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2);
}

/** WCAG 2.x contrast ratio of two colours, 1 … 21. */
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The simple selectors of a compound (`button.primary:hover` → `button`, `.primary`, `:hover`). */
export function compoundParts(compound) {
  return compound.match(/::?[\w-]+(?:\([^)]*\))?|\[[^\]]*\]|[.#]?[\w-]+|\*/g) ?? [];
}

/** A selector as its compounds, outermost first (descendant and child combinators only). */
export function compounds(selector) {
  return selector.replace(/\s*[>+~]\s*/g, " ").trim().split(/\s+/).map(compoundParts);
}
