/** ContainerRuntime on the Docker Engine API, spoken directly over its socket. */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type RawContainer,
  type RawImage,
  type RawSummary,
  toContainerInfo,
  toCreateBody,
  toImageConfig,
  toSummary,
} from './docker-mapping.ts';
import { EngineClient, engineError, type RequestOptions, readBody } from './engine-client.ts';
import { ExecOutput } from './exec-output.ts';
import { payloads } from './frames.ts';
import { isolateInstanceNetworks } from './network-isolation.ts';
import { DEFAULT_NETWORK_POOL, DockerNetworks } from './networks.ts';
import {
  type ContainerInfo,
  ContainerNotFoundError,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerSummary,
  type ExecOptions,
  type ExecResult,
  ExecTimeoutError,
  type ImageConfig,
  type NetworkInfo,
  type NetworkSpec,
  RuntimeError,
} from './runtime.ts';

/** How long `remove` waits for a removal someone else started before giving up. */
const removalWaitMs = 30_000;

export interface DockerRuntimeOptions {
  /** `unix:///path` or `tcp://host:port`; defaults to $DOCKER_HOST, then /var/run/docker.sock. */
  dockerHost?: string;
  /** The IPv4 block instance networks' subnets are cut from (BOILERHOUSE_NETWORK_POOL). */
  networkPool?: string;
  /** TCP ports of the host that instances may connect to (BOILERHOUSE_HOST_PORTS); none by default. */
  hostPorts?: readonly number[];
}

export class DockerRuntime implements ContainerRuntime {
  readonly engine: EngineClient;
  readonly #networks: DockerNetworks;
  /** The host isolation rules, installed once per runtime before its first network. */
  #isolated: Promise<void> | undefined;

