/**
 * Run by entrypoint.sh before `serve`. The engine resolves every bind source in the host's mount namespace,
 * not this container's, so what the daemon mounts under its data directory and its secrets' memory directory
 * must reach the host: both must come from the host, at the same path, with shared propagation (`:rshared`).
 * This refuses to start otherwise, naming the `docker run` option to add, rather than let instances start
 * on directories the engine sees empty. (propagating-mount.sh carries the flags of those mounts across.)
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseMountInfo, topMount } from '../../packages/boilerhouse/src/pool/volume-mount.ts';
import { MEMORY_BASE, MemoryDirs } from '../../packages/boilerhouse/src/secrets/memory-dir.ts';

/** The mount point `path` lives under (the deepest one), and whether that mount is shared. */
async function mountOf(path: string): Promise<{ point: string; shared: boolean }> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const mounts = parseMountInfo(text);
  // Optional fields (shared:N, master:N) sit between the per-mount options and the "-" separator.
  const optional = new Map(
    text.split('\n').map((line) => {
      const fields = line.split(' ');
      return [fields[0], fields.slice(6, fields.indexOf('-'))] as const;
    }),
  );
  for (let point = path; ; point = dirname(point)) {
    const top = topMount(mounts, point);
    if (top !== undefined)
      return { point, shared: (optional.get(top.id) ?? []).some((field) => field.startsWith('shared:')) };
    if (point === '/') throw new Error(`no mount holds ${path}`);
  }
}

async function assertSharedWithHost(dir: string, what: string, option: string): Promise<void> {
  const mount = await mountOf(dir);
  if (mount.point !== '/' && mount.shared) return;
  const how =
    mount.point === '/'
      ? 'not mounted from the host'
      : `on ${mount.point}, mounted without shared propagation`;
  throw new Error(
    `${what} ${dir} is ${how}: the engine would not see the mounts Boilerhouse makes there. Run the container with ${option}`,
  );
}

const dataDir = resolve(process.env.BOILERHOUSE_DATA_DIR ?? '/var/lib/boilerhouse');
await assertSharedWithHost(
  dataDir,
  'the data directory',
  `-v ${dataDir}:${dataDir}:rshared (the same path on both sides)`,
);
await assertSharedWithHost(
  new MemoryDirs(dataDir).root,
  "the secrets' memory directory",
  `-v ${MEMORY_BASE}:${MEMORY_BASE}:rshared`,
);
