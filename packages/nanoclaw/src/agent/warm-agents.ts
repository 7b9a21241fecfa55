/**
 * Agent containers started ahead of need: after a group's run ends, a new container for that group is
 * created, started and left waiting for its input, so the group's next run skips the container start and
 * the agent's own boot. Each run still gets a container of its own. A prepared container is used only if
 * it was made exactly as the run would make it now (same image, mounts, environment, limits); otherwise,
 * and after `ttlMs`, it is removed. They share the container budget with runs: one is made only while
 * `room()` says so, and a run that needs the room removes the oldest (`dropOldest`). Containers that exit
 * while they wait (their stdin closed early, e.g. by a Docker API proxy that does not hold an idle attach
 * open) turn this off after the second one: runs then start their containers on demand.
 */
import type { Logger } from '../log.ts';
import type { PreparedAgent } from './runner.ts';

interface Slot {
  ready: Promise<PreparedAgent | undefined>;
  timer: NodeJS.Timeout;
}

export interface WarmAgentsOptions {
  /** Starts a container for the group as its next run would; undefined when the group is gone. */
  prepare(folder: string): Promise<PreparedAgent | undefined>;
  /** Whether the container budget has room for one more. */
  room(): boolean;
  ttlMs: number;
  log: Logger;
}

export class WarmAgents {
  readonly #options: WarmAgentsOptions;
  /** In insertion order: the oldest first. */
  readonly #slots = new Map<string, Slot>();
  #stopped = false;
  #earlyExits = 0;

  constructor(options: WarmAgentsOptions) {
    this.#options = options;
  }

  /** The group's waiting container if it fits `fingerprint` (one still starting is waited for). */
  async take(folder: string, fingerprint: string): Promise<PreparedAgent | undefined> {
    const slot = this.#slots.get(folder);
    if (slot === undefined) return undefined;
    this.#slots.delete(folder);
    clearTimeout(slot.timer);
    const prepared = await slot.ready;
    if (prepared === undefined) return undefined;
    if (prepared.usable && prepared.fingerprint === fingerprint) return prepared;
    await prepared.discard();
    return undefined;
  }

  /** Starts a container for the group's next run, unless one is waiting already. */
  refill(folder: string): void {
    if (this.#stopped || this.#slots.has(folder) || !this.#options.room()) return;
    const ready = this.#options.prepare(folder).then(
      (prepared) => {
        prepared?.exited.then(() => {
          if (!prepared.taken) this.#exitedEarly(folder, prepared);
        });
        return prepared;
      },
      (error: unknown) => {
        this.#options.log.warn({ group: folder, error }, 'could not start an agent container ahead of need');
        return undefined;
      },
    );
    const timer = setTimeout(() => this.#drop(folder), this.#options.ttlMs);
    timer.unref();
    this.#slots.set(folder, { ready, timer });
  }

  /** Containers waiting (or starting). */
  get size(): number {
    return this.#slots.size;
  }

  /** Removes the least recently prepared container; false when none waits. */
  async dropOldest(): Promise<boolean> {
    const oldest = this.#slots.keys().next().value;
    if (oldest === undefined) return false;
    await this.#drop(oldest);
    return true;
  }

  /** Removes every waiting container and prepares no more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#slots.keys()].map((folder) => this.#drop(folder)));
  }

  #exitedEarly(folder: string, prepared: PreparedAgent): void {
    this.#earlyExits++;
    const slot = this.#slots.get(folder);
    if (slot !== undefined) {
      slot.ready.then((current) => {
        if (current === prepared) this.#drop(folder);
      });
    }
    if (this.#earlyExits < 2 || this.#stopped) return;
    this.#options.log.warn(
      { exited: this.#earlyExits },
      'agent containers started ahead of need exit before their input (is stdin held open?): starting them on demand from now on',
    );
    this.stop().catch(() => undefined);
  }

  async #drop(folder: string): Promise<void> {
    const slot = this.#slots.get(folder);
    if (slot === undefined) return;
    this.#slots.delete(folder);
    clearTimeout(slot.timer);
    await (await slot.ready)?.discard();
  }
}
