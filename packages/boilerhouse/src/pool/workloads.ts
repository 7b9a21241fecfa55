/**
 * The workloads Boilerhouse serves, read from the workload directory (one YAML file each) and re-read when
 * a file appears, changes or goes. Each version of a spec has a hash; instances remember the hash they were
 * made from, so the pool can replace idle instances of an old version. Files can also be written and
 * removed through the API (apply, remove): validated exactly as files are, and written atomically.
 */
import { createHash, randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  declaredWorkloadId,
  formatProblem,
  loadWorkload,
  type PoolSpec,
  type Problem,
  type WorkloadEnvironment,
  type WorkloadSpec,
} from '@boilerhouse/spec';
import { BadRequestError, BoilerhouseError, NotFoundError } from '../errors.ts';
import { isNotFound } from '../state/beneath.ts';
import type { SinkProblem } from '../state/sinks/check.ts';
import type { Activity } from './activity.ts';
import { type PoolOverrides, type PoolSize, withChanges } from './pool-overrides.ts';
import { type FoundProblem, type WorkloadProblem, WorkloadProblems } from './workload-problems.ts';
import { sinkFixed, WorkloadSinks } from './workload-sinks.ts';

export interface Workload {
  id: string;
  /** The file's spec, with the operator's pool sizes (scale, drain) applied. */
  spec: WorkloadSpec;
  /** The pool block as the file has it. */
  filePool: PoolSpec;
  /** The sizes an operator set through the API, if any. */
  scaled: PoolSize;
  /** Of the file's spec: a resize is not a new version. */
  hash: string;
  file: string;
  /** The file is gone: no new instances; existing ones finish their tenancy. */
  removed: boolean;
}

const RELOAD_DEBOUNCE_MS = 150;
/** How often a sink that could not be used is tried again (each try is one listing). */
const SINK_RECHECK_MS = 60_000;

/** A workload body the API was given that does not load; `problems` say where, as for files. */
export class WorkloadInvalidError extends BoilerhouseError {
  readonly problems: { path: string; message: string }[];
  constructor(file: string, problems: Problem[]) {
    const errors = problems.filter((problem) => problem.severity === 'error');
    super(400, 'invalid_workload', `the workload is not valid: ${formatProblem(file, errors[0] as Problem)}`);
    this.problems = placed(file, errors);
  }
}

/** A workload whose sink refused the credentials, has no such bucket or did not answer: not applied. */
export class SinkUnusableError extends BoilerhouseError {
  readonly sink: SinkProblem;
  constructor(workload: string, sink: SinkProblem) {
    const refused = sink.failure === 'credentials' || sink.failure === 'no_bucket';
    super(refused ? 400 : 502, 'sink_unusable', `workload ${workload} is not applied: ${sink.message}`);
    this.sink = sink;
  }
}

export interface AppliedWorkload {
  workload: Workload;
  created: boolean;
  /** What validation warns of (a unit that looks wrong, ...), each placed as `FILE:LINE:COL path`. */
  warnings: { path: string; message: string }[];
}

export function specHash(spec: WorkloadSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12);
}

export class WorkloadRegistry {
  readonly #dir: string;
  /** Only what BOILERHOUSE_WORKLOAD_ENV allows: files and API bodies never read the rest. */
  readonly #env: WorkloadEnvironment;
  readonly #activity: Activity;
  readonly #workloads = new Map<string, Workload>();
  readonly #onChange: () => void;
  readonly #overrides: PoolOverrides;
  readonly #problems: WorkloadProblems;
  readonly #sinks: WorkloadSinks;
  /** Loads run one at a time: the watcher and the API both start them. */
  #loading: Promise<void> = Promise.resolve();

  constructor(options: {
    dir: string;
    env: WorkloadEnvironment;
    activity: Activity;
    overrides: PoolOverrides;
    onChange: () => void;
  }) {
    this.#dir = options.dir;
    this.#env = options.env;
    this.#activity = options.activity;
    this.#overrides = options.overrides;
    this.#onChange = options.onChange;
    this.#problems = new WorkloadProblems(options.activity);
    this.#sinks = new WorkloadSinks(options.env);
  }

