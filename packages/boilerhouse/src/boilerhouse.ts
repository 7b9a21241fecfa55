/**
 * Boilerhouse, assembled: pools of warm instances for the workloads in a directory, claim and release,
 * and the loops that keep it all true (fill, reservations, liveness). `start()` recovers from whatever a
 * previous run left behind; `stop()` ends the loops and waits for every transition in flight. What an
 * operator does beyond claim and release (pools, instances, workload files, saves, secrets) is in admin/.
 */
import { join } from 'node:path';
import { type Environment, workloadEnvironment } from '@boilerhouse/spec';
import { InstanceAdmin } from './admin/instances.ts';
import { PoolAdmin } from './admin/pools.ts';
import { SecretsAdmin } from './admin/secrets.ts';
import { TenantSavesAdmin } from './admin/tenant-saves.ts';
import { TenantAdmin } from './admin/tenants.ts';
import { WorkloadAdmin } from './admin/workloads.ts';
import { type Backup, takeBackup } from './db/backup.ts';
import type { Database } from './db/database.ts';
import { type Instance, listInstances } from './db/instances.ts';
import { daemonId } from './db/meta.ts';
import { ShuttingDownError } from './errors.ts';
import { GatewayControl } from './gateway/control.ts';
import type { GatewayListen } from './gateway/wire.ts';
import type { Logger } from './log.ts';
import { Loop } from './loop.ts';
import { Activity } from './pool/activity.ts';
import { type ClaimResult, Claims } from './pool/claims.ts';
import { DeadInstances } from './pool/dead-instances.ts';
import type { PoolDeps } from './pool/deps.ts';
import { Filler } from './pool/fill.ts';
import { IdleWatcher } from './pool/idle.ts';
import { InstanceFiles } from './pool/instance-files.ts';
import { IntervalSaves } from './pool/interval-saves.ts';
import { Liveness } from './pool/liveness.ts';
import { PoolOverrides } from './pool/pool-overrides.ts';
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
import { workloadById } from './pool/workload-lookup.ts';
import { type Workload, WorkloadRegistry } from './pool/workloads.ts';
import { DockerProxies } from './proxy/proxies.ts';
import { DockerRuntime } from './runtime/docker.ts';
import { EngineClient } from './runtime/engine-client.ts';
import type { ContainerRuntime } from './runtime/runtime.ts';
import { MemoryDirs } from './secrets/index.ts';
import { DEFAULT_STATE_CACHE_BYTES, ObjectCache } from './state/sinks/object-cache.ts';
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
  /**
   * The most this host's cache of S3 saves' objects (`<dataDir>/cache/state-objects`) may hold; 0: no
   * cache. DEFAULT_STATE_CACHE_BYTES when not given.
   */
  stateCacheBytes?: number;
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

export class Boilerhouse {
  readonly activity: Activity;
  readonly workloads: WorkloadRegistry;
  readonly daemonId: string;
  /** Tenants' front door (gateway/); undefined when this Boilerhouse serves none. */
  readonly gateway: GatewayControl | undefined;
  readonly #deps: PoolDeps;
  readonly #claims: Claims;
  readonly #dead: DeadInstances;
  readonly #upgrades: Upgrades;
  #lastRecovery: RecoveryReport | undefined;
  /** Settled once start-up recovery is done: a claim asked before (a wake through the gateway) waits. */
  readonly #recovered = Promise.withResolvers<void>();
  readonly #state: SyncedTenantState;
  /** Undefined when the operator turned it off. */
  readonly objectCache: ObjectCache | undefined;
  readonly #idle: IdleWatcher;
  readonly #intervals: LoopIntervals;
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #env: Environment;
  readonly #dataDir: string;
  readonly #secrets: SecretsAdmin;
  readonly #pools: PoolAdmin;
  readonly #instances: InstanceAdmin;
  readonly #workloadFiles: WorkloadAdmin;
  readonly #saves: TenantSavesAdmin;
  readonly #tenants: TenantAdmin;
  readonly #stopping = new AbortController();
  readonly #fillLoop: Loop;
  readonly #loops: Loop[];
  #running: Promise<void>[] = [];

