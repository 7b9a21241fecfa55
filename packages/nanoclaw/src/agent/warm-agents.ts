/**
 * Agent containers started ahead of need: after a group's run ends, a new container for that group is
 * created, started and left waiting for its input, so the group's next run skips the container start and
 * the agent's own boot. Each run still gets a container of its own. A prepared container is used only if
 * it was made exactly as the run would make it now (same image, mounts, environment, limits); otherwise,
 * and after `ttlMs`, it is removed. They share the container budget with runs: one is made only while
 * `room()` says so, and a run that needs the room removes the oldest (`dropOldest`). Containers that exit
 * while they wait (their stdin closed early, e.g. by a Docker API proxy that does not hold an idle attach
 * open) turn this off after the second one: runs then start their containers on demand. A container that
 * ended because its connection to the engine was lost (Boilerhouse restarting its filtered socket) is no
 * such sign: it is replaced, the new one's start waiting for the engine to answer again (engine-wait.ts).
 */
import type { Logger } from '../log.ts';
import type { PreparedAgent } from './runner.ts';

const MAX_LOST_IN_A_ROW = 3;

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
  /** Containers that lost their connection while waiting since a run last took one. */
  #lostInARow = 0;

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
    if (prepared.usable && prepared.fingerprint === fingerprint) {
      this.#lostInARow = 0;
      return prepared;
    }
    await prepared.discard();
    return undefined;
  }

  /** Starts a container for the group's next run, unless one is waiting already. */
  refill(folder: string): void {
    if (this.#stopped || this.#slots.has(folder) || !this.#options.room()) return;
    this.#hold(folder, this.#options.prepare(folder));
  }

  /** Takes in a container started for the group elsewhere (before the host's start: ahead-of-start.ts). */
  adopt(folder: string, starting: Promise<PreparedAgent | undefined>): void {
    if (this.#stopped || this.#slots.has(folder)) {
      starting.then((prepared) => prepared?.discard()).catch(() => undefined);
      return;
    }
    this.#hold(folder, starting);
  }

  #hold(folder: string, starting: Promise<PreparedAgent | undefined>): void {
    const ready = starting.then(
      (prepared) => {
        prepared?.exited.then(() => {
          if (prepared.taken) return;
          if (prepared.connectionLost) this.#lostConnection(folder, prepared);
          else this.#exitedEarly(folder, prepared);
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

  /** Drops the group's slot if it still holds `prepared`, then runs `after`. */
  #dropIfHolding(folder: string, prepared: PreparedAgent, after = () => {}): void {
    const slot = this.#slots.get(folder);
    if (slot === undefined) return;
    slot.ready.then(async (current) => {
      if (current !== prepared || this.#slots.get(folder) !== slot) return;
      await this.#drop(folder);
      after();
    });
  }

  /**
   * Replaced, up to MAX_LOST_IN_A_ROW times until a run takes one: a proxy that cut every waiting
   * connection would otherwise have containers started in a loop. Past that the next run's end refills.
   */
  #lostConnection(folder: string, prepared: PreparedAgent): void {
    this.#lostInARow++;
    const replace = this.#lostInARow <= MAX_LOST_IN_A_ROW;
    this.#options.log.info(
      { group: folder, lostInARow: this.#lostInARow, replace },
      'an agent container waiting ahead of need lost its connection to the engine',
    );
    this.#dropIfHolding(folder, prepared, () => {
      if (replace) this.refill(folder);
    });
  }

  #exitedEarly(folder: string, prepared: PreparedAgent): void {
    this.#earlyExits++;
    this.#dropIfHolding(folder, prepared);
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
