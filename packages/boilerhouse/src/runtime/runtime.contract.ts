/**
 * What every ContainerRuntime must do, as one suite each runtime's test file runs against its real engine
 * (docker.test.ts against the Docker engine; the next runtime is held to the same behaviour). What only one
 * engine can show (Docker's host config, DOCKER_HOST) stays in that runtime's own test file.
 */
import { randomUUID } from 'node:crypto';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ContainerNotFoundError,
  type ContainerRuntime,
  type ContainerSpec,
  ExecTimeoutError,
} from './runtime.ts';
import { overlaps, parseSubnet, type Subnet } from './subnets.ts';

export interface RuntimeFixture {
  runtime: ContainerRuntime;
  /** The network a plain container joins to get an address and published ports (Docker: `bridge`). */
  defaultNetwork: string;
}

/** The echo image (images/echo), built locally by setup: node, sh and coreutils, running as 1000:1000. */
export const CONTRACT_IMAGE = 'boilerhouse/echo:latest';

export function runRuntimeContract(fixture: RuntimeFixture): void {
  const { runtime } = fixture;
  const image = CONTRACT_IMAGE;
  const runId = randomUUID().slice(0, 8);
  const runLabel = { 'boilerhouse.test': runId };
  let hostDir: string;
  let count = 0;

  beforeAll(async () => {
    hostDir = await mkdtemp(join(tmpdir(), 'runtime-test-'));
    // The echo image runs as 1000:1000; it writes only to the data directory.
    await mkdir(join(hostDir, 'data'));
    await chown(join(hostDir, 'data'), 1000, 1000);
    await mkdir(join(hostDir, 'config'));
    await writeFile(join(hostDir, 'config', 'settings.json'), '{"mode":"test"}\n');
    await writeFile(join(hostDir, 'app.env'), 'SECRET=hunter2\n', { mode: 0o644 });
  });

  afterAll(async () => {
    for (const container of await runtime.list(runLabel)) await runtime.remove(container.id);
    for (const network of await runtime.listNetworks(runLabel)) await runtime.removeNetwork(network.name);
    await rm(hostDir, { recursive: true, force: true });
  });

  /** A minimal spec for this run; tests override what they look at. */
  function testSpec(overrides: Partial<ContainerSpec> = {}): ContainerSpec {
    count += 1;
    return {
      name: `bh-test-${runId}-${count}`,
      image,
      env: {},
      labels: runLabel,
      readOnlyRootfs: true,
      networkMode: fixture.defaultNetwork,
      limits: { cpus: 0.5, memoryBytes: 128 * 1024 * 1024, pids: 64 },
      mounts: [],
      expose: [],
      publishHost: '127.0.0.1',
      ...overrides,
    };
  }

  async function startContainer(overrides: Partial<ContainerSpec> = {}): Promise<string> {
    const id = await runtime.create(testSpec(overrides));
    await runtime.start(id);
    return id;
  }

  async function waitForHealth(url: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const ok = await fetch(`${url}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${url} never became healthy`);
  }

  /** Runs a shell command in the container, failing the test on a timeout. */
  function sh(id: string, script: string) {
    return runtime.exec(id, ['sh', '-c', script], { timeoutMs: 10_000 });
  }

  describe('a container created from a full spec', () => {
    const memoryBytes = 96 * 1024 * 1024;
    let id: string;
    let name: string;

    beforeAll(async () => {
      const spec = testSpec({
        entrypoint: ['node'],
        command: ['/app/server.cjs'],
        env: { GREETING: 'hello world', STATE_DIR: '/data' },
        labels: { ...runLabel, 'boilerhouse.role': 'full' },
        user: '1000:1000',
        limits: { cpus: 0.5, memoryBytes, pids: 64 },
        mounts: [
          { source: join(hostDir, 'data'), target: '/data', readOnly: false },
          { source: join(hostDir, 'config'), target: '/config', readOnly: true },
          { source: join(hostDir, 'app.env'), target: '/app/.env', readOnly: true },
        ],
        expose: [8080],
      });
      name = spec.name;
      id = await runtime.create(spec);
      await runtime.start(id);
    });

    test('inspect reports it running with its name, labels, published port and address', async () => {
      const info = await runtime.inspect(id);
      expect(info).toMatchObject({
        id,
        name,
        status: 'running',
        labels: { ...runLabel, 'boilerhouse.role': 'full' },
        exitCode: 0,
      });
      expect(info?.ipAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(info?.ports[8080]).toEqual({ hostIp: '127.0.0.1', hostPort: expect.any(Number) });
      await waitForHealth(`http://127.0.0.1:${info?.ports[8080]?.hostPort}`);
    });

    test('the limits reach the cgroup', async () => {
      // cgroup v2 first, then v1 (the machine this was written on runs v1).
      const memory = await sh(
        id,
        'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
      );
      expect(memory).toEqual({ exitCode: 0, output: `${memoryBytes}\n` });
      const pids = await sh(
        id,
        'cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
      );
      expect(pids).toEqual({ exitCode: 0, output: '64\n' });
    });

    test('it runs as the given user, with no capabilities and no privilege gain', async () => {
      expect(await runtime.exec(id, ['id', '-u'], { timeoutMs: 10_000 })).toEqual({
        exitCode: 0,
        output: '1000\n',
      });
      expect((await sh(id, 'id -g')).output).toBe('1000\n');
      expect((await sh(id, 'grep CapEff /proc/self/status')).output).toMatch(/CapEff:\s+0000000000000000\n/);
      expect((await sh(id, 'grep NoNewPrivs /proc/self/status')).output).toMatch(/NoNewPrivs:\s+1\n/);
    });

    test('the root filesystem is read-only and /tmp is a writable tmpfs', async () => {
      const write = await sh(id, 'echo x > /app/written');
      expect(write.exitCode).not.toBe(0);
      expect(write.output).toContain('Read-only file system');
      expect(await sh(id, 'echo x > /tmp/written && cat /tmp/written')).toEqual({
        exitCode: 0,
        output: 'x\n',
      });
      expect((await sh(id, 'grep " /tmp " /proc/mounts')).output).toMatch(
        /^tmpfs \/tmp tmpfs rw,nosuid,nodev/,
      );
    });

    test('mounts: a host file at a file target, a read-only directory and a writable one', async () => {
      expect(await sh(id, 'cat /app/.env')).toEqual({ exitCode: 0, output: 'SECRET=hunter2\n' });
      expect((await sh(id, 'test -f /app/.env')).exitCode).toBe(0);
      expect((await sh(id, 'echo x >> /app/.env')).exitCode).not.toBe(0);
      expect((await sh(id, 'cat /config/settings.json')).output).toBe('{"mode":"test"}\n');
      expect((await sh(id, 'echo x > /config/new')).exitCode).not.toBe(0);
      expect((await sh(id, 'echo from-container > /data/out')).exitCode).toBe(0);
      expect(await readFile(join(hostDir, 'data', 'out'), 'utf8')).toBe('from-container\n');
    });

    test('the environment is set', async () => {
      expect((await sh(id, 'printf %s "$GREETING"')).output).toBe('hello world');
    });

    test('pause freezes it and unpause brings it back; start on a running container is fine', async () => {
      const port = (await runtime.inspect(id))?.ports[8080]?.hostPort;
      await runtime.pause(id);
      expect((await runtime.inspect(id))?.status).toBe('paused');
      await runtime.unpause(id);
      expect((await runtime.inspect(id))?.status).toBe('running');
      await waitForHealth(`http://127.0.0.1:${port}`);
      await runtime.start(id);
      expect((await runtime.inspect(id))?.status).toBe('running');
    });
  });

  describe('exec', () => {
    let id: string;

    beforeAll(async () => {
      id = await startContainer();
    });

    test('returns the exit code, with stdout and stderr interleaved', async () => {
      const result = await sh(id, 'echo out; sleep 0.05; echo err >&2; exit 3');
      expect(result).toEqual({ exitCode: 3, output: 'out\nerr\n' });
    });

    test('keeps only the last 4 KiB of output', async () => {
      const result = await sh(id, 'head -c 10000 /dev/zero | tr "\\0" a; printf END');
      expect(result.exitCode).toBe(0);
      expect(result.output).toHaveLength(4096);
      expect(result.output.endsWith('aaaEND')).toBe(true);
    });

    test('a missing binary is a failed exec, not a thrown error', async () => {
      const result = await runtime.exec(id, ['/no/such/binary'], { timeoutMs: 10_000 });
      expect(result.exitCode).toBe(126);
      expect(result.output).toContain('no such file or directory');
    });

    test('rejects with ExecTimeoutError soon after the timeout', async () => {
      const started = Date.now();
      await expect(runtime.exec(id, ['sleep', '5'], { timeoutMs: 300 })).rejects.toBeInstanceOf(
        ExecTimeoutError,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
      // The connection pool still works after a destroyed request.
      expect((await sh(id, 'echo again')).output).toBe('again\n');
    });

    test('in a missing container rejects with ContainerNotFoundError', async () => {
      await expect(
        runtime.exec('bh-no-such-container', ['true'], { timeoutMs: 1_000 }),
      ).rejects.toBeInstanceOf(ContainerNotFoundError);
    });

    test('in a paused container rejects with the engine message', async () => {
      await runtime.pause(id);
      try {
        await expect(sh(id, 'true')).rejects.toThrow(/paused/);
      } finally {
        await runtime.unpause(id);
      }
    });
  });

  describe('lifecycle', () => {
    test('create does not start; list finds containers by every given label', async () => {
      const group = { ...runLabel, 'boilerhouse.group': randomUUID() };
      const idle = await runtime.create(testSpec({ labels: group, expose: [8080] }));
      const running = await startContainer({ labels: group });
      await startContainer(); // same run label, other group: not listed

      const info = await runtime.inspect(idle);
      expect(info).toMatchObject({ status: 'created', ports: {} });
      expect(info?.ipAddress).toBeUndefined();

      const listed = await runtime.list(group);
      expect(listed.map((container) => container.id).sort()).toEqual([idle, running].sort());
      const summary = listed.find((container) => container.id === running);
      expect(summary).toMatchObject({ status: 'running', labels: group });
      expect(summary?.name).toMatch(/^bh-test-/);
    });

    test('remove is idempotent, also when two removals race', async () => {
      const id = await startContainer();
      await Promise.all([runtime.remove(id), runtime.remove(id), runtime.remove(id)]);
      expect(await runtime.inspect(id)).toBeUndefined();
      await runtime.remove(id);
    });

    test('a missing container: inspect is undefined, start and pause reject with ContainerNotFoundError', async () => {
      expect(await runtime.inspect('bh-no-such-container')).toBeUndefined();
      expect(await runtime.inspect('')).toBeUndefined();
      await expect(runtime.start('bh-no-such-container')).rejects.toBeInstanceOf(ContainerNotFoundError);
      await expect(runtime.pause('bh-no-such-container')).rejects.toBeInstanceOf(ContainerNotFoundError);
      await runtime.remove('bh-no-such-container');
    });

    test('create errors carry the engine status and message', async () => {
      const spec = testSpec();
      await runtime.create(spec);
      const duplicate = runtime.create({ ...spec });
      await expect(duplicate).rejects.toMatchObject({
        status: 409,
        message: expect.stringContaining(spec.name),
      });

      const missing = runtime.create(testSpec({ image: 'boilerhouse/no-such-image:latest' }));
      await expect(missing).rejects.toMatchObject({
        status: 404,
        message: expect.stringMatching(/No such image/),
      });
      await expect(missing).rejects.not.toBeInstanceOf(ContainerNotFoundError);
    });

    test('a mount whose source does not exist is refused, not created', async () => {
      const source = join(hostDir, 'absent');
      const create = runtime.create(testSpec({ mounts: [{ source, target: '/absent', readOnly: true }] }));
      await expect(create).rejects.toMatchObject({ status: 400 });
      await expect(readFile(source)).rejects.toThrow(/ENOENT/);
    });
  });

  describe('engine', () => {
    test('inspectImage reads the image config; a missing image is undefined', async () => {
      expect(await runtime.inspectImage(image)).toMatchObject({
        id: expect.stringMatching(/^sha256:/),
        entrypoint: [],
        command: ['node', '/app/server.cjs'],
        user: '1000:1000',
        workingDir: '',
      });
      expect(await runtime.inspectImage('boilerhouse/no-such-image:latest')).toBeUndefined();
    });

    test('ping answers', async () => {
      await expect(runtime.ping()).resolves.toBeUndefined();
    });
  });

  describe('output and networks', () => {
    test('logs gives the last lines, then follows new ones until aborted', async () => {
      const id = await startContainer({
        entrypoint: ['sh', '-c'],
        command: [
          'for i in 1 2 3; do echo line-$i; done; until [ -e /tmp/go ]; do sleep 0.05; done; echo late; sleep 30',
        ],
      });
      const read = async (options: { tail: number; follow: boolean }, until?: (text: string) => boolean) => {
        const done = new AbortController();
        const deadline = setTimeout(() => done.abort(), 10_000);
        let text = '';
        try {
          for await (const chunk of await runtime.logs(id, { ...options, signal: done.signal })) {
            text += chunk.toString('utf8');
            if (until?.(text)) done.abort();
          }
        } catch (error) {
          if (!done.signal.aborted) throw error;
        } finally {
          clearTimeout(deadline);
        }
        return text;
      };
      for (let attempt = 0; !(await read({ tail: 100, follow: false })).includes('line-3'); attempt++) {
        if (attempt > 100) throw new Error('the container never printed its lines');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const followed = read({ tail: 2, follow: true }, (text) => text.includes('late'));
      await sh(id, 'touch /tmp/go');
      expect((await followed).split('\n').filter(Boolean)).toEqual(['line-2', 'line-3', 'late']);
    });

    test('an instance network gives its containers an address in its block; listed by label, removed once', async () => {
      const network = await runtime.createNetwork({
        name: `bh-test-${runId}-net`,
        labels: { ...runLabel, 'boilerhouse.role': 'contract' },
        outbound: false,
        members: 2,
      });
      const id = await startContainer({ networkMode: network.name });
      const address = (await runtime.inspect(id))?.ipAddress;
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      // A runtime that addresses networks by block says which; the address lies in it.
      if (network.subnet !== undefined) {
        const block = parseSubnet(network.subnet) as Subnet;
        expect(overlaps(parseSubnet(`${address}/32`) as Subnet, block)).toBe(true);
      }
      const listed = await runtime.listNetworks({ ...runLabel, 'boilerhouse.role': 'contract' });
      expect(listed.map((each) => each.name)).toEqual([network.name]);
      await runtime.remove(id);
      await runtime.removeNetwork(network.name);
      await runtime.removeNetwork(network.name);
      expect(await runtime.listNetworks({ ...runLabel, 'boilerhouse.role': 'contract' })).toEqual([]);
    });
  });
}
