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
