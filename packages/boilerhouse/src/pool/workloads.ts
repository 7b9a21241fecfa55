/**
 * The workloads Boilerhouse serves, read from the workload directory (one YAML file each) and re-read when
 * a file appears, changes or goes. Each version of a spec has a hash; instances remember the hash they were
 * made from, so the pool can replace idle instances of an old version.
 */
import { createHash } from 'node:crypto';
import { watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Environment, formatProblem, loadWorkload, type WorkloadSpec } from '@boilerhouse/spec';
import type { Activity } from './activity.ts';

export interface Workload {
  id: string;
  spec: WorkloadSpec;
  hash: string;
  file: string;
  /** The file is gone: no new instances; existing ones finish their tenancy. */
  removed: boolean;
}

const RELOAD_DEBOUNCE_MS = 150;

export function specHash(spec: WorkloadSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
}

export class WorkloadRegistry {
  readonly #dir: string;
  readonly #env: Environment;
  readonly #activity: Activity;
  readonly #workloads = new Map<string, Workload>();
  readonly #onChange: () => void;

  constructor(options: { dir: string; env: Environment; activity: Activity; onChange: () => void }) {
    this.#dir = options.dir;
    this.#env = options.env;
    this.#activity = options.activity;
    this.#onChange = options.onChange;
  }

  get(id: string): Workload | undefined {
    return this.#workloads.get(id);
  }

  list(): Workload[] {
    return [...this.#workloads.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Drops a removed workload once nothing of it is left. */
  forget(id: string): void {
    if (this.#workloads.get(id)?.removed) this.#workloads.delete(id);
  }

  /**
   * Reads every workload file. A file with errors is reported (and its previous version, if any, kept);
   * a new id is a new pool, a new hash an updated one, a missing id a removed one.
   */
  async load(): Promise<void> {
    const names = (await readdir(this.#dir).catch(() => [] as string[]))
      .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
      .sort();
    const seen = new Set<string>();
    const broken = new Set<string>();
    for (const name of names) {
      const file = join(this.#dir, name);
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      const { spec, problems } = loadWorkload(text, { file, env: this.#env });
      const errors = problems.filter((problem) => problem.severity === 'error');
      if (spec === undefined) {
        const stale = [...this.#workloads.values()].find((workload) => workload.file === file);
        if (stale !== undefined) broken.add(stale.id);
        this.#activity.record(
          {
            type: 'pool.warning',
            workload: stale?.id ?? null,
            message: `${name} is not valid${stale ? '; keeping the previous version' : ''}: ${errors.map((p) => formatProblem(name, p)).join('; ')}`,
          },
          'warn',
        );
        continue;
      }
      if (seen.has(spec.id)) {
        this.#activity.record(
          {
            type: 'pool.warning',
            workload: spec.id,
            message: `${name} repeats workload id "${spec.id}"; ignored`,
          },
          'warn',
        );
        continue;
      }
      seen.add(spec.id);
      this.#put(spec, file);
    }
    for (const workload of this.#workloads.values()) {
      if (!seen.has(workload.id) && !broken.has(workload.id) && !workload.removed) {
        workload.removed = true;
        this.#activity.record({
          type: 'pool.removed',
          workload: workload.id,
          message: `workload ${workload.id} removed; its instances end with their tenancy`,
        });
      }
    }
    this.#onChange();
  }

  #put(spec: WorkloadSpec, file: string): void {
    const hash = specHash(spec);
    const previous = this.#workloads.get(spec.id);
    if (previous !== undefined && previous.hash === hash && !previous.removed) return;
    this.#workloads.set(spec.id, { id: spec.id, spec, hash, file, removed: false });
    this.#activity.record({
      type: previous === undefined ? 'pool.created' : 'pool.updated',
      workload: spec.id,
      message:
        previous === undefined
          ? `pool ${spec.id} created from ${file}`
          : `pool ${spec.id} updated (version ${hash}); idle instances of the old version are replaced`,
      data: { hash },
    });
  }

  /** Re-reads the directory when it changes, until `signal` aborts. */
  watch(signal: AbortSignal): void {
    let timer: NodeJS.Timeout | undefined;
    const watcher = watch(this.#dir, { signal }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.load(), RELOAD_DEBOUNCE_MS);
    });
    watcher.on('error', () => undefined);
    signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }
}
