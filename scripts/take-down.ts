/**
 * `npm start -- --down`: the demo taken away. Its instances outlive a Ctrl-C (the next start adopts them),
 * so this starts the demo's daemon once more, deletes its workloads (each tenant released and its state
 * saved, pools no longer refilled), destroys whatever instance is left (saved first), stops the daemon
 * (with no instance left it takes its mounts away) and its socket host. Nothing of the demo runs after
 * it: no container, network or mount. The tenants' saves stay in the local sink, and the next `npm start`
 * restores them.
 */
import type { Daemon } from '../packages/boilerhouse/src/daemon.ts';
import type { Phase } from '../packages/boilerhouse/src/db/instances.ts';
import { NotFoundError } from '../packages/boilerhouse/src/errors.ts';
import { stopSocketHost } from '../packages/boilerhouse/src/proxy/host/spawn.ts';

/** How long instances of deleted workloads may take to go (creations in flight finish first). */
const GONE_WITHIN_MS = 120_000;
/** Phases an instance leaves by itself: waited out, not destroyed in the middle. */
const PASSING: ReadonlySet<Phase> = new Set(['creating', 'claiming', 'releasing', 'destroying']);

export async function takeDown(daemon: Daemon, dataDir: string): Promise<void> {
  const { boilerhouse } = daemon;
  const before = boilerhouse.instances().length;
  try {
    for (const pool of boilerhouse.pools().filter((each) => !each.removed)) {
      await boilerhouse.deleteWorkload(pool.workload, { force: true });
    }
    // Whatever is left is destroyed here (a tenant's saved first); one in the middle of a step is waited for.
    const deadline = Date.now() + GONE_WITHIN_MS;
    for (let left = boilerhouse.instances(); left.length > 0; left = boilerhouse.instances()) {
      if (Date.now() > deadline)
        throw new Error(
          `instances still there after ${GONE_WITHIN_MS / 1000} s: ${left.map((i) => i.id).join(', ')}`,
        );
      for (const instance of left.filter((each) => !PASSING.has(each.phase))) {
        await boilerhouse.destroy(instance.id).catch((error: unknown) => {
          if (!(error instanceof NotFoundError)) throw error;
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    // A save that failed keeps its instance (and data): the daemon stops all the same, and says why.
    await daemon.stop();
  }
  await stopSocketHost(dataDir);
  console.log(
    `The demo is down: ${before} instance(s) saved and removed; no container, network or mount is left.`,
  );
}
