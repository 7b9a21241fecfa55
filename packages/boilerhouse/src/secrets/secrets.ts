/**
 * Per-tenant secrets: stored sealed in the database, one set per (tenant, workload), and written into an
 * instance's in-memory secrets volume at claim. Values are never logged and never put in an error; only
 * names are ever shown. Tenant ids and workload names are checked by the caller, as everywhere else.
 */
import type { Database } from '../db/database.ts';
import { deleteSecrets, getSecrets, listSecretNames, putSecrets, type SecretNames } from '../db/secrets.ts';
import type { Owner } from '../owner.ts';
import { openValues, sealValues } from './cipher.ts';
import { writeSecretsVolume } from './materialize.ts';
import { checkSecretValues } from './values.ts';

export class TenantSecrets {
  readonly #db: Database;
  readonly #key: Buffer;
  readonly #now: () => number;

  /** `key`: the 32-byte key from `loadSecretKey`. */
  constructor(db: Database, key: Buffer, now: () => number = Date.now) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
    this.#db = db;
    this.#key = key;
    this.#now = now;
  }

  /**
   * Replaces the tenant's secrets for the workload with `values` (untrusted JSON: checked, BadRequestError
   * naming the secret at fault); returns the names stored, sorted.
   */
  put(tenant: string, workload: string, values: unknown): string[] {
    const checked = checkSecretValues(values);
    const sealed = sealValues(this.#key, tenant, workload, checked);
    putSecrets(this.#db, tenant, workload, sealed, this.#now());
    return sealed.keys;
  }

  /**
   * Sets some of the tenant's secrets for the workload (`set`: untrusted JSON, checked as for `put`) and
   * removes others by name, keeping the rest; returns the names stored, sorted. Removing every name
   * forgets the set, as `delete` does.
   */
  update(tenant: string, workload: string, changes: { set: unknown; remove: string[] }): string[] {
    const row = getSecrets(this.#db, tenant, workload);
    // A Map, not object assignment: a secret may be named __proto__.
    const values = new Map(
      Object.entries(row === undefined ? {} : openValues(this.#key, tenant, workload, row)),
    );
    for (const [name, value] of Object.entries(checkSecretValues(changes.set))) values.set(name, value);
    for (const name of changes.remove) values.delete(name);
    if (values.size === 0) {
      deleteSecrets(this.#db, tenant, workload);
      return [];
    }
    return this.put(tenant, workload, Object.fromEntries(values));
  }

  /** The names of the tenant's secrets for the workload, sorted; none when nothing is stored. */
  keys(tenant: string, workload: string): string[] {
    return getSecrets(this.#db, tenant, workload)?.keys ?? [];
  }

  /** The tenant's secret values for the workload, by name; none when nothing is stored. Never to be shown. */
  values(tenant: string, workload: string): ReadonlyMap<string, string> {
    const row = getSecrets(this.#db, tenant, workload);
    return new Map(Object.entries(row === undefined ? {} : openValues(this.#key, tenant, workload, row)));
  }

  /** The tenant's secret names for every workload that has some. */
  list(tenant: string): SecretNames[] {
    return listSecretNames(this.#db, tenant);
  }

  /** Forgets the tenant's secrets for the workload; whether there were any. */
  delete(tenant: string, workload: string): boolean {
    return deleteSecrets(this.#db, tenant, workload);
  }

  /**
   * Writes the tenant's current secrets for the workload into `hostDir` (an instance's directory from
   * `MemoryDirs.create`) as the volume mounted at `target`, replacing what it held, and returns the host
   * path to mount (`secretsSource(hostDir)`); empty when none are stored. The file or directory is updated
   * where it is, so a container created over `prepareSecretsVolume`'s empty volume sees the values. A row
   * that does not decrypt (another key, altered, copied) throws SecretsDecryptError.
   */
  async materialize(
    tenant: string,
    workload: string,
    hostDir: string,
    target: string,
    owner?: Owner,
  ): Promise<string> {
    const row = getSecrets(this.#db, tenant, workload);
    const values = row === undefined ? {} : openValues(this.#key, tenant, workload, row);
    return writeSecretsVolume(hostDir, target, values, owner);
  }
}
