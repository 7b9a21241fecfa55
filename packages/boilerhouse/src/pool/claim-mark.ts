/**
 * The mark an instance carries once a tenant's state is in it: `<instance dir>/claimed`, beside its volumes
 * and outside every one of them (no tenant can write or swap it), written just before its gate opens and
 * never changed, since an instance serves one tenant only. So the host says whose data an instance holds even
 * where the database does not: a database restored from a backup taken before the claim, or a container the
 * database does not know at all (pool/unrecorded-claims.ts).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Instance } from '../db/instances.ts';
import { isNotFound } from '../state/beneath.ts';
import type { InstanceFiles } from './instance-files.ts';

const MARK_FILE = 'claimed';
const MAX_MARK_BYTES = 4096;

export interface ClaimMark {
  tenant: string;
  workload: string;
  specHash: string;
  /** When the tenant's state went in (ms since the epoch): the newest mark of a tenant is its live instance. */
  at: number;
}

/** Marks the instance as its tenant's; written whole (a temporary file renamed into place) or not at all. */
export async function markClaimed(files: InstanceFiles, instance: Instance, at: number): Promise<void> {
  if (instance.tenant === null) throw new Error(`instance ${instance.id} has no tenant to mark`);
  const mark: ClaimMark = {
    tenant: instance.tenant,
    workload: instance.workload,
    specHash: instance.specHash,
    at,
  };
  const path = join(files.dir(instance.id), MARK_FILE);
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(mark)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** The instance's mark; undefined when it has none (never claimed, or made before marks were written). */
export async function readClaimMark(files: InstanceFiles, id: string): Promise<ClaimMark | undefined> {
  const path = join(files.dir(id), MARK_FILE);
  let text: string;
  try {
    const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(MAX_MARK_BYTES), 0, MAX_MARK_BYTES, 0);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  return parseClaimMark(text, path);
}

function parseClaimMark(text: string, path: string): ClaimMark {
  let value: Partial<Record<keyof ClaimMark, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    throw new Error(`the claim mark ${path} is not JSON`);
  }
  const { tenant, workload, specHash, at } = value;
  if (
    typeof tenant !== 'string' ||
    typeof workload !== 'string' ||
    typeof specHash !== 'string' ||
    typeof at !== 'number'
  ) {
    throw new Error(`the claim mark ${path} lacks its tenant, workload, spec hash or time`);
  }
  return { tenant, workload, specHash, at };
}
