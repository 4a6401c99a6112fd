// A minimal W3C WebDriver client over fetch, plus the tauri-driver process that serves it. Enough
// for the GUI tests: sessions, finding elements, clicks, typing, key presses, text, attributes,
// screenshots.

import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** WebDriver key codes (W3C WebDriver, "keyboard actions"). */
export const Key = { TAB: "\uE004", SHIFT: "\uE008" };

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts tauri-driver (which starts WebKitWebDriver) and waits until it answers. */
export async function startDriver({ driverPath, env }) {
  const port = await freePort();
  const nativePort = await freePort();
  const child = spawn(driverPath, ["--port", String(port), "--native-port", String(nativePort)], {
    env, stdio: ["ignore", "inherit", "inherit"],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`tauri-driver exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/status`);
      if (res.ok) return { url, stop: () => stopChild(child) };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill("SIGTERM");
  throw new Error("tauri-driver did not start within 10 s");
}

/** Ends tauri-driver (it ends WebKitWebDriver) and waits for it to be gone. */
function stopChild(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.kill("SIGTERM");
  });
}

export class Session {
  static async create(driverUrl, application) {
    const body = { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application } } } };
    const value = await request("POST", `${driverUrl}/session`, body);
    return new Session(`${driverUrl}/session/${value.sessionId}`);
  }

  constructor(base) {
    this.base = base;
  }

  cmd(method, path, body) {
    return request(method, `${this.base}${path}`, body);
  }

  title() { return this.cmd("GET", "/title"); }
  delete() { return this.cmd("DELETE", ""); }

  async find(css) {
    const value = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this, value[ELEMENT]);
  }

  async findAll(css) {
    const values = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return values.map((v) => new Element(this, v[ELEMENT]));
  }

  /** Polls until `css` matches at least `count` elements, then returns them. */
  async waitFor(css, { count = 1, timeoutMs = 20000 } = {}) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = await this.findAll(css);
      if (found.length >= count) return found;
      if (Date.now() > until) throw new Error(`timed out waiting for ${count} × ${css} (found ${found.length})`);
      await sleep(200);
    }
  }

  /** The page as a PNG (Buffer). */
  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  /** Presses and releases `key` where the focus is, as the keyboard would (W3C actions), with Shift
   * held when `shift` is set. */
  pressKey(key, { shift = false } = {}) {
    const tap = [{ type: "keyDown", value: key }, { type: "keyUp", value: key }];
    const actions = shift ? [{ type: "keyDown", value: Key.SHIFT }, ...tap, { type: "keyUp", value: Key.SHIFT }] : tap;
    return this.cmd("POST", "/actions", { actions: [{ type: "key", id: "keyboard", actions }] });
  }

  execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }
}

class Element {
  constructor(session, id) {
    this.session = session;
    this.id = id;
  }

  cmd(method, path, body) { return this.session.cmd(method, `/element/${this.id}${path}`, body); }
  click() { return this.cmd("POST", "/click", {}); }
  clear() { return this.cmd("POST", "/clear", {}); }
  type(text) { return this.cmd("POST", "/value", { text, value: [...text] }); }
  text() { return this.cmd("GET", "/text"); }
  attribute(name) { return this.cmd("GET", `/attribute/${name}`); }
  property(name) { return this.cmd("GET", `/property/${name}`); }

  async find(css) {
    const value = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this.session, value[ELEMENT]);
  }

  async findAll(css) {
    const values = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return values.map((v) => new Element(this.session, v[ELEMENT]));
  }
}

async function request(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const v = json.value ?? {};
    throw new Error(`${method} ${url} → ${res.status} ${v.error ?? ""}: ${v.message ?? JSON.stringify(json)}`);
  }
  return json.value;
}
