/**
 * One instance's children: the containers it created through its socket. The engine's labels are the
 * truth (`boilerhouse.child.parent` names the instance); the proxy only remembers full ids it has already
 * seen to be the instance's, which stays true for as long as the id exists (labels never change).
 *
 * Children's engine names carry the instance as a prefix (`<instance>_<name>`), so that instances never
 * collide over a name or learn another's; the caller sees and uses its own names without it.
 */
import type { RawSummary } from '../runtime/docker-mapping.ts';
import type { EngineClient } from '../runtime/engine-client.ts';
import { RuntimeError } from '../runtime/runtime.ts';

export const CHILD_LABEL = {
  parent: 'boilerhouse.child.parent',
  daemon: 'boilerhouse.child.daemon',
  workload: 'boilerhouse.child.workload',
  /** Names the directory of the container's pinned bind sources (pins.ts). */
  pins: 'boilerhouse.child.pins',
} as const;

/** The engine's rule for container names. */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const FULL_ID = /^[a-f0-9]{64}$/;

/** Who a container reference turned out to be. */
export type Resolution = { id: string } | { foreign: true } | { missing: true };

interface InspectedLabels {
  Id: string;
  Config?: { Labels?: Record<string, string> | null } | null;
}

export class Children {
  readonly instanceId: string;
  readonly #engine: EngineClient;
  #known = new Set<string>();

  constructor(engine: EngineClient, instanceId: string) {
    this.#engine = engine;
    this.instanceId = instanceId;
  }

  get prefix(): string {
    return `${this.instanceId}_`;
  }

  /** The engine name for a name the caller chose. */
  engineName(name: string): string {
    return this.prefix + name;
  }

  /** The name the caller knows, from an engine name (`/echo-1a2b_agent` -> `/agent`). */
  callerName(name: string): string {
    const slash = name.startsWith('/') ? '/' : '';
    const bare = name.slice(slash.length);
    return bare.startsWith(this.prefix) ? slash + bare.slice(this.prefix.length) : name;
  }

  /** Whether a container's labels make it this instance's child. */
  owns(labels: Record<string, string> | null | undefined): boolean {
    return labels?.[CHILD_LABEL.parent] === this.instanceId;
  }

  remember(id: string): void {
    this.#known.add(id);
  }

  forget(id: string): void {
    this.#known.delete(id);
  }

  /**
   * The full id of the child a caller's reference names: a full id already known, else the caller's name
   * (prefixed), else the reference as the engine reads it (an id or id prefix). Anything else is foreign
   * or missing, which the caller is told alike (404).
   */
  async resolve(reference: string): Promise<Resolution> {
    if (this.#known.has(reference)) return { id: reference };
    let foreign = false;
    const candidates =
      CONTAINER_NAME.test(reference) && !FULL_ID.test(reference)
        ? [this.engineName(reference), reference]
        : [reference];
    for (const candidate of candidates) {
      const found = await this.#inspect(candidate);
      if (found === undefined) continue;
      if (this.owns(found.Config?.Labels)) {
        this.#known.add(found.Id);
        return { id: found.Id };
      }
      foreign = true;
    }
    return foreign ? { foreign: true } : { missing: true };
  }

  /**
   * How many children the instance has, for `max_containers`. Every child is made through this socket
   * (the labels are reserved) and remembered, so the ids remembered are never fewer than the children;
   * only once they reach `limit` is the engine asked, and the ids of children that are gone forgotten.
   */
  async count(limit: number): Promise<number> {
    if (this.#known.size < limit) return this.#known.size;
    const children = await this.list();
    this.#known = new Set(children.map((child) => child.Id));
    return children.length;
  }

  /** Every child on the engine, running or not. */
  async list(): Promise<RawSummary[]> {
    const filters = JSON.stringify({ label: [`${CHILD_LABEL.parent}=${this.instanceId}`] });
    const children = await this.#engine.json<RawSummary[]>(
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
    );
    const own = children.filter((child) => this.owns(child.Labels));
    for (const child of own) this.#known.add(child.Id);
    return own;
  }

  async #inspect(reference: string): Promise<InspectedLabels | undefined> {
    try {
      return await this.#engine.json<InspectedLabels>(
        'GET',
        `/containers/${encodeURIComponent(reference)}/json`,
      );
    } catch (error) {
      if (error instanceof RuntimeError && error.status === 404) return undefined;
      throw error;
    }
  }
}

/** Kills and removes containers (with their anonymous volumes); one already gone is fine. */
export async function removeContainers(engine: EngineClient, ids: readonly string[]): Promise<void> {
  await Promise.all(
    ids.map(async (id) => {
      try {
        await engine.call('DELETE', `/containers/${id}?force=1&v=1`);
      } catch (error) {
        const status = error instanceof RuntimeError ? error.status : undefined;
        // 404: gone already; 409: the engine is removing it (AutoRemove) already.
        if (status !== 404 && status !== 409) throw error;
      }
    }),
  );
}
