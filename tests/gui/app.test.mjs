// GUI end-to-end test: drives the real `lrs-wizard` binary through tauri-driver + WebKitWebDriver
// (run it under Xvfb: scripts/gui-test.sh). It walks Welcome → Backups, inspects a real backup
// folder and checks what the page shows; screenshots go to target/gui-screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Session, startDriver } from "./webdriver.mjs";
import { hasXdotool, pickFolder } from "./dialog.mjs";

const repo = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const targetDir = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(repo, "target");
const app = process.env.LRS_WIZARD_BIN ?? join(targetDir, "debug", "lrs-wizard");
const driverPath = process.env.TAURI_DRIVER ?? join(targetDir, "tools", "bin", "tauri-driver");
const shots = join(targetDir, "gui-screenshots");
const fixture = resolve(repo, "../shared/fixtures/backups/appveyor-lab/RestoreTimeClean");
const noFixture = existsSync(fixture) ? false : `SKIP: fixture folder ${fixture} is absent (../shared not mounted)`;

let driver;
let session;
let home;

async function shot(name) {
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, `${name}.png`), await session.screenshot());
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

test("Migrate to Azure leads to the Backups page", async () => {
  await (await session.find("#start-migrate")).click();
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
  await shot("02-backups-inspected");
  // Bring the findings under the sticky header into view.
  await session.execute("const el = document.querySelector('[data-testid=\"findings\"]'); window.scrollTo(0, el.getBoundingClientRect().top + window.scrollY - 110);");
  await shot("03-backups-findings");
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
  await shot("04-picked-with-dialog");
});