  /**
   * Makes the workloads directory when it is not there (a first start), and says so: watching a missing
   * directory fails, and an operator would otherwise have to guess which one to create.
   */
  async ensureDir(): Promise<void> {
    const made = await mkdir(this.#dir, { recursive: true });
    if (made === undefined) return;
    this.#activity.record({
      type: 'pool.warning',
      workload: null,
      message: `the workloads directory ${this.#dir} did not exist; made it empty: put workload files (*.yaml) there or apply them with bh workload apply`,
    });
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
  load(): Promise<void> {
    this.#loading = this.#loading.then(
      () => this.#loadNow(),
      () => this.#loadNow(),
    );
    return this.#loading;
  }

  async #loadNow(): Promise<void> {
    // Only a directory that is not there has no workloads: any other error (EIO, EACCES) fails the load,
    // which keeps every workload as it was rather than removing them all.
    const names = (await readdir(this.#dir).catch(orNothingWhenMissing([] as string[])))
      .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
      .sort();
    const seen = new Map<string, string>();
    const broken = new Set<string>();
    const found: FoundProblem[] = [];
    const keeping = (stale: Workload | undefined) =>
      stale === undefined ? 'not loaded' : `keeping the previous version (${stale.hash})`;
    for (const name of names) {
      const file = join(this.#dir, name);
      const stale = [...this.#workloads.values()].find((workload) => workload.file === file);
      let text: string | undefined;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        // Gone since the listing: removed. Unreadable: kept as it was, and said so.
        if (isNotFound(error)) continue;
        if (stale !== undefined) broken.add(stale.id);
        found.push({
          file: name,
          workload: stale?.id ?? null,
          kind: 'unreadable',
          message: `${name} could not be read (${(error as Error).message}); ${keeping(stale)}`,
          details: [],
        });
        continue;
      }
      const { spec, problems } = loadWorkload(text, { file, env: this.#env });
      if (spec === undefined) {
        if (stale !== undefined) broken.add(stale.id);
        found.push({
          file: name,
          workload: stale?.id ?? declaredWorkloadId(text) ?? null,
          kind: 'invalid',
          message: `${name} is not valid; ${keeping(stale)}`,
          details: placed(
            name,
            problems.filter((problem) => problem.severity === 'error'),
          ),
        });
        continue;
      }
      const first = seen.get(spec.id);
      if (first !== undefined) {
        found.push({
          file: name,
          workload: spec.id,
          kind: 'duplicate',
          message: `${name} repeats workload id "${spec.id}" of ${first}; ignored`,
          details: [],
        });
        continue;
      }
      seen.set(spec.id, name);
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
    const listed = new Set(names);
    this.#problems.update(
      ['unreadable', 'invalid', 'duplicate'],
      found,
      (problem) => {
        if (!listed.has(problem.file)) return `${problem.file} is gone, and its problem with it`;
        const loaded = this.list().find((workload) => basename(workload.file) === problem.file);
        return loaded === undefined || loaded.removed
          ? `${problem.file} has no problem any more`
          : `${problem.file} loads again as workload ${loaded.id} (version ${loaded.hash})`;
      },
      Date.now(),
    );
    await this.#checkSinks();
    this.#onChange();
  }

  /** Tries the sinks of the workloads served (see workload-sinks.ts); a sink's problem shows until it answers. */
  async #checkSinks(): Promise<void> {
    const found = await this.#sinks.problems(this.list().filter((workload) => !workload.removed));
    this.#problems.update(
      ['sink'],
      found,
      (problem) =>
        sinkFixed(problem, problem.workload === null ? undefined : this.#workloads.get(problem.workload)),
      Date.now(),
    );
  }

  /** What keeps files from being served as written, now (see workload-problems.ts). */
  problems(): WorkloadProblem[] {
    return this.#problems.list();
  }

  /** Tries again the sinks that could not be used: a bucket made or a server back clears their problem. */
  recheckSinks(): Promise<void> {
    this.#sinks.retryFailed();
    return this.load();
  }

  #put(spec: WorkloadSpec, file: string): void {
    const hash = specHash(spec);
    const previous = this.#workloads.get(spec.id);
    if (previous !== undefined && previous.hash === hash && !previous.removed) return;
    const scaled = this.#overrides.get(spec.id);
    this.#workloads.set(spec.id, {
      id: spec.id,
      spec: { ...spec, pool: { ...spec.pool, ...scaled } },
      filePool: spec.pool,
      scaled,
      hash,
      file,
      removed: false,
    });
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

  /** Sets (or with null, clears) the operator's pool sizes of a workload. */
  scale(id: string, changes: { minIdle?: number | null; maxSize?: number | null }, now: number): Workload {
    const workload = this.#workloads.get(id);
    if (workload === undefined) throw new NotFoundError(`no workload "${id}"`);
    const scaled = withChanges(this.#overrides.get(id), changes);
    const pool = { ...workload.filePool, ...scaled };
    if (pool.minIdle > pool.maxSize) {
      throw new BadRequestError(
        `min_idle (${pool.minIdle}) cannot be more than max_size (${pool.maxSize}) for pool ${id}`,
      );
    }
    this.#overrides.save(id, scaled, now);
    workload.scaled = scaled;
    workload.spec = { ...workload.spec, pool };
    this.#activity.record({
      type: 'pool.updated',
      workload: id,
      message: `pool ${id} scaled: min_idle ${pool.minIdle}, max_size ${pool.maxSize}`,
      data: { minIdle: pool.minIdle, maxSize: pool.maxSize },
    });
    this.#onChange();
    return workload;
  }

  /**
   * Validates `text` as a workload file for `id`, tries its sink, and writes it (atomically) over the
   * workload's file, or to `<id>.yaml` for a new workload; then reloads. JSON is YAML, so either is stored
   * as it came. A sink that cannot be used refuses it, as an error does; warnings come back with it.
   */
  async apply(id: string, text: string): Promise<AppliedWorkload> {
    const existing = this.#workloads.get(id);
    const file = existing !== undefined && !existing.removed ? existing.file : join(this.#dir, `${id}.yaml`);
    const name = basename(file);
    const { spec, problems } = loadWorkload(text, { file, env: this.#env });
    if (spec === undefined) throw new WorkloadInvalidError(name, problems);
    if (spec.id !== id) {
      throw new BadRequestError(`the body defines workload "${spec.id}", but the URL names "${id}"`);
    }
    const other = this.list().find((workload) => workload.id !== id && workload.file === file);
    if (other !== undefined) throw new BadRequestError(`${name} already holds workload "${other.id}"`);
    // Tried now, it need not be tried again by the reload.
    const sinkFailure = await this.#sinks.tryBeforeApply(id, spec, specHash(spec));
    if (sinkFailure !== undefined) throw new SinkUnusableError(id, sinkFailure);
    await writeAtomically(file, text);
    await this.load();
    const workload = this.#workloads.get(id);
    if (workload === undefined || workload.removed)
      throw new Error(`workload ${id} did not load from ${name}`);
    const warnings = placed(
      name,
      problems.filter((problem) => problem.severity === 'warning'),
    );
    return { workload, created: existing === undefined || existing.removed, warnings };
  }

  /** Deletes the workload's file and reloads; its pool is removed (instances end with their tenancy). */
  async remove(id: string): Promise<void> {
    const workload = this.#workloads.get(id);
    if (workload === undefined || workload.removed) throw new NotFoundError(`no workload "${id}"`);
    await unlink(workload.file);
    this.#overrides.clear(id);
    await this.load();
  }

  /**
   * Re-reads the directory when it changes, and tries the sinks that could not be used again every
   * SINK_RECHECK_MS, until `signal` aborts.
   */
  watch(signal: AbortSignal): void {
    let timer: NodeJS.Timeout | undefined;
    const watcher = watch(this.#dir, { signal }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.#reportFailure(this.load()), RELOAD_DEBOUNCE_MS);
    });
    watcher.on('error', () => undefined);
    const recheck = setInterval(() => {
      if (this.problems().some((problem) => problem.kind === 'sink'))
        this.#reportFailure(this.recheckSinks());
    }, SINK_RECHECK_MS);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        clearInterval(recheck);
      },
      { once: true },
    );
  }

  /** Resolves once no load is under way (the daemon's stop waits for it). */
  async settled(): Promise<void> {
    await this.#loading.catch(() => undefined);
  }

  /** A reload the watcher started that failed (the directory unreadable): said, and the next one tries again. */
  #reportFailure(load: Promise<void>): void {
    load.catch((error: Error) =>
      this.#activity.record(
        {
          type: 'pool.warning',
          workload: null,
          message: `the workloads directory ${this.#dir} could not be read (${error.message}); every workload is kept as it was`,
        },
        'warn',
      ),
    );
  }
}

/** Writes beside the target (a name the loader skips), syncs, then renames over it. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = join(file, '..', `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file).catch(async (error: unknown) => {
    await unlink(temp).catch(() => {});
    throw error;
  });
}

/** Problems of a file as the API and the CLI show them: `FILE:LINE:COL path` and the message. */
function placed(name: string, problems: Problem[]): { path: string; message: string }[] {
  return problems.map((problem) => ({
    path: `${name}:${problem.line}:${problem.column} ${problem.path}`,
    message: problem.message,
  }));
}

/** A catch handler: `value` when the error is ENOENT, the error again otherwise. */
function orNothingWhenMissing<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (isNotFound(error)) return value;
    throw error;
  };
}
