// Filtering the keys list: pure functions, so they can be measured alone.
// The searchable text of each key is lowercased once per listing, not once
// per keystroke.
import type { KeyView } from "./bindings/KeyView";

export interface SearchIndex {
  keys: readonly KeyView[];
  haystacks: string[];
}

export function buildIndex(keys: readonly KeyView[]): SearchIndex {
  return {
    keys,
    haystacks: keys.map((k) =>
      [k.name, k.provider_name, k.environment, k.env_var, k.preview].join("\n").toLowerCase(),
    ),
  };
}

export function filterKeys(index: SearchIndex, query: string, providerId: string): KeyView[] {
  const q = query.trim().toLowerCase();
  if (q === "" && providerId === "") return index.keys as KeyView[];
  const out: KeyView[] = [];
  const { keys, haystacks } = index;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if ((providerId === "" || k.provider_id === providerId) && (q === "" || haystacks[i]!.includes(q))) {
      out.push(k);
    }
  }
  return out;
}
