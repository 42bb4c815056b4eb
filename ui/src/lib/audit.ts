// Filtering the Activity screen's rows (by key, action and date).
import type { ActivityRow } from "./bindings/ActivityRow";

export type AuditFilter = { key: string; action: string; since: string };

/** The rows for one key and action, from a date (YYYY-MM-DD, local) on. */
export function filterActivity(rows: ActivityRow[], f: AuditFilter): ActivityRow[] {
  const since = f.since ? new Date(`${f.since}T00:00:00`).getTime() : null;
  return rows.filter(
    (r) =>
      (!f.key || r.key_id === f.key) &&
      (!f.action || r.action === f.action) &&
      (since === null || Number.isNaN(since) || new Date(r.at).getTime() >= since),
  );
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const READABLE: [RegExp, string][] = [
  // A rotation's working name ("Payments API (rotation 8c845649)") is
  // internal: the key keeps its name.
  [/ \(rotation [0-9a-f]{8}\)"/g, '"'],
  [new RegExp(`\\(rotation ${UUID}\\)`, "g"), "(replaced by a rotation)"],
  [new RegExp(`\\b(of|for|back) rotation ${UUID}`, "g"), "$1 the rotation"],
  [new RegExp(`\\brotation ${UUID}`, "g"), "rotation"],
];

/**
 * An audit line's detail as a person reads it: without the rotation ids
 * and working names the log keeps (the line itself is unchanged; exports
 * and `latchkey audit` show it whole).
 */
export function readableDetail(detail: string): string {
  return READABLE.reduce((text, [pattern, by]) => text.replace(pattern, by), detail);
}
