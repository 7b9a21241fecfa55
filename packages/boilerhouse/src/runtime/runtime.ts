/**
 * What Boilerhouse needs from a container engine. The Docker Engine API implementation is in docker.ts;
 * runtime.contract.ts is the behaviour every implementation must show, run against its real engine.
 */

/** A host path mounted into the container. A file source mounts as a file (e.g. secrets at /app/.env). */
export interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ContainerLimits {
  /** CPU cores, fractions allowed. */
  cpus: number;
  memoryBytes: number;
  pids: number;
}

/** Everything needed to create one locked-down container. */
export interface ContainerSpec {
  /** Container name, unique on the engine. */
  name: string;
  image: string;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string[];
  /** Replaces the image's CMD when set. */
  command?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** `uid[:gid]` or a name; the image's user when unset. */
  user?: string;
  readOnlyRootfs: boolean;
  /** The network it joins, by name (an instance's own, see `createNetwork`), or `none` for no network at all. */
  networkMode: string;
  limits: ContainerLimits;
  mounts: Mount[];
  /** Container TCP ports to publish, each on a free host port of `publishHost`. */
  expose: number[];
  /** Host address published ports bind to (127.0.0.1 unless the operator says otherwise). */
  publishHost: string;
}

export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** A container port as the engine bound it on the host. */
export interface PublishedPort {
  hostIp: string;
  hostPort: number;
}

export interface ContainerInfo {
  id: string;
  name: string;
  status: ContainerStatus;
  labels: Record<string, string>;
  /** Container port -> where the engine published it on the host. */
  ports: Record<number, PublishedPort>;
  exitCode: number;
  /** The container's address on its network, when it has one. */
  ipAddress?: string;
}

export interface ContainerSummary {
  id: string;
  name: string;
  status: ContainerStatus;
  labels: Record<string, string>;
}

export interface ImageConfig {
  id: string;
  entrypoint: string[];
  command: string[];
  user: string;
  workingDir: string;
}

export interface ExecResult {
  exitCode: number;
  /** stdout and stderr interleaved, truncated to the last 4 KiB. */
  output: string;
}

export interface ExecOptions {
  timeoutMs: number;
  /** Added to the container's environment for this command only. */
  env?: Record<string, string>;
}

/**
 * An instance's own network: the instance and its children on it reach one another, and nothing else on
 * this host (no other instance's network, no host service, not the daemon's API).
 */
export interface NetworkSpec {
  /** Unique on the engine. */
  name: string;
  labels: Record<string, string>;
  /** Whether its containers may open connections beyond it (to the internet). */
  outbound: boolean;
  /** Most containers on it at once: the instance and its children. */
  members: number;
}

export interface NetworkInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Its address block (CIDR) and gateway, where the engine addresses it that way. */
  subnet?: string;
  gateway?: string;
}

export interface ContainerRuntime {
  /** Resolves when the engine answers; rejects with a RuntimeError saying how it was reached otherwise. */
  ping(): Promise<void>;
  /** The image's config, or undefined when the image does not exist locally. */
  inspectImage(image: string): Promise<ImageConfig | undefined>;
  /** Creates (does not start) a container; returns its id. */
  create(spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  /** Removes the container, killing it first if it runs. A container that does not exist is not an error. */
  remove(id: string): Promise<void>;
  /** The container's state, or undefined when it does not exist. */
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** Containers (running or not) carrying every one of these labels. */
  list(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /**
   * Puts in place what keeps instance networks from the host and from one another (on Docker, iptables
   * rules); idempotent. Recovery calls it at start, and `createNetwork` before its first network.
   */
  isolateNetworks(): Promise<void>;
  /** Creates an isolated network (see NetworkSpec); a name already taken is an error. */
  createNetwork(spec: NetworkSpec): Promise<NetworkInfo>;
  /** Removes a network once nothing is on it. A network that does not exist is not an error. */
  removeNetwork(name: string): Promise<void>;
  /** Networks carrying every one of these labels. */
  listNetworks(labels: Record<string, string>): Promise<NetworkInfo[]>;
  /** Runs argv in the running container and waits for it, at most `timeoutMs` (then rejects with ExecTimeoutError). */
  exec(id: string, argv: string[], options: ExecOptions): Promise<ExecResult>;
  /** The container's output (stdout and stderr interleaved): the last `tail` lines, then, with `follow`, more as it comes until `signal` aborts. */
  logs(
    id: string,
    options: { tail: number; follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<Buffer>>;
}

/** The engine refused or failed a request; `status` is its HTTP status when it answered. */
export class RuntimeError extends Error {
  readonly status: number | undefined;
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'RuntimeError';
    this.status = options.status;
  }
}

export class ContainerNotFoundError extends RuntimeError {
  constructor(id: string) {
    super(`no such container: ${id}`, { status: 404 });
    this.name = 'ContainerNotFoundError';
  }
}

export class ExecTimeoutError extends RuntimeError {
  constructor(argv: string[], timeoutMs: number) {
    super(`${argv[0] ?? 'command'} did not finish within ${timeoutMs}ms`);
    this.name = 'ExecTimeoutError';
  }
}