  constructor(options: DockerRuntimeOptions = {}) {
    this.engine = new EngineClient(options.dockerHost ?? process.env.DOCKER_HOST);
    this.#networks = new DockerNetworks(
      this.engine,
      options.networkPool ?? DEFAULT_NETWORK_POOL,
      options.hostPorts,
    );
  }

  async ping(): Promise<void> {
    await this.engine.call('GET', '/_ping');
  }

  async inspectImage(image: string): Promise<ImageConfig | undefined> {
    try {
      return toImageConfig(await this.engine.json<RawImage>('GET', `/images/${encodeURI(image)}/json`));
    } catch (error) {
      if (error instanceof RuntimeError && error.status === 404) return undefined;
      throw error;
    }
  }

  async create(spec: ContainerSpec): Promise<string> {
    const path = `/containers/create?name=${encodeURIComponent(spec.name)}`;
    const created = await this.engine.json<{ Id: string }>('POST', path, { body: toCreateBody(spec) });
    return created.Id;
  }

  async start(id: string): Promise<void> {
    // 304 (already started) is a success: the container runs, which is what the caller wants.
    await this.#containerCall(id, 'POST', 'start');
  }

  async pause(id: string): Promise<void> {
    await this.#containerCall(id, 'POST', 'pause');
  }

  async unpause(id: string): Promise<void> {
    await this.#containerCall(id, 'POST', 'unpause');
  }

  async remove(id: string): Promise<void> {
    try {
      await this.engine.call('DELETE', `${containerPath(id)}?force=1&v=1`);
    } catch (error) {
      if (error instanceof RuntimeError && error.status === 404) return;
      // Another caller (or the reaper) is already removing it: done once it is gone.
      if (
        error instanceof RuntimeError &&
        error.status === 409 &&
        /already in progress/.test(error.message)
      ) {
        await this.#waitUntilGone(id);
        return;
      }
      throw error;
    }
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    try {
      return toContainerInfo(await this.engine.json<RawContainer>('GET', `${containerPath(id)}/json`));
    } catch (error) {
      if (error instanceof RuntimeError && error.status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Memory the container uses now, in bytes, less the page cache the kernel can drop (cgroup v1 `cache`,
   * v2 `inactive_file`), as `docker stats` reports it.
   */
  async memoryUsage(id: string): Promise<number> {
    const stats = await this.engine.json<{
      memory_stats?: { usage?: number; stats?: { cache?: number; inactive_file?: number } };
    }>('GET', `${containerPath(id)}/stats?stream=false`);
    const memory = stats.memory_stats ?? {};
    return (memory.usage ?? 0) - (memory.stats?.inactive_file ?? memory.stats?.cache ?? 0);
  }

  async list(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const filters = JSON.stringify({
      label: Object.entries(labels).map(([key, value]) => `${key}=${value}`),
    });
    const raw = await this.engine.json<RawSummary[]>(
      'GET',
      `/containers/json?all=1&filters=${encodeURIComponent(filters)}`,
    );
    return raw.map(toSummary);
  }

  isolateNetworks(): Promise<void> {
    // Once per runtime; a failed install is tried again on the next call.
    this.#isolated ??= isolateInstanceNetworks().catch((error) => {
      this.#isolated = undefined;
      throw error;
    });
    return this.#isolated;
  }

  async createNetwork(spec: NetworkSpec): Promise<NetworkInfo> {
    // No network exists without the rules that keep it from the host.
    await this.isolateNetworks();
    return this.#networks.create(spec);
  }

  removeNetwork(name: string): Promise<void> {
    return this.#networks.remove(name);
  }

  listNetworks(labels: Record<string, string>): Promise<NetworkInfo[]> {
    return this.#networks.list(labels);
  }

  async exec(id: string, argv: string[], options: ExecOptions): Promise<ExecResult> {
    // One deadline for all three calls; aborting destroys the in-flight request. The engine has no way to
    // kill an exec, so a timed-out process keeps running in the container until it ends on its own.
    const signal = AbortSignal.timeout(options.timeoutMs);
    try {
      const created = await this.#containerJson<{ Id: string }>(id, 'POST', 'exec', {
        body: {
          Cmd: argv,
          AttachStdout: true,
          AttachStderr: true,
          AttachStdin: false,
          Tty: false,
          ...(options.env === undefined
            ? {}
            : { Env: Object.entries(options.env).map(([k, v]) => `${k}=${v}`) }),
        },
        signal,
      });
      const execPath = `/exec/${encodeURIComponent(created.Id)}`;
      const response = await this.engine.open('POST', `${execPath}/start`, {
        body: { Detach: false, Tty: false },
        signal,
      });
      if ((response.statusCode ?? 0) >= 400) {
        const status = response.statusCode ?? 0;
        throw engineError('POST', `${execPath}/start`, status, await readBody(response));
      }
      const output = new ExecOutput();
      for await (const chunk of response) output.push(chunk as Buffer);
      return { exitCode: await this.#exitCode(execPath, signal), output: output.text() };
    } catch (error) {
      if (signal.aborted) throw new ExecTimeoutError(argv, options.timeoutMs);
      throw error;
    }
  }

  async logs(
    id: string,
    options: { tail: number; follow: boolean; signal: AbortSignal },
  ): Promise<AsyncIterable<Buffer>> {
    const path = `${containerPath(id)}/logs?stdout=1&stderr=1&tail=${options.tail}${options.follow ? '&follow=1' : ''}`;
    const response = await this.engine.open('GET', path, { signal: options.signal });
    const status = response.statusCode ?? 0;
    if (status === 404) {
      response.resume();
      throw new ContainerNotFoundError(id);
    }
    if (status >= 400) throw engineError('GET', path, status, await readBody(response));
    return payloads(response);
  }

  /** Closes the engine connections this runtime keeps open. */
  close(): void {
    this.engine.close();
  }

  /** The stream ends when the process's output closes; the engine records the exit code just after. */
  async #exitCode(execPath: string, signal: AbortSignal): Promise<number> {
    for (;;) {
      const state = await this.engine.json<{ Running: boolean; ExitCode: number | null }>(
        'GET',
        `${execPath}/json`,
        { signal },
      );
      if (!state.Running && state.ExitCode !== null) return state.ExitCode;
      await sleep(5, undefined, { signal });
    }
  }

  async #waitUntilGone(id: string): Promise<void> {
    const deadline = Date.now() + removalWaitMs;
    while (Date.now() < deadline) {
      if ((await this.inspect(id)) === undefined) return;
      await sleep(25);
    }
    throw new RuntimeError(`container ${id} was still being removed after ${removalWaitMs}ms`);
  }

  #containerCall(id: string, method: string, action: string): Promise<unknown> {
    return notFoundAs(id, this.engine.call(method, `${containerPath(id)}/${action}`));
  }

  #containerJson<T>(id: string, method: string, action: string, options: RequestOptions): Promise<T> {
    return notFoundAs(id, this.engine.json<T>(method, `${containerPath(id)}/${action}`, options));
  }
}

function containerPath(id: string): string {
  // An empty id would make `/containers//json`, which the engine redirects instead of answering 404.
  if (id === '') throw new ContainerNotFoundError(id);
  return `/containers/${encodeURIComponent(id)}`;
}

/** A 404 on a container's own path means that container does not exist. */
async function notFoundAs<T>(id: string, pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof RuntimeError && error.status === 404) throw new ContainerNotFoundError(id);
    throw error;
  }
}
