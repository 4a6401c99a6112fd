// A tiny element builder: creates DOM nodes with text content only (never HTML strings), so data
// from backup files can never inject markup.

type Child = Node | string | number | null | undefined | false;
type Listener = (event: Event) => void;
export type Props = Record<string, string | number | boolean | Listener | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(key.replace(/^on/, "").toLowerCase(), value);
    } else if (key === "class") {
      el.className = String(value);
    } else if (key === "testid") {
      el.dataset["testid"] = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** The last component of a path, for display. */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/** "2017-06-01T12:59:12" → "2017-06-01 12:59:12". */
export function displayTime(time: string): string {
  return time.replace("T", " ");
}

/** A status line with a spinner while a call runs. */
export function busy(text: string): HTMLElement {
  return h("p", { class: "busy" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** An error box: the code for tests and styles, a title and the message. */
export function errorBox(title: string, err: { code: string; message: string }): HTMLElement {
  return h("div", { class: "alert error", role: "alert", testid: "error", "data-code": err.code },
    h("strong", {}, title),
    h("p", {}, err.message),
  );
}

/** A labelled form field: `<label>` then the control, and an optional hint. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id;
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint" }, hint) : null,
  );
}

/** Replaces the options of a `<select>`; `placeholder` first when given. */
export function setOptions(select: HTMLSelectElement, options: Array<[string, string]>, placeholder?: string): void {
  replace(select,
    placeholder ? h("option", { value: "" }, placeholder) : null,
    ...options.map(([value, text]) => h("option", { value }, text)),
  );
}
