// Display helpers for dates, counts and badges.
//
// No `Intl` here, on purpose: the first Intl formatter makes WebKit's web
// process load ICU's formatting library and locale data (about 3.5 MiB of
// its memory, measured in the launch benchmark's PSS), for text the UI
// writes in English anyway. Dates use the Date getters, which already give
// local time; numbers and relative times are spelt out below.

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function parse(iso: string | null): Date | null {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "3 Dec 2026", the local calendar date; "—" for no date. */
export function shortDate(iso: string | null): string {
  const d = parse(iso);
  return d ? `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()}` : "—";
}

/** 1234567 → "1,234,567". */
export function count(n: number): string {
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Sorts names case-insensitively (not by locale: see above). */
export function byName(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

const UNITS: [string, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["week", 7 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "3 days ago", "in 2 hours", "yesterday", "just now"; "never" for no time. */
export function relative(iso: string | null, now: Date = new Date()): string {
  if (!iso) return "never";
  const d = parse(iso);
  if (!d) return "—";
  const diff = d.getTime() - now.getTime();
  for (const [unit, ms] of UNITS) {
    const n = Math.trunc(Math.abs(diff) / ms);
    if (n === 0) continue;
    const past = diff < 0;
    if (n === 1 && unit === "day") return past ? "yesterday" : "tomorrow";
    if (n === 1 && unit !== "hour" && unit !== "minute") return `${past ? "last" : "next"} ${unit}`;
    const amount = `${count(n)} ${unit}${n === 1 ? "" : "s"}`;
    return past ? `${amount} ago` : `in ${amount}`;
  }
  return "just now";
}

/** The exact local time with its offset from UTC, for a tooltip next to a
 * relative one: "3 Dec 2026, 14:05 (UTC+01:00)". */
export function localTime(iso: string | null): string {
  const d = parse(iso);
  if (!d) return "";
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? "−" : "+";
  const abs = Math.abs(offset);
  return `${shortDate(iso)}, ${two(d.getHours())}:${two(d.getMinutes())} (UTC${sign}${two(Math.trunc(abs / 60))}:${two(abs % 60)})`;
}

export const STATUS_LABEL: Record<string, string> = {
  active: "Active",
  expired: "Expired",
  revoked: "Revoked",
  no_local_secret: "No local secret",
  pending: "Pending rotation",
  missing: "Missing on the service",
};
