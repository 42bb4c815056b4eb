// The first screen's data, asked for as soon as the script runs, in
// parallel, before anything is mounted: the vault status, the catalog's keys
// (no network) and the providers. Each is handed out once; later loads ask
// again.
import { api, type KeyView, type ProviderView, type StartupStatus } from "./api";

function settled<T>(p: Promise<T>): Promise<T> {
  // Read later by whoever takes it; never an unhandled rejection meanwhile.
  p.catch(() => undefined);
  return p;
}

let status: Promise<StartupStatus> | null = settled(api.startupStatus());
let firstKeys: { keys: Promise<KeyView[]>; providers: Promise<ProviderView[]> } | null = {
  keys: settled(api.listLocalKeys()),
  providers: settled(api.listProviders()),
};

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
