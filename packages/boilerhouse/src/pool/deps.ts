/**
 * What the pool modules share, passed down as one typed object rather than imported singletons. Only the
 * assembly (boilerhouse.ts) holds all of it: each piece takes a Pick of the members it uses, named beside
 * it (lifecycle.ts's SlotDeps, StartDeps and DestroyDeps, HookDeps, ScanDeps, SaveDeps, ...).
 */
import type { Database } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { DockerProxies } from '../proxy/proxies.ts';
import type { ContainerRuntime } from '../runtime/runtime.ts';
import type { Activity } from './activity.ts';
import type { InstanceFiles } from './instance-files.ts';
import type { ReservedWrites } from './reserved-writes.ts';
import type { Workload, WorkloadRegistry } from './workloads.ts';

export interface PoolDeps {
  db: Database;
  runtime: ContainerRuntime;
  files: InstanceFiles;
  activity: Activity;
  log: Logger;
  workloads: WorkloadRegistry;
  daemonId: string;
  publishHost: string;
  /** Longest a release's caller waits for its save; the save goes on after (release.ts). */
  releaseAnswerMs: number;
  now: () => number;
  /** Wakes the fill loop (after a claim took a ready instance, or a destroy freed a slot). */
  kickFill: () => void;
  /** Writes the tenant's secrets into a claimed instance's secrets volume. */
  writeSecrets: (instanceId: string, workload: Workload, tenant: string) => Promise<void>;
  /** What reserved instances' state looked like when they were reserved. */
  reservedWrites: ReservedWrites;
  /** The instances' filtered Docker sockets (workloads with a `docker:` block). */
  proxies: DockerProxies;
  /** Runs work that shutdown must wait for. */
  track: <T>(work: Promise<T>) => Promise<T>;
}
