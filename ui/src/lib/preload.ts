// The first screen's data, asked for in one call as soon as the script
// runs, before anything is mounted: the vault status, the catalog's keys (no
// network) and the providers. Each part is handed out once; later loads ask
// again.
import { api, type KeyView, type ProviderView, type StartupStatus } from "./api";

performance.mark("lk:script");
const first = api.firstScreen();
// Read later by whoever takes it; never an unhandled rejection meanwhile.
first.catch(() => undefined);

let status: Promise<StartupStatus> | null = first.then((f) => f.status);
let firstKeys: { keys: Promise<KeyView[]>; providers: Promise<ProviderView[]> } | null = {
  keys: first.then((f) => f.keys),
  providers: first.then((f) => f.providers),
};
firstKeys.keys.catch(() => undefined);
firstKeys.providers.catch(() => undefined);

/** Settles when the first screen's data is in, or after `ms` at the most:
 * mounting then paints the list in the first frame instead of an empty
 * screen first and the keys a frame later. The wait is bounded, so a vault
 * slow to open (a keychain asking for its password) still shows its status. */
export function firstScreenOrAfter(ms: number): Promise<void> {
  return Promise.race([
    first.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => setTimeout(resolve, ms)),
  ]);
}

export function startupStatus(): Promise<StartupStatus> {
  const p = status ?? api.startupStatus();
  status = null;
  return p;
}

export function firstKeysLoad(): { keys: Promise<KeyView[]>; providers: Promise<ProviderView[]> } {
  const f = firstKeys ?? { keys: api.listLocalKeys(), providers: api.listProviders() };
  firstKeys = null;
  return f;
}
