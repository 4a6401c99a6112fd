// Pure display helpers (no DOM), unit-tested with node --test (tests/ui/).

/** "2026-03-01T12:00:00Z" → "2026-03-01 12:00 UTC". */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** The same instant in the machine's time zone, with the zone's offset: "2026-03-01 13:00 (UTC+01:00)". */
export function formatLocal(iso: string, offsetMinutes = -new Date(iso).getTimezoneOffset()): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes < 0 ? "-" : "+";
  const abs = Math.abs(offsetMinutes);
  const zone = `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${shifted.toISOString().slice(0, 16).replace("T", " ")} (${zone})`;
}

/** Days from `now` until `iso`, to the nearest day (negative when past). */
export function daysUntil(iso: string, now: Date = new Date()): number {
  return Math.round((new Date(iso).getTime() - now.getTime()) / 86_400_000);
}

export interface StepDef {
  id: string;
  available: boolean;
}

/** The first available step after `current` (slots not built yet are skipped); null at the end. */
export function nextStep(steps: StepDef[], current: string): string | null {
  const index = steps.findIndex((s) => s.id === current);
  for (let i = index + 1; i < steps.length; i++) {
    const step = steps[i];
    if (step && step.available) return step.id;
  }
  return null;
}

/** "3 checks failed" / "1 check failed". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
