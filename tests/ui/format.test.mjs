// Unit tests of the front end's pure helpers (ui/src/format.ts), on the compiled JavaScript
// (`npm run build` first; `npm run test:ui` does both).

import { test } from "node:test";
import assert from "node:assert/strict";
import { daysUntil, formatLocal, formatUtc, nextStep, plural } from "../../ui/public/js/format.js";

test("times are shown in UTC and in the local zone with its offset", () => {
  assert.equal(formatUtc("2026-03-01T12:00:00Z"), "2026-03-01 12:00 UTC");
  assert.equal(formatLocal("2026-03-01T12:00:00Z", 60), "2026-03-01 13:00 (UTC+01:00)");
  assert.equal(formatLocal("2026-03-01T02:30:00Z", -300), "2026-02-28 21:30 (UTC-05:00)");
  assert.equal(formatLocal("2026-03-01T12:00:00Z", 330), "2026-03-01 17:30 (UTC+05:30)");
  assert.equal(formatUtc("not a time"), "not a time");
});

test("days until an expiry", () => {
  const now = new Date("2026-03-01T00:00:00Z");
  assert.equal(daysUntil("2026-04-02T00:00:00Z", now), 32);
  assert.equal(daysUntil("2026-02-28T00:00:00Z", now), -1);
  assert.equal(daysUntil("2026-04-01T23:59:00Z", now), 32, "a token signed a moment ago still shows its 32 days");
});

test("Next skips the steps that are only slots", () => {
  const steps = [
    { id: "storage", available: true },
    { id: "upload", available: false },
    { id: "access", available: true },
    { id: "start", available: false },
  ];
  assert.equal(nextStep(steps, "storage"), "access");
  assert.equal(nextStep(steps, "access"), null);
  assert.equal(nextStep(steps, "upload"), "access");
});

test("plurals", () => {
  assert.equal(plural(1, "check"), "1 check");
  assert.equal(plural(3, "check"), "3 checks");
});

import { chartPath, formatBytes, formatEta, formatOf, formatRate, keepSelected, percentText, statusTone } from "../../ui/public/js/progress.js";

test("sizes, rates and estimates are in real units, estimates prefixed with about", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(12_100_000), "12.1 MB");
  assert.equal(formatBytes(150_000_000), "150 MB");
  assert.equal(formatOf(12_100_000, 30_000_000), "12.1 of 30.0 MB");
  assert.equal(formatOf(900_000, 1_200_000), "900 kB of 1.2 MB");
  assert.equal(formatRate(45_200_000), "45.2 MB/s");
  assert.equal(formatRate(0), "");
  assert.equal(formatEta(null), "");
  assert.equal(formatEta(42), "about 40 s left");
  assert.equal(formatEta(1), "about 1 s left");
  assert.equal(formatEta(185), "about 3 min left");
  assert.equal(formatEta(7500), "about 2 h 5 min left");
  assert.equal(formatEta(7200), "about 2 h left");
  assert.equal(percentText(NaN), "0.0 %");
  assert.equal(percentText(55.55), "56 %");
  assert.equal(percentText(120), "100 %");
});

test("the progress chart goes up with the percent and right with the time", () => {
  assert.equal(chartPath([], 100, 40), "");
  assert.equal(chartPath([{ at_ms: 5, percent: 50 }], 100, 40), "M0,20.0 L100.0,20.0");
  const d = chartPath([{ at_ms: 0, percent: 0 }, { at_ms: 500, percent: 50 }, { at_ms: 1000, percent: 100 }], 100, 40);
  assert.equal(d, "M0.0,40.0 L50.0,20.0 L100.0,0.0");
  assert.equal(chartPath([{ at_ms: 0, percent: -5 }, { at_ms: 10, percent: 150 }], 10, 10), "M0.0,10.0 L10.0,0.0", "clamped");
});

test("status tones and the selection", () => {
  assert.equal(statusTone("Completed"), "ok");
  assert.equal(statusTone("Stopped"), "bad");
  assert.equal(statusTone("ReadyForCutover"), "ready");
  assert.equal(statusTone("Restoring"), "busy");
  assert.deepEqual(keepSelected(["Sales", "Gone"], ["Sales", "HR"]), ["Sales"]);
});
