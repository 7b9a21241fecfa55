/**
 * Tenants' secrets as the daemon keeps them: the store, opened with the secret key at start; what the API
 * sets, lists and deletes; and how they reach an instance (its filtered socket first, then its volume).
 */
import type { Environment } from '@boilerhouse/spec';
import type { Database } from '../db/database.ts';
import { getInstance, listTenantInstances } from '../db/instances.ts';
import { BadRequestError, ShuttingDownError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { numericOwner } from '../owner.ts';
import type { InstanceFiles } from '../pool/instance-files.ts';
import { workloadById } from '../pool/workload-lookup.ts';
import type { Workload, WorkloadRegistry } from '../pool/workloads.ts';
import { loadSecretKey, type SecretKey, TenantSecrets } from '../secrets/index.ts';
import { parseTenantId } from '../tenant.ts';

export interface SecretsAdminDeps {
  db: Database;
  files: InstanceFiles;
  log: Logger;
  workloads: WorkloadRegistry;
  /** Tells an instance's filtered socket its tenant's values now (DockerProxies.refreshSecrets). */
  refreshSocket: (instanceId: string) => Promise<void>;
  /** Runs work that shutdown must wait for. */
  track: <T>(work: Promise<T>) => Promise<T>;
}

export class SecretsAdmin {
  readonly #deps: SecretsAdminDeps;
  #store: TenantSecrets | undefined;
  #key: SecretKey | undefined;

  constructor(deps: SecretsAdminDeps) {
    this.#deps = deps;
  }

  /** Loads (or makes) the secret key: until then, and after a failed start, every use is refused. */
  async open(env: Environment, dataDir: string): Promise<void> {
    const key = await loadSecretKey(env, dataDir);
    this.#store = new TenantSecrets(this.#deps.db, key.key);
    this.#key = key;
  }

  /** The key that opens the stored secrets (a backup carries it: db/backup.ts). */
  key(): SecretKey {
    if (this.#key === undefined) throw new ShuttingDownError();
    return this.#key;
  }

  /** Stores a tenant's secrets for a workload (encrypted); they reach its instance at the next claim. */
  put(tenant: string, workloadId: string, values: unknown): { keys: string[]; shadowed: string[] } {
    const workload = this.#withSecretsVolume(workloadId);
    const keys = this.#opened().put(parseTenantId(tenant), workload.id, values);
    this.#pushSecrets(parseTenantId(tenant), workload.id);
    return { keys, shadowed: shadowedBy(workload, keys) };
  }

  /** Sets some of a tenant's secrets for a workload and removes others, keeping the rest. */
  update(
    tenant: string,
    workloadId: string,
    changes: { set: unknown; remove: string[] },
  ): { keys: string[]; shadowed: string[] } {
    const workload = this.#withSecretsVolume(workloadId);
    const keys = this.#opened().update(parseTenantId(tenant), workload.id, changes);
    this.#pushSecrets(parseTenantId(tenant), workload.id);
    return { keys, shadowed: shadowedBy(workload, keys) };
  }

  /** The names (never the values) of a tenant's secrets, per workload. */
  names(tenant: string) {
    return this.#opened().list(parseTenantId(tenant));
  }

  delete(tenant: string, workloadId: string): boolean {
    const id = parseTenantId(tenant);
    const workload = workloadById(this.#deps.workloads, workloadId, { includeRemoved: true }).id;
    const deleted = this.#opened().delete(id, workload);
    this.#pushSecrets(id, workload);
    return deleted;
  }

  /** The secrets of the tenant an instance is (or was last) claimed for; none for a fresh instance. */
  ofInstance(instanceId: string): ReadonlyMap<string, string> {
    const instance = getInstance(this.#deps.db, instanceId);
    if (instance?.tenant == null) return new Map();
    return this.#opened().values(instance.tenant, instance.workload);
  }

  /** Writes the tenant's secrets into a claimed instance's secrets volume. */
  async writeInto(instanceId: string, workload: Workload, tenant: string): Promise<void> {
    // The socket knows the tenant's values before the instance does.
    await this.#deps.refreshSocket(instanceId);
    const target = workload.spec.volumes.secrets?.target;
    if (target === undefined) return;
    const owner = numericOwner(workload.spec.security.user);
    await this.#opened().materialize(
      tenant,
      workload.id,
      this.#deps.files.secretsDir(instanceId),
      target,
      owner,
    );
  }

  #withSecretsVolume(workloadId: string): Workload {
    const workload = workloadById(this.#deps.workloads, workloadId);
    if (workload.spec.volumes.secrets === undefined) {
      throw new BadRequestError(`workload ${workload.id} has no secrets volume (volumes.secrets)`);
    }
    return workload;
  }

  /**
   * Tells the filtered sockets of the tenant's instances of the workload its secret values now: the socket
   * host refuses children that carry them, and keeps serving while the daemon is down.
   */
  #pushSecrets(tenant: string, workload: string): void {
    for (const instance of listTenantInstances(this.#deps.db, tenant)) {
      if (instance.workload !== workload) continue;
      void this.#deps.track(
        this.#deps
          .refreshSocket(instance.id)
          .catch((error: Error) =>
            this.#deps.log.warn(
              { instance: instance.id, error: error.message },
              'could not give the filtered socket the changed secrets',
            ),
          ),
      );
    }
  }

  #opened(): TenantSecrets {
    if (this.#store === undefined) throw new ShuttingDownError();
    return this.#store;
  }
}

/**
 * The secrets whose names the workload's `environment` sets too: the instance gets both, and a workload
 * that reads its environment first (NanoClaw does) never sees the tenant's value. Said, not ignored.
 */
function shadowedBy(workload: Workload, keys: readonly string[]): string[] {
  return keys.filter((key) => Object.hasOwn(workload.spec.environment, key));
}
