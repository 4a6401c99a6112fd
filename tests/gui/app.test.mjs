// GUI end-to-end test: drives the real `lrs-wizard` binary through tauri-driver + WebKitWebDriver
// (run it under Xvfb with a Secret Service: scripts/gui-test.sh). First the Azure way in and the
// Backups page on a real backup folder; then the whole rehearsal: Welcome → rehearse → sign in and
// target (the rehearsal instance) → backups (the samples) → storage → upload → access (every check
// green) → start (continuous) → dashboard (every database ready) → cutover → Completed; the audit
// log, the T-SQL helper and Settings. The keyboard (focus on open, Tab order, focus ring, live status
// lines) is walked with real key presses on Welcome and on Settings.
// A screenshot of each step goes to target/gui-screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Key, Session, startDriver } from "./webdriver.mjs";
import { hasXdotool, pickFolder } from "./dialog.mjs";

const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, "target");
const app = process.env.LRS_WIZARD_BIN ?? join(targetDir, "debug", "lrs-wizard");
const lrs = join(targetDir, "debug", "lrs");
const driverPath = process.env.TAURI_DRIVER ?? join(targetDir, "tools", "bin", "tauri-driver");
const shots = join(targetDir, "gui-screenshots");
const fixture = resolve(repo, "../shared/fixtures/backups/appveyor-lab/RestoreTimeClean");
const noFixture = existsSync(fixture) ? false : `SKIP: fixture folder ${fixture} is absent (../shared not mounted)`;

let driver;
let session;
let home;
let appEnv;

async function shot(name) {
  mkdirSync(shots, { recursive: true });
  // Let WebKit paint what the test just saw (two animation frames, then a short pause).
  await session.execute("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 150))))");
  writeFileSync(join(shots, `${name}.png`), await session.screenshot());
}

// The page's tab stops in DOM order, as the page lays them out: enabled, shown, not tabindex -1, one
// radio per group. `at` is where the focus is among them (-1: elsewhere); `h1` is the index of the
// first stop after the page's heading.
const TAB_STOPS = `
  const stops = [...document.querySelectorAll("button, input, select, textarea, a[href], [tabindex]")].filter((el) =>
    !el.disabled && el.tabIndex >= 0 && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden" &&
    !(el.type === "radio" && !el.checked && document.querySelector('input[type="radio"][name="' + el.name + '"]:checked')));
  const h1 = document.querySelector("#main h1");
  if (!h1) return { stops: [], at: -1, h1: -1, active: { id: "", tag: "(no page yet)" } };
  const describe = (el) => {
    const r = el.getBoundingClientRect();
    return { name: el.id || el.getAttribute("aria-label") || el.textContent.trim(), region: el.closest("header, nav, main")?.tagName.toLowerCase() ?? "body",
      top: r.top + scrollY, bottom: r.bottom + scrollY, left: r.left + scrollX, right: r.right + scrollX };
  };
  const a = document.activeElement;
  return { stops: stops.map(describe), at: stops.indexOf(a), h1: stops.findIndex((el) => h1.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING),
    active: { id: a.id, tag: a.tagName.toLowerCase(), outlineWidth: getComputedStyle(a).outlineWidth, outlineStyle: getComputedStyle(a).outlineStyle } };`;

/** True when `b` comes after `a` in reading order: further right on the same line, or lower down. */
function readsAfter(a, b) {
  const sameLine = a.top < b.bottom && b.top < a.bottom;
  return sameLine ? b.left >= a.left : b.top >= a.top;
}

/** Keyboard check of the page on screen: its h1 has the focus; Tab walks forward from it through the
 * page's controls, Shift+Tab back through them and then through everything before the heading (the
 * step list), each stop in DOM order, which is the reading order, with a 3 px focus ring. Presses
 * nothing but Tab, so the page is left as it was. */
