/**
 * Removing children found by their labels, without the instance's socket: at destroy (after the socket
 * stopped), at release of an instance not served, and after a restart for instances that are gone. Used by
 * the socket host and by the daemon when no host serves the instance.
 */
import type { Logger } from '../log.ts';
import type { RawSummary } from '../runtime/docker-mapping.ts';
import type { EngineClient } from '../runtime/engine-client.ts';
import { CHILD_LABEL, removeContainers } from './children.ts';
import { BindPins } from './pins.ts';

/** Removes the instance's children, found by their label, and unmounts their pins; how many there were. */
export async function removeInstanceChildren(
  engine: EngineClient,
  instanceId: string,
  pinsDir: string,
): Promise<number> {
  const children = await listChildren(engine, { [CHILD_LABEL.parent]: instanceId });
  await removeContainers(
    engine,
    children.map((child) => child.Id),
  );
  await new BindPins(pinsDir).releaseAllBut();
  return children.length;
}

/** Removes the children of `daemonId` whose instance is not among `alive`; how many there were. */
export async function removeOrphanChildren(
  engine: EngineClient,
  daemonId: string,
  alive: ReadonlySet<string>,
  log: Logger,
): Promise<number> {
  const orphans = (await listChildren(engine, { [CHILD_LABEL.daemon]: daemonId })).filter(
    (child) => !alive.has(child.Labels?.[CHILD_LABEL.parent] ?? ''),
  );
  await removeContainers(
    engine,
    orphans.map((child) => child.Id),
  );
  if (orphans.length > 0)
    log.info({ children: orphans.length }, 'removed containers of instances that are gone');
  return orphans.length;
}

async function listChildren(engine: EngineClient, labels: Record<string, string>): Promise<RawSummary[]> {
  const filters = JSON.stringify({
    label: Object.entries(labels).map(([key, value]) => `${key}=${value}`),
  });
  return engine.json<RawSummary[]>('GET', `/containers/json?all=1&filters=${encodeURIComponent(filters)}`);
}
