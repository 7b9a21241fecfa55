/**
 * Bringing one instance into existence and taking it out again. The row is inserted before Docker is
 * called, so a crash in between leaves a row that recovery finds; nothing is created that no row names.
 */

import { randomBytes } from 'node:crypto';
import { crashPoint } from '../crash-points.ts';
import { inTransaction } from '../db/database.ts';
import {
  deleteInstance,
  getInstance,
  type Instance,
  insertInstance,
  type Phase,
  transition,
  updateInPhase,
} from '../db/instances.ts';
import { exactImages } from '../proxy/images.ts';
import { containerSpec } from './container-spec.ts';
import type { PoolDeps } from './deps.ts';
import { instanceNetworkMode, instanceNetworkName, instanceNetworkSpec } from './instance-network.ts';
import { imageNotOnHost } from './missing-images.ts';
import type { Workload } from './workloads.ts';

export class ImageMissingError extends Error {}

/** What inserting an instance's row uses. */
export type SlotDeps = Pick<PoolDeps, 'db' | 'now'>;
/** What starting an instance's container uses, and undoing a start that failed. */
export type StartDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'runtime' | 'files' | 'proxies' | 'activity' | 'daemonId' | 'publishHost'
>;
/** What destroying an instance uses: its socket, container, network, directories and row, then the fill. */
export type DestroyDeps = Pick<
  PoolDeps,
  'db' | 'now' | 'runtime' | 'files' | 'proxies' | 'activity' | 'workloads' | 'daemonId' | 'kickFill'
>;

export function newInstanceId(workload: string): string {
  return `${workload}-${randomBytes(5).toString('hex')}`;
}

/**
 * Inserts an instance row if the pool has room (every row counts: its container may exist). Returns
 * undefined when the pool is at `max_size`. Synchronous, so no other claim or fill can interleave.
 */
export function reserveSlot(
  deps: SlotDeps,
  workload: Workload,
  fields: { phase: Extract<Phase, 'creating' | 'claiming'>; tenant?: string; replacing?: string },
): Instance | undefined {
  return inTransaction(deps.db, () => {
    // `replacing`: an instance being destroyed to make room for this one; its slot is this one's, so that
    // nothing else (the fill loop) can take it between the two.
    const { n } = deps.db
      .prepare('SELECT count(*) AS n FROM instances WHERE workload = ? AND id IS NOT ?')
      .get(workload.id, fields.replacing ?? null) as {
      n: number;
    };
    if (n >= workload.spec.pool.maxSize) return undefined;
    const now = deps.now();
    return insertInstance(deps.db, {
      id: newInstanceId(workload.id),
      workload: workload.id,
      specHash: workload.hash,
      phase: fields.phase,
      ...(fields.tenant === undefined ? {} : { tenant: fields.tenant, claimedAt: now }),
      now,
    });
  });
}

/**
 * Creates and starts the container of a freshly inserted instance, behind its gate. On failure everything
 * made so far is removed (what the engine refuses to remove, later), the failure is reported, and the
 * error is rethrown.
 */
export async function startContainer(
  deps: StartDeps,
  workload: Workload,
  instance: Instance,
): Promise<Instance> {
  const { spec } = workload;
  let containerId: string | undefined;
  // Its own network, before anything can join it. The engine takes ~100 ms to make a bridge: made while
  // the images are checked and the directories prepared, awaited before the container is created.
  const network = instanceNetworkSpec(spec, deps.daemonId, instance.id);
  const networkMade = network === undefined ? Promise.resolve() : deps.runtime.createNetwork(network);
  networkMade.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  try {
    const image = await deps.runtime.inspectImage(spec.image);
    if (image === undefined) throw new ImageMissingError(imageNotOnHost(spec.image, 'image'));
    // The images its own containers need: missing, the tenant's first agent run would wait for them.
    for (const name of exactImages(spec.docker?.images ?? [])) {
      if ((await deps.runtime.inspectImage(name)) === undefined) {
        throw new ImageMissingError(imageNotOnHost(name, 'docker.images'));
      }
    }
    const mounts = await deps.files.prepare(instance.id, spec);
    await networkMade;
    const networkMode = instanceNetworkMode(spec, deps.daemonId, instance.id);
    const dockerSocket = await deps.proxies.open(instance.id, spec, networkMode);
    if (dockerSocket !== undefined) mounts.push(dockerSocket);
    const identity = { id: instance.id, daemonId: deps.daemonId, specHash: workload.hash, networkMode };
    containerId = await deps.runtime.create(containerSpec(spec, image, identity, mounts, deps.publishHost));
    updateInPhase(deps.db, instance.id, instance.phase, { containerId });
    await deps.runtime.start(containerId);
    const info = await deps.runtime.inspect(containerId);
    if (info?.status !== 'running') {
      throw new Error(
        `its container is ${info?.status ?? 'gone'} right after start (exit code ${info?.exitCode ?? '?'})`,
      );
    }
    // Where the engine bound each port, kept: a later BOILERHOUSE_PUBLISH_HOST does not move a container.
    const ports = spec.expose.map((port) => ({
      port,
      hostPort: info.ports[port]?.hostPort ?? 0,
      ...(info.ports[port] === undefined ? {} : { hostIp: info.ports[port].hostIp }),
    }));
    updateInPhase(deps.db, instance.id, instance.phase, { ports, address: info.ipAddress ?? null });
    deps.activity.record({
      type: 'instance.created',
      workload: workload.id,
      tenant: instance.tenant,
      instance: instance.id,
      message: `instance ${instance.id} created (container ${containerId.slice(0, 12)})`,
    });
    return getInstance(deps.db, instance.id) as Instance;
  } catch (error) {
    const leftovers = await undoStart(deps, instance.id, spec, containerId, networkMade, error);
    const reason = `${(error as Error).message}${
      leftovers.length === 0
        ? ''
        : `; undoing it failed too (${leftovers.join('; ')}): what is left is removed once the engine lets it`
    }`;
    if (leftovers.length === 0) deleteInstance(deps.db, instance.id);
    // The row stays, destroying, until what is left is gone (an engine going down refused its removal):
    // dead-instances.ts finishes it as any destroy stopped half-way. It holds no tenant's data yet.
    else transition(deps.db, instance.id, instance.phase, 'destroying', deps.now(), { reason, tenant: null });
    deps.activity.record(
      {
        type: 'instance.failed',
        workload: workload.id,
        tenant: instance.tenant,
        instance: instance.id,
        message: `instance ${instance.id} could not start: ${reason}`,
      },
      'warn',
    );
    throw error;
  }
}