async function walkWithKeys(h1Id, mainButtons, shotName) {
  const opened = await until(() => session.execute(TAB_STOPS), (v) => v.active.id === h1Id, "the page's heading to have the focus", 10000);
  const { stops, h1 } = opened;
  assert.ok(h1 > 0, `controls before the heading (the steps) and after it: ${h1} of ${stops.length}`);
  const names = stops.map((s) => s.name);
  for (const b of mainButtons) assert.ok(names.slice(h1).includes(b), `${b} is a tab stop after the heading: ${names}`);
  const nav = stops.filter((s) => s.region === "nav");
  const main = stops.filter((s) => s.region === "main");
  assert.equal(nav.length + main.length, stops.length, `every control is in the steps or the page: ${JSON.stringify(stops)}`);
  assert.ok(Math.max(...nav.map((s) => s.right)) <= Math.min(...main.map((s) => s.left)), "the steps are left of the page");
  for (const region of [nav, main]) {
    for (let i = 1; i < region.length; i++) assert.ok(readsAfter(region[i - 1], region[i]), `${region[i].name} reads after ${region[i - 1].name}`);
  }

  const expectFocus = async (index, how) => {
    const now = await session.execute(TAB_STOPS);
    assert.equal(now.at, index, `${how}: focus on ${names[index]}, not ${now.active.tag}#${now.active.id}`);
    assert.equal(now.active.outlineWidth, "3px", `${names[index]} shows a 3 px ring`);
    assert.notEqual(now.active.outlineStyle, "none", `${names[index]} shows a ring`);
  };
  for (let i = h1; i < stops.length; i++) {
    await session.pressKey(Key.TAB);
    await expectFocus(i, "Tab");
  }
  await shot(shotName);
  for (let i = stops.length - 2; i >= 0; i--) {
    await session.pressKey(Key.TAB, { shift: true });
    await expectFocus(i, "Shift+Tab");
  }
}

/** The page's status line announces itself: role=status, polite live region. */
async function assertLiveStatus(css) {
  const [status] = await session.waitFor(css);
  assert.equal(await status.attribute("role"), "status");
  assert.equal(await status.attribute("aria-live"), "polite");
}

before(async () => {
  assert.ok(existsSync(app), `app binary missing: ${app} (cargo build -p lrs-wizard)`);
  assert.ok(existsSync(driverPath), `tauri-driver missing: ${driverPath} (scripts/gui-test.sh installs it)`);
  assert.ok(process.env.DISPLAY, "no DISPLAY: run under xvfb-run (scripts/gui-test.sh)");
  // GTK and WebKit write into HOME and the XDG folders: keep them in a throwaway directory.
  home = mkdtempSync(join(tmpdir(), "lrs-gui-home-"));
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local/state"),
  };
  appEnv = env;
  driver = await startDriver({ driverPath, env });
  session = await Session.create(driver.url, app);
});

after(async () => {
  await session?.delete().catch(() => {});
  await driver?.stop();
  // The app may still be flushing caches into HOME for a moment.
  if (home) rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
});

test("the Welcome page says what LRS does and what to have ready", async () => {
  assert.match(await session.title(), /LRS Wizard/);
  const [page] = await session.waitFor('[data-testid="page-welcome"]');
  assert.match(await (await page.find("h1")).text(), /Azure SQL Managed Instance/);
  const checklist = await (await session.find('[data-testid="checklist"]')).text();
  assert.match(checklist, /WITH CHECKSUM/);
  assert.match(checklist, /Read and List/);
  assert.equal(await (await session.find("#start-migrate")).text(), "Migrate to Azure");
  assert.equal(await (await session.find("#start-rehearse")).text(), "Rehearse locally");
  await shot("01-welcome");
});

test("keyboard: on Welcome the heading has the focus, Tab walks every control in reading order with a 3 px ring", async () => {
  await session.waitFor('[data-testid="page-welcome"]');
  await walkWithKeys("welcome-title", ["start-migrate", "start-rehearse"], "01b-welcome-keyboard-focus");
  await assertLiveStatus('[data-testid="welcome-status"]');
});

