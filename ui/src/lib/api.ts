// Typed calls to the Rust commands. Types come from the generated bindings;
// no key ever passes through here except revealKey's answer, which needs the
// one-time grant createKey returned.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { KeyListing } from "./bindings/KeyListing";
import type { KeyView } from "./bindings/KeyView";
import type { ProviderView } from "./bindings/ProviderView";
import type { AuditEntry } from "./bindings/AuditEntry";
import type { AuditCheck } from "./bindings/AuditCheck";
import type { ActivityRow } from "./bindings/ActivityRow";
import type { ExportFormat } from "./bindings/ExportFormat";
import type { KeyDetails } from "./bindings/KeyDetails";
import type { ScanReport } from "./bindings/ScanReport";
import type { PickKind } from "./bindings/PickKind";
import type { CatalogueService } from "./bindings/CatalogueService";
import type { Recognised } from "./bindings/Recognised";
import type { NewServiceProviderInput } from "./bindings/NewServiceProviderInput";
import type { ScanHit } from "./bindings/ScanHit";
import type { CreatedKey } from "./bindings/CreatedKey";
import type { WireError } from "./bindings/WireError";
import type { ErrorCode } from "./bindings/ErrorCode";
import type { ErrorDetails } from "./bindings/ErrorDetails";
import type { NewKeyInput } from "./bindings/NewKeyInput";
import type { NewProviderInput } from "./bindings/NewProviderInput";
import type { ProviderCredentialInput } from "./bindings/ProviderCredentialInput";
import type { ExistingKeyInput } from "./bindings/ExistingKeyInput";
import type { CopyReceipt } from "./bindings/CopyReceipt";
import type { StartupStatus } from "./bindings/StartupStatus";
import type { FirstScreen } from "./bindings/FirstScreen";
import type { RotationView } from "./bindings/RotationView";
import type { RotationPlanInput } from "./bindings/RotationPlanInput";
import type { TargetSpec } from "./bindings/TargetSpec";
import type { TargetState } from "./bindings/TargetState";
import type { NewManualProviderInput } from "./bindings/NewManualProviderInput";
import type { Settings } from "./bindings/Settings";
import type { SettingsView } from "./bindings/SettingsView";
import type { StrategyChoice } from "./bindings/StrategyChoice";
import type { KeyInTheWay } from "./bindings/KeyInTheWay";
import type { RotationStrategy } from "./bindings/RotationStrategy";

export type {
  KeyListing,
  KeyView,
  ProviderView,
  AuditEntry,
  AuditCheck,
  ActivityRow,
  ExportFormat,
  KeyDetails,
  ScanReport,
  CatalogueService,
  Recognised,
  ScanHit,
  CreatedKey,
  WireError,
  ErrorCode,
  ErrorDetails,
  StartupStatus,
  RotationView,
  TargetSpec,
  TargetState,
  Settings,
  SettingsView,
  StrategyChoice,
  KeyInTheWay,
  RotationStrategy,
};

function progressChannel(onProgress: (v: RotationView) => void): Channel<RotationView> {
  const channel = new Channel<RotationView>();
  channel.onmessage = onProgress;
  return channel;
}

/** A failure the core did not describe (the IPC layer itself failed). */
export type FailureCode = ErrorCode | "internal";

/** A command failure, carrying the core's stable code and what it is about. */
export class CommandFailure extends Error {
  readonly code: FailureCode;
  readonly details: ErrorDetails | null;
  constructor(wire: { code: FailureCode; message: string; details?: ErrorDetails }) {
    super(wire.message);
    this.code = wire.code;
    this.details = wire.details ?? null;
  }
}

function isWireError(e: unknown): e is WireError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    if (isWireError(e)) throw new CommandFailure(e);
    throw new CommandFailure({ code: "internal", message: String(e) });
  }
}

