/**
 * The API's response shapes as the CLI reads them. Where the daemon builds a shape in api/views.ts the
 * type comes from there (type-only import: nothing of the daemon is loaded), so the two cannot drift.
 */
import type {
  claimView,
  damagedSaveView,
  eventView,
  instanceView,
  poolView,
  releaseView,
  saveView,
  tenantView,
  tokenView,
  upgradeView,
  workloadProblemView,
} from '../api/views.ts';

export type InstanceView = ReturnType<typeof instanceView>;
export type PoolView = ReturnType<typeof poolView>;
export type ClaimView = ReturnType<typeof claimView>;
export type ReleaseView = ReturnType<typeof releaseView>;
export type EventView = ReturnType<typeof eventView>;
export type SaveView = ReturnType<typeof saveView>;
export type DamagedSaveView = ReturnType<typeof damagedSaveView>;
export type TenantView = ReturnType<typeof tenantView>;
export type UpgradeView = ReturnType<typeof upgradeView>;

export interface WorkloadSummary {
  id: string;
  name: string;
  version: string;
  file: string;
  removed: boolean;
  min_idle: number;
  max_size: number;
  image: string;
}

export type WorkloadProblemView = ReturnType<typeof workloadProblemView>;

export interface WorkloadList {
  workloads: WorkloadSummary[];
  /** What keeps files of the workloads directory from being served as written. */
  problems: WorkloadProblemView[];
}

export interface WorkloadApplied {
  id: string;
  version: string;
  created: boolean;
  /** What validation warns of, and images not on the daemon's host. */
  warnings: { path: string; message: string }[];
}

export interface TenantSummary {
  tenant: string;
  instances: Array<{ id: string; workload: string; phase: string }>;
}

export interface Snapshots {
  tenant: string;
  workload: string;
  head: number | null;
  saves: SaveView[];
  damaged: DamagedSaveView[];
}

export interface Restored {
  tenant: string;
  workload: string;
  restored: number;
  head: number;
}

export interface SecretsSet {
  tenant: string;
  workload: string;
  keys: string[];
  /** Stored names the workload's environment sets too. */
  shadowed: string[];
}

/** A token's record, with its reach (`tenants`, `workloads`; null: every one). */
export type TokenSummary = ReturnType<typeof tokenView>;

export type TokenCreated = TokenSummary & { token: string };