test("Migrate to Azure leads to the sign-in, then the Backups page", async () => {
  await (await session.find("#start-migrate")).click();
  const [signin] = await session.waitFor('[data-testid="page-signin"]');
  assert.match(await (await signin.find("h1")).text(), /Sign in and choose the target/);
  await session.waitFor('#cloud option[value="AzureCloud"]');
  assert.equal(await (await session.find("#nav-signin")).attribute("aria-current"), "page");
  await shot("02-sign-in-azure");
  await (await session.find("#nav-backups")).click();
  const [page] = await session.waitFor('[data-testid="page-backups"]');
  assert.match(await (await page.find("h1")).text(), /Check your backups/);
  assert.equal(await (await session.find("#choose-folder")).text(), "Choose folder…");
  assert.equal(await (await session.find("#nav-backups")).attribute("aria-current"), "page");
});

test("a missing folder shows the error code and message", async () => {
  const input = await session.find("#backup-path");
  await input.clear();
  await input.type("/no/such/backup/folder");
  await (await session.find("#inspect")).click();
  const [error] = await session.waitFor('[data-testid="error"]');
  assert.equal(await error.attribute("data-code"), "path_not_found");
  assert.match(await error.text(), /\/no\/such\/backup\/folder/);
});

test("inspecting a real backup folder shows the chain and the findings", { skip: noFixture }, async () => {
  const input = await session.find("#backup-path");
  await input.clear();
  await input.type(fixture);
  await (await session.find("#inspect")).click();

  const [db] = await session.waitFor('[data-testid="database"]');
  assert.equal(await (await db.find('[data-testid="db-name"]')).text(), "RestoreTimeClean");
  assert.equal(await (await db.find('[data-testid="db-verdict"]')).text(), "Restorable");

  const steps = await db.findAll('[data-testid="chain-step"]');
  assert.equal(steps.length, 5, "full, diff and three logs");
  const roles = await Promise.all(steps.map((s) => s.attribute("data-role")));
  assert.deepEqual(roles, ["full", "diff", "log", "log", "log"]);
  assert.match(await steps[0].text(), /RestoreTimeClean\.bak/);
  assert.match(await steps[0].attribute("title"), /LSN \d+ → \d+/);

  const findings = await db.findAll('[data-testid="finding"]');
  assert.ok(findings.length >= 1, "at least one finding");
  const codes = await Promise.all(findings.map((f) => f.attribute("data-code")));
  assert.ok(codes.includes("NoChecksum"), `NoChecksum among ${codes}`);
  const noChecksum = findings[codes.indexOf("NoChecksum")];
  assert.equal(await noChecksum.attribute("data-severity"), "warning");
  assert.match(await noChecksum.text(), /Fix:/);

  const rows = await db.findAll('[data-testid="file-row"]');
  assert.equal(rows.length, 8, "every file of the folder is listed");
  await shot("03-backups-inspected");
  // Bring the findings under the sticky header into view.
  await session.execute("const el = document.querySelector('[data-testid=\"findings\"]'); window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 110);");
  await shot("04-backups-findings");
});

test("Choose folder… opens the native dialog and inspects the folder picked there", {
  skip: noFixture || (!hasXdotool() && "SKIP: xdotool is not installed"),
}, async () => {
  await session.execute("window.scrollTo(0, 0)");
  const input = await session.find("#backup-path");
  await input.clear();
  await (await session.find("#choose-folder")).click();
  await pickFolder("Choose the folder that holds one database's backups", fixture);
  const until = Date.now() + 20000;
  while ((await input.property("value")) !== fixture) {
    assert.ok(Date.now() < until, "the picked folder never reached the path field");
    await new Promise((r) => setTimeout(r, 200));
  }
  const [db] = await session.waitFor('[data-testid="database"]');
  assert.equal(await (await db.find('[data-testid="db-name"]')).text(), "RestoreTimeClean");
  assert.equal((await db.findAll('[data-testid="chain-step"]')).length, 5);
  await shot("05-picked-with-dialog");
});