  constructor(options: BoilerhouseOptions) {
    this.activity = new Activity(options.db, options.log);
    this.#env = options.env;
    // The one view of the environment workload files (and their sink credentials) are given.
    const workloadEnv = workloadEnvironment(options.env);
    this.#dataDir = options.dataDir;
    this.daemonId = daemonId(options.db);

    this.#intervals = { ...DEFAULT_INTERVALS, ...options.intervals };
    this.workloads = new WorkloadRegistry({
      dir: options.workloadsDir,
      env: workloadEnv,
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
    const track = <T>(work: Promise<T>) => this.#track(work);
    this.#secrets = new SecretsAdmin({
      db: options.db,
      files,
      log: options.log,
      workloads: this.workloads,
      refreshSocket: (instanceId) => this.#deps.proxies.refreshSecrets(instanceId),
      track,
    });
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
      writeSecrets: (instanceId, workload, tenant) => this.#secrets.writeInto(instanceId, workload, tenant),
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
        tenantSecrets: async (instanceId) => this.#secrets.ofInstance(instanceId),
        ...(gateway === undefined
          ? {}
          : {
              gateway: {
                onConnected: (connection) => gateway.onConnected(connection),
                onMessage: (message) => gateway.onMessage(message),
              },
            }),
      }),
      track,
    };
    const cacheBytes = options.stateCacheBytes ?? DEFAULT_STATE_CACHE_BYTES;
    this.objectCache =
      cacheBytes > 0
        ? new ObjectCache({
            dir: join(options.dataDir, 'cache', 'state-objects'),
            maxBytes: cacheBytes,
            warn: (message, error) => options.log.warn({ error }, message),
          })
        : undefined;
    this.#state = new SyncedTenantState({
      objectCache: this.objectCache,
      dataDir: options.dataDir,
      env: workloadEnv.values(),
      files: this.#deps.files,
      workloads: this.workloads,
      activity: this.activity,
      sqliteBackup: sqliteBackupBeside(options.gateBinary),
      afterSave: (instance, workload) => wakes.afterSave(instance, workload),
      removeChildren: (instance) =>
        this.#deps.proxies.removeChildren(instance.id, this.workloads.get(instance.workload)?.spec),
    });
    const deps = this.#deps;
    const state = this.#state;
    this.#dead = new DeadInstances(deps, state);
    this.#claims = new Claims(deps, state, this.#dead);
    const resumes = new Resumes(deps, this.#claims);
    const wakes = new Wakes(deps, this.#claims);
    this.#upgrades = new Upgrades(deps, this.#claims, state, (id) => filler.problem(id));
    const filler = new Filler(deps, this.#upgrades, () => this.#claims.activating);
    const liveness = new Liveness(deps, state, this.#dead);
    const releaseRetries = new ReleaseRetries(deps, state);
    this.#idle = new IdleWatcher(deps, (instance, why) =>
      this.release(instance.tenant as string, instance.workload, why),
    );
    const intervalSaves = new IntervalSaves({
      db: options.db,
      workloads: this.workloads,
      state,
      log: options.log,
    });

    // The loops, run from start() until stop().
    const { fillMs, reservationsMs, existenceMs, healthMs } = this.#intervals;
    const every = (name: string, ms: number, tick: () => Promise<void>) =>
      new Loop(name, ms, tick, options.log);
    this.#fillLoop = every('fill', fillMs, () => filler.fillOnce());
    this.#loops = [
      this.#fillLoop,
      every('reservations', reservationsMs, async () => {
        await expireReservations(deps, state);
        await reclaimWriters(deps);
        await releaseRetries.tick();
      }),
      every('existence', existenceMs, () => liveness.checkExistence()),
      every('dead-instances', reservationsMs, async () => {
        await this.#dead.tick();
        await resumes.tick();
      }),
      every('idle', reservationsMs, () => this.#idle.tick()),
      every('wakes', reservationsMs, () => wakes.tick()),
      every('interval-saves', reservationsMs, () => intervalSaves.tick(Date.now())),
      every('health', healthMs, () => liveness.checkHealth()),
      ...(this.gateway === undefined ? [] : [every('gateway', reservationsMs, () => this.#syncGateway())]),
    ];

    this.#pools = new PoolAdmin(deps, filler);
    this.#instances = new InstanceAdmin(deps, state);
    this.#saves = new TenantSavesAdmin(deps, state);
    this.#workloadFiles = new WorkloadAdmin({
      pool: deps,
      env: workloadEnv,
      state,
      pools: this.#pools,
      release: (tenant, workload, why) => this.release(tenant, workload, why),
      refuseWhenStopping: () => this.#refuseWhenStopping(),
    });
    this.#tenants = new TenantAdmin(options.db, options.publishHost);
  }

  /** Loads the workloads, reconciles with Docker, and starts the loops. */
  async start(): Promise<RecoveryReport> {
    await this.#deps.runtime.ping();
    // Before any volume is mounted: 0700, and nosuid,nodev under every volume (pool/volume-mount.ts).
    await restrictDataDir(this.#dataDir, new MemoryDirs(this.#dataDir));
    await this.#secrets.open(this.#env, this.#dataDir);
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
    this.#running = this.#loops.map((loop) => loop.run(signal));
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
    await Promise.all(this.#running);
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
    const id = parseTenantId(tenant);
    const result = await release(this.#deps, this.#claims, this.#state, this.#dead, workload, id, why);
    this.#deps.kickFill();
    return result;
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

  /** When each claimed instance will be released for idleness (pool.file_idle_ttl), by instance id. */
  idleReleaseAt(instance: Instance): number | undefined {
    return this.#idle.releaseAt(instance);
  }

  /** The workload by id; a NotFoundError listing the known ones when there is none (or it was removed). */
  workload(id: string, options: { includeRemoved?: boolean } = {}): Workload {
    return workloadById(this.workloads, id, options);
  }

  // What an operator asks beyond claim and release: done, and described, by the modules in admin/.
  readonly pools: PoolAdmin['pools'] = () => this.#pools.pools();
  readonly pool: PoolAdmin['pool'] = (...args) => this.#pools.pool(...args);
  readonly scale: PoolAdmin['scale'] = (...args) => this.#pools.scale(...args);
  readonly drain: PoolAdmin['drain'] = (...args) => this.#pools.drain(...args);
  readonly instances: InstanceAdmin['list'] = (...args) => this.#instances.list(...args);
  readonly instanceLogs: InstanceAdmin['logs'] = (...args) => this.#instances.logs(...args);
  readonly destroy: InstanceAdmin['destroy'] = (...args) => this.#instances.destroy(...args);
  readonly checkWorkloadText: WorkloadAdmin['check'] = (...args) => this.#workloadFiles.check(...args);
  readonly applyWorkload: WorkloadAdmin['apply'] = (...args) => this.#workloadFiles.apply(...args);
  readonly deleteWorkload: WorkloadAdmin['delete'] = (...args) => this.#workloadFiles.delete(...args);
  readonly tenant: TenantAdmin['status'] = (...args) => this.#tenants.status(...args);
  readonly tenants: TenantAdmin['list'] = () => this.#tenants.list();
  readonly wakes: TenantAdmin['wakes'] = () => this.#tenants.wakes();
  readonly snapshots: TenantSavesAdmin['snapshots'] = (...args) => this.#saves.snapshots(...args);
  readonly restoreSnapshot: TenantSavesAdmin['restoreSnapshot'] = (...args) =>
    this.#saves.restoreSnapshot(...args);
  readonly sync: TenantSavesAdmin['sync'] = (...args) => this.#saves.sync(...args);
  readonly putSecrets: SecretsAdmin['put'] = (...args) => this.#secrets.put(...args);
  readonly updateSecrets: SecretsAdmin['update'] = (...args) => this.#secrets.update(...args);
  readonly secretNames: SecretsAdmin['names'] = (...args) => this.#secrets.names(...args);
  readonly deleteSecrets: SecretsAdmin['delete'] = (...args) => this.#secrets.delete(...args);
  readonly lastEventId: Activity['lastId'] = () => this.activity.lastId();
  readonly eventsAfter: Activity['after'] = (...args) => this.activity.after(...args);
  readonly events: Activity['latest'] = (...args) => this.activity.latest(...args);

  /** A consistent copy of the database with the key that opens its secrets, as a tar stream (db/backup.ts). */
  backup(): Promise<Backup> {
    return takeBackup({ db: this.#deps.db, key: this.#secrets.key() });
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
