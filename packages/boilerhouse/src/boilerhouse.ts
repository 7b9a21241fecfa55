/**
 * Boilerhouse, assembled: pools of warm instances for the workloads in a directory, claim and release,
 * and the loops that keep it all true (fill, reservations, liveness). `start()` recovers from whatever a
 * previous run left behind; `stop()` ends the loops and waits for every transition in flight.
 */
import { basename } from 'node:path';
import {
  type Environment,
  loadWorkload,
  type Problem,
  type WorkloadEnvironment,
  workloadEnvironment,
} from '@boilerhouse/spec';
import { type Backup, takeBackup } from './db/backup.ts';
import type { Database } from './db/database.ts';
import type { ActivityEvent } from './db/events.ts';
import { lastEventId, listEvents, listEventsAfter } from './db/events.ts';
import {
  countByPhase,
  getInstance,
  type Instance,
  listInstances,
  listTenantInstances,
  PHASES,
  type Phase,
} from './db/instances.ts';
import { daemonId } from './db/meta.ts';
import { removeResume } from './db/resumes.ts';
import { listWakes, type Wake } from './db/wakes.ts';
import { BadRequestError, ConflictError, NotFoundError, ShuttingDownError } from './errors.ts';
import { GatewayControl } from './gateway/control.ts';
import type { GatewayListen } from './gateway/wire.ts';
import type { Logger } from './log.ts';
import { Loop } from './loop.ts';
import { numericOwner } from './owner.ts';
import { Activity } from './pool/activity.ts';
import { type ClaimResult, Claims, endpointsOf } from './pool/claims.ts';
import { DeadInstances } from './pool/dead-instances.ts';
import type { PoolDeps } from './pool/deps.ts';
import { Filler, type FillStatus } from './pool/fill.ts';
import { IdleWatcher } from './pool/idle.ts';
import { InstanceFiles } from './pool/instance-files.ts';
import { IntervalSaves } from './pool/interval-saves.ts';
import { destroyInstance } from './pool/lifecycle.ts';
import { Liveness } from './pool/liveness.ts';
import { missingImages } from './pool/missing-images.ts';
import { PoolOverrides, type PoolSize } from './pool/pool-overrides.ts';
import { type RecoveryReport, recover } from './pool/recovery.ts';
import {
  expireReservations,
  type ReleaseResult,
  ReleaseRetries,
  reclaimWriters,
  release,
} from './pool/release.ts';
import { ReservedWrites } from './pool/reserved-writes.ts';
import { Resumes } from './pool/resumes.ts';
import { SyncedTenantState } from './pool/synced-tenant-state.ts';
import { type UpgradeOptions, type UpgradeReport, Upgrades } from './pool/upgrades.ts';
import { releaseDataDir, restrictDataDir } from './pool/volume-mount.ts';
import { Wakes } from './pool/wakes.ts';
import { type AppliedWorkload, type Workload, WorkloadRegistry } from './pool/workloads.ts';
import { DockerProxies } from './proxy/proxies.ts';
import { DockerRuntime } from './runtime/docker.ts';
import { EngineClient } from './runtime/engine-client.ts';
import type { ContainerRuntime } from './runtime/runtime.ts';
import { loadSecretKey, MemoryDirs, type SecretKey, TenantSecrets } from './secrets/index.ts';
import type { SaveSummary } from './state/manifest.ts';
import type { DamagedSave, SaveResult } from './state/snapshots.ts';
import { sqliteBackupBeside } from './state/sqlite-backup.ts';
import { parseTenantId } from './tenant.ts';

export interface BoilerhouseOptions {
  db: Database;
  runtime: ContainerRuntime;
  log: Logger;
  dataDir: string;
  workloadsDir: string;
  gateBinary: string;
  publishHost: string;
  /** The daemon's environment; workload files read only what its BOILERHOUSE_WORKLOAD_ENV allows. */
  env: Environment;
  /** Loop periods, shortened by tests. */
  intervals?: Partial<LoopIntervals>;
  /** Where the gateway listens (served by the socket host once a workload has a `gateway:` block). */
  gateway?: GatewayListen;
}