/** An attribute of the first element matching `css`, read fresh (live pages redraw their parts). */
function attrOf(css, name) {
  return session.execute(`const el = document.querySelector(${JSON.stringify(css)}); return el ? el.getAttribute(${JSON.stringify(name)}) : null;`);
}

/** The text of the first element matching `css`, read fresh. */
function textOf(css) {
  return session.execute(`const el = document.querySelector(${JSON.stringify(css)}); return el ? el.textContent : null;`);
}

/** Scrolls `css` into the middle of the window and clicks it there (from the page's own script:
 * WebKitWebDriver calls radios, ticks and buttons under the sticky header not interactable). */
async function press(css) {
  const found = await session.execute(
    `const el = document.querySelector(${JSON.stringify(css)}); if (!el) return false; el.scrollIntoView({ block: "center" }); el.click(); return true;`);
  assert.ok(found, `${css} is on the page`);
}

/** Waits until `read()` returns something `ok` accepts. */
async function until(read, ok, what, timeoutMs = 30000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    assert.ok(Date.now() < end, `timed out waiting for ${what} (last: ${JSON.stringify(value)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("Rehearse locally starts the emulators and signs in by itself", async () => {
  await session.execute("window.scrollTo(0, 0)");
  await (await session.find("#nav-welcome")).click();
  await session.waitFor('[data-testid="page-welcome"]');
  await (await session.find("#start-rehearse")).click();
  const [page] = await session.waitFor('[data-testid="page-signin"]', { timeoutMs: 90000 });
  assert.match(await (await page.find('[data-testid="signed-in"]')).text(), /local LRS emulator/);
  const badge = await session.find('[data-testid="mode-badge"]');
  assert.match(await badge.text(), /Rehearsal/);
});

test("sign in and target: the rehearsal instance is picked with its region, tier and collation", async () => {
  const [card] = await session.waitFor('[data-testid="instance"][data-name="rehearsal-mi"]');
  const text = await card.text();
  assert.match(text, /westeurope/);
  assert.match(text, /GeneralPurpose/);
  assert.match(text, /SQL_Latin1_General_CP1_CI_AS/);
  assert.match(text, /Ready/);
  await card.click();
  const [chosen] = await session.waitFor('[data-testid="target-chosen"]');
  assert.match(await chosen.text(), /rehearsal-mi/);
  await until(() => card.attribute("aria-pressed"), (v) => v === "true", "the card to show as chosen");
  const next = await session.find("#next");
  await until(() => next.property("disabled"), (v) => v === false, "Next to be enabled");
  await shot("10-rehearsal-sign-in-and-target");
  await next.click();
  await session.waitFor('[data-testid="page-backups"]');
});

test("backups: the sample backups inspect as three restorable databases", async () => {
  await (await session.find("#use-samples")).click();
  const dbs = await session.waitFor('[data-testid="database"]', { count: 3 });
  const names = await Promise.all(dbs.map(async (d) => (await d.find('[data-testid="db-name"]')).text()));
  assert.deepEqual([...names].sort(), ["HR", "Inventory", "Sales"]);
  for (const db of dbs) assert.equal(await (await db.find('[data-testid="db-verdict"]')).text(), "Restorable");
  // Each database's name on the instance, checked by Rust to be free there.
  const targets = await session.waitFor('[data-testid="target-row"]', { count: 3 });
  for (const row of targets) assert.match(await row.text(), /free on rehearsal-mi/);
  const next = await session.find("#next");
  await until(() => next.property("disabled"), (v) => v === false, "Next to be enabled");
  await shot("11-rehearsal-backups");
  await session.execute("window.scrollTo(0, 0)");
  await next.click();
  await session.waitFor('[data-testid="page-storage"]');
});

test("storage: the container, its key into the keychain, a folder per database", async () => {
  const account = await session.find("#storage-account");
  await until(() => account.property("value"), (v) => v === "devstoreaccount1", "the rehearsal account to be chosen");
  assert.equal(await (await session.find("#container")).property("value"), "lrs-rehearsal");
  await (await session.find("#use-container")).click();
  await session.waitFor('[data-testid="container-chosen"]');
  const fetch = await session.find("#fetch-key");
  await until(() => fetch.property("disabled"), (v) => v === false, "Fetch the key to be enabled");
  await fetch.click();
  const [saved] = await session.waitFor('[data-testid="key-saved"]');
  assert.match(await saved.text(), /storage\/devstoreaccount1\/key/);
  const rows = await session.waitFor('[data-testid="folder-row"]', { count: 3 });
  for (const row of rows) assert.match(await row.text(), /follows the LRS rules/);
  const next = await session.find("#next");
  await until(() => next.property("disabled"), (v) => v === false, "Next to be enabled");
  await shot("12-rehearsal-storage");
  await session.execute("window.scrollTo(0, 0)");
  await next.click();
  await session.waitFor('[data-testid="page-upload"]');
});

test("upload: every restore sequence goes to its folder, with progress in real units", async () => {
  await (await session.waitFor("#upload-start"))[0].click();
  await until(() => attrOf('[data-testid="upload-state"]', "data-state"), (v) => v === "done", "the upload to finish", 120000);
  const totals = await textOf('[data-testid="upload-totals"]');
  const m = totals.match(/(\d+) of (\d+) files/);
  assert.ok(m && m[1] === m[2] && Number(m[1]) > 0, `every file uploaded: ${totals}`);
  assert.match(totals, /^[\d.]+ (?:[kMG]?B )?of [\d.]+ [kMG]?B/, `real units: ${totals}`);
  const statuses = await session.execute("return [...document.querySelectorAll('[data-testid=\"upload-db\"]')].map((d) => d.dataset.status)");
  assert.deepEqual(statuses, ["Uploaded", "Uploaded", "Uploaded"]);
  const next = await session.find("#next");
  await until(() => next.property("disabled"), (v) => v === false, "Next to be enabled");
  await shot("13-rehearsal-upload");
  await session.execute("const b = document.querySelector('#next'); b.scrollIntoView({ block: 'center' }); b.click();");
  await session.waitFor('[data-testid="page-access"]');
});

test("access: a generated Read+List SAS passes every check, and only then may the wizard go on", async () => {
  const next = await session.find("#next");
  assert.equal(await next.property("disabled"), true, "Next waits for the checks");
  await (await session.find("#generate-sas")).click();
  const [expiry] = await session.waitFor('[data-testid="sas-expiry"]');
  assert.match(await expiry.text(), /UTC .* local \(in 32 days\)/);
  await (await session.find("#check-access")).click();
  const [verdict] = await session.waitFor('[data-testid="access-verdict"]', { timeoutMs: 60000 });
  const checks = await session.findAll('[data-testid="check"]');
  const failed = [];
  for (const c of checks) if ((await c.attribute("data-passed")) !== "true") failed.push(await c.text());
  assert.deepEqual(failed, [], "every check is green");
  assert.equal(await verdict.attribute("data-accepted"), "true");
  const scopes = new Set(await Promise.all(checks.map((c) => c.attribute("data-scope"))));
  for (const scope of ["token", "Sales", "Inventory", "HR"]) assert.ok(scopes.has(scope), `checks ran for ${scope}`);
  await until(() => next.property("disabled"), (v) => v === false, "Next to be enabled");
  await shot("14-rehearsal-access");
  await session.execute("window.scrollTo(0, 0)");
  await next.click();
  await session.waitFor('[data-testid="page-start"]');
});

test("start: continuous mode, the summary, and a button that says Start migration", async () => {
  const [continuous] = await session.waitFor('[data-testid="mode-continuous"]');
  assert.equal(await continuous.property("checked"), true, "continuous is the default");
  await press('[data-testid="mode-autocomplete"]');
  const lasts = await session.waitFor('[data-testid="summary-last-backup"]', { count: 3 });
  for (const l of lasts) assert.match(await l.text(), /preselected/);
  await press('[data-testid="mode-continuous"]');
  assert.match(await (await session.find('[data-testid="summary-instance"]')).text(), /rehearsal-mi/);
  const start = await session.find("#start-migration");
  assert.equal(await start.text(), "Start migration");
  await until(() => start.property("disabled"), (v) => v === false, "Start migration to be enabled");
  await session.execute("window.scrollTo(0, 0)");
  await shot("15-rehearsal-start");
  await press("#start-migration");
  await session.waitFor('[data-testid="page-dashboard"]', { timeoutMs: 60000 });
});

test("dashboard: one row per database, followed until every one is ready for cutover", async () => {
  await session.waitFor('[data-testid="db-row"]', { count: 3, timeoutMs: 60000 });
  const statusesOf = () =>
    session.execute("return [...document.querySelectorAll('[data-testid=\"db-row\"]')].map((r) => r.dataset.status)");
  await until(statusesOf, (s) => s.some((x) => x === "Restoring" || x === "ReadyForCutover"), "a restore to run", 90000);
  await shot("16-rehearsal-dashboard-restoring");
  await until(statusesOf, (s) => s.length === 3 && s.every((x) => x === "ReadyForCutover"), "every database to be ready", 240000);
  const points = await session.execute(
    "return [...document.querySelectorAll('[data-testid=\"db-chart\"]')].map((c) => Number(c.getAttribute('data-points')))");
  assert.equal(points.length, 3);
  for (const p of points) assert.ok(p >= 1, `the chart has points: ${points}`);
  assert.equal(await session.execute("return document.querySelector('#shipping').checked"), true, "continuous shipping is on");
  await press("#select-all");
  await until(async () => (await session.find("#bulk-cutover")).property("disabled"), (v) => v === false, "bulk cutover to be enabled");
  await shot("17-rehearsal-dashboard-ready");
  await press("#bulk-cutover");
  await session.waitFor('[data-testid="page-cutover"]');
});

test("cutover: the gates pass, each name is typed, and Complete cutover brings all three online", async () => {
  const cards = await session.waitFor('[data-testid="cutover-db"]', { count: 3 });
  const complete = await session.find("#complete-cutover");
  assert.equal(await complete.text(), "Complete cutover");
  assert.equal(await complete.property("disabled"), true, "nothing typed yet");
  for (const card of cards) {
    const name = await card.attribute("data-name");
    assert.match(await (await card.find('[data-testid="cutover-gate"]')).text(), /Gates pass/);
    const last = await (await card.find('[data-testid="last-backup"]')).property("value");
    assert.ok(last, `a last backup is preselected for ${name}`);
    assert.equal(await (await card.find('[data-testid="stop-database"]')).text(), "Stop and delete the restoring database");
    await session.execute(`document.querySelector('#typed-${name}').scrollIntoView({ block: "center" })`);
    await (await card.find('[data-testid="typed-name"]')).type(name);
    await press(`#confirm-${name}`);
  }
  await until(() => complete.property("disabled"), (v) => v === false, "Complete cutover to be enabled");
  await session.execute("window.scrollTo(0, 0)");
  await shot("18-rehearsal-cutover");
  await press("#complete-cutover");
  const outcomes = await session.waitFor('[data-testid="outcome"]', { count: 3, timeoutMs: 60000 });
  for (const o of outcomes) assert.equal(await o.attribute("data-ok"), "true", await o.text());
  const statusesOf = async () =>
    Promise.all((await session.findAll('[data-testid="cutover-db"]')).map((r) => r.attribute("data-status")));
  await until(statusesOf, (s) => s.every((x) => x === "Completed"), "every database to be Completed", 120000);
  await shot("19-rehearsal-completed");
  await session.execute("window.scrollTo(0, 0)");
  await press("#nav-dashboard");
  await session.waitFor('[data-testid="db-row"]', { count: 3 });
  const done = await session.execute("return [...document.querySelectorAll('[data-testid=\"db-row\"]')].map((r) => r.dataset.status)");
  assert.deepEqual(done, ["Completed", "Completed", "Completed"]);
  await shot("20-rehearsal-dashboard-completed");
});