export const api = {
  startupStatus: () => call<StartupStatus>("startup_status"),
  firstScreen: () => call<FirstScreen>("first_screen"),
  listKeys: () => call<KeyListing>("list_keys"),
  listLocalKeys: () => call<KeyView[]>("list_local_keys"),
  listProviders: () => call<ProviderView[]>("list_providers"),
  addProvider: (input: NewProviderInput) => call<ProviderView>("add_provider", { input }),
  testProvider: (providerId: string) => call<null>("test_provider", { providerId }),
  setProviderCredential: (input: ProviderCredentialInput) =>
    call<ProviderView>("set_provider_credential", { input }),
  /** With `forgetKeys`, the number of keys the person was shown: they go too. */
  removeProvider: (providerId: string, forgetKeys?: number) =>
    call<number>("remove_provider", { providerId, forgetKeys }),
  createKey: (input: NewKeyInput) => call<CreatedKey>("create_key", { input }),
  revealKey: (keyId: string, grant: string) => call<string>("reveal_key", { keyId, grant }),
  copyKey: (keyId: string) => call<CopyReceipt>("copy_key", { keyId }),
  revokeKey: (keyId: string) => call<KeyView>("revoke_key", { keyId }),
  addExistingKey: (input: ExistingKeyInput) => call<KeyView>("add_existing_key", { input }),
  auditLog: (limit?: number) => call<AuditEntry[]>("audit_log", { limit: limit ?? null }),
  verifyAuditLog: () => call<AuditCheck>("verify_audit_log"),
  listServices: () => call<CatalogueService[]>("list_services"),
  addServiceProvider: (input: NewServiceProviderInput) => call<ProviderView>("add_service_provider", { input }),
  openServicePage: (serviceId: string) => call<null>("open_service_page", { serviceId }),
  recogniseKey: (key: string) => call<Recognised[]>("recognise_key", { key }),
  scanFolder: (folder: string) => call<ScanReport>("scan_folder", { folder }),
  /** The system's picker; null when the person cancelled. */
  pickPath: (kind: PickKind, start: string) => call<string | null>("pick_path", { kind, start: start.trim() || null }),
  keyDetails: (keyId: string) => call<KeyDetails>("key_details", { keyId }),
  activity: (limit?: number) => call<ActivityRow[]>("activity", { limit: limit ?? null }),
  exportActivity: (format: ExportFormat) => call<string>("export_activity", { format }),
  planRotation: (input: RotationPlanInput) => call<RotationView>("plan_rotation", { input }),
  runRotation: (rotationId: string, onProgress: (v: RotationView) => void) =>
    call<RotationView>("run_rotation", { rotationId, onProgress: progressChannel(onProgress) }),
  rollbackRotation: (rotationId: string, onProgress: (v: RotationView) => void) =>
    call<RotationView>("rollback_rotation", { rotationId, onProgress: progressChannel(onProgress) }),
  rotationStrategies: (keyId: string) => call<StrategyChoice[]>("rotation_strategies", { keyId }),
  keysInTheWay: (keyId: string) => call<KeyInTheWay[]>("keys_in_the_way", { keyId }),
  deleteKeyInTheWay: (keyId: string, remoteId: string) =>
    call<void>("delete_key_in_the_way", { keyId, remoteId }),
  parseTarget: (spec: string) => call<TargetSpec>("parse_target", { spec }),
  revokeAnyway: (rotationId: string, onProgress: (v: RotationView) => void) =>
    call<RotationView>("revoke_anyway", { rotationId, onProgress: progressChannel(onProgress) }),
  reactivateRotation: (rotationId: string, onProgress: (v: RotationView) => void) =>
    call<RotationView>("reactivate_rotation", { rotationId, onProgress: progressChannel(onProgress) }),
  confirmRotationItem: (rotationId: string, target: number, item: number) =>
    call<RotationView>("confirm_rotation_item", { rotationId, target, item }),
  copyRotationKey: (rotationId: string) => call<CopyReceipt>("copy_rotation_key", { rotationId }),
  listRotations: () => call<RotationView[]>("list_rotations"),
  addToGitignore: (path: string) => call<null>("add_to_gitignore", { path }),
  addManualProvider: (input: NewManualProviderInput) => call<ProviderView>("add_manual_provider", { input }),
  provideNewKey: (rotationId: string, secret: string) =>
    call<RotationView>("provide_new_key", { rotationId, secret }),
  confirmDoneByHand: (rotationId: string) => call<RotationView>("confirm_done_by_hand", { rotationId }),
  openDashboard: (rotationId: string) => call<null>("open_dashboard", { rotationId }),
  getSettings: () => call<SettingsView>("get_settings"),
  updateSettings: (settings: Settings) => call<SettingsView>("update_settings", { settings }),
};

/** A message that says what to do next, from any thrown value. */
export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
