// The keys the Keys screen shows, while it is on screen: quick copy opens
// with them at once instead of asking Rust for the whole list again (10,000
// keys take a second or more over IPC). The Keys screen keeps them current
// (every listing, creation and revocation replaces the list); when it is not
// mounted there is nothing here and quick copy asks Rust.
import type { KeyView } from "./api";

let shown: readonly KeyView[] | null = null;

export function setShownKeys(keys: readonly KeyView[] | null) {
  shown = keys;
}

export function shownKeys(): readonly KeyView[] | null {
  return shown;
}
