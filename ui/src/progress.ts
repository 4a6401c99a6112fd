// Pure helpers of the migration pages (no DOM): sizes, rates and estimates in real units, the
// progress chart's path, and the tone of a status. Unit-tested with node --test (tests/ui/).

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** 12_100_000 → "12.1 MB" (decimal units, as disks and networks count them). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "12.1 of 30.0 MB" when both share a unit, else "900 kB of 1.2 MB". */
export function formatOf(done: number, total: number): string {
  const a = formatBytes(done);
  const b = formatBytes(total);
  const unitA = a.split(" ")[1];
  const unitB = b.split(" ")[1];
  return unitA === unitB ? `${a.split(" ")[0]} of ${b}` : `${a} of ${b}`;
}

/** Bytes per second → "45.2 MB/s"; "" when nothing moves. */
export function formatRate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? `${formatBytes(bytesPerSecond)}/s` : "";
}

/** An estimate, prefixed with "about" and rounded to what matters: "about 40 s", "about 3 min", "about 2 h 5 min". */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds / 5) * 5)} s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} min left`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `about ${h} h ${m} min left` : `about ${h} h left`;
}

/** 0–100, never NaN, one decimal. */
export function percentText(percent: number): string {
  const p = Number.isFinite(percent) ? Math.min(100, Math.max(0, percent)) : 0;
  return `${p >= 100 ? 100 : p.toFixed(p < 10 ? 1 : 0)} %`;
}

export interface Sample {
  at_ms: number;
  percent: number;
}

/** The SVG path of a progress chart `width`×`height` (percent upwards, time to the right). */
export function chartPath(samples: Sample[], width: number, height: number): string {
  if (samples.length === 0) return "";
  const first = samples[0]!.at_ms;
  const last = samples[samples.length - 1]!.at_ms;
  const span = Math.max(1, last - first);
  const x = (t: number): number => (samples.length === 1 ? width : ((t - first) / span) * width);
  const y = (p: number): number => height - (Math.min(100, Math.max(0, p)) / 100) * height;
  const points = samples.map((s) => `${x(s.at_ms).toFixed(1)},${y(s.percent).toFixed(1)}`);
  if (samples.length === 1) points.unshift(`0,${y(samples[0]!.percent).toFixed(1)}`);
  return `M${points.join(" L")}`;
}

export type Tone = "ok" | "bad" | "busy" | "idle" | "ready";

/** How a status looks: done, failed, working, waiting, or waiting for the user. */
export function statusTone(status: string): Tone {
  switch (status) {
    case "Completed": return "ok";
    case "Failed": case "Stopped": return "bad";
    case "ReadyForCutover": return "ready";
    case "Planned": case "Uploaded": return "idle";
    default: return "busy";
  }
}

/** "Sales, HR" → the names that are still selected among those shown. */
export function keepSelected(selected: string[], names: string[]): string[] {
  return selected.filter((s) => names.includes(s));
}