/**
 * Undoes a start that failed, step by step, for an instance that holds no tenant data yet (it is started
 * before any restore). A step that fails does not stop the others; what it left is named, for the event.
 */
async function undoStart(
  deps: StartDeps,
  id: string,
  spec: Workload['spec'],
  containerId: string | undefined,
  networkMade: Promise<unknown>,
  failure: unknown,
): Promise<string[]> {
  const left: string[] = [];
  const undo = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (error) {
      // The start's own failure is reported as such, not again as a leftover.
      if (error !== failure) left.push(`${what}: ${(error as Error).message}`);
    }
  };
  if (containerId !== undefined) await undo('container', () => deps.runtime.remove(containerId));
  await undo('filtered socket', () => deps.proxies.close(id, spec));
  // A network whose creation failed left nothing to remove (that failure, if it is the start's, is its reason).
  const networkExists = await networkMade.then(
    () => true,
    () => false,
  );
  if (networkExists) await undo('network', () => removeNetwork(deps, id));
  await undo('directories', () => deps.files.remove(id));
  return left;
}

/**
 * Destroys an instance that is in one of `from`: marks it destroying, removes its container and
 * directories, and deletes its row. False when it was not in one of `from` (someone else has it).
 */
export async function destroyInstance(
  deps: DestroyDeps,
  instance: Instance,
  from: Phase | readonly Phase[],
  reason: string,
): Promise<boolean> {
  const destroying = transition(deps.db, instance.id, from, 'destroying', deps.now(), { reason });
  if (destroying === undefined) return false;
  await finishDestroy(deps, destroying);
  return true;
}

/**
 * An instance found broken (its container gone or stopped): reported as failed, then destroyed.
 * `containerId` names the container actually found, when it differs from the row's.
 */
export async function failInstance(
  deps: DestroyDeps,
  instance: Instance,
  reason: string,
  containerId: string | null = instance.containerId,
): Promise<void> {
  const destroying = transition(deps.db, instance.id, instance.phase, 'destroying', deps.now(), {
    reason,
    containerId,
  });
  if (destroying === undefined) return;
  deps.activity.record(
    {
      type: 'instance.failed',
      workload: instance.workload,
      tenant: instance.tenant,
      instance: instance.id,
      message: `instance ${instance.id} failed: ${reason}`,
      data: { phase: instance.phase, resumes: false },
    },
    'warn',
  );
  await finishDestroy(deps, destroying);
}

/** Completes the destruction of an instance already marked destroying (also used by recovery). */
export async function finishDestroy(deps: DestroyDeps, instance: Instance): Promise<void> {
  crashPoint('destroy.destroying');
  // Its socket first, so that it starts nothing while its containers are removed.
  await deps.proxies.close(instance.id, deps.workloads.get(instance.workload)?.spec);
  if (instance.containerId !== null) await deps.runtime.remove(instance.containerId);
  crashPoint('destroy.removed');
  // Once its container and children are off it; asked by name, since its workload may be gone. Awaited:
  // in the background it only overlapped the next instance's creation, which the engine serializes with it.
  await removeNetwork(deps, instance.id);
  await deps.files.remove(instance.id);
  deleteInstance(deps.db, instance.id);
  deps.activity.record({
    type: 'instance.destroyed',
    workload: instance.workload,
    tenant: instance.tenant,
    instance: instance.id,
    message: `instance ${instance.id} destroyed: ${instance.reason ?? 'no reason given'}`,
  });
  deps.kickFill();
}

/** Removes an instance's network, if it has one. */
export function removeNetwork(
  deps: Pick<PoolDeps, 'runtime' | 'daemonId'>,
  instanceId: string,
): Promise<void> {
  return deps.runtime.removeNetwork(instanceNetworkName(deps.daemonId, instanceId));
}
