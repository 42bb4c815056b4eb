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