interface LoopIntervals {
  fillMs: number;
  reservationsMs: number;
  existenceMs: number;
  healthMs: number;
  /** Longest a release's caller waits for the save (a sink outage must not hold an API call for minutes). */
  releaseAnswerMs: number;
}

const DEFAULT_INTERVALS: LoopIntervals = {
  fillMs: 2_000,
  reservationsMs: 1_000,
  existenceMs: 5_000,
  healthMs: 1_000,
  releaseAnswerMs: 20_000,
};

export interface PoolStatus {
  workload: string;
  version: string;
  file: string;
  removed: boolean;
  minIdle: number;
  maxSize: number;
  /** The sizes an operator set through the API (scale, drain), over the file's. */
  scaled: PoolSize;
  instances: ReturnType<typeof countByPhase>;
  /** Of those, the ones made from an older version of the workload (pool/upgrades.ts moves them). */
  oldVersion: ReturnType<typeof countByPhase>;
  fill: FillStatus;
}

/** Phases in which an instance holds a tenant's state that a destroy must save first. */
const TENANT_PHASES: ReadonlySet<string> = new Set(['claimed', 'reserved', 'release_failed', 'failed']);
/** A destroy whose instance changes phase under it (a reservation claiming itself back) looks again. */
const DESTROY_ATTEMPTS = 3;

export class Boilerhouse {
  readonly activity: Activity;
  readonly workloads: WorkloadRegistry;
  readonly daemonId: string;
  /** Tenants' front door (gateway/); undefined when this Boilerhouse serves none. */
  readonly gateway: GatewayControl | undefined;
  readonly #deps: PoolDeps;
  readonly #claims: Claims;
  readonly #filler: Filler;
  readonly #liveness: Liveness;
  readonly #dead: DeadInstances;
  readonly #resumes: Resumes;
  readonly #upgrades: Upgrades;
  readonly #wakes: Wakes;
  #lastRecovery: RecoveryReport | undefined;
  /** Settled once start-up recovery is done: a claim asked before (a wake through the gateway) waits. */
  readonly #recovered = Promise.withResolvers<void>();
  readonly #state: SyncedTenantState;
  readonly #idle: IdleWatcher;
  readonly #releaseRetries: ReleaseRetries;
  readonly #intervalSaves: IntervalSaves;
  readonly #intervals: LoopIntervals;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #env: Environment;
  /** The one view of the environment workload files (and their sink credentials) are given. */
  readonly #workloadEnv: WorkloadEnvironment;
  readonly #dataDir: string;
  #secrets: TenantSecrets | undefined;
  #secretKey: SecretKey | undefined;
  readonly #stopping = new AbortController();
  readonly #fillLoop: Loop;
  #loops: Promise<void>[] = [];

