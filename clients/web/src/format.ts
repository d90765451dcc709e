// Times in the caller's time zone, and values as people read them.
import type { JsonValue } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { language, t } from "./i18n";

export function callerTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function locale(): string {
  return language() === "zh" ? "zh-CN" : "en-GB";
}

export function toDate(ts: Timestamp | undefined): Date | null {
  if (!ts) return null;
  return timestampDate(ts);
}

// "5 Jan 2026, 17:00 CST": always with the zone, so that a deadline is never
// read in the wrong one.
export function formatTime(ts: Timestamp | undefined): string {
  const date = toDate(ts);
  if (!date) return "";
  return new Intl.DateTimeFormat(locale(), {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: callerTimeZone(),
    timeZoneName: "short",
  }).format(date);
}

// "in 3 hours", "2 days ago".
export function formatRelative(ts: Timestamp | undefined, now = Date.now()): string {
  const date = toDate(ts);
  if (!date) return "";
  const seconds = Math.round((date.getTime() - now) / 1000);
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(seconds, "second");
}

export function formatValue(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map((item) => formatValue(item)).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "boolean") return value ? t("common.yes") : t("common.no");
  return String(value);
}

export function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