test("the app's migration is a plan the lrs CLI reads: lrs migrate status shows it Completed", async () => {
  assert.ok(existsSync(lrs), `lrs binary missing: ${lrs} (cargo build -p lrs-cli)`);
  // The app and the CLI share one data folder: the app's plan, state and lock are the CLI's.
  const migrations = join(home, ".local/share/lrs-wizard/migrations");
  const id = readFileSync(join(migrations, "current"), "utf8").trim();
  const plan = join(migrations, id, "plan.toml");
  assert.ok(existsSync(plan), `the app's plan at ${plan}`);
  const out = execFileSync(lrs, ["migrate", "status", plan, "--json"], { env: appEnv, encoding: "utf8" });
  const state = JSON.parse(out);
  assert.equal(state.plan, id);
  const statuses = Object.fromEntries(state.databases.map((d) => [d.name, d.status]));
  assert.deepEqual(statuses, { HR: "Completed", Inventory: "Completed", Sales: "Completed" });
});

test("the audit log lists every action and is written as CSV into a folder", async () => {
  await press("#nav-audit");
  await session.waitFor('[data-testid="page-audit"]');
  const rows = await session.waitFor('[data-testid="audit-row"]', { count: 5 });
  const actions = new Set(await Promise.all(rows.map((r) => r.attribute("data-action"))));
  for (const a of ["uploaded", "start", "complete", "completed"]) assert.ok(actions.has(a), `${a} is in the log`);
  const format = await session.find("#audit-format");
  await session.execute("const s = document.querySelector('#audit-format'); s.value = 'csv';");
  assert.equal(await format.property("value"), "csv");
  await (await session.find("#audit-folder")).type(home);
  await press("#audit-write");
  const [saved] = await session.waitFor('[data-testid="audit-saved"]');
  assert.match(await saved.text(), /audit-.*\.csv/);
  await shot("21-audit-log");
});

test("the T-SQL helper writes BACKUP ... WITH CHECKSUM for the databases found", async () => {
  await session.execute("window.scrollTo(0, 0)");
  await (await session.find("#nav-tsql")).click();
  await session.waitFor('[data-testid="page-tsql"]');
  await (await session.find("#tsql-generate")).click();
  const [sql] = await session.waitFor('[data-testid="tsql-sql"]');
  const text = await sql.property("value");
  assert.match(text, /BACKUP DATABASE \[Sales\] TO DISK = @file/);
  assert.match(text, /WITH CHECKSUM/);
  await shot("22-tsql-helper");
  await (await session.find("#nav-settings")).click();
  await session.waitFor('[data-testid="page-settings"]');
  await until(async () => (await session.find("#settings-concurrency")).property("value"), (v) => v === "8", "the settings");
  await shot("23-settings");
});

test("keyboard: on Settings the heading has the focus and Tab reaches every field and Save settings", async () => {
  await session.execute("window.scrollTo(0, 0)");
  await walkWithKeys("settings-title", ["settings-tenant", "settings-client-id", "settings-concurrency", "save-settings"], "24-settings-keyboard-focus");
  await assertLiveStatus('[data-testid="settings-status"]');
});