  constructor(options: BoilerhouseOptions) {
    this.activity = new Activity(options.db, options.log);
    this.#env = options.env;
    this.#workloadEnv = workloadEnvironment(options.env);
    this.#dataDir = options.dataDir;
    this.daemonId = daemonId(options.db);

    this.#intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
    this.workloads = new WorkloadRegistry({
      dir: options.workloadsDir,
      env: this.#workloadEnv,
      activity: this.activity,
      overrides: new PoolOverrides(options.db),
      onChange: () => this.#fillLoop.kick(),
    });
    const files = new InstanceFiles(options.dataDir, options.gateBinary, options.workloadsDir);
    this.gateway =
      options.gateway === undefined
        ? undefined
        : new GatewayControl({
            db: options.db,
            workloads: this.workloads,
            activity: this.activity,
            log: options.log,
            listen: options.gateway,
            host: () => this.#deps.proxies.host,
            claim: (tenant, workload) => this.claim(tenant, workload),
            noteTraffic: (instanceId, at) => this.#idle.noteTraffic(instanceId, at),
          });
    const gateway = this.gateway;
    this.#deps = {
      db: options.db,
      runtime: options.runtime,
      files,
      activity: this.activity,
      log: options.log,
      workloads: this.workloads,
      daemonId: this.daemonId,
      publishHost: options.publishHost,
      releaseAnswerMs: this.#intervals.releaseAnswerMs,
      now: Date.now,
      kickFill: () => this.#fillLoop.kick(),
      reservedWrites: new ReservedWrites(),
      writeSecrets: (instanceId, workload, tenant) => this.#writeSecrets(instanceId, workload, tenant),
      proxies: new DockerProxies({
        engine:
          options.runtime instanceof DockerRuntime
            ? options.runtime.engine
            : new EngineClient(process.env.DOCKER_HOST),
        files,
        dataDir: options.dataDir,
        daemonId: this.daemonId,
        log: options.log,
        onDenied: (denial) => this.activity.signals.emit({ type: 'docker.denied', ...denial }),
        tenantSecrets: async (instanceId) => this.#tenantSecrets(instanceId),
        ...(gateway === undefined
          ? {}
          : {
              gateway: {
                onConnected: (connection) => gateway.onConnected(connection),
                onMessage: (message) => gateway.onMessage(message),
              },
            }),
      }),
      track: (work) => this.#track(work),
    };
    this.#state = new SyncedTenantState({
      dataDir: options.dataDir,
      env: this.#workloadEnv.values(),
      files: this.#deps.files,
      workloads: this.workloads,
      activity: this.activity,
      sqliteBackup: sqliteBackupBeside(options.gateBinary),
      afterSave: (instance, workload) => this.#wakes.afterSave(instance, workload),
    });
    this.#dead = new DeadInstances(this.#deps, this.#state);
    this.#claims = new Claims(this.#deps, this.#state, this.#dead);
    this.#resumes = new Resumes(this.#deps, this.#claims);
    this.#wakes = new Wakes(this.#deps, this.#claims);
    this.#upgrades = new Upgrades(this.#deps, this.#claims, this.#state, (id) => this.#filler.problem(id));
    this.#filler = new Filler(this.#deps, this.#upgrades);
    this.#liveness = new Liveness(this.#deps, this.#state, this.#dead);
    this.#fillLoop = new Loop('fill', this.#intervals.fillMs, () => this.#filler.fillOnce(), options.log);
    this.#releaseRetries = new ReleaseRetries(this.#deps, this.#state);
    this.#idle = new IdleWatcher(this.#deps, (instance, why) =>
      this.release(instance.tenant as string, instance.workload, why),
    );
    this.#intervalSaves = new IntervalSaves({
      db: options.db,
      workloads: this.workloads,
      state: this.#state,
      log: options.log,
    });
  }

  /** Loads the workloads, reconciles with Docker, and starts the loops. */
  async start(): Promise<RecoveryReport> {
    await this.#deps.runtime.ping();
    // Before any volume is mounted: 0700, and nosuid,nodev under every volume (pool/volume-mount.ts).
    await restrictDataDir(this.#dataDir, new MemoryDirs(this.#dataDir));
    const key = await loadSecretKey(this.#env, this.#dataDir);
    this.#secrets = new TenantSecrets(this.#deps.db, key.key);
    this.#secretKey = key;
    await this.workloads.ensureDir();
    await this.workloads.load();
    const report = await recover(this.#deps, this.#state, this.#dead).catch((error: unknown) => {
      this.#recovered.reject(error);
      throw error;
    });
    this.#lastRecovery = report;
    this.#recovered.resolve();
    const signal = this.#stopping.signal;
    this.workloads.watch(signal);
    const log = this.#deps.log;
    this.#loops = [
      this.#fillLoop,
      new Loop(
        'reservations',
        this.#intervals.reservationsMs,
        async () => {
          await expireReservations(this.#deps, this.#state);
          await reclaimWriters(this.#deps);
          await this.#releaseRetries.tick();
        },
        log,
      ),
      new Loop('existence', this.#intervals.existenceMs, () => this.#liveness.checkExistence(), log),
      new Loop(
        'dead-instances',
        this.#intervals.reservationsMs,
        async () => {
          await this.#dead.tick();
          await this.#resumes.tick();
        },
        log,
      ),
      new Loop('idle', this.#intervals.reservationsMs, () => this.#idle.tick(), log),
      new Loop('wakes', this.#intervals.reservationsMs, () => this.#wakes.tick(), log),
      new Loop(
        'interval-saves',
        this.#intervals.reservationsMs,
        () => this.#intervalSaves.tick(Date.now()),
        log,
      ),
      new Loop('health', this.#intervals.healthMs, () => this.#liveness.checkHealth(), log),
      ...(this.gateway === undefined
        ? []
        : [new Loop('gateway', this.#intervals.reservationsMs, () => this.#syncGateway(), log)]),
    ].map((loop) => loop.run(signal));
    // Routes follow claims and releases at once; the loop is the net under it (expiries, missed events).
    const unsubscribe = this.activity.subscribe((event) => {
      if (event.type.startsWith('instance.') || event.type.startsWith('pool.')) void this.#syncGateway();
    });
    signal.addEventListener('abort', unsubscribe, { once: true });
    await this.#syncGateway();
    this.activity.record({ type: 'daemon.started', message: `Boilerhouse ${this.daemonId} started` });
    return report;
  }

  /** What start-up recovery did, once started. */
  get lastRecovery(): RecoveryReport | undefined {
    return this.#lastRecovery;
  }

  /** Stops the loops and waits for claims, releases and creations in flight. Instances keep running. */
  async stop(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    this.#stopping.abort();
    await Promise.all(this.#loops);
    await this.workloads.settled();
    await this.#idle.stop();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
    this.gateway?.stop();
    // The socket host goes on serving the instances' sockets (proxy/host/): closeAll only lets go of it.
    // The volume mounts stay while instances do (pool/volume-mount.ts): they, their children and the
    // host's pins under them outlive the daemon; taking them away would hide the pins the host makes.
    await this.#deps.proxies.closeAll();
    if (listInstances(this.#deps.db).length === 0) {
      await releaseDataDir(this.#dataDir, new MemoryDirs(this.#dataDir));
    }
    this.activity.record({ type: 'daemon.stopped', message: `Boilerhouse ${this.daemonId} stopped` });
  }

  async claim(tenant: string, workloadId: string): Promise<ClaimResult> {
    this.#refuseWhenStopping();
    // Recovery decides what is stray by the rows it read: nothing of a claim may start before it is done.
    await this.#recovered.promise;
    return this.#claims.claim(this.workload(workloadId), parseTenantId(tenant));
  }

  /** `why` is said in the release's event: `requested` (the API), `idle: ...`, `workload deleted`, ... */
  async release(tenant: string, workloadId: string, why = 'requested'): Promise<ReleaseResult> {
    this.#refuseWhenStopping();
    // A removed workload's instances can still be released: that is how they end.
    const workload = this.workload(workloadId, { includeRemoved: true });
    const result = await release(
      this.#deps,
      this.#claims,
      this.#state,
      this.#dead,
      workload,
      parseTenantId(tenant),
      why,
    );
    this.#deps.kickFill();
    return result;
  }

  tenant(tenant: string): {
    tenant: string;
    instances: (Instance & { endpoints: ReturnType<typeof endpointsOf> })[];
    wakes: Wake[];
  } {
    const id = parseTenantId(tenant);
    const instances = listTenantInstances(this.#deps.db, id).map((instance) => ({
      ...instance,
      endpoints: endpointsOf(instance, this.#deps.publishHost),
    }));
    return { tenant: id, instances, wakes: listWakes(this.#deps.db, { tenant: id }) };
  }

  /** Upcoming wakes (pool.wake) of every tenant, soonest first. */
  wakes(): Wake[] {
    return listWakes(this.#deps.db);
  }

  pools(): PoolStatus[] {
    return this.workloads.list().map((workload) => this.#poolStatus(workload));
  }

  pool(workloadId: string): PoolStatus {
    return this.#poolStatus(this.workload(workloadId, { includeRemoved: true }));
  }

  instances(filter: { workload?: string; phase?: Phase } = {}): Instance[] {
    return listInstances(this.#deps.db, filter);
  }

  /** Every tenant that has an instance now, with its instances. */
  tenants(): { tenant: string; instances: Instance[] }[] {
    const byTenant = new Map<string, Instance[]>();
    for (const instance of listInstances(this.#deps.db)) {
      if (instance.tenant === null) continue;
      byTenant.set(instance.tenant, [...(byTenant.get(instance.tenant) ?? []), instance]);
    }
    return [...byTenant.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tenant, instances]) => ({ tenant, instances }));
  }

  /** Sets (null: clears) the pool's sizes over the workload file's; the fill loop acts on them at once. */
  scale(workloadId: string, changes: { minIdle?: number | null; maxSize?: number | null }): PoolStatus {
    const workload = this.workloads.scale(this.workload(workloadId).id, changes, Date.now());
    return this.#poolStatus(workload);
  }

  /**
   * Stops keeping instances warm (min_idle 0 until scaled again) and destroys the ready ones. Tenants'
   * instances are left to their tenancy.
   */
  async drain(workloadId: string): Promise<PoolStatus> {
    const workload = this.workloads.scale(this.workload(workloadId).id, { minIdle: 0 }, Date.now());
    const ready = listInstances(this.#deps.db, { workload: workload.id, phase: 'ready' });
    await Promise.all(
      ready.map((instance) =>
        this.#track(destroyInstance(this.#deps, instance, 'ready', 'pool drained by an operator')),
      ),
    );
    return this.#poolStatus(workload);
  }

  /**
   * Who is on an old version of the workload and when each moves (at its next release; a reservation at
   * once); with `now`, claimed tenants are moved now, each saved first (pool/upgrades.ts).
   */
  async upgrade(workloadId: string, options: Omit<UpgradeOptions, 'signal'>): Promise<UpgradeReport> {
    this.#refuseWhenStopping();
    await this.#recovered.promise;
    const workload = this.workload(workloadId);
    return this.#upgrades.upgrade(workload, { ...options, signal: this.#stopping.signal });
  }

  /** What validation says of a workload file's text, in the environment the registry loads files with. */
  checkWorkloadText(text: string, file: string): Problem[] {
    return loadWorkload(text, { file, env: this.#workloadEnv }).problems;
  }

  /**
   * Writes a workload file (validated as files are, its sink tried) and loads it; warns of what validation
   * warns of and of images that are not on this host.
   */
  async applyWorkload(id: string, text: string): Promise<AppliedWorkload> {
    this.#refuseWhenStopping();
    const applied = await this.workloads.apply(id, text);
    const name = basename(applied.workload.file);
    const images = await missingImages(this.#deps.runtime, applied.workload.spec);
    const warnings = images.map(({ field, message }) => ({ path: `${name} ${field}`, message }));
    return { ...applied, warnings: [...applied.warnings, ...warnings] };
  }

  /**
   * Drains the pool, then deletes the workload's file. Tenants holding instances refuse it (409) unless
   * `force`, which releases them first, saving their state as any release does.
   */
  async deleteWorkload(id: string, options: { force: boolean }): Promise<void> {
    this.#refuseWhenStopping();
    const workload = this.workload(id);
    const held = listInstances(this.#deps.db, { workload: workload.id }).filter(
      (instance) => instance.tenant !== null && instance.phase !== 'reserved',
    );
    if (held.length > 0 && !options.force) {
      const tenants = [...new Set(held.map((instance) => instance.tenant))].join(', ');
      throw new ConflictError(
        `${held.length} instance(s) of ${workload.id} are held by tenants (${tenants}); release them or delete with ?force=true`,
      );
    }
    await this.drain(workload.id);
    for (const instance of held) {
      await this.release(instance.tenant as string, workload.id, 'its workload is deleted');
    }
    for (const instance of listInstances(this.#deps.db, { workload: workload.id, phase: 'reserved' })) {
      await this.#state.beforeDestroy(instance);
      await this.#track(destroyInstance(this.#deps, instance, 'reserved', `workload ${workload.id} deleted`));
    }
    await this.workloads.remove(workload.id);
  }

  /** The container output of an instance: the last `tail` lines, then (with `follow`) what comes. */
  async instanceLogs(
    id: string,
    options: { tail: number; follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<Buffer>> {
    const instance = getInstance(this.#deps.db, id);
    if (instance === undefined) throw new NotFoundError(`no instance ${id}`);
    if (instance.containerId === null) throw new ConflictError(`instance ${id} has no container yet`);
    return this.#deps.runtime.logs(instance.containerId, options);
  }

  /**
   * Destroys an instance on an operator's request, whatever its phase. A tenant's instance (claimed,
   * reserved, failed, or with a failed release) is saved first, and stays when that save fails; `discard`
   * skips the save, and the event says so. A claimed tenant loses its instance (its next claim restores
   * the save) and is not claimed again by itself, even if its container had died.
   */
  async destroy(id: string, options: { discard?: boolean } = {}): Promise<void> {
    for (let attempt = 0; attempt < DESTROY_ATTEMPTS; attempt++) {
      const instance = getInstance(this.#deps.db, id);
      if (instance === undefined) throw new NotFoundError(`no instance ${id}`);
      if (instance.tenant !== null) removeResume(this.#deps.db, instance.workload, instance.tenant);
      const holdsState = instance.tenant !== null && TENANT_PHASES.has(instance.phase);
      if (holdsState && !options.discard) await this.#state.beforeDestroy(instance);
      const reason =
        holdsState && options.discard
          ? 'destroyed by an operator, unsaved changes discarded (discard=true)'
          : 'destroyed by an operator';
      if (await this.#track(destroyInstance(this.#deps, instance, instance.phase, reason))) return;
      // Its phase moved meanwhile (a reservation that wrote claimed itself back during the save): again.
    }
    throw new ConflictError(`instance ${id} kept changing while it was being destroyed; try again`);
  }

  /**
   * The tenant's saves of a workload, newest first, which one is current, and those that cannot be read
   * (a torn or missing manifest, a damaged HEAD), kept for an operator to look at.
   */
  async snapshots(
    tenant: string,
    workloadId: string,
  ): Promise<{ head: number | null; saves: SaveSummary[]; damaged: DamagedSave[] }> {
    const store = this.#stateStore(
      this.workload(workloadId, { includeRemoved: true }),
      parseTenantId(tenant),
    );
    const { head, saves, damaged } = await store.overview();
    return { head: head ?? null, saves, damaged };
  }

  /**
   * Makes an older save the tenant's current one, while the tenant is released: its reserved instance (if
   * any) is saved and destroyed first, so the next claim restores the chosen save.
   */
  async restoreSnapshot(tenant: string, workloadId: string, seq: number): Promise<{ head: number }> {
    const workload = this.workload(workloadId, { includeRemoved: true });
    const id = parseTenantId(tenant);
    const store = this.#stateStore(workload, id);
    const saves = await store.list();
    if (!saves.some((save) => save.seq === seq)) {
      throw new NotFoundError(
        `tenant ${id} has no save ${seq} of ${workload.id}; it has ${saves.map((save) => save.seq).join(', ') || 'none'}`,
      );
    }
    const own = listTenantInstances(this.#deps.db, id).find((instance) => instance.workload === workload.id);
    if (own !== undefined && own.phase !== 'reserved') {
      throw new ConflictError(
        `tenant ${id} has a ${own.phase} instance of ${workload.id}; release it before restoring a save`,
      );
    }
    if (own !== undefined) {
      await this.#state.beforeDestroy(own);
      await this.#track(destroyInstance(this.#deps, own, 'reserved', `tenant restores save ${seq}`));
    }
    return { head: await store.rollBack(seq) };
  }

  /** `manual` sync: saves the tenant's instance now (upload). */
  async sync(tenant: string, workloadId: string, direction: string): Promise<SaveResult | undefined> {
    const workload = this.workload(workloadId);
    const id = parseTenantId(tenant);
    if (!workload.spec.sync?.policy.manual) {
      throw new ConflictError(`manual sync is off for ${workload.id} (sync.policy.manual)`);
    }
    if (direction === 'download') {
      throw new BadRequestError(
        'direction "download" is not available on a running instance: state is restored at claim; to go back to an older save, release and POST .../snapshots/{seq}/restore',
      );
    }
    if (direction !== 'upload')
      throw new BadRequestError(
        `field "direction" must be "upload" or "download", got ${JSON.stringify(direction)}`,
      );
    const own = listTenantInstances(this.#deps.db, id).find((instance) => instance.workload === workload.id);
    if (own === undefined || (own.phase !== 'claimed' && own.phase !== 'reserved')) {
      throw new NotFoundError(`tenant ${id} has no running instance of ${workload.id} to save`);
    }
    return this.#state.saveNow(own, workload, 'manual');
  }

  /** Stores a tenant's secrets for a workload (encrypted); they reach its instance at the next claim. */
  putSecrets(tenant: string, workloadId: string, values: unknown): { keys: string[]; shadowed: string[] } {
    const workload = this.workload(workloadId);
    if (workload.spec.volumes.secrets === undefined) {
      throw new BadRequestError(`workload ${workload.id} has no secrets volume (volumes.secrets)`);
    }
    const keys = this.#secretStore().put(parseTenantId(tenant), workload.id, values);
    this.#pushSecrets(parseTenantId(tenant), workload.id);
    return { keys, shadowed: shadowedBy(workload, keys) };
  }

  /** Sets some of a tenant's secrets for a workload and removes others, keeping the rest. */
  updateSecrets(
    tenant: string,
    workloadId: string,
    changes: { set: unknown; remove: string[] },
  ): { keys: string[]; shadowed: string[] } {
    const workload = this.workload(workloadId);
    if (workload.spec.volumes.secrets === undefined) {
      throw new BadRequestError(`workload ${workload.id} has no secrets volume (volumes.secrets)`);
    }
    const keys = this.#secretStore().update(parseTenantId(tenant), workload.id, changes);
    this.#pushSecrets(parseTenantId(tenant), workload.id);
    return { keys, shadowed: shadowedBy(workload, keys) };
  }

  /** The names (never the values) of a tenant's secrets, per workload. */
  secretNames(tenant: string) {
    return this.#secretStore().list(parseTenantId(tenant));
  }

  deleteSecrets(tenant: string, workloadId: string): boolean {
    const id = parseTenantId(tenant);
    const workload = this.workload(workloadId, { includeRemoved: true }).id;
    const deleted = this.#secretStore().delete(id, workload);
    this.#pushSecrets(id, workload);
    return deleted;
  }

  /**
   * Tells the filtered sockets of the tenant's instances of the workload its secret values now: the socket
   * host refuses children that carry them, and keeps serving while the daemon is down.
   */
  #pushSecrets(tenant: string, workload: string): void {
    for (const instance of listTenantInstances(this.#deps.db, tenant)) {
      if (instance.workload !== workload) continue;
      void this.#track(
        this.#deps.proxies
          .refreshSecrets(instance.id)
          .catch((error: Error) =>
            this.#deps.log.warn(
              { instance: instance.id, error: error.message },
              'could not give the filtered socket the changed secrets',
            ),
          ),
      );
    }
  }

  /** A consistent copy of the database with the key that opens its secrets, as a tar stream (db/backup.ts). */
  backup(): Promise<Backup> {
    if (this.#secretKey === undefined) throw new ShuttingDownError();
    return takeBackup({ db: this.#deps.db, key: this.#secretKey });
  }

  #secretStore(): TenantSecrets {
    if (this.#secrets === undefined) throw new ShuttingDownError();
    return this.#secrets;
  }

  /** The secrets of the tenant an instance is (or was last) claimed for; none for a fresh instance. */
  #tenantSecrets(instanceId: string): ReadonlyMap<string, string> {
    const instance = getInstance(this.#deps.db, instanceId);
    if (instance?.tenant == null) return new Map();
    return this.#secretStore().values(instance.tenant, instance.workload);
  }

  async #writeSecrets(instanceId: string, workload: Workload, tenant: string): Promise<void> {
    // The socket knows the tenant's values before the instance does.
    await this.#deps.proxies.refreshSecrets(instanceId);
    const target = workload.spec.volumes.secrets?.target;
    if (target === undefined) return;
    const owner = numericOwner(workload.spec.security.user);
    await this.#secretStore().materialize(
      tenant,
      workload.id,
      this.#deps.files.secretsDir(instanceId),
      target,
      owner,
    );
  }

  /** When each claimed instance will be released for idleness (pool.file_idle_ttl), by instance id. */
  idleReleaseAt(instance: Instance): number | undefined {
    return this.#idle.releaseAt(instance);
  }

  #stateStore(workload: Workload, tenant: string) {
    if (workload.spec.sync === undefined)
      throw new NotFoundError(`workload ${workload.id} keeps no tenant state`);
    return this.#state.store(workload, tenant);
  }

  /** The newest event's id (0 when there is none). */
  lastEventId(): number {
    return lastEventId(this.#deps.db);
  }

  /** Events after `id`, oldest first, at most `limit`: for resuming a stream. */
  eventsAfter(id: number, limit: number): ActivityEvent[] {
    return listEventsAfter(this.#deps.db, id, limit);
  }

  events(limit: number): ActivityEvent[] {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new BadRequestError(`limit must be an integer from 1 to 1000, got ${limit}`);
    }
    return listEvents(this.#deps.db, limit);
  }

  /** The workload by id; a NotFoundError listing the known ones when there is none (or it was removed). */
  workload(id: string, options: { includeRemoved?: boolean } = {}): Workload {
    const workload = this.workloads.get(id);
    if (workload === undefined || (workload.removed && !options.includeRemoved)) {
      const known = this.workloads
        .list()
        .filter((candidate) => !candidate.removed)
        .map((candidate) => candidate.id);
      throw new NotFoundError(`no workload "${id}"; known workloads: ${known.join(', ') || 'none'}`);
    }
    return workload;
  }

  #poolStatus(workload: Workload): PoolStatus {
    const instances = countByPhase(this.#deps.db, workload.id);
    const current = countByPhase(this.#deps.db, workload.id, workload.hash);
    return {
      workload: workload.id,
      version: workload.hash,
      file: workload.file,
      removed: workload.removed,
      minIdle: workload.spec.pool.minIdle,
      maxSize: workload.spec.pool.maxSize,
      scaled: workload.scaled,
      instances,
      oldVersion: Object.fromEntries(
        PHASES.map((phase) => [phase, instances[phase] - current[phase]]),
      ) as PoolStatus['oldVersion'],
      fill: this.#filler.status(workload.id),
    };
  }

  /** The gateway's table brought up to date; a failure is logged and the next pass tries again. */
  async #syncGateway(): Promise<void> {
    await this.gateway?.sync().catch(() => undefined);
  }

  #refuseWhenStopping(): void {
    if (this.#stopping.signal.aborted) throw new ShuttingDownError();
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inflight.add(work);
    return work.finally(() => this.#inflight.delete(work));
  }
}

/**
 * The secrets whose names the workload's `environment` sets too: the instance gets both, and a workload
 * that reads its environment first (NanoClaw does) never sees the tenant's value. Said, not ignored.
 */
function shadowedBy(workload: Workload, keys: readonly string[]): string[] {
  return keys.filter((key) => Object.hasOwn(workload.spec.environment, key));
}
