/**
 * Where tenant state plugs into claim and release (implemented by pool/synced-tenant-state.ts). A failure of
 * any of these rejects, and the caller then gives up nothing that was not saved.
 */
import type { Instance } from '../db/instances.ts';
import type { Workload } from './workloads.ts';

export interface TenantState {
  /** Puts the tenant's saved state into the instance's state volume, before its workload process starts. */
  restore(instance: Instance, workload: Workload, tenant: string): Promise<void>;
  /** Saves the instance's state for its tenant; called on release, before the instance is reserved. */
  save(instance: Instance, workload: Workload): Promise<void>;
  /**
   * Called before an instance of a tenant is destroyed, so nothing changed since its last save is lost;
   * its children are removed first, so none writes after this save.
   */
  beforeDestroy(instance: Instance): Promise<void>;
}
