/**
 * A tenant's decrypted secrets as an instance's secrets volume, in its memory directory: one dotenv file
 * when the volume's target is a file (`/app/.env`), else a directory with one file per name. Readable only
 * by the workload's user when its ids are known; else by anyone who can see the mount (the 0700 memory
 * directories keep other host users out, and a user name cannot be resolved on the host).
 */

import { constants } from 'node:fs';
import { chmod, lchown, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatEnvFile } from '@boilerhouse/kit/env-file';
import type { Owner } from '../owner.ts';
import { isFileTarget } from '../pool/instance-files.ts';
import { assertMemoryBacked } from './memory-dir.ts';
import { SECRET_NAME } from './values.ts';

/** The volume's host path inside an instance's memory directory: what to mount at the target. */
export function secretsSource(hostDir: string): string {
  return join(hostDir, 'secrets');
}

/**
 * The empty volume for `target`, made when the container is created, before any tenant claims it (a bind
 * mount needs its source to exist); returns its host path.
 */
export function prepareSecretsVolume(hostDir: string, target: string, owner?: Owner): Promise<string> {
  return writeSecretsVolume(hostDir, target, {}, owner);
}

/**
 * Writes `values` as the volume for `target` (replacing what it held) and returns its host path. Safe to
 * call again while the container runs: the new contents reach it.
 */
export async function writeSecretsVolume(
  hostDir: string,
  target: string,
  values: Readonly<Record<string, string>>,
  owner?: Owner,
): Promise<string> {
  // Decrypted secrets must never reach a disk, whatever directory a caller passes.
  await assertMemoryBacked(hostDir);
  const source = secretsSource(hostDir);
  if (isFileTarget(target)) await writeDotenv(source, formatEnvFile(values), owner);
  else await writeNameFiles(source, values, owner);
  return source;
}

/**
 * Rewritten in place, never renamed over: a bind-mounted file stays bound to the inode it had when the
 * container was created, so a new file would never reach a running container.
 */
async function writeDotenv(path: string, text: string, owner: Owner | undefined): Promise<void> {
  // Writable by the daemon again even when it does not run as root (0400 from the last write).
  await chmod(path, 0o600).catch(ignoreMissing);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
  const handle = await open(path, flags, 0o600);
  try {
    await handle.writeFile(text, 'utf8');
  } finally {
    await handle.close();
  }
  await settle(path, owner === undefined ? 0o444 : 0o400, owner);
}

/** Each file is written beside its name and renamed into place, so a reader sees a whole value. */
async function writeNameFiles(
  dir: string,
  values: Readonly<Record<string, string>>,
  owner: Owner | undefined,
): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await chmod(dir, 0o700);
  // A secret deleted since the last write must not linger.
  for (const entry of await readdir(dir)) {
    if (!Object.hasOwn(values, entry)) await rm(join(dir, entry), { recursive: true, force: true });
  }
  for (const [name, value] of Object.entries(values)) {
    // Names were checked when stored; checked again because here they become paths.
    if (!SECRET_NAME.test(name)) throw new Error(`secret name ${JSON.stringify(name)} cannot be a file name`);
    // A leading dot never collides with a name, which cannot start with one.
    const temp = join(dir, `.${name}.tmp`);
    await rm(temp, { force: true });
    await writeFile(temp, value, { encoding: 'utf8', mode: 0o600, flag: 'wx' });
    await settle(temp, owner === undefined ? 0o444 : 0o400, owner);
    await rename(temp, join(dir, name));
  }
  await settle(dir, owner === undefined ? 0o555 : 0o500, owner);
}

async function settle(path: string, mode: number, owner: Owner | undefined): Promise<void> {
  if (owner !== undefined) await lchown(path, owner.uid, owner.gid);
  await chmod(path, mode);
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
