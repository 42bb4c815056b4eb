// Filtering the keys list: a pure function, so it can be measured alone.
import type { KeyView } from "./bindings/KeyView";

export function filterKeys(keys: readonly KeyView[], query: string, providerId: string): KeyView[] {
  const q = query.trim().toLowerCase();
  return keys.filter(
    (k) =>
      (providerId === "" || k.provider_id === providerId) &&
      (q === "" ||
        k.name.toLowerCase().includes(q) ||
        k.provider_name.toLowerCase().includes(q) ||
        k.environment.toLowerCase().includes(q) ||
        k.env_var.toLowerCase().includes(q) ||
        k.preview.toLowerCase().includes(q)),
  );
}
