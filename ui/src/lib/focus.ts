// Modal dialogs: Tab and Shift+Tab cycle through the dialog's own controls
// (never out to the page behind it or to nothing), and Esc closes it.
import type { Action } from "svelte/action";

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), ' +
  'textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/**
 * Call while a dialog is being created (before it takes focus); the returned
 * function, run when it goes away, gives focus back to where it was (the
 * row or button that opened it), once the dialog has left the page.
 */
export function returnFocus(): () => void {
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return () => {
    setTimeout(() => {
      if (opener?.isConnected && !document.querySelector("dialog[open]")) opener.focus();
    }, 0);
  };
}

/** The controls Tab can reach inside `root`, in document order. */
export function tabbables(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (el) => el.tabIndex >= 0 && el.getClientRects().length > 0 && !el.closest("[inert]"),
  );
}

export const trapFocus: Action<HTMLElement, () => void> = (node, onescape) => {
  let close = onescape;
  function onkeydown(e: KeyboardEvent) {
    if (e.key === "Escape" && !e.defaultPrevented) {
      // Handled here rather than left to the native `cancel`, so every
      // dialog closes the same way, once.
      e.preventDefault();
      e.stopPropagation();
      close?.();
      return;
    }
    if (e.key !== "Tab") return;
    const items = tabbables(node);
    const first = items[0];
    const last = items[items.length - 1];
    if (first === undefined || last === undefined) {
      e.preventDefault();
      return;
    }
    const active = document.activeElement as HTMLElement | null;
    const inside = active !== null && node.contains(active);
    if (e.shiftKey && (!inside || active === first)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (!inside || active === last)) {
      e.preventDefault();
      first.focus();
    }
  }
  node.addEventListener("keydown", onkeydown);
  return {
    update(next) {
      close = next;
    },
    destroy() {
      node.removeEventListener("keydown", onkeydown);
    },
  };
};
