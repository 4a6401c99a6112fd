// Drives the native GTK folder chooser with xdotool (X11 only, e.g. under Xvfb): waits for the
// dialog window by title, types a path into its location bar and accepts it.

import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

function xdotool(...args) {
  return execFileSync("xdotool", args, { stdio: ["ignore", "pipe", "ignore"] }).toString().trim();
}

export function hasXdotool() {
  try {
    xdotool("version");
    return true;
  } catch {
    return false;
  }
}

async function findWindow(title, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return xdotool("search", "--onlyvisible", "--name", title).split("\n")[0];
    } catch {
      if (Date.now() > until) throw new Error(`no window titled "${title}" within ${timeoutMs} ms`);
      await sleep(200);
    }
  }
}

function isOpen(title) {
  try {
    xdotool("search", "--onlyvisible", "--name", title);
    return true;
  } catch {
    return false;
  }
}

/** Picks `folder` in the dialog titled `title`. */
export async function pickFolder(title, folder, { timeoutMs = 15000 } = {}) {
  const win = await findWindow(title, timeoutMs);
  xdotool("windowfocus", win);
  await sleep(300);
  // The chooser opens on "Recent", where Open is disabled: go to a real folder first (Alt+Home).
  xdotool("key", "alt+Home");
  await sleep(500);
  xdotool("key", "ctrl+l");
  await sleep(300);
  xdotool("type", "--delay", "5", folder);
  await sleep(800);
  // The first Return enters the folder, the next one accepts it.
  for (let i = 0; i < 3 && isOpen(title); i++) {
    xdotool("key", "Return");
    await sleep(1200);
  }
  if (isOpen(title)) throw new Error("the folder dialog did not close");
}
